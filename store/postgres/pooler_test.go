package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
	"github.com/quotad/quotad/store/storetest"
)

// The store behind PgBouncer in transaction pooling mode: what managed
// PostgreSQL offerings put in front by default.

func TestPoolerContract(t *testing.T) {
	b := pgtest.StartBouncer(t)
	var mu sync.Mutex
	direct := map[quotad.Store]string{} // psql's view: the server itself, with the schema's search_path
	storetest.Run(t, func(t *testing.T) quotad.Store {
		dsn := b.Schema(t)
		s := openDSN(t, dsn)
		if !s.Pooled() {
			t.Fatal("pooler=transaction in the URL did not select pooler mode")
		}
		mu.Lock()
		direct[s] = pgtest.Direct(t, dsn)
		mu.Unlock()
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.WithRawExec(func(t *testing.T, s quotad.Store, sql string) {
		mu.Lock()
		dsn := direct[s]
		mu.Unlock()
		pgtest.Exec(t, dsn, sql)
	}))
}

// TestPoolerReopen is the failure the pooler used to cause: after the first
// Open (migrate), every later Open, Update and View failed with
// `prepared statement "stmtcache_…" already exists (SQLSTATE 42P05)`.
func TestPoolerReopen(t *testing.T) {
	b := pgtest.StartBouncer(t)
	dsn := b.Schema(t)
	for i := range 3 {
		s := openDSN(t, dsn)
		api := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1000, Rule: "daily 00:00 UTC"}}}
		if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(api) }); err != nil {
			t.Fatalf("open %d: update: %v", i, err)
		}
		// Many concurrent transactions share the bouncer's few server
		// connections, so a statement of one client lands on a connection
		// another client prepared on.
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					if err := s.View(t.Context(), func(tx quotad.Tx) error { _, err := tx.APIs(); return err }); err != nil {
						errs <- err
						return
					}
					if err := s.Update(t.Context(), func(tx quotad.Tx) error {
						a, err := tx.API("groq")
						if err != nil {
							return err
						}
						a.Windows[0].Used++
						return tx.SaveWindow("groq", a.Windows[0])
					}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("open %d: %v", i, err)
		}
		if v, err := s.Version(t.Context()); err != nil || v != postgres.SchemaVersion() {
			t.Fatalf("open %d: version %d, %v", i, v, err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("open %d: ping: %v", i, err)
		}
		s.Close()
	}
}

// TestPoolerDetected: a URL that does not say pooler=transaction but sets
// search_path (refused by PgBouncer as a startup parameter) still works, in
// pooler mode.
func TestPoolerDetected(t *testing.T) {
	b := pgtest.StartBouncer(t)
	dsn := strings.Replace(b.Schema(t), "pooler=transaction", "pooler=none", 1)
	s, err := postgres.Open(t.Context(), dsn, postgres.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("Open through PgBouncer without pooler=transaction: %v", err)
	}
	defer s.Close()
	if !s.Pooled() {
		t.Fatal("the pooler was not detected")
	}
	if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveChannel(quotad.Channel{Name: "A"}) }); err != nil {
		t.Fatal(err)
	}
}

// TestPoolerNoListen: Changes says once in the log that LISTEN is
// unavailable and polling is in use, and starts no LISTEN connection.
func TestPoolerNoListen(t *testing.T) {
	b := pgtest.StartBouncer(t)
	var buf syncBuffer
	s, err := postgres.Open(t.Context(), b.Schema(t), postgres.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.Changes()
	_ = s.Changes()
	if n := strings.Count(buf.String(), "LISTEN/NOTIFY is unavailable"); n != 1 {
		t.Fatalf("the log says %d times that LISTEN is unavailable, want once:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "polling") {
		t.Fatalf("the log does not say that polling is in use:\n%s", buf.String())
	}
}

// TestPoolerTimeoutAndDown: a table locked by someone else gives
// quotad.ErrUnavailable within the store's timeout, and so does a pooler
// that is gone.
func TestPoolerTimeoutAndDown(t *testing.T) {
	b := pgtest.StartBouncer(t)
	dsn := b.Schema(t)
	s, err := postgres.Open(t.Context(), dsn, postgres.WithTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold := pgtest.HoldLock(t, pgtest.Direct(t, dsn), "api_quotas")
	start := time.Now()
	err = s.Update(t.Context(), func(tx quotad.Tx) error { _, err := tx.APIs(); return err })
	if !errors.Is(err, quotad.ErrUnavailable) {
		t.Fatalf("Update during LOCK TABLE: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Update during LOCK TABLE took %v with a 500ms timeout", took)
	}
	hold()
	b.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Update(ctx, func(tx quotad.Tx) error { return tx.SaveChannel(quotad.Channel{Name: "A"}) }); !errors.Is(err, quotad.ErrUnavailable) {
		t.Fatalf("Update with the pooler gone: %v, want ErrUnavailable", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
