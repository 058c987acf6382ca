package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quotad/quotad"
)

// Migration 5 adds the idempotency keys of HTTP mutations.
func init() {
	migrations = append(migrations, migration{5, "idempotency keys", []string{
		`CREATE TABLE idempotency_keys (
			key         TEXT PRIMARY KEY,
			fingerprint TEXT NOT NULL,
			status      INTEGER NOT NULL,
			body        BLOB,
			created_at  INTEGER NOT NULL  -- Unix seconds
		)`,
		`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`,
	}})
}

// Idempotency returns the record stored under key.
func (t *tx) Idempotency(key string) (quotad.IdempotencyRecord, bool, error) {
	r := quotad.IdempotencyRecord{Key: key}
	var created int64
	err := t.sqlTx.QueryRowContext(t.ctx, `SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE key = ?`, key).
		Scan(&r.Fingerprint, &r.Status, &r.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return quotad.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return quotad.IdempotencyRecord{}, false, fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	r.CreatedAt = time.Unix(created, 0).UTC()
	return r, true, nil
}

// SaveIdempotency inserts or replaces a record.
func (t *tx) SaveIdempotency(r quotad.IdempotencyRecord) error {
	if err := t.writable("save idempotency key"); err != nil {
		return err
	}
	if _, err := t.sqlTx.ExecContext(t.ctx, `INSERT INTO idempotency_keys (key, fingerprint, status, body, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,
		status = excluded.status, body = excluded.body, created_at = excluded.created_at`,
		r.Key, r.Fingerprint, r.Status, r.Body, r.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("sqlite: save idempotency key: %w", err)
	}
	return nil
}

// PruneIdempotency deletes records created before before.
func (t *tx) PruneIdempotency(before time.Time) (int, error) {
	if err := t.writable("prune idempotency keys"); err != nil {
		return 0, err
	}
	res, err := t.sqlTx.ExecContext(t.ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// IdempotencyRecords returns every stored idempotency record, oldest first:
// what `quotad migrate-from-sqlite` copies (the Tx interface cannot list
// them).
func (s *Store) IdempotencyRecords(ctx context.Context) ([]quotad.IdempotencyRecord, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT key, fingerprint, status, body, created_at FROM idempotency_keys ORDER BY created_at, key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: idempotency keys: %w", err)
	}
	defer rows.Close()
	var out []quotad.IdempotencyRecord
	for rows.Next() {
		var r quotad.IdempotencyRecord
		var created int64
		if err := rows.Scan(&r.Key, &r.Fingerprint, &r.Status, &r.Body, &created); err != nil {
			return nil, fmt.Errorf("sqlite: idempotency keys: %w", err)
		}
		r.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: idempotency keys: %w", err)
	}
	return out, nil
}
