package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// Store faults: the file locked by another process, a full disk, a
// read-only file system. Each must give a clear error, change nothing that
// was acknowledged, corrupt nothing, and recover once the fault is gone.

func faultEngine(t *testing.T, path string) (*engine.Engine, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(st, engine.Options{})
	api := quotad.API{Name: "groq", Unit: "tokens", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1 << 40, Rule: "daily 00:00 UTC"}}}
	if _, err := e.Configure(context.Background(), []quotad.API{api}, []quotad.Channel{{Name: "A", APIs: []string{"groq"}}}); err != nil {
		t.Fatal(err)
	}
	return e, st
}

func groqUsed(t *testing.T, e *engine.Engine) int64 {
	t.Helper()
	a, err := e.API(context.Background(), "groq")
	if err != nil {
		t.Fatal(err)
	}
	return a.Windows[0].Used
}

func integrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
}

// tmpfs mounts a small tmpfs (root only) and returns its directory.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; the engine-level fault behaviour is covered by the injected-error test")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); covered by the injected-error test", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestDiskFull(t *testing.T) {
	dir := tmpfs(t, "4m")
	path := filepath.Join(dir, "q.db")
	e, st := faultEngine(t, path)
	ctx := context.Background()
	for range 100 {
		if _, err := e.Spend(ctx, "groq", 10, "A"); err != nil {
			t.Fatal(err)
		}
	}
	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	var failed error
	acked := int64(1000)
	for i := range 2000 { // enough spends to need new pages in the WAL
		if _, err := e.Spend(ctx, "groq", 1, "A"); err != nil {
			failed = err
			break
		}
		acked++
		_ = i
	}
	if failed == nil {
		t.Fatal("no spend failed on a full disk")
	}
	if !strings.Contains(failed.Error(), "full") {
		t.Fatalf("error on a full disk does not say so: %v", failed)
	}
	t.Logf("full disk: %v", failed)
	os.Remove(filler)
	if _, err := e.Spend(ctx, "groq", 1, "A"); err != nil {
		t.Fatalf("no recovery once space is back: %v", err)
	}
	acked++
	if got := groqUsed(t, e); got != acked {
		t.Fatalf("used %d, want the %d acknowledged", got, acked)
	}
	e.Close()
	st.Close()
	integrity(t, path)
}

func TestReadOnlyFile(t *testing.T) {
	dir := tmpfs(t, "8m")
	path := filepath.Join(dir, "q.db")
	e, st := faultEngine(t, path)
	ctx := context.Background()
	if _, err := e.Spend(ctx, "groq", 5, "A"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	st.Close()
	// The same file seen through a read-only mount.
	ro := t.TempDir()
	if out, err := exec.Command("mount", "--bind", dir, ro).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", ro).Run()
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", ro).CombinedOutput(); err != nil {
		t.Skipf("cannot make the bind mount read-only: %v %s", err, out)
	}
	_, err := sqlite.Open(ctx, filepath.Join(ro, "q.db"))
	if err == nil {
		t.Fatal("opened a store on a read-only file system")
	}
	if !strings.Contains(err.Error(), "read") && !strings.Contains(err.Error(), "open") {
		t.Fatalf("unclear error: %v", err)
	}
	t.Logf("read-only: %v", err)
	// Once writable again, nothing was lost or damaged.
	e, st = faultEngine(t, path)
	defer st.Close()
	defer e.Close()
	if got := groqUsed(t, e); got != 5 {
		t.Fatalf("used %d after the fault, want 5", got)
	}
	if _, err := e.Spend(ctx, "groq", 5, "A"); err != nil {
		t.Fatal(err)
	}
	integrity(t, path)
}

func TestLockedByAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 5 s busy timeout")
	}
	path := filepath.Join(t.TempDir(), "q.db")
	e, st := faultEngine(t, path)
	defer st.Close()
	defer e.Close()
	ctx := context.Background()
	// Another connection (SQLite locks are the file's, as between processes)
	// holds the write lock past the busy timeout.
	other, err := sql.Open(sqlite.DriverName, path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE channels SET consecutive_errors = consecutive_errors"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Spend(ctx, "groq", 7, "A")
	if err == nil || !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Fatalf("spend under a held lock: %v, want a clear 'database is locked'", err)
	}
	t.Logf("after %s: %v", time.Since(start).Round(time.Millisecond), err)
	tx.Rollback()
	if _, err := e.Spend(ctx, "groq", 7, "A"); err != nil {
		t.Fatalf("no recovery once the lock is released: %v", err)
	}
	if got := groqUsed(t, e); got != 7 {
		t.Fatalf("used %d, want 7", got)
	}
}

// failingStore injects a store failure into every Update while on.
type failingStore struct {
	quotad.Store
	on bool
}

var errInjected = errors.New("injected: disk I/O error")

func (f *failingStore) Update(ctx context.Context, fn func(quotad.Tx) error) error {
	if f.on {
		return errInjected
	}
	return f.Store.Update(ctx, fn)
}

func TestInjectedStoreFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	e0, st := faultEngine(t, path)
	e0.Close()
	defer st.Close()
	fs := &failingStore{Store: st}
	e := engine.New(fs, engine.Options{})
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Spend(ctx, "groq", 3, "A"); err != nil {
		t.Fatal(err)
	}
	fs.on = true
	if _, err := e.Spend(ctx, "groq", 3, "A"); !errors.Is(err, errInjected) {
		t.Fatalf("spend during a store failure: %v", err)
	}
	fs.on = false
	if _, err := e.Spend(ctx, "groq", 3, "A"); err != nil {
		t.Fatal(err)
	}
	if got := groqUsed(t, e); got != 6 {
		t.Fatalf("used %d, want 6: only acknowledged spends count", got)
	}
}
