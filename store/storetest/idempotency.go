package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var idempotencyTests = []subtest{{"RoundTripPrune", testIdempotency}, {"RolledBack", testIdempotencyRollback}}

func testIdempotency(t *testing.T, e *env) {
	body := []byte(`{"api":"groq","used":7}` + "\n\x00\xff") // stored byte for byte
	old := quotad.IdempotencyRecord{Key: "k-old", Fingerprint: "f1", Status: 200, Body: body, CreatedAt: t0}
	recent := quotad.IdempotencyRecord{Key: "k-new", Fingerprint: "f2", Status: 429, Body: []byte(`{}`), CreatedAt: t0.Add(23 * time.Hour)}
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveIdempotency(old); err != nil {
			return err
		}
		return tx.SaveIdempotency(recent)
	})
	var got quotad.IdempotencyRecord
	var ok bool
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		got, ok, err = tx.Idempotency("k-old")
		return err
	})
	if !ok || got.Key != "k-old" || got.Fingerprint != "f1" || got.Status != 200 || !bytes.Equal(got.Body, body) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("round trip: %+v %v, want %+v", got, ok, old)
	}
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		_, ok, err = tx.Idempotency("k-missing")
		return err
	})
	if ok {
		t.Fatal("a missing key was found")
	}
	if err := e.s.View(t.Context(), func(tx quotad.Tx) error { return tx.SaveIdempotency(old) }); err == nil {
		t.Fatal("SaveIdempotency inside View succeeded")
	}
	var n int
	update(t, e.s, func(tx quotad.Tx) error {
		var err error
		n, err = tx.PruneIdempotency(t0.Add(time.Hour))
		return err
	})
	if n != 1 {
		t.Fatalf("pruned %d, want 1 (the record older than the cut)", n)
	}
	view(t, e.s, func(tx quotad.Tx) error {
		if _, ok, err := tx.Idempotency("k-old"); err != nil || ok {
			t.Errorf("k-old after prune: %v %v", ok, err)
		}
		if _, ok, err := tx.Idempotency("k-new"); err != nil || !ok {
			t.Errorf("k-new after prune: %v %v", ok, err)
		}
		return nil
	})
}

// testIdempotencyRollback: a record saved in a transaction that rolls back
// is not stored, so a key and the change it guards stand or fall together.
func testIdempotencyRollback(t *testing.T, e *env) {
	boom := errors.New("boom")
	err := e.s.Update(t.Context(), func(tx quotad.Tx) error {
		if err := tx.SaveIdempotency(quotad.IdempotencyRecord{Key: "k", Fingerprint: "f", Status: 200, CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.SaveAPI(groqAPI()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	view(t, e.s, func(tx quotad.Tx) error {
		if _, ok, err := tx.Idempotency("k"); err != nil || ok {
			t.Errorf("a rolled-back key was stored: %v %v", ok, err)
		}
		return nil
	})
}
