package server

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// Store faults seen through HTTP: a write lock held by another process, a
// full disk, a read-only file system. Each gives a clear 503 (507 for the
// full disk) with nothing changed, /readyz and quotad_store_up follow the
// last write, and everything recovers by itself.

const faultTimeout = 500 * time.Millisecond

// newStoreEnv is a server over an engine on quotad.Store st with a short
// store timeout and the daemon's readiness (reads and writes).
func newStoreEnv(t testing.TB, st quotad.Store) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	e := engine.New(st, engine.Options{Clock: clk, StoreTimeout: faultTimeout})
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, testChannels); err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, eng: e, clock: clk, logs: &syncBuffer{}}
	ready := func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return err
		}
		return e.CheckWrites(ctx)
	}
	ev.srv = New(e, Options{Token: testToken, Ready: ready, Logger: slog.New(slog.NewTextHandler(ev.logs, nil))})
	ev.ts = httptest.NewServer(ev.srv)
	t.Cleanup(func() {
		ev.ts.Close()
		e.Close()
		st.Close()
	})
	return ev
}

// spendBounded spends over HTTP and checks that the answer came within the
// store's bound (generously: the machine is shared).
func (ev *env) spendBounded(body string) reply {
	ev.t.Helper()
	start := time.Now()
	r := ev.req("POST", "/api/v1/apis/youtube/spend", body)
	if took := time.Since(start); took > faultTimeout+3*time.Second {
		ev.t.Fatalf("spend answered after %v with a %v store timeout", took, faultTimeout)
	}
	return r
}

func (ev *env) wantUnavailable(r reply, status int, code string, want ...string) {
	ev.t.Helper()
	ev.wantError(r, status, code, want...)
	if status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
		ev.t.Errorf("503 without Retry-After")
	}
}

func (ev *env) wantReady(ready bool) {
	ev.t.Helper()
	r := ev.req("GET", "/readyz", "")
	if (r.status == http.StatusOK) != ready {
		ev.t.Fatalf("/readyz = %d %s, want ready=%v", r.status, r.body, ready)
	}
	m := ev.req("GET", "/metrics", "")
	up := strings.Contains(m.String(), "\nquotad_store_up 1\n")
	if up != ready {
		ev.t.Fatalf("quotad_store_up 1 is %v, want %v", up, ready)
	}
}

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.WithBusyTimeout(faultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSQLiteWriteLockHeld: another process holding the write lock past the
// timeout gives 503 with Retry-After, not 500, and not a hang.
func TestSQLiteWriteLockHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	ev := newStoreEnv(t, openSQLite(t, path))
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
	ev.wantUnavailable(ev.spendBounded(`{"units":5}`), http.StatusServiceUnavailable, codeUnavailable, "locked", "retry")
	ev.wantReady(false)
	tx.Rollback()
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":5}`, nil)
	ev.wantReady(true)
	if got := ev.used("youtube"); got != 5 {
		t.Fatalf("youtube used %d, want 5: the refused spend changed nothing", got)
	}
}

// tmpfsDir mounts a small tmpfs (root only) and returns its directory.
func tmpfsDir(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestDiskFullHTTP: spends on a full disk get 507 with a clear message,
// readiness and quotad_store_up turn false, and all recover once space is
// freed.
func TestDiskFullHTTP(t *testing.T) {
	dir := tmpfsDir(t, "4m")
	ev := newStoreEnv(t, openSQLite(t, filepath.Join(dir, "q.db")))
	for range 50 {
		ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":1}`, nil)
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
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
	acked := int64(50)
	var refused reply
	for range 3000 { // enough spends to need new pages
		r := ev.spendBounded(`{"units":1}`)
		if r.status != http.StatusOK {
			refused = r
			break
		}
		acked++
	}
	if refused.status == 0 {
		t.Fatal("no spend was refused on a full disk")
	}
	ev.wantUnavailable(refused, http.StatusInsufficientStorage, codeStorageFull, "disk is full")
	t.Logf("full disk: %d %s", refused.status, refused.body)
	ev.wantReady(false)
	os.Remove(filepath.Join(dir, "filler"))
	ev.wantReady(true) // the readiness probe's write succeeds: ready again without a spend
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":1}`, nil)
	if got := ev.used("youtube"); got != acked+1 {
		t.Fatalf("youtube used %d, want the %d acknowledged", got, acked+1)
	}
}

// TestReadOnlyHTTP: the database file turning read-only under a running
// daemon (chattr +i, which binds root too) gives 503 with a clear message;
// making it writable again recovers.
func TestReadOnlyHTTP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chattr +i needs root")
	}
	path := filepath.Join(t.TempDir(), "q.db")
	ev := newStoreEnv(t, openSQLite(t, path))
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":5}`, nil)
	files := []string{path, path + "-wal"}
	for _, f := range files {
		if out, err := exec.Command("chattr", "+i", f).CombinedOutput(); err != nil {
			t.Skipf("cannot make the file immutable: %v %s", err, out)
		}
	}
	t.Cleanup(func() {
		for _, f := range files {
			exec.Command("chattr", "-i", f).Run()
		}
	})
	r := ev.spendBounded(`{"units":5}`)
	ev.wantUnavailable(r, http.StatusServiceUnavailable, codeUnavailable)
	if !strings.Contains(r.String(), "read-only") && !strings.Contains(r.String(), "cannot be written") {
		t.Errorf("the answer does not say the store cannot be written: %s", r.body)
	}
	t.Logf("read-only: %d %s", r.status, r.body)
	ev.wantReady(false)
	for _, f := range files {
		if out, err := exec.Command("chattr", "-i", f).CombinedOutput(); err != nil {
			t.Fatalf("chattr -i: %v %s", err, out)
		}
	}
	ev.wantReady(true)
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":5}`, nil)
	if got := ev.used("youtube"); got != 10 {
		t.Fatalf("youtube used %d, want 10", got)
	}
}
