package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/quotad/quotad/internal/seedfixture"
)

func countRows(t *testing.T, path, q string) int {
	t.Helper()
	db, err := sql.Open(DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s on %s: %v", q, path, err)
	}
	return n
}

// TestAdoptCopiesWhatWasAdopted: the daemon writes between the copy and the
// lock; the copy is taken again, so it holds what adoption started from.
func TestAdoptCopiesWhatWasAdopted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "channels.db")
	if err := seedfixture.Write(ctx, path, seedfixture.Default()); err != nil {
		t.Fatal(err)
	}
	daemon, err := sql.Open(DriverName, path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	writes := 0
	afterCopy = func() {
		if writes < 2 {
			writes++
			if _, err := daemon.Exec(`INSERT INTO logs (timestamp, level, category, message) VALUES ('2026-01-11 15:00:00', 'INFO', 'upload', 'during the copy')`); err != nil {
				t.Errorf("daemon write: %v", err)
			}
		}
	}
	defer func() { afterCopy = nil }()
	plans := 0
	res, err := Adopt(ctx, path, time.Date(2026, 1, 11, 23, 0, 0, 0, time.UTC), func(s Seed) (Adoption, error) {
		plans++
		if s.Logs != 5 {
			t.Errorf("plan saw %d log rows, want the 3 of the fixture and the daemon's 2", s.Logs)
		}
		return Adoption{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if plans != 1 || writes != 2 {
		t.Errorf("plans %d, daemon writes %d", plans, writes)
	}
	if n := countRows(t, res.Backup, `SELECT count(*) FROM logs`); n != 5 {
		t.Errorf("the copy has %d log rows, want 5: it is not what was adopted", n)
	}
	if m, _ := filepath.Glob(path + BackupSuffix + "*"); len(m) != 1 {
		t.Errorf("copies %v: the stale ones must be removed", m)
	}
}

// TestAdoptCopiesTheWAL: a seed file in WAL mode whose last commits are
// still in channels.db-wal is copied with them.
func TestAdoptCopiesTheWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "channels.db")
	if err := seedfixture.Write(ctx, path, seedfixture.Default()); err != nil {
		t.Fatal(err)
	}
	daemon, err := sql.Open(DriverName, path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	daemon.SetMaxOpenConns(1)
	if _, err := daemon.Exec(`INSERT INTO videos (channel_id, title) VALUES (1, 'only in the WAL')`); err != nil {
		t.Fatal(err)
	}
	res, err := Adopt(ctx, path, time.Date(2026, 1, 11, 23, 0, 0, 0, time.UTC), func(s Seed) (Adoption, error) {
		return Adoption{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, res.Backup, `SELECT count(*) FROM videos WHERE title = 'only in the WAL'`); n != 1 {
		t.Error("the copy lacks a commit that was still in the WAL")
	}
}
