package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quotad/quotad"
)

// Reservation returns one reservation; a missing one wraps
// quotad.ErrUnknownReservation.
func (t *tx) Reservation(id string) (quotad.Reservation, error) {
	list, err := t.queryReservations(stReservation, id)
	if err != nil {
		return quotad.Reservation{}, fmt.Errorf("sqlite: read reservation %q: %w", id, err)
	}
	if len(list) == 0 {
		return quotad.Reservation{}, fmt.Errorf("%w: %q", quotad.ErrUnknownReservation, id)
	}
	return list[0], nil
}

// SaveReservation inserts or replaces a reservation.
func (t *tx) SaveReservation(r quotad.Reservation) error {
	if err := t.writable("save reservation"); err != nil {
		return err
	}
	if r.ID == "" {
		return fmt.Errorf("sqlite: save reservation: %w", quotad.Invalidf("empty reservation id"))
	}
	var e enc
	created, expires := e.time(r.CreatedAt), e.time(r.ExpiresAt)
	if e.err != nil {
		return fmt.Errorf("sqlite: save reservation %q: %w", r.ID, e.err)
	}
	if _, err := t.exec(stUpsertReservation, r.ID, r.API, nullStr(r.Channel), r.Units, created, expires); err != nil {
		return fmt.Errorf("sqlite: save reservation %q: %w", r.ID, err)
	}
	return nil
}

// DeleteReservation removes a reservation (no error if missing).
func (t *tx) DeleteReservation(id string) error {
	if err := t.writable("delete reservation"); err != nil {
		return err
	}
	if _, err := t.exec(stDeleteReservation, id); err != nil {
		return fmt.Errorf("sqlite: delete reservation %q: %w", id, err)
	}
	return nil
}

// ExpiredReservations returns the reservations with ExpiresAt <= now, the
// earliest first. A reservation without an expiry never expires.
func (t *tx) ExpiredReservations(now time.Time) ([]quotad.Reservation, error) {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return nil, fmt.Errorf("sqlite: expired reservations: %w", e.err)
	}
	if at == nil {
		return nil, nil
	}
	list, err := t.queryReservations(stExpired, at)
	if err != nil {
		return nil, fmt.Errorf("sqlite: expired reservations: %w", err)
	}
	return list, nil
}

func (t *tx) queryReservations(id stmtID, args ...any) ([]quotad.Reservation, error) {
	rows, err := t.stmt(id).QueryContext(t.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []quotad.Reservation
		d   dec
	)
	for rows.Next() {
		var (
			r                         quotad.Reservation
			api, ch, created, expires sql.NullString
			units                     sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &api, &ch, &units, &created, &expires); err != nil {
			return nil, err
		}
		r.API, r.Channel, r.Units = api.String, ch.String, units.Int64
		r.CreatedAt = d.time("reservations.created_at", created)
		r.ExpiresAt = d.time("reservations.expires_at", expires)
		if d.err != nil {
			return nil, fmt.Errorf("reservation %q: %w", r.ID, d.err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DueAt returns the earliest instant at which time alone changes state: the
// minimum of every window's next_reset, every exhausted window's
// blocked_until, every pause's until and every reservation's expires_at; the
// zero time when there is none. Fixed-width UTC text makes min() a time min.
func (t *tx) DueAt() (time.Time, error) {
	var s sql.NullString
	if err := t.stmt(stDueAt).QueryRowContext(t.ctx).Scan(&s); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("sqlite: due at: %w", err)
	}
	var d dec
	at := d.time("due at", s)
	if d.err != nil {
		return time.Time{}, fmt.Errorf("sqlite: due at: %w", d.err)
	}
	return at, nil
}
