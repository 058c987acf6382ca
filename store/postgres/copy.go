package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotad/quotad"
)

// ErrNotEmpty is returned by CopyFrom when the target already holds data and
// CopyOptions.Force is not set.
var ErrNotEmpty = errors.New("the target store is not empty")

// CopyOptions configure CopyFrom.
type CopyOptions struct {
	// Force replaces everything the target holds. Without it CopyFrom
	// refuses a target that holds any API, channel or event.
	Force bool
	// Reservations are copied besides those the source's Tx lists (it lists
	// only reservations that have an expiry); one with the ID of a listed
	// reservation replaces it.
	Reservations []quotad.Reservation
	// OnceKeys are one-shot keys to copy (the Tx interface cannot list them).
	OnceKeys map[string]time.Time
	// IdempotencyKeys are the stored answers of HTTP mutations to copy, so
	// that a client retrying across the move gets its first answer (the Tx
	// interface cannot list them).
	IdempotencyKeys []quotad.IdempotencyRecord
}

// CopyCounts says how many rows of each kind CopyFrom copied.
type CopyCounts struct {
	APIs          int `json:"apis"`
	Windows       int `json:"windows"`
	Channels      int `json:"channels"`
	Pauses        int `json:"pauses"`
	Events        int `json:"events"`
	Reservations  int `json:"reservations"`
	JobStates     int `json:"job_states"`
	UsageBuckets  int `json:"usage_buckets"`
	Notifications int `json:"notifications"`
	OnceKeys      int `json:"once_keys"`
	Idempotency   int `json:"idempotency_keys"`
}

// copyPage is how many events CopyFrom reads from the source at a time.
const copyPage = 5000

// farFuture lists every reservation that has an expiry.
var farFuture = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// CopyFrom copies everything src holds into s in one Update (all or
// nothing): APIs with their windows' state, channels with their pauses and
// stored is_active, every event with its ID, time and order, reservations,
// job states, usage buckets, notifications (with their IDs), one-shot
// keys and idempotency keys. It reads src through one View, so the copy is one consistent
// snapshot. Identity sequences continue after the copied IDs.
func (s *Store) CopyFrom(ctx context.Context, src quotad.Store, opts CopyOptions) (CopyCounts, error) {
	if o, ok := src.(*Store); ok && o.scope == s.scope {
		where := `SELECT current_database() || ' ' || coalesce(inet_server_addr()::text, '') || ' ' || inet_server_port()`
		var a, b string
		if err := s.pool.QueryRow(ctx, where).Scan(&a); err != nil {
			return CopyCounts{}, fmt.Errorf("postgres: copy: %w", err)
		}
		if err := o.pool.QueryRow(ctx, where).Scan(&b); err != nil {
			return CopyCounts{}, fmt.Errorf("postgres: copy: %w", err)
		}
		if a == b {
			return CopyCounts{}, fmt.Errorf("postgres: copy: %w", quotad.Invalidf("the source and the target are the same store"))
		}
	}
	var n CopyCounts
	err := s.run(ctx, true, func(t *tx) error {
		n = CopyCounts{}
		if err := t.prepareTarget(opts.Force); err != nil {
			return err
		}
		t.changed = true
		return src.View(ctx, func(st quotad.Tx) error { return t.copyFrom(st, opts, &n) })
	})
	if err != nil {
		return CopyCounts{}, fmt.Errorf("postgres: copy: %w", err)
	}
	return n, nil
}

// allTables are truncated by a forced copy.
const allTables = `api_quotas, apis, channel_pauses, channels, logs, reservations, jobs, usage, notifications, once_keys, idempotency_keys`

func (t *tx) prepareTarget(force bool) error {
	if force {
		_, err := t.execNow("TRUNCATE " + allTables + " RESTART IDENTITY")
		return err
	}
	var apis, chans, events int64
	if err := t.queryRow(`SELECT (SELECT count(*) FROM apis), (SELECT count(*) FROM channels),
		(SELECT count(*) FROM logs)`, nil, &apis, &chans, &events); err != nil {
		return err
	}
	if apis+chans+events > 0 {
		return fmt.Errorf("%w: it holds %d API(s), %d channel(s) and %d event(s); use --force to replace them",
			ErrNotEmpty, apis, chans, events)
	}
	return nil
}

