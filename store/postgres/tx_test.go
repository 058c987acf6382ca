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
// Update (the server aborts the transaction) and fn ignores the error and
// returns nil, Update reports that nothing was committed.
func TestAbortedTransactionIsNotCommitted(t *testing.T) {
	s := openT(t)
	defer s.Close()
	err := s.Update(t.Context(), func(tx quotad.Tx) error {
		if err := tx.SaveAPI(counterAPI); err != nil {
			return err
		}
		bad := counterAPI
		bad.Name = "bad\xff" // not UTF-8: the server refuses it
		if err := tx.SaveAPI(bad); err == nil {
			t.Errorf("SaveAPI with invalid UTF-8 succeeded")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Update = %v, want a rolled-back error", err)
	}
	err = s.View(t.Context(), func(tx quotad.Tx) error {
		apis, err := tx.APIs()
		if len(apis) != 0 {
			t.Errorf("APIs after the aborted Update: %+v", apis)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
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
