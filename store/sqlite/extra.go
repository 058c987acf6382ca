package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quotad/quotad"
)

// Migration 2 adds the tables of the job runner, usage history, the
// notification outbox and one-shot markers; 3 reserves, fallbacks and
// budgets; 4 the model, scope, meter and bucket of windows.
func init() {
	migrations = append(migrations, migration{2, "jobs, usage, notifications, once", []string{
		`CREATE TABLE jobs (
			channel     TEXT PRIMARY KEY,
			next_run    TEXT,
			last_start  TEXT,
			last_end    TEXT,
			last_result TEXT,
			last_detail TEXT,
			runs        INTEGER NOT NULL DEFAULT 0,
			holder      TEXT,
			lease_until TEXT
		)`,
		`CREATE TABLE usage (
			api        TEXT NOT NULL,
			channel    TEXT NOT NULL DEFAULT '',
			start      TEXT NOT NULL,
			resolution INTEGER NOT NULL,  -- seconds: 60 or 3600
			units      INTEGER NOT NULL,
			count      INTEGER NOT NULL,
			PRIMARY KEY (resolution, start, api, channel)
		)`,
		`CREATE TABLE notifications (
			id           INTEGER PRIMARY KEY AUTOINCREMENT,
			notifier     TEXT NOT NULL,
			key          TEXT NOT NULL,
			kind         TEXT,
			payload      TEXT,
			state        TEXT NOT NULL,
			attempts     INTEGER NOT NULL DEFAULT 0,
			next_attempt TEXT,
			created_at   TEXT,
			last_error   TEXT,
			UNIQUE (notifier, key)
		)`,
		`CREATE INDEX notifications_due ON notifications (state, next_attempt)`,
		`CREATE TABLE once_keys (key TEXT PRIMARY KEY, at TEXT)`,
	}}, migration{3, "reserves, fallbacks, budgets", []string{
		`ALTER TABLE apis ADD COLUMN reserve TEXT`,       // JSON {"priority","units"}
		`ALTER TABLE channels ADD COLUMN fallbacks TEXT`, // JSON [{"name","providers"}]
		`ALTER TABLE channels ADD COLUMN budgets TEXT`,   // JSON [{"api","window","units","share"}]
	}}, migration{4, "windows of models, buckets and credential scopes", []string{
		// window_name holds the window's key (tpd, llama-3.3-70b-versatile/tpd,
		// daily@shorts); existing rows are model-less, default-scope windows.
		`ALTER TABLE api_quotas ADD COLUMN model TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE api_quotas ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE api_quotas ADD COLUMN meter TEXT NOT NULL DEFAULT ''`,    // requests, tokens, '' (the API's unit)
		`ALTER TABLE api_quotas ADD COLUMN bucket BOOLEAN NOT NULL DEFAULT 0`, // counts only calls charged to it by name
		`ALTER TABLE apis ADD COLUMN prices TEXT`,                             // JSON [{"model","input","output"}]
		// Usage per model, with its cost in millionths of a US dollar.
		`CREATE TABLE usage_v4 (
			api        TEXT NOT NULL,
			model      TEXT NOT NULL DEFAULT '',
			channel    TEXT NOT NULL DEFAULT '',
			start      TEXT NOT NULL,
			resolution INTEGER NOT NULL,
			units      INTEGER NOT NULL,
			count      INTEGER NOT NULL,
			cost       INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (resolution, start, api, channel, model)
		)`,
		`INSERT INTO usage_v4 (api, channel, start, resolution, units, count)
			SELECT api, channel, start, resolution, units, count FROM usage`,
		`DROP TABLE usage`,
		`ALTER TABLE usage_v4 RENAME TO usage`,
	}})
}

// parseTime reads a stored time of column col as dec.time does (the
// store's layout or what a person types in sqlite3); NULL is the zero time.
func parseTime(col string, s sql.NullString) (time.Time, error) {
	var d dec
	t := d.time(col, s)
	return t, d.err
}

// JobState returns a channel's job record, or an empty one.
func (t *tx) JobState(channel string) (quotad.JobState, error) {
	list, err := t.jobStates(`WHERE channel = ?`, channel)
	if err != nil {
		return quotad.JobState{}, err
	}
	if len(list) == 0 {
		return quotad.JobState{Channel: channel}, nil
	}
	return list[0], nil
}

// JobStates returns every job record, ordered by channel.
func (t *tx) JobStates() ([]quotad.JobState, error) { return t.jobStates(``) }

