package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/store/sqlite"
)

// TestCLIStoreLocked: with the database's write lock held by another
// process, `quotad spend` gives up within store.timeout and says why, with
// exit status 1, instead of hanging.
func TestCLIStoreLocked(t *testing.T) {
	c := newCLI(t, testConfig+"store:\n  timeout: 300ms\n")
	if _, errOut, code := c.run("status"); code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	other, err := sql.Open(sqlite.DriverName, filepath.Join(c.dir, "quotad.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE channels SET consecutive_errors = consecutive_errors"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errOut, code := c.run("spend", "youtube", "5")
	took := time.Since(start)
	if code != 1 {
		t.Fatalf("spend under a held lock: exit %d, want 1 (%s)", code, errOut)
	}
	if !strings.Contains(errOut, "store unavailable") || !strings.Contains(errOut, "locked") {
		t.Fatalf("spend under a held lock says %q, want that the store is locked", errOut)
	}
	if took > 10*time.Second {
		t.Fatalf("spend under a held lock took %v with store.timeout 300ms", took)
	}
	t.Logf("after %v: %s", took.Round(time.Millisecond), strings.TrimSpace(errOut))
	tx.Rollback()
	if _, errOut, code := c.run("spend", "youtube", "5"); code != 0 {
		t.Fatalf("spend once the lock is released: %d %s", code, errOut)
	}
}
