package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// withMigrations replaces the package's migrations for one test.
func withMigrations(t *testing.T, ms ...migration) {
	saved := migrations
	migrations = append(append([]migration(nil), saved...), ms...)
	t.Cleanup(func() { migrations = saved })
}

func TestMigrationAppliedOnceEach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A failing new migration rolls back alone: the earlier ones stay, it is
	// not recorded, and its first statement left nothing behind.
	next := SchemaVersion() + 1
	var want []string
	for v := 1; v <= next; v++ {
		want = append(want, strconv.Itoa(v))
	}
	withMigrations(t, migration{next, "broken", []string{`CREATE TABLE extra_test (x INTEGER)`, `THIS IS NOT SQL`}})
	if _, err := Open(t.Context(), path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d (broken)", next)) {
		t.Fatalf("Open with a broken migration: %v", err)
	}
	migrations[len(migrations)-1] = migration{next, "add extra", []string{`CREATE TABLE extra_test (x INTEGER)`}}
	for range 2 { // the second Open finds it applied and does nothing
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		var versions string
		if err := s.DB().QueryRow(`SELECT group_concat(version) FROM (SELECT version FROM schema_migrations ORDER BY version)`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		if versions != strings.Join(want, ",") {
			t.Errorf("applied versions = %s, want %s", versions, strings.Join(want, ","))
		}
		if _, err := s.DB().Exec(`INSERT INTO extra_test VALUES (1)`); err != nil {
			t.Errorf("migration %d not applied: %v", next, err)
		}
		s.Close()
	}
}

func TestTimeText(t *testing.T) {
	var e enc
	in := time.Date(2026, 3, 8, 1, 59, 59, 987654321, time.FixedZone("PST", -8*60*60))
	got := e.time(in)
	if got != "2026-03-08T09:59:59.987654Z" || e.err != nil {
		t.Errorf("enc.time = %v, %v", got, e.err)
	}
	if v := e.time(time.Time{}); v != nil {
		t.Errorf("zero time stored as %v, want NULL", v)
	}
	e.time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if !errors.Is(e.err, quotad.ErrInvalid) {
		t.Errorf("year 10000: err = %v, want ErrInvalid", e.err)
	}

	var d dec
	ns := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	for text, want := range map[string]time.Time{
		"2026-03-08T09:59:59.987654Z":      in.Truncate(time.Microsecond).UTC(),
		"2026-01-12 08:00:00":              time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC), // sqlite3 datetime('now')
		"2026-01-12T00:00:00-08:00":        time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC),
		"2026-01-12T08:00:00.5Z":           time.Date(2026, 1, 12, 8, 0, 0, 5e8, time.UTC),
		"2026-01-12":                       time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC),
		"0001-01-01T00:00:00.000000Z":      {},
		"9999-12-31T23:59:59.999999Z":      time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		"2026-02-28T23:59:59.000001Z":      time.Date(2026, 2, 28, 23, 59, 59, 1000, time.UTC),
		"2024-02-29T12:00:00.000000Z":      time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		"2026-01-11T18:30:45.123456789Z":   time.Date(2026, 1, 11, 18, 30, 45, 123456789, time.UTC),
		"2026-01-11 18:30:45.123456+00:00": time.Date(2026, 1, 11, 18, 30, 45, 123456000, time.UTC),
	} {
		if got := d.time("c", ns(text)); !got.Equal(want) || d.err != nil {
			t.Errorf("dec.time(%q) = %v, %v; want %v", text, got, d.err, want)
		}
	}
	for _, bad := range []string{"2026-02-30T00:00:00.000000Z", "yesterday", "2026-13-01T00:00:00.000000Z"} {
		d.err = nil
		if got := d.time("c", ns(bad)); d.err == nil {
			t.Errorf("dec.time(%q) = %v, want an error", bad, got)
		}
	}
	// Fixed width keeps text order equal to time order.
	a, b := e.time(time.Date(2026, 1, 1, 0, 0, 0, 999999000, time.UTC)).(string), e.time(time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)).(string)
	if !(a < b) || len(a) != len(b) {
		t.Errorf("%s !< %s", a, b)
	}
}
