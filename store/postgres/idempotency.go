package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

// Migration 5 adds the idempotency keys of HTTP mutations.
func init() {
	migrations = append(migrations, migration{5, "idempotency keys", []string{
		`CREATE TABLE idempotency_keys (
			key         text PRIMARY KEY,
			fingerprint text NOT NULL,
			status      integer NOT NULL,
			body        bytea,
			created_at  timestamptz NOT NULL
		)`,
		`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`,
	}})
}

// Idempotency returns the record stored under key.
func (t *tx) Idempotency(key string) (quotad.IdempotencyRecord, bool, error) {
	r := quotad.IdempotencyRecord{Key: key}
	var created pgtype.Timestamptz
	err := t.queryRow(`SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE key = $1`, []any{key},
		&r.Fingerprint, &r.Status, &r.Body, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return quotad.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return quotad.IdempotencyRecord{}, false, fmt.Errorf("postgres: idempotency key: %w", err)
	}
	r.CreatedAt = tm(created)
	return r, true, nil
}

// SaveIdempotency inserts or replaces a record. It is queued with the
// transaction's other writes.
func (t *tx) SaveIdempotency(r quotad.IdempotencyRecord) error {
	if err := t.writable("save idempotency key"); err != nil {
		return err
	}
	var e enc
	created := e.time(r.CreatedAt)
	if e.err != nil {
		return fmt.Errorf("postgres: save idempotency key: %w", e.err)
	}
	t.queue("save idempotency key", nil, `INSERT INTO idempotency_keys (key, fingerprint, status, body, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,
		status = excluded.status, body = excluded.body, created_at = excluded.created_at`,
		r.Key, r.Fingerprint, r.Status, r.Body, created)
	return nil
}

// PruneIdempotency deletes records created before before.
func (t *tx) PruneIdempotency(before time.Time) (int, error) {
	if err := t.writable("prune idempotency keys"); err != nil {
		return 0, err
	}
	tag, err := t.execNow(`DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune idempotency keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
