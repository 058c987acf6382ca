package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

const (
	sqlEnqueue = `INSERT INTO notifications (notifier, key, kind, payload, state, attempts, next_attempt, created_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (notifier, key) DO NOTHING`
	selectNotification = `SELECT id, notifier, key, kind, payload, state, attempts, next_attempt, created_at, last_error
		FROM notifications`
	sqlDueNotifications = selectNotification + ` WHERE state = $1 AND (next_attempt IS NULL OR next_attempt <= $2)
		ORDER BY id LIMIT $3`
	sqlNotifications      = selectNotification + ` ORDER BY id DESC LIMIT $1`
	sqlNotificationCounts = `SELECT notifier, state, count(*) FROM notifications
		GROUP BY notifier, state ORDER BY notifier COLLATE "C", state COLLATE "C"`
	sqlSaveNotification = `UPDATE notifications SET state = $1, attempts = $2, next_attempt = $3, last_error = $4 WHERE id = $5`
	sqlOnce             = `INSERT INTO once_keys (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
)

// EnqueueNotifications inserts notifications, skipping (notifier, key)
// duplicates, in one round trip.
func (t *tx) EnqueueNotifications(ns ...quotad.Notification) error {
	if err := t.writable("enqueue notifications"); err != nil {
		return err
	}
	rows := make([][]any, 0, len(ns))
	for _, n := range ns {
		var e enc
		next, created := e.time(n.NextAttempt), e.time(n.CreatedAt)
		if e.err != nil {
			return fmt.Errorf("postgres: enqueue notification: %w", e.err)
		}
		state := n.State
		if state == "" {
			state = quotad.NotifyPending
		}
		rows = append(rows, []any{n.Notifier, n.Key, n.Kind, n.Payload, state, n.Attempts, next, created, nullStr(n.LastError)})
	}
	for _, args := range rows {
		t.queue("postgres: enqueue notification", nil, sqlEnqueue, args...)
	}
	return nil
}

func (t *tx) queryNotifications(sql string, args ...any) ([]quotad.Notification, error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read notifications: %w", err)
	}
	defer rows.Close()
	var out []quotad.Notification
	for rows.Next() {
		var (
			n                      quotad.Notification
			kind, payload, lastErr pgtype.Text
			attempts               int32
			next, created          pgtype.Timestamptz
		)
		if err := rows.Scan(&n.ID, &n.Notifier, &n.Key, &kind, &payload, &n.State, &attempts, &next, &created, &lastErr); err != nil {
			return nil, fmt.Errorf("postgres: read notifications: %w", err)
		}
		n.Kind, n.Payload, n.LastError, n.Attempts = kind.String, payload.String, lastErr.String, int(attempts)
		n.NextAttempt, n.CreatedAt = tm(next), tm(created)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read notifications: %w", err)
	}
	return out, nil
}

// DueNotifications returns up to limit pending notifications due at now,
// oldest first.
func (t *tx) DueNotifications(now time.Time, limit int) ([]quotad.Notification, error) {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return nil, fmt.Errorf("postgres: due notifications: %w", e.err)
	}
	if limit <= 0 {
		limit = 100
	}
	return t.queryNotifications(sqlDueNotifications, quotad.NotifyPending, at, limit)
}

// Notifications returns the newest notifications in any state, up to limit.
func (t *tx) Notifications(limit int) ([]quotad.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return t.queryNotifications(sqlNotifications, limit)
}

// NotificationCounts counts the stored notifications per notifier and
// state, in byte order like the other stores.
func (t *tx) NotificationCounts() ([]quotad.NotificationCount, error) {
	rows, err := t.query(sqlNotificationCounts)
	if err != nil {
		return nil, fmt.Errorf("postgres: count notifications: %w", err)
	}
	defer rows.Close()
	var out []quotad.NotificationCount
	for rows.Next() {
		var c quotad.NotificationCount
		var n int64
		if err := rows.Scan(&c.Notifier, &c.State, &n); err != nil {
			return nil, fmt.Errorf("postgres: count notifications: %w", err)
		}
		c.Count = int(n)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count notifications: %w", err)
	}
	return out, nil
}

// SaveNotification updates a stored notification's delivery state.
func (t *tx) SaveNotification(n quotad.Notification) error {
	if err := t.writable("save notification"); err != nil {
		return err
	}
	var e enc
	next := e.time(n.NextAttempt)
	if e.err != nil {
		return fmt.Errorf("postgres: save notification %d: %w", n.ID, e.err)
	}
	t.queue(fmt.Sprintf("postgres: save notification %d", n.ID), nil, sqlSaveNotification, n.State, n.Attempts, next, nullStr(n.LastError), n.ID)
	return nil
}

// Once records key and reports whether it was new; the unique key makes the
// answer true for exactly one caller across processes.
func (t *tx) Once(key string, at time.Time) (bool, error) {
	if err := t.writable("once"); err != nil {
		return false, err
	}
	var e enc
	ts := e.time(at)
	if e.err != nil {
		return false, fmt.Errorf("postgres: once %q: %w", key, e.err)
	}
	tag, err := t.execNow(sqlOnce, key, ts)
	if err != nil {
		return false, fmt.Errorf("postgres: once %q: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}
