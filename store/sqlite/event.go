package sqlite

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/quotad/quotad"
)

// DefaultEventLimit is the number of events Events returns when the filter
// sets no Limit.
const DefaultEventLimit = 100

// AppendEvents writes events to the logs table in order; ids are assigned
// by the table (AUTOINCREMENT), so they increase in the order given. An
// event without a time is refused (logs.timestamp is NOT NULL).
func (t *tx) AppendEvents(events ...quotad.Event) error {
	if err := t.writable("append events"); err != nil {
		return err
	}
	for i, ev := range events {
		if ev.Time.IsZero() {
			return fmt.Errorf("sqlite: append event %d (%s): %w", i, ev.Category, quotad.Invalidf("event has no time"))
		}
		var e enc
		ts, fields := e.time(ev.Time), e.json(ev.Fields, len(ev.Fields))
		if e.err != nil {
			return fmt.Errorf("sqlite: append event %d (%s): %w", i, ev.Category, e.err)
		}
		if _, err := t.exec(stInsertEvent, ts, ev.Level, nullStr(ev.Channel), ev.Category, ev.Message, fields); err != nil {
			return fmt.Errorf("sqlite: append event %d (%s): %w", i, ev.Category, err)
		}
	}
	return nil
}

// Events returns the events matching f, newest (highest id) first. A
// Category containing '%' is a LIKE pattern (ASCII case-insensitive, as
// SQLite's LIKE is); otherwise it must match exactly.
func (t *tx) Events(f quotad.EventFilter) ([]quotad.Event, error) {
	var (
		where []string
		args  []any
	)
	if f.Category != "" {
		if strings.Contains(f.Category, "%") {
			where = append(where, "category LIKE ?")
		} else {
			where = append(where, "category = ?")
		}
		args = append(args, f.Category)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	if f.Level != "" {
		where, args = append(where, "level = ?"), append(args, f.Level)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	if f.After > 0 {
		where, args = append(where, "id > ?"), append(args, f.After)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	q := "SELECT id, CAST(timestamp AS TEXT), level, channel, category, message, fields FROM logs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := t.sqlTx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read events: %w", err)
	}
	defer rows.Close()
	var (
		out []quotad.Event
		d   = dec{zone: t.logZone}
	)
	for rows.Next() {
		var (
			ev                                quotad.Event
			ts, level, channel, cat, msg, fld sql.NullString
		)
		if err := rows.Scan(&ev.ID, &ts, &level, &channel, &cat, &msg, &fld); err != nil {
			return nil, fmt.Errorf("sqlite: read events: %w", err)
		}
		ev.Time = d.time("logs.timestamp", ts)
		ev.Level, ev.Channel, ev.Category, ev.Message = level.String, channel.String, cat.String, msg.String
		ev.Fields = d.fields("logs.fields", fld)
		if d.err != nil {
			return nil, fmt.Errorf("sqlite: read event %d: %w", ev.ID, d.err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read events: %w", err)
	}
	return out, nil
}