func (t *tx) copyFrom(st quotad.Tx, opts CopyOptions, n *CopyCounts) error {
	apis, err := st.APIs()
	if err != nil {
		return fmt.Errorf("read APIs: %w", err)
	}
	for _, a := range apis {
		if err := t.SaveAPI(a); err != nil {
			return err
		}
		n.APIs++
		n.Windows += len(a.Windows)
	}

	chans, err := st.Channels()
	if err != nil {
		return fmt.Errorf("read channels: %w", err)
	}
	for _, c := range chans {
		if err := t.SaveChannel(c); err != nil {
			return err
		}
		if c.StoredActive != c.Active() { // an outside edit not reconciled yet: keep it for the engine
			t.queue(fmt.Sprintf("channel %q: is_active", c.Name), nil, `UPDATE channels SET is_active = $2 WHERE name = $1`, c.Name, c.StoredActive)
		}
		n.Channels++
		n.Pauses += len(c.Pauses)
	}

	if n.Events, err = t.copyEvents(st); err != nil {
		return err
	}

	res, err := st.ExpiredReservations(farFuture)
	if err != nil {
		return fmt.Errorf("read reservations: %w", err)
	}
	byID := map[string]bool{}
	for _, r := range append(res, opts.Reservations...) {
		if err := t.SaveReservation(r); err != nil {
			return err
		}
		if !byID[r.ID] {
			byID[r.ID] = true
			n.Reservations++
		}
	}

	jobs, err := st.JobStates()
	if err != nil {
		return fmt.Errorf("read job states: %w", err)
	}
	for _, j := range jobs {
		if err := t.SaveJobState(j); err != nil {
			return err
		}
	}
	n.JobStates = len(jobs)

	if n.UsageBuckets, err = t.copyUsage(st); err != nil {
		return err
	}
	if n.Notifications, err = t.copyNotifications(st); err != nil {
		return err
	}

	for k, at := range opts.OnceKeys {
		var e enc
		ts := e.time(at)
		if e.err != nil {
			return fmt.Errorf("once key %q: %w", k, e.err)
		}
		t.queue(fmt.Sprintf("once key %q", k), nil, sqlOnce, k, ts)
	}
	n.OnceKeys = len(opts.OnceKeys)
	for _, r := range opts.IdempotencyKeys {
		if err := t.SaveIdempotency(r); err != nil {
			return err
		}
	}
	n.Idempotency = len(opts.IdempotencyKeys)
	return nil
}

// copyEvents copies every event, page by page, with its ID, then moves the
// logs identity past the highest ID.
func (t *tx) copyEvents(st quotad.Tx) (int, error) {
	cols := []string{"id", "timestamp", "level", "channel", "category", "message", "fields"}
	total := 0
	for before := int64(0); ; {
		page, err := st.Events(quotad.EventFilter{Before: before, Limit: copyPage})
		if err != nil {
			return 0, fmt.Errorf("read events: %w", err)
		}
		if len(page) == 0 {
			break
		}
		rows := make([][]any, len(page))
		for i, ev := range page {
			var e enc
			ts, fields := e.time(ev.Time), e.json(ev.Fields, len(ev.Fields))
			if e.err != nil {
				return 0, fmt.Errorf("event %d: %w", ev.ID, e.err)
			}
			if ts == nil {
				return 0, fmt.Errorf("event %d: %w", ev.ID, quotad.Invalidf("event has no time"))
			}
			rows[i] = []any{ev.ID, ts, ev.Level, nullStr(ev.Channel), ev.Category, ev.Message, fields}
		}
		if err := t.sync(); err != nil {
			return 0, err
		}
		if _, err := t.conn.CopyFrom(t.ctx, pgx.Identifier{"logs"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return 0, fmt.Errorf("write events: %w", err)
		}
		total += len(page)
		before = page[len(page)-1].ID
	}
	return total, t.restartIdentity("logs")
}

func (t *tx) copyUsage(st quotad.Tx) (int, error) {
	buckets, err := st.Usage(quotad.UsageFilter{})
	if err != nil {
		return 0, fmt.Errorf("read usage: %w", err)
	}
	rows := make([][]any, len(buckets))
	for i, u := range buckets {
		var e enc
		start := e.time(u.Start)
		if e.err != nil || start == nil {
			return 0, fmt.Errorf("usage bucket %s/%s: %w", u.API, u.Channel, errors.Join(e.err, quotad.Invalidf("bucket without a start")))
		}
		rows[i] = []any{u.API, u.Channel, start, int32(u.Resolution / time.Second), u.Units, u.Count}
	}
	if err := t.sync(); err != nil {
		return 0, err
	}
	if _, err := t.conn.CopyFrom(t.ctx, pgx.Identifier{"usage"},
		[]string{"api", "channel", "start", "resolution", "units", "count"}, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("write usage: %w", err)
	}
	return len(rows), nil
}

func (t *tx) copyNotifications(st quotad.Tx) (int, error) {
	ns, err := st.Notifications(math.MaxInt32)
	if err != nil {
		return 0, fmt.Errorf("read notifications: %w", err)
	}
	rows := make([][]any, len(ns))
	for i, x := range ns {
		var e enc
		next, created := e.time(x.NextAttempt), e.time(x.CreatedAt)
		if e.err != nil {
			return 0, fmt.Errorf("notification %d: %w", x.ID, e.err)
		}
		state := x.State
		if state == "" {
			state = quotad.NotifyPending
		}
		rows[i] = []any{x.ID, x.Notifier, x.Key, x.Kind, x.Payload, state, int32(x.Attempts), next, created, nullStr(x.LastError)}
	}
	if err := t.sync(); err != nil {
		return 0, err
	}
	if _, err := t.conn.CopyFrom(t.ctx, pgx.Identifier{"notifications"},
		[]string{"id", "notifier", "key", "kind", "payload", "state", "attempts", "next_attempt", "created_at", "last_error"},
		pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("write notifications: %w", err)
	}
	return len(rows), t.restartIdentity("notifications")
}

// restartIdentity makes the table's identity column continue after its
// highest id.
func (t *tx) restartIdentity(table string) error {
	_, err := t.execNow(`SELECT setval(pg_get_serial_sequence($1, 'id'),
		(SELECT coalesce(max(id), 0) + 1 FROM `+pgx.Identifier{table}.Sanitize()+`), false)`, table)
	if err != nil {
		return fmt.Errorf("restart %s identity: %w", table, err)
	}
	return nil
}
