package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/quotad/quotad"
)

// EnqueueNotifications inserts notifications, skipping (notifier, key)
// duplicates.
func (t *tx) EnqueueNotifications(ns ...quotad.Notification) error {
	if err := t.writable("enqueue notifications"); err != nil {
		return err
	}
	for _, n := range ns {
		var e enc
		next, created := e.time(n.NextAttempt), e.time(n.CreatedAt)
		if e.err != nil {
			return fmt.Errorf("sqlite: enqueue notification: %w", e.err)
		}
		state := n.State
		if state == "" {
			state = quotad.NotifyPending
		}
		if _, err := t.sqlTx.ExecContext(t.ctx, `INSERT INTO notifications (notifier, key, kind, payload, state,
			attempts, next_attempt, created_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (notifier, key) DO NOTHING`,
			n.Notifier, n.Key, n.Kind, n.Payload, state, n.Attempts, next, created, nullStr(n.LastError)); err != nil {
			return fmt.Errorf("sqlite: enqueue notification: %w", err)
		}
	}
	return nil
}

const selectNotification = `SELECT id, notifier, key, kind, payload, state, attempts, next_attempt, created_at,
	last_error FROM notifications `

func (t *tx) queryNotifications(q string, args ...any) ([]quotad.Notification, error) {
	rows, err := t.sqlTx.QueryContext(t.ctx, selectNotification+q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read notifications: %w", err)
	}
	defer rows.Close()
	var out []quotad.Notification
	for rows.Next() {
		var n quotad.Notification
		var kind, payload, lastErr, next, created sql.NullString
		if err := rows.Scan(&n.ID, &n.Notifier, &n.Key, &kind, &payload, &n.State, &n.Attempts, &next, &created, &lastErr); err != nil {
			return nil, fmt.Errorf("sqlite: read notifications: %w", err)
		}
		n.Kind, n.Payload, n.LastError = kind.String, payload.String, lastErr.String
		if n.NextAttempt, err = parseTime("notifications.next_attempt", next); err != nil {
			return nil, err
		}
		if n.CreatedAt, err = parseTime("notifications.created_at", created); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DueNotifications returns pending notifications due at now, oldest first.
func (t *tx) DueNotifications(now time.Time, limit int) ([]quotad.Notification, error) {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return nil, e.err
	}
	if limit <= 0 {
		limit = 100
	}
	return t.queryNotifications(`WHERE state = ? AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id LIMIT ?`,
		quotad.NotifyPending, at, limit)
}

// Notifications returns the newest notifications.
func (t *tx) Notifications(limit int) ([]quotad.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return t.queryNotifications(`ORDER BY id DESC LIMIT ?`, limit)
}

// NotificationCounts counts the stored notifications per notifier and state.
func (t *tx) NotificationCounts() ([]quotad.NotificationCount, error) {
	rows, err := t.sqlTx.QueryContext(t.ctx, `SELECT notifier, state, count(*) FROM notifications
		GROUP BY notifier, state ORDER BY notifier, state`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count notifications: %w", err)
	}
	defer rows.Close()
	var out []quotad.NotificationCount
	for rows.Next() {
		var c quotad.NotificationCount
		if err := rows.Scan(&c.Notifier, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("sqlite: count notifications: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count notifications: %w", err)
	}
	return out, nil
}

// SaveNotification updates a notification's delivery state.
func (t *tx) SaveNotification(n quotad.Notification) error {
	if err := t.writable("save notification"); err != nil {
		return err
	}
	var e enc
	next := e.time(n.NextAttempt)
	if e.err != nil {
		return fmt.Errorf("sqlite: save notification: %w", e.err)
	}
	if _, err := t.sqlTx.ExecContext(t.ctx, `UPDATE notifications SET state = ?, attempts = ?, next_attempt = ?,
		last_error = ? WHERE id = ?`, n.State, n.Attempts, next, nullStr(n.LastError), n.ID); err != nil {
		return fmt.Errorf("sqlite: save notification %d: %w", n.ID, err)
	}
	return nil
}

// Once records key and reports whether it was new.
func (t *tx) Once(key string, at time.Time) (bool, error) {
	if err := t.writable("once"); err != nil {
		return false, err
	}
	var e enc
	ts := e.time(at)
	if e.err != nil {
		return false, e.err
	}
	res, err := t.sqlTx.ExecContext(t.ctx, `INSERT INTO once_keys (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, ts)
	if err != nil {
		return false, fmt.Errorf("sqlite: once %q: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
