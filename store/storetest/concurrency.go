package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var concurrencyTests = []subtest{
	{"NoLostUpdate", testNoLostUpdate},
	{"ViewSnapshot", testViewSnapshot},
	{"ViewIsolation", testViewIsolation},
}

// testNoLostUpdate runs 16 goroutines × 50 Updates, each a read-modify-write
// of one window's Used; every increment must survive.
func testNoLostUpdate(t *testing.T, e *env) {
	const workers, each = 16, 50
	saveAPIs(t, e.s, quotad.API{Name: "counter", AutoResume: true, Windows: []quotad.Window{{Name: "w", Limit: 1 << 40}}})
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := e.s.Update(context.Background(), func(tx quotad.Tx) error {
					a, err := tx.API("counter")
					if err != nil {
						return err
					}
					w := a.Windows[0]
					w.Used++
					return tx.SaveWindow("counter", w)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	if got := readAPI(t, e.s, "counter").Windows[0].Used; got != workers*each {
		t.Errorf("Used = %d after %d increments: %d lost", got, workers*each, workers*each-got)
	}
}

// testViewSnapshot updates two APIs together in every Update while Views
// read them with two separate calls: a View must never see one without the
// other.
func testViewSnapshot(t *testing.T, e *env) {
	const writers, each, readers = 4, 40, 4
	pair := func(name string) quotad.API {
		return quotad.API{Name: name, AutoResume: true, Windows: []quotad.Window{{Name: "w", Limit: 1 << 40}}}
	}
	saveAPIs(t, e.s, pair("left"), pair("right"))
	var (
		wg, rg sync.WaitGroup
		stop   atomic.Bool
		views  atomic.Int64
	)
	for range writers {
		wg.Go(func() {
			for range each {
				err := e.s.Update(context.Background(), func(tx quotad.Tx) error {
					l, err := tx.API("left")
					if err != nil {
						return err
					}
					w := l.Windows[0]
					w.Used++
					if err := tx.SaveWindow("left", w); err != nil {
						return err
					}
					return tx.SaveWindow("right", w)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	for range readers {
		rg.Go(func() {
			for !stop.Load() || views.Load() == 0 {
				err := e.s.View(context.Background(), func(tx quotad.Tx) error {
					l, err := tx.API("left")
					if err != nil {
						return err
					}
					time.Sleep(50 * time.Microsecond) // let a writer commit in between
					r, err := tx.API("right")
					if err != nil {
						return err
					}
					if lu, ru := l.Windows[0].Used, r.Windows[0].Used; lu != ru {
						return fmt.Errorf("View saw left.Used = %d and right.Used = %d: not one snapshot", lu, ru)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
				views.Add(1)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	rg.Wait()
	if l, r := readAPI(t, e.s, "left").Windows[0].Used, readAPI(t, e.s, "right").Windows[0].Used; l != writers*each || r != writers*each {
		t.Errorf("after %d paired increments: left %d right %d", writers*each, l, r)
	}
	t.Logf("%d views during %d updates", views.Load(), writers*each)
}

// testViewIsolation checks, deterministically, that a View sees neither the
// uncommitted writes of an Update nor what an Update commits after the View
// read its first row.
func testViewIsolation(t *testing.T, e *env) {
	pair := func(name string) quotad.API {
		return quotad.API{Name: name, AutoResume: true, Windows: []quotad.Window{{Name: "w", Limit: 1 << 40}}}
	}
	saveAPIs(t, e.s, pair("left"), pair("right"))
	setBoth := func(tx quotad.Tx, used int64) error {
		w := pair("").Windows[0]
		w.Used = used
		if err := tx.SaveWindow("left", w); err != nil {
			return err
		}
		return tx.SaveWindow("right", w)
	}
	usedOf := func(tx quotad.Tx, name string) int64 {
		a, err := tx.API(name)
		if err != nil {
			t.Errorf("API(%s): %v", name, err)
			return -1
		}
		return a.Windows[0].Used
	}

	// No dirty read.
	written, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- e.s.Update(context.Background(), func(tx quotad.Tx) error {
			err := setBoth(tx, 1)
			close(written)
			<-release
			return err
		})
	}()
	<-written
	view(t, e.s, func(tx quotad.Tx) error {
		if u := usedOf(tx, "left"); u != 0 {
			t.Errorf("View saw Used = %d written by an Update not yet committed", u)
		}
		return nil
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}

	// Repeatable reads: a commit during the View is not seen by it.
	view(t, e.s, func(tx quotad.Tx) error {
		first := usedOf(tx, "left")
		go func() { done <- e.s.Update(context.Background(), func(tx quotad.Tx) error { return setBoth(tx, 2) }) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Update during View: %v", err)
			}
			done <- nil
		case <-time.After(5 * time.Second):
			t.Log("the Update waits for the View to end (isolation by locking)")
		}
		if l, r := usedOf(tx, "left"), usedOf(tx, "right"); first != 1 || l != first || r != first {
			t.Errorf("View read left %d, then left %d and right %d around a commit; want 1, 1, 1", first, l, r)
		}
		return nil
	})
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}
	if l, r := readAPI(t, e.s, "left").Windows[0].Used, readAPI(t, e.s, "right").Windows[0].Used; l != 2 || r != 2 {
		t.Errorf("after the View: left %d right %d, want 2 2", l, r)
	}
}
