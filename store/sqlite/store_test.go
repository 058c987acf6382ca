package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
	"github.com/quotad/quotad/store/storetest"
)

func openT(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func rawExec(t *testing.T, s quotad.Store, sql string) {
	t.Helper()
	if _, err := s.(*sqlite.Store).DB().ExecContext(t.Context(), sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) quotad.Store {
		return openT(t, filepath.Join(t.TempDir(), "channels.db"))
	}, storetest.WithRawExec(rawExec))
}

// counterAPI is one window whose Used the concurrency tests increment.
var counterAPI = quotad.API{Name: "counter", AutoResume: true, Windows: []quotad.Window{{Name: "w", Limit: 1 << 40}}}

func increment(ctx context.Context, s quotad.Store) error {
	return s.Update(ctx, func(tx quotad.Tx) error {
		a, err := tx.API("counter")
		if err != nil {
			return err
		}
		w := a.Windows[0]
		w.Used++
		return tx.SaveWindow("counter", w)
	})
}

func used(t *testing.T, s quotad.Store) int64 {
	t.Helper()
	var n int64
	err := s.View(t.Context(), func(tx quotad.Tx) error {
		a, err := tx.API("counter")
		n = a.Windows[0].Used
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoStoresOneFile opens the same new file twice at once (two
// processes' worth of pools and migrations) and increments one counter from
// both: BEGIN IMMEDIATE must serialize them across the Store values.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.db")
	var (
		stores [2]*sqlite.Store
		errs   [2]error
		wg     sync.WaitGroup
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if err := stores[0].Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(counterAPI) }); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 50
	fail := make(chan error, 2*workers)
	for _, s := range stores {
		for range workers {
			wg.Go(func() {
				for range each {
					if err := increment(context.Background(), s); err != nil {
						fail <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Errorf("increment: %v", err)
	}
	want := int64(len(stores) * workers * each)
	for i, s := range stores {
		if got := used(t, s); got != want {
			t.Errorf("store #%d reads Used = %d, want %d", i, got, want)
		}
	}
	var n int
	if err := stores[1].DB().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != sqlite.SchemaVersion() {
		t.Errorf("schema_migrations rows = %d (%v), want %d: a migration ran twice or not at all", n, err, sqlite.SchemaVersion())
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.db")
	s := openT(t, path)
	ch := quotad.Channel{Name: "RankRiot", Priority: quotad.PriorityHigh, APIs: []string{"groq"},
		Pauses: []quotad.Pause{{Reason: quotad.QuotaReason("groq"), Since: time.Date(2026, 1, 11, 18, 30, 0, 0, time.UTC)}}}
	err := s.Update(t.Context(), func(tx quotad.Tx) error {
		if err := tx.SaveAPI(counterAPI); err != nil {
			return err
		}
		if err := tx.SaveChannel(ch); err != nil {
			return err
		}
		return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Category: quotad.CategoryConfig, Message: "hello"})
	})
	if err != nil {
		t.Fatal(err)
	}
	const history = "SELECT count(*), group_concat(version || '@' || applied_at) FROM (SELECT * FROM schema_migrations ORDER BY version)"
	var applied string
	var rows int
	if err := s.DB().QueryRow(history).Scan(&rows, &applied); err != nil {
		t.Fatal(err)
	}
	if rows != sqlite.SchemaVersion() {
		t.Errorf("%d migration rows after Open, want %d", rows, sqlite.SchemaVersion())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	defer s.Close()
	var again string
	if err := s.DB().QueryRow(history).Scan(&rows, &again); err != nil {
		t.Fatal(err)
	}
	if again != applied {
		t.Errorf("after reopen: migrations %s, was %s: migrations ran again", again, applied)
	}
	err = s.View(t.Context(), func(tx quotad.Tx) error {
		if _, err := tx.API("counter"); err != nil {
			return err
		}
		c, err := tx.Channel("RankRiot")
		if err != nil {
			return err
		}
		if len(c.Pauses) != 1 || !c.Pauses[0].Since.Equal(ch.Pauses[0].Since) {
			t.Errorf("channel after reopen: %+v", c)
		}
		evs, err := tx.Events(quotad.EventFilter{})
		if len(evs) != 1 || evs[0].Message != "hello" {
			t.Errorf("events after reopen: %+v", evs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.db")
	s := openT(t, path)
	future := sqlite.SchemaVersion() + 1
	if _, err := s.DB().Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'later')", future); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := sqlite.Open(t.Context(), path)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a file from a newer schema succeeded")
	}
	if !errors.Is(err, sqlite.ErrSchemaTooNew) {
		t.Errorf("err = %v, want ErrSchemaTooNew", err)
	}
	t.Logf("error: %v", err)
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		} else if !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", p, err)
		}
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "x.db")); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	// A file that already has the seed's own api_quotas table (the Python
	// daemon's channels.db) is refused, not silently half-migrated.
	path := filepath.Join(t.TempDir(), "channels.db")
	s := openT(t, path)
	s.Close()
	// Drop the migration record so Open tries to create the tables again.
	db := openRaw(t, path)
	if _, err := db.Exec("DELETE FROM schema_migrations"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := sqlite.Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("Open of a file with unrecorded tables succeeded")
	} else {
		t.Logf("error: %v", err)
	}
}
