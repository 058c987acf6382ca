package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

var errBoom = errors.New("boom")

var counterAPI = quotad.API{Name: "counter", AutoResume: true, Windows: []quotad.Window{{Name: "w", Limit: 1 << 40, Rule: "daily 00:00"}}}

// TestAbortedTransactionIsNotCommitted: when a statement fails inside an
// Update (the server aborts the transaction), Update reports an error and
// nothing is committed, whether the failure surfaced in a later read that fn
// ignored or only at COMMIT (writes are pipelined with the next read or with
// COMMIT).
func TestAbortedTransactionIsNotCommitted(t *testing.T) {
	s := openT(t)
	defer s.Close()
	bad := counterAPI
	bad.Name = "bad\xff" // not UTF-8: the server refuses it
	for _, readAfter := range []bool{true, false} {
		err := s.Update(t.Context(), func(tx quotad.Tx) error {
			if err := tx.SaveAPI(counterAPI); err != nil {
				return err
			}
			if err := tx.SaveAPI(bad); err != nil {
				return err // refused at once: also fine
			}
			if readAfter {
				if _, err := tx.APIs(); err == nil {
					t.Errorf("read after a failed write succeeded")
				}
			}
			return nil // fn carries on regardless
		})
		if err == nil || !strings.Contains(err.Error(), "invalid byte sequence") && !strings.Contains(err.Error(), "rolled back") {
			t.Errorf("readAfter %v: Update = %v, want the failure or a rolled-back error", readAfter, err)
		}
		err = s.View(t.Context(), func(tx quotad.Tx) error {
			apis, err := tx.APIs()
			if len(apis) != 0 {
				t.Errorf("readAfter %v: APIs after the failed Update: %+v", readAfter, apis)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The store is usable afterwards.
	if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(counterAPI) }); err != nil {
		t.Fatal(err)
	}
}

// TestTwoStoresNoLostUpdate increments one counter through two Store values
// (two processes' worth of pools) on one schema: the advisory lock must
// serialize them.
func TestTwoStoresNoLostUpdate(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	defer a.Close()
	defer b.Close()
	if err := a.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(counterAPI) }); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 40
	var wg sync.WaitGroup
	for _, s := range []quotad.Store{a, b} {
		for range workers {
			wg.Go(func() {
				for range each {
					err := s.Update(context.Background(), func(tx quotad.Tx) error {
						api, err := tx.API("counter")
						if err != nil {
							return err
						}
						w := api.Windows[0]
						w.Used++
						return tx.SaveWindow("counter", w)
					})
					if err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	var used int64
	_ = b.View(t.Context(), func(tx quotad.Tx) error {
		api, err := tx.API("counter")
		used = api.Windows[0].Used
		return err
	})
	if want := int64(2 * workers * each); used != want {
		t.Errorf("Used = %d, want %d: %d increments lost", used, want, want-used)
	}
}
