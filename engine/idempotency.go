package engine

import (
	"context"
	"fmt"

	"github.com/quotad/quotad"
)

// Idempotency is what an edge (the HTTP server) gives the engine with an
// operation whose request carried an idempotency key: the key, a
// fingerprint of the request, and how to turn the operation's outcome into
// the answer that is stored with it.
type Idempotency struct {
	Key         string
	Fingerprint string
	// Render turns the operation's result into the answer the caller gets
	// (an HTTP status and body) and says whether to store it; answers that
	// a retry should not repeat (a 5xx) are not stored. It runs on the
	// engine's writer goroutine and must not block.
	Render func(v any, err error) (status int, body []byte, store bool)
}

type idempotencyKey struct{}

// WithIdempotency returns ctx carrying k. An operation run with it (spend,
// reserve, commit, release, report, …) first looks k.Key up in the store,
// in the same transaction: when found with the same fingerprint within
// quotad.IdempotencyTTL it changes nothing and returns a *Replayed holding
// the first answer; with another fingerprint it returns an error wrapping
// quotad.ErrIdempotencyMismatch. Otherwise the operation runs and its
// rendered answer is stored under the key in its transaction, so the change
// and the key are committed together or not at all.
func WithIdempotency(ctx context.Context, k Idempotency) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, &k)
}

func idempotencyFrom(ctx context.Context) *Idempotency {
	k, _ := ctx.Value(idempotencyKey{}).(*Idempotency)
	return k
}

// Replayed is returned as the error of an operation whose idempotency key
// was used before for the same request: Status and Body are the first
// answer, and nothing was changed.
type Replayed struct {
	Status int
	Body   []byte
}

// Error implements error.
func (r *Replayed) Error() string {
	return fmt.Sprintf("replayed the first answer (status %d) to this idempotency key", r.Status)
}

// runIdempotent runs o in t under its idempotency key.
func (t *txn) runIdempotent(o *op) (any, error) {
	k := o.idem
	rec, ok, err := t.idempotency(k.Key)
	if err != nil {
		t.storeErr(err)
		return nil, err
	}
	if ok && !rec.CreatedAt.Before(t.now.Add(-quotad.IdempotencyTTL)) {
		if rec.Fingerprint != k.Fingerprint {
			return nil, fmt.Errorf("%w: key %q was first used for another request within %s; use a new key for a new request",
				quotad.ErrIdempotencyMismatch, k.Key, quotad.IdempotencyTTL)
		}
		return nil, &Replayed{Status: rec.Status, Body: rec.Body}
	}
	v, err := o.fn(t)
	if t.fatal != nil {
		return v, err
	}
	rerr := err
	if rerr != nil && o.wrap != nil {
		rerr = o.wrap(rerr)
	}
	if status, body, store := k.Render(v, rerr); store {
		rec := quotad.IdempotencyRecord{Key: k.Key, Fingerprint: k.Fingerprint, Status: status, Body: body, CreatedAt: t.now}
		if serr := t.tx.SaveIdempotency(rec); serr != nil {
			t.storeErr(serr)
			return nil, serr
		}
		if t.idem == nil {
			t.idem = map[string]quotad.IdempotencyRecord{}
		}
		t.idem[k.Key] = rec
	}
	return v, err
}

// idempotency returns the record of key as this transaction sees it.
func (t *txn) idempotency(key string) (quotad.IdempotencyRecord, bool, error) {
	if rec, ok := t.idem[key]; ok {
		return rec, true, nil
	}
	return t.tx.Idempotency(key)
}

// probeKey is the idempotency key the write probe rewrites (see CheckWrites).
const probeKey = "quotad:write-probe"
