package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

const selectChannel = `SELECT c.name, c.is_active, c.priority, c.apis, c.consecutive_errors,
	p.reason, p.since, p.detail, p.until, c.fallbacks, c.budgets
	FROM channels c LEFT JOIN channel_pauses p ON p.channel = c.name`

const (
	sqlChannel   = selectChannel + ` WHERE c.name = $1 ORDER BY p.position, p.reason`
	sqlChannels  = selectChannel + ` ORDER BY c.name COLLATE "C", p.position, p.reason`
	sqlOutOfSync = selectChannel + ` WHERE c.is_active =
		EXISTS (SELECT 1 FROM channel_pauses x WHERE x.channel = c.name)
		ORDER BY c.name COLLATE "C", p.position, p.reason`
	sqlUpsertChannel = `INSERT INTO channels (name, is_active, priority, apis, consecutive_errors, fallbacks, budgets)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO UPDATE SET is_active = excluded.is_active, priority = excluded.priority,
		apis = excluded.apis, consecutive_errors = excluded.consecutive_errors,
		fallbacks = excluded.fallbacks, budgets = excluded.budgets`
	sqlDeletePauses = `DELETE FROM channel_pauses WHERE channel = $1`
	sqlInsertPause  = `INSERT INTO channel_pauses (channel, reason, since, detail, until, position)
		VALUES ($1, $2, $3, $4, $5, $6)`
	sqlDeleteChannel = `DELETE FROM channels WHERE name = $1`
)

// Channels returns every channel with its pauses, ordered by name.
func (t *tx) Channels() ([]quotad.Channel, error) {
	list, err := t.queryChannels(sqlChannels)
	if err != nil {
		return nil, fmt.Errorf("postgres: list channels: %w", err)
	}
	return list, nil
}

// Channel returns one channel; a missing one wraps quotad.ErrUnknownChannel.
func (t *tx) Channel(name string) (quotad.Channel, error) {
	list, err := t.queryChannels(sqlChannel, name)
	if err != nil {
		return quotad.Channel{}, fmt.Errorf("postgres: read channel %q: %w", name, err)
	}
	if len(list) == 0 {
		return quotad.Channel{}, fmt.Errorf("%w: %q", quotad.ErrUnknownChannel, name)
	}
	return list[0], nil
}

// ChannelsOutOfSync returns the channels whose is_active column disagrees
// with their pauses: set to true with pauses left in channel_pauses (the
// seed's "UPDATE channels SET is_active = TRUE ..."), or to false with no
// pause.
func (t *tx) ChannelsOutOfSync() ([]quotad.Channel, error) {
	list, err := t.queryChannels(sqlOutOfSync)
	if err != nil {
		return nil, fmt.Errorf("postgres: channels out of sync: %w", err)
	}
	return list, nil
}

// queryChannels runs a select of channels LEFT JOIN channel_pauses ordered
// by channel name then pause position, and groups the rows into channels.
func (t *tx) queryChannels(sql string, args ...any) ([]quotad.Channel, error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []quotad.Channel
		d   dec
	)
	for rows.Next() {
		var (
			name                     string
			active                   pgtype.Bool
			errs                     pgtype.Int4
			priority, reason, detail pgtype.Text
			apis, fallbacks, budgets []byte
			since, until             pgtype.Timestamptz
		)
		if err := rows.Scan(&name, &active, &priority, &apis, &errs, &reason, &since, &detail, &until, &fallbacks, &budgets); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, quotad.Channel{
				Name: name, Priority: quotad.Priority(priority.String), APIs: d.strings("channels.apis", apis),
				ConsecutiveErrors: int(errs.Int32), StoredActive: active.Valid && active.Bool,
			})
			c := &out[len(out)-1]
			d.into("channels.fallbacks", fallbacks, &c.Fallbacks)
			d.into("channels.budgets", budgets, &c.Budgets)
		}
		if reason.Valid {
			c := &out[len(out)-1]
			c.Pauses = append(c.Pauses, quotad.Pause{Reason: quotad.ReasonOf(reason.String), Detail: detail.String, Since: tm(since), Until: tm(until)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// SaveChannel inserts or replaces a channel, its pauses (in order) and its
// error count, and stores is_active = c.Active(), in one round trip. The
// channels row is updated in place, so its id stays stable.
func (t *tx) SaveChannel(c quotad.Channel) error {
	if err := t.writable("save channel"); err != nil {
		return err
	}
	if c.Name == "" {
		return fmt.Errorf("postgres: save channel: %w", quotad.Invalidf("empty channel name"))
	}
	var e enc
	row := []any{c.Name, c.Active(), string(c.Priority), e.json(c.APIs, len(c.APIs)), c.ConsecutiveErrors,
		e.json(c.Fallbacks, len(c.Fallbacks)), e.json(c.Budgets, len(c.Budgets))}
	pauses := make([][]any, len(c.Pauses))
	seen := make(map[string]bool, len(c.Pauses))
	for i, p := range c.Pauses {
		if p.Reason.String() == "" || seen[p.Reason.String()] {
			return fmt.Errorf("postgres: save channel %q: %w", c.Name, quotad.Invalidf("empty or duplicate pause reason %q", p.Reason.String()))
		}
		seen[p.Reason.String()] = true
		pauses[i] = []any{c.Name, p.Reason.String(), e.time(p.Since), p.Detail, e.time(p.Until), i}
	}
	if e.err != nil {
		return fmt.Errorf("postgres: save channel %q: %w", c.Name, e.err)
	}
	what := fmt.Sprintf("postgres: save channel %q", c.Name)
	t.queue(what, nil, sqlUpsertChannel, row...)
	t.queue(what, nil, sqlDeletePauses, c.Name)
	for _, args := range pauses {
		t.queue(what, nil, sqlInsertPause, args...)
	}
	return nil
}

// DeleteChannel removes a channel and its pauses (no error if missing).
func (t *tx) DeleteChannel(name string) error {
	if err := t.writable("delete channel"); err != nil {
		return err
	}
	what := fmt.Sprintf("postgres: delete channel %q", name)
	t.queue(what, nil, sqlDeletePauses, name)
	t.queue(what, nil, sqlDeleteChannel, name)
	return nil
}
