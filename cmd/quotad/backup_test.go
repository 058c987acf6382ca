package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad/store/sqlite"
)

// TestBackupWhileTheDaemonWrites backs up the store while a daemon
// acknowledges spends as fast as it can: the backup holds every spend
// acknowledged before it began and none that was not acknowledged by its
// end, passes integrity_check, and opens as a store.
func TestBackupWhileTheDaemonWrites(t *testing.T) {
	cfg, db := isolate(t, "server:\n  token: "+httpTestToken+"\n")
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db, "--quiet")
	var acked atomic.Int64
	stop, underWay := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, d.url+"/api/v1/apis/groq/spend", strings.NewReader(`{"units":1}`))
				req.Header.Set("Authorization", "Bearer "+httpTestToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("spend: %d", resp.StatusCode)
					return
				}
				if acked.Add(1) == 200 {
					once.Do(func() { close(underWay) })
				}
			}
		}()
	}
	select {
	case <-underWay:
	case <-time.After(30 * time.Second):
		t.Fatalf("the writers did not get going (%d spends)", acked.Load())
	}
	before := acked.Load()
	dst := filepath.Join(t.TempDir(), "copy.db")
	out, errOut, code := runCLI("backup", dst, "--db", db, "--json")
	after := acked.Load()
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	var res backupResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Schema != sqlite.SchemaVersion() || res.Bytes == 0 {
		t.Fatalf("backup answer %s (%v)", out, err)
	}
	used := usedIn(t, dst, "groq")
	if used < before || used > after+4 { // at most one spend in flight per writer
		t.Fatalf("the backup holds %d units of groq; %d were acknowledged before it began, %d by its end", used, before, after)
	}
	if out, errOut, code := runCLI("status", "--db", dst, "--config", cfg, "--json"); code != 0 || !strings.Contains(out, `"groq"`) {
		t.Fatalf("the backup does not open as a store: %d\n%s%s", code, out, errOut)
	}

	// A backup never overwrites, and a missing store is not created.
	if _, errOut, code := runCLI("backup", dst, "--db", db); code != 2 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("backup over an existing file: %d %s", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	if _, errOut, code := runCLI("backup", filepath.Join(t.TempDir(), "x.db"), "--db", missing); code != 1 || !strings.Contains(errOut, "there is no store at") {
		t.Fatalf("backup of a missing store: %d %s", code, errOut)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("backup created the store it was asked to copy")
	}
	if _, errOut, code := runCLI("backup", "x.db", "--db", "postgres://u@127.0.0.1/db"); code != 2 || !strings.Contains(errOut, "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %d %s", code, errOut)
	}
}

// usedIn reads an API's usage from a SQLite file with the seed's query.
func usedIn(t *testing.T, path, api string) int64 {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var used int64
	if err := db.QueryRowContext(context.Background(), `SELECT quota_used FROM api_quotas WHERE api_name = ?`, api).Scan(&used); err != nil {
		t.Fatal(fmt.Errorf("read %s: %w", path, err))
	}
	return used
}
