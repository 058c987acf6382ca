package engine

import (
	"context"
	"fmt"

	"github.com/quotad/quotad"
)

// noteWrite records the outcome of the last group-commit transaction.
func (e *Engine) noteWrite(err error) {
	if err == nil {
		if e.writeErr.Load() != nil {
			e.writeErr.Store(nil)
		}
		return
	}
	e.writeErr.Store(&err)
}

// WriteHealth returns the error of the last store transaction when it
// failed (a full disk, a read-only file, a lock held past the timeout, a
// database that is down), or nil when it succeeded. It reads no store:
// /metrics reports it as quotad_store_up.
func (e *Engine) WriteHealth() error {
	if p := e.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// CheckWrites returns nil when the store takes writes. When the last
// transaction failed it tries a small write (reading the quota tables and
// rewriting one idempotency record) so that readiness recovers by itself once the fault is gone, and
// returns its error when it fails too.
func (e *Engine) CheckWrites(ctx context.Context) error {
	if e.WriteHealth() == nil {
		return nil
	}
	_, err := e.do(ctx, func(t *txn) (any, error) {
		if _, err := t.tx.APIs(); err != nil { // the tables spends need, read past any cache
			return nil, t.storeErr(err)
		}
		rec := quotad.IdempotencyRecord{Key: probeKey, Fingerprint: "probe", Status: 200, CreatedAt: t.now}
		return nil, t.storeErr(t.tx.SaveIdempotency(rec))
	})
	if err != nil {
		return fmt.Errorf("the store does not take writes: %w", err)
	}
	return nil
}
