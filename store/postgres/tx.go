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

// tx implements quotad.Tx over one connection inside a transaction that
// Store.run began. Statements use pgx's per-connection statement cache
// (prepared once per connection, then reused); multi-statement writes are
// sent as one pgx.Batch (one round trip).
type tx struct {
	ctx     context.Context
	conn    *pgx.Conn
	write   bool
	changed bool // a write changed something: NOTIFY at commit
}

var _ quotad.Tx = (*tx)(nil)

// writable returns ErrReadOnly, wrapped with op, inside View. It is checked
// before anything is sent, so a refused write leaves the transaction usable.
func (t *tx) writable(op string) error {
	if !t.write {
		return fmt.Errorf("postgres: %s: %w", op, ErrReadOnly)
	}
	return nil
}

func (t *tx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.conn.Exec(t.ctx, sql, args...)
	if err == nil && tag.RowsAffected() > 0 {
		t.changed = true
	}
	return tag, err
}

// sendBatch runs every statement of b in one round trip and returns the
// rows affected by each, or the first error.
func (t *tx) sendBatch(b *pgx.Batch) ([]int64, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	br := t.conn.SendBatch(t.ctx, b)
	n := make([]int64, b.Len())
	var first error
	for i := range n {
		tag, err := br.Exec()
		if err != nil {
			first = err
			break
		}
		n[i] = tag.RowsAffected()
		if n[i] > 0 {
			t.changed = true
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return n, first
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
