package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

// tx implements quotad.Tx over one connection. Statements use pgx's
// per-connection statement cache (prepared once per connection, then
// reused) and are pipelined: writes whose outcome the caller does not need
// at once are queued, and the queue goes to the server in one round trip
// (a pgx.Batch) together with the next read or with COMMIT. BEGIN (and the
// write lock) are queued the same way, so an Update that reads one API and
// writes it back costs two round trips, and one that writes nothing costs
// none. A queued statement that fails fails the transaction: the error is
// returned by the read that carried it, or by Update.
type tx struct {
	ctx     context.Context
	conn    *pgx.Conn
	write   bool
	changed bool // a write was made: NOTIFY at commit
	begun   bool // BEGIN has been sent
	pending []queued
	// known lists the windows this transaction has seen exist, so that
	// SaveWindow of one of them can be queued instead of waiting for its
	// row count.
	known map[string]map[string]bool
}

// queued is a statement waiting to be sent. check, if set, judges its
// command tag.
type queued struct {
	what  string
	sql   string
	args  []any
	check func(pgconn.CommandTag) error
}

var _ quotad.Tx = (*tx)(nil)

func newTx(ctx context.Context, conn *pgx.Conn, write bool, begin []queued) *tx {
	t := &tx{ctx: ctx, conn: conn, write: write}
	t.pending = append(t.pending, begin...)
	return t
}

// writable returns ErrReadOnly, wrapped with op, inside View. It is checked
// before anything is queued, so a refused write leaves the transaction
// usable.
func (t *tx) writable(op string) error {
	if !t.write {
		return fmt.Errorf("postgres: %s: %w", op, ErrReadOnly)
	}
	return nil
}

// queue adds a write to the pipeline.
func (t *tx) queue(what string, check func(pgconn.CommandTag) error, sql string, args ...any) {
	t.pending = append(t.pending, queued{what: what, sql: sql, args: args, check: check})
	t.changed = true
}

// send sends the pending statements followed by extra in one batch, reads
// the results of the pending ones, and returns the batch positioned at
// extra's results. On error the batch is closed.
func (t *tx) send(extra ...queued) (pgx.BatchResults, error) {
	list := append(t.pending, extra...)
	t.pending = nil
	b := &pgx.Batch{}
	for _, q := range list {
		b.Queue(q.sql, q.args...)
	}
	t.begun = true
	br := t.conn.SendBatch(t.ctx, b)
	for _, q := range list[:len(list)-len(extra)] {
		tag, err := br.Exec()
		if err == nil && q.check != nil {
			err = q.check(tag)
		}
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("%s: %w", q.what, err)
		}
	}
	return br, nil
}

// sync sends whatever is pending, on its own.
func (t *tx) sync() error {
	if len(t.pending) == 0 {
		return nil
	}
	br, err := t.send()
	if err != nil {
		return err
	}
	return br.Close()
}

// execNow runs one statement after the pending ones and returns its tag.
func (t *tx) execNow(sql string, args ...any) (pgconn.CommandTag, error) {
	var (
		tag pgconn.CommandTag
		err error
	)
	if len(t.pending) == 0 {
		tag, err = t.conn.Exec(t.ctx, sql, args...)
	} else {
		var br pgx.BatchResults
		if br, err = t.send(queued{sql: sql, args: args}); err != nil {
			return tag, err
		}
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && tag.RowsAffected() > 0 {
		t.changed = true
	}
	return tag, err
}

// query runs a query after the pending statements.
func (t *tx) query(sql string, args ...any) (pgx.Rows, error) {
	if len(t.pending) == 0 {
		return t.conn.Query(t.ctx, sql, args...)
	}
	br, err := t.send(queued{sql: sql, args: args})
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// queryRow runs a query returning one row and scans it into dest.
func (t *tx) queryRow(sql string, args []any, dest ...any) error {
	rows, err := t.query(sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// batchRows are the rows of the last query of a batch; closing them closes
// the batch.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		r.err = r.br.Close()
		r.br = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// finish ends the transaction: COMMIT (after NOTIFY when something was
// written) pipelined with the pending writes. A transaction that never
// reached the server needs nothing.
func (t *tx) finish(notify string) error {
	if !t.begun && !t.changed {
		t.pending = nil
		return nil
	}
	if t.changed && notify != "" {
		t.pending = append(t.pending, queued{what: "notify", sql: `SELECT pg_notify($1, $2)`, args: []any{NotifyChannel, notify}})
	}
	t.pending = append(t.pending, queued{what: "commit", sql: "COMMIT", check: func(tag pgconn.CommandTag) error {
		// COMMIT of a transaction that a statement aborted reports
		// ROLLBACK, not an error.
		if tag.String() != "COMMIT" {
			return fmt.Errorf("the transaction was rolled back (%s): an earlier statement failed", tag)
		}
		return nil
	}})
	return t.sync()
}

// markKnown records that api has exactly the windows named.
func (t *tx) markKnown(api string, windows []string) {
	if t.known == nil {
		t.known = map[string]map[string]bool{}
	}
	m := make(map[string]bool, len(windows))
	for _, w := range windows {
		m[w] = true
	}
	t.known[api] = m
}

// enc converts values to statement arguments, remembering the first error.
type enc struct{ err error }

// time returns t as an argument: nil (NULL) for the zero time, else t. Years
// outside 1..9999 are refused, as the SQLite store refuses them, so that both
// stores accept the same values.
func (e *enc) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		if e.err == nil {
			e.err = quotad.Invalidf("time %s is outside years 1..9999", t.Format(time.RFC3339Nano))
		}
		return nil
	}
	return t
}

// json returns v as JSON text for a jsonb column, or nil (NULL) when v is an
// empty list or map.
func (e *enc) json(v any, n int) any {
	if n == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	return string(b)
}

// nullStr stores "" as NULL.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// tm returns a scanned timestamptz as a UTC time; NULL is the zero time.
func tm(v pgtype.Timestamptz) time.Time {
	if !v.Valid || v.InfinityModifier != pgtype.Finite {
		return time.Time{}
	}
	return v.Time.UTC()
}

// dec decodes jsonb columns, remembering the first error.
type dec struct{ err error }

// strings decodes a JSON array; NULL is an empty (nil) list.
func (d *dec) strings(col string, b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fields decodes a JSON object; NULL is an empty (nil) map.
func (d *dec) fields(col string, b []byte) map[string]string {
	if len(b) == 0 {
		return nil
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// into decodes a jsonb column into v; NULL leaves v as it is.
func (d *dec) into(col string, b []byte, v any) {
	if len(b) == 0 {
		return
	}
	if err := json.Unmarshal(b, v); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
}
