package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

const (
	selectReservation    = `SELECT id, api_name, channel, units, created_at, expires_at FROM reservations`
	sqlReservation       = selectReservation + ` WHERE id = $1`
	sqlExpired           = selectReservation + ` WHERE expires_at <= $1 ORDER BY expires_at, id`
	sqlUpsertReservation = `INSERT INTO reservations (id, api_name, channel, units, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET api_name = excluded.api_name, channel = excluded.channel,
		units = excluded.units, created_at = excluded.created_at, expires_at = excluded.expires_at`
	sqlDeleteReservation = `DELETE FROM reservations WHERE id = $1`
	sqlDueAt             = `SELECT min(t) FROM (
		SELECT min(next_reset) AS t FROM api_quotas
		UNION ALL SELECT min(blocked_until) FROM api_quotas WHERE is_exhausted
		UNION ALL SELECT min(until) FROM channel_pauses
		UNION ALL SELECT min(expires_at) FROM reservations) due`
)

// Reservation returns one reservation; a missing one wraps
// quotad.ErrUnknownReservation.
func (t *tx) Reservation(id string) (quotad.Reservation, error) {
	list, err := t.queryReservations(sqlReservation, id)
	if err != nil {
		return quotad.Reservation{}, fmt.Errorf("postgres: read reservation %q: %w", id, err)
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
		return fmt.Errorf("postgres: save reservation: %w", quotad.Invalidf("empty reservation id"))
	}
	var e enc
	created, expires := e.time(r.CreatedAt), e.time(r.ExpiresAt)
	if e.err != nil {
		return fmt.Errorf("postgres: save reservation %q: %w", r.ID, e.err)
	}
	t.queue(fmt.Sprintf("postgres: save reservation %q", r.ID), nil, sqlUpsertReservation, r.ID, r.API, nullStr(r.Channel), r.Units, created, expires)
	return nil
}

// DeleteReservation removes a reservation (no error if missing).
func (t *tx) DeleteReservation(id string) error {
	if err := t.writable("delete reservation"); err != nil {
		return err
	}
	t.queue(fmt.Sprintf("postgres: delete reservation %q", id), nil, sqlDeleteReservation, id)
	return nil
}

// ExpiredReservations returns the reservations with ExpiresAt <= now, the
// earliest first. A reservation without an expiry never expires.
func (t *tx) ExpiredReservations(now time.Time) ([]quotad.Reservation, error) {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return nil, fmt.Errorf("postgres: expired reservations: %w", e.err)
	}
	if at == nil {
		return nil, nil
	}
	list, err := t.queryReservations(sqlExpired, at)
	if err != nil {
		return nil, fmt.Errorf("postgres: expired reservations: %w", err)
	}
	return list, nil
}

func (t *tx) queryReservations(sql string, args ...any) ([]quotad.Reservation, error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []quotad.Reservation
	for rows.Next() {
		var (
			r                quotad.Reservation
			api, ch          pgtype.Text
			units            pgtype.Int8
			created, expires pgtype.Timestamptz
		)
		if err := rows.Scan(&r.ID, &api, &ch, &units, &created, &expires); err != nil {
			return nil, err
		}
		r.API, r.Channel, r.Units = api.String, ch.String, units.Int64
		r.CreatedAt, r.ExpiresAt = tm(created), tm(expires)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DueAt returns the earliest instant at which time alone changes state: the
// minimum of every window's next_reset, every exhausted window's
// blocked_until, every pause's until and every reservation's expires_at; the
// zero time when there is none.
func (t *tx) DueAt() (time.Time, error) {
	var at pgtype.Timestamptz
	if err := t.queryRow(sqlDueAt, nil, &at); err != nil {
		return time.Time{}, fmt.Errorf("postgres: due at: %w", err)
	}
	return tm(at), nil
}
