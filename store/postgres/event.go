package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

// DefaultEventLimit is the number of events Events returns when the filter
// sets no Limit.
const DefaultEventLimit = 100

const sqlInsertEvent = `INSERT INTO logs (timestamp, level, channel, category, message, fields)
	VALUES ($1, $2, $3, $4, $5, $6)`

// AppendEvents writes events to the logs table in order, in one round trip.
// IDs come from the table's identity column; since every writer holds the
// store's lock until it commits, IDs also increase in commit order, so a
// reader tailing with EventFilter.After misses nothing. An event without a
// time is refused (logs.timestamp is NOT NULL).
func (t *tx) AppendEvents(events ...quotad.Event) error {
	if err := t.writable("append events"); err != nil {
		return err
	}
	rows := make([][]any, len(events))
	for i, ev := range events {
		if ev.Time.IsZero() {
			return fmt.Errorf("postgres: append event %d (%s): %w", i, ev.Category, quotad.Invalidf("event has no time"))
		}
		var e enc
		ts, fields := e.time(ev.Time), e.json(ev.Fields, len(ev.Fields))
		if e.err != nil {
			return fmt.Errorf("postgres: append event %d (%s): %w", i, ev.Category, e.err)
		}
		rows[i] = []any{ts, ev.Level, nullStr(ev.Channel), ev.Category, ev.Message, fields}
	}
	for _, args := range rows {
		t.queue("postgres: append events", nil, sqlInsertEvent, args...)
	}
	return nil
}

// Events returns the events matching f, newest (highest id) first. A
// Category containing '%' is a LIKE pattern, matched case-insensitively and
// with no escape character, as SQLite's LIKE matches; otherwise it must
// match exactly.
func (t *tx) Events(f quotad.EventFilter) ([]quotad.Event, error) {
	var (
		where []string
		args  []any
	)
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Category != "" {
		if strings.Contains(f.Category, "%") {
			arg("category ILIKE ? ESCAPE ''", f.Category)
		} else {
			arg("category = ?", f.Category)
		}
	}
	if f.Channel != "" {
		arg("channel = ?", f.Channel)
	}
	if f.Level != "" {
		arg("level = ?", f.Level)
	}
	if f.Before > 0 {
		arg("id < ?", f.Before)
	}
	if f.After > 0 {
		arg("id > ?", f.After)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	q := "SELECT id, timestamp, level, channel, category, message, fields FROM logs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))

	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	defer rows.Close()
	var (
		out []quotad.Event
		d   dec
	)
	for rows.Next() {
		var (
			ev                           quotad.Event
			ts                           pgtype.Timestamptz
			level, channel, cat, message pgtype.Text
			fields                       []byte
		)
		if err := rows.Scan(&ev.ID, &ts, &level, &channel, &cat, &message, &fields); err != nil {
			return nil, fmt.Errorf("postgres: read events: %w", err)
		}
		ev.Time = tm(ts)
		ev.Level, ev.Channel, ev.Category, ev.Message = level.String, channel.String, cat.String, message.String
		ev.Fields = d.fields("logs.fields", fields)
		if d.err != nil {
			return nil, fmt.Errorf("postgres: read event %d: %w", ev.ID, d.err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	return out, nil
}