func (t *tx) jobStates(where string, args ...any) ([]quotad.JobState, error) {
	rows, err := t.sqlTx.QueryContext(t.ctx, `SELECT channel, next_run, last_start, last_end, last_result,
		last_detail, runs, holder, lease_until FROM jobs `+where+` ORDER BY channel`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read jobs: %w", err)
	}
	defer rows.Close()
	var out []quotad.JobState
	for rows.Next() {
		var s quotad.JobState
		var next, start, end, lease, result, detail, holder sql.NullString
		if err := rows.Scan(&s.Channel, &next, &start, &end, &result, &detail, &s.Runs, &holder, &lease); err != nil {
			return nil, fmt.Errorf("sqlite: read jobs: %w", err)
		}
		s.LastResult, s.LastDetail, s.Holder = result.String, detail.String, holder.String
		var errs [4]error
		s.NextRun, errs[0] = parseTime("jobs.next_run", next)
		s.LastStart, errs[1] = parseTime("jobs.last_start", start)
		s.LastEnd, errs[2] = parseTime("jobs.last_end", end)
		s.LeaseUntil, errs[3] = parseTime("jobs.lease_until", lease)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("sqlite: read job %q: %w", s.Channel, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SaveJobState inserts or replaces a job record.
func (t *tx) SaveJobState(s quotad.JobState) error {
	if err := t.writable("save job state"); err != nil {
		return err
	}
	var e enc
	args := []any{s.Channel, e.time(s.NextRun), e.time(s.LastStart), e.time(s.LastEnd), nullStr(s.LastResult),
		nullStr(s.LastDetail), s.Runs, nullStr(s.Holder), e.time(s.LeaseUntil)}
	if e.err != nil {
		return fmt.Errorf("sqlite: save job %q: %w", s.Channel, e.err)
	}
	_, err := t.sqlTx.ExecContext(t.ctx, `INSERT INTO jobs (channel, next_run, last_start, last_end, last_result,
		last_detail, runs, holder, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel) DO UPDATE SET next_run = excluded.next_run, last_start = excluded.last_start,
		last_end = excluded.last_end, last_result = excluded.last_result, last_detail = excluded.last_detail,
		runs = excluded.runs, holder = excluded.holder, lease_until = excluded.lease_until`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: save job %q: %w", s.Channel, err)
	}
	return nil
}

// AddUsage adds to usage buckets, creating them as needed.
func (t *tx) AddUsage(buckets ...quotad.UsageBucket) error {
	if err := t.writable("add usage"); err != nil {
		return err
	}
	for _, b := range buckets {
		var e enc
		start := e.time(b.Start)
		if e.err != nil || start == nil {
			return fmt.Errorf("sqlite: add usage: %w", errors.Join(e.err, quotad.Invalidf("bucket without a start")))
		}
		if _, err := t.exec(stAddUsage, b.API, b.Channel, start, int64(b.Resolution/time.Second), b.Units, b.Count, b.Model, b.Cost); err != nil {
			return fmt.Errorf("sqlite: add usage: %w", err)
		}
	}
	return nil
}

// Usage returns buckets matching f.
func (t *tx) Usage(f quotad.UsageFilter) ([]quotad.UsageBucket, error) {
	where, args := "WHERE 1=1", []any{}
	var e enc
	if f.API != "" {
		where, args = where+" AND api = ?", append(args, f.API)
	}
	if f.Channel != "" {
		where, args = where+" AND channel = ?", append(args, f.Channel)
	}
	if !f.Since.IsZero() {
		where, args = where+" AND start >= ?", append(args, e.time(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = where+" AND start < ?", append(args, e.time(f.Until))
	}
	if f.Resolution != 0 {
		where, args = where+" AND resolution = ?", append(args, int64(f.Resolution/time.Second))
	}
	if e.err != nil {
		return nil, fmt.Errorf("sqlite: read usage: %w", e.err)
	}
	rows, err := t.sqlTx.QueryContext(t.ctx, `SELECT api, channel, start, resolution, units, count, model, cost FROM usage `+
		where+` ORDER BY start, api, channel, resolution, model`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read usage: %w", err)
	}
	defer rows.Close()
	var out []quotad.UsageBucket
	for rows.Next() {
		var b quotad.UsageBucket
		var start sql.NullString
		var res int64
		if err := rows.Scan(&b.API, &b.Channel, &start, &res, &b.Units, &b.Count, &b.Model, &b.Cost); err != nil {
			return nil, fmt.Errorf("sqlite: read usage: %w", err)
		}
		if b.Start, err = parseTime("usage.start", start); err != nil {
			return nil, fmt.Errorf("sqlite: read usage: %w", err)
		}
		b.Resolution = time.Duration(res) * time.Second
		out = append(out, b)
	}
	return out, rows.Err()
}

// RollupUsage folds old minute buckets into hour buckets.
func (t *tx) RollupUsage(before time.Time) (int, error) {
	if err := t.writable("roll up usage"); err != nil {
		return 0, err
	}
	var e enc
	at := e.time(before)
	if e.err != nil {
		return 0, fmt.Errorf("sqlite: roll up usage: %w", e.err)
	}
	// The hour of a fixed-width UTC time is its first 13 characters.
	if _, err := t.sqlTx.ExecContext(t.ctx, `INSERT INTO usage (api, model, channel, start, resolution, units, count, cost)
		SELECT api, model, channel, substr(start, 1, 13) || ':00:00.000000Z', 3600, sum(units), sum(count), sum(cost)
		FROM usage WHERE resolution = 60 AND start < ? GROUP BY api, model, channel, substr(start, 1, 13)
		ON CONFLICT (resolution, start, api, channel, model)
		DO UPDATE SET units = units + excluded.units, count = count + excluded.count, cost = cost + excluded.cost`, at); err != nil {
		return 0, fmt.Errorf("sqlite: roll up usage: %w", err)
	}
	res, err := t.sqlTx.ExecContext(t.ctx, `DELETE FROM usage WHERE resolution = 60 AND start < ?`, at)
	if err != nil {
		return 0, fmt.Errorf("sqlite: roll up usage: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PruneUsage deletes old hour buckets.
func (t *tx) PruneUsage(before time.Time) (int, error) {
	if err := t.writable("prune usage"); err != nil {
		return 0, err
	}
	var e enc
	at := e.time(before)
	if e.err != nil {
		return 0, fmt.Errorf("sqlite: prune usage: %w", e.err)
	}
	res, err := t.sqlTx.ExecContext(t.ctx, `DELETE FROM usage WHERE resolution = 3600 AND start < ?`, at)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune usage: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
