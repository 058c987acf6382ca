package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

type migrationRow struct {
	Version int
	Applied time.Time
}

func migrationRows(t *testing.T, s *postgres.Store) []migrationRow {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		if err := rows.Scan(&r.Version, &r.Applied); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrateTwiceIsNoop opens a schema, writes, reopens: the second Open
// applies nothing and the data stays.
func TestMigrateTwiceIsNoop(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := openDSN(t, dsn)
	first := migrationRows(t, s)
	if len(first) != postgres.SchemaVersion() {
		t.Fatalf("%d migration rows, want %d: %+v", len(first), postgres.SchemaVersion(), first)
	}
	if v, err := s.Version(t.Context()); err != nil || v != postgres.SchemaVersion() {
		t.Fatalf("Version = %d, %v; want %d", v, err, postgres.SchemaVersion())
	}
	api := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 10, Rule: "daily 00:00"}}}
	if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(api) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for range 2 {
		s = openDSN(t, dsn)
		if again := migrationRows(t, s); len(again) != len(first) || !again[len(again)-1].Applied.Equal(first[len(first)-1].Applied) {
			t.Errorf("after reopening: migrations %+v, was %+v", again, first)
		}
		if err := s.View(t.Context(), func(tx quotad.Tx) error { _, err := tx.API("groq"); return err }); err != nil {
			t.Errorf("data after reopening: %v", err)
		}
		s.Close()
	}
}

// TestConcurrentOpen opens one fresh schema from several goroutines at
// once (several instances starting together): all succeed and every
// migration is recorded once.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Schema(t)
	const n = 4
	var (
		wg     sync.WaitGroup
		stores [n]*postgres.Store
		errs   [n]error
	)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(context.Background(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	rows := migrationRows(t, stores[0])
	if len(rows) != postgres.SchemaVersion() {
		t.Errorf("migration rows %+v, want versions 1..%d once each", rows, postgres.SchemaVersion())
	}
	for i, s := range stores {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping #%d: %v", i, err)
		}
		if s.Scope() != stores[0].Scope() {
			t.Errorf("store #%d has scope %s, #0 has %s: they would not share the write lock", i, s.Scope(), stores[0].Scope())
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := openDSN(t, dsn)
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, postgres.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := postgres.Open(t.Context(), dsn)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a schema from a newer quotad succeeded")
	}
	if !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Errorf("err = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "postgres://%zz"); !errors.Is(err, quotad.ErrInvalid) {
		t.Errorf("Open of a malformed URL: %v, want ErrInvalid", err)
	}
	// A schema that does not exist: nowhere to create the tables.
	dsn := pgtest.WithSearchPath(t, pgtest.URL(t), "qt_does_not_exist")
	if s, err := postgres.Open(t.Context(), dsn); err == nil {
		s.Close()
		t.Errorf("Open with a missing schema succeeded")
	} else {
		t.Logf("missing schema: %v", err)
	}
}
