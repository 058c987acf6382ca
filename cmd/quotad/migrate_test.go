package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
	"github.com/quotad/quotad/store/sqlite"
)

// runIn runs quotad in this process and returns stdout, stderr and the exit
// status.
func runIn(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func okIn(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runIn(t, args...)
	if code != 0 {
		t.Fatalf("quotad %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quotad.yaml")
	if err := os.WriteFile(path, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrateCommand(t *testing.T) {
	cfg := writeConfig(t)
	file := filepath.Join(t.TempDir(), "q.db")
	if out := okIn(t, "migrate", "--config", cfg, "--db", file); !strings.Contains(out, fmt.Sprintf("schema version %d", sqlite.SchemaVersion())) {
		t.Errorf("migrate on SQLite: %s", out)
	}
	dsn := pgtest.Schema(t)
	for range 2 { // the second run finds everything applied
		out := okIn(t, "migrate", "--config", cfg, "--db", dsn, "--json")
		var res migrateResult
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Version != postgres.SchemaVersion() {
			t.Errorf("migrate --json on PostgreSQL: %s (%v)", out, err)
		}
	}
}

func TestMigrateFromSQLite(t *testing.T) {
	cfg := writeConfig(t)
	file := filepath.Join(t.TempDir(), "quotad.db")
	dsn := pgtest.Schema(t)
	okIn(t, "--config", cfg, "--db", file, "spend", "groq", "100", "--channel", "RankRiot")
	okIn(t, "--config", cfg, "--db", file, "spend", "youtube", "10000", "--channel", "Shorts") // exhausts youtube
	okIn(t, "--config", cfg, "--db", file, "pause", "RankRiot", "--reason", "vacation")
	// The answer an HTTP client got for a key: a retry after the move must
	// get it again, not spend twice.
	ctx := context.Background()
	rec := quotad.IdempotencyRecord{Key: "spend-7f3a", Fingerprint: "POST /api/v1/apis/groq/spend 1f2e", Status: 200,
		Body: []byte(`{"api":"groq","units":5}`), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	src, err := sqlite.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Update(ctx, func(tx quotad.Tx) error { return tx.SaveIdempotency(rec) }); err != nil {
		t.Fatal(err)
	}
	src.Close()

	out := okIn(t, "--config", cfg, "--db", dsn, "migrate-from-sqlite", file)
	if !strings.Contains(out, "1 idempotency key(s)") {
		t.Errorf("migrate-from-sqlite does not count the idempotency key:\n%s", out)
	}
	dst, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var got quotad.IdempotencyRecord
	var found bool
	err = dst.View(ctx, func(tx quotad.Tx) error { got, found, err = tx.Idempotency(rec.Key); return err })
	dst.Close()
	if err != nil || !found || !reflect.DeepEqual(got, rec) {
		t.Errorf("idempotency key after the copy: %+v, found %v (%v); want %+v", got, found, err, rec)
	}
	if !strings.Contains(out, "2 API(s) with 2 window(s), 2 channel(s) with 3 pause(s)") {
		t.Errorf("migrate-from-sqlite output:\n%s", out)
	}
	t.Logf("%s", out)

	status := func(db string) quotad.Status {
		var st quotad.Status
		if err := json.Unmarshal([]byte(okIn(t, "--config", cfg, "--db", db, "status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	logs := func(db string) []quotad.EventStatus {
		var evs []quotad.EventStatus
		if err := json.Unmarshal([]byte(okIn(t, "--config", cfg, "--db", db, "logs", "--json", "--limit", "1000")), &evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	if from, to := status(file), status(dsn); !reflect.DeepEqual(from, to) {
		t.Errorf("status differs after the copy:\n sqlite   %+v\n postgres %+v", from, to)
	}
	if from, to := logs(file), logs(dsn); len(from) == 0 || !reflect.DeepEqual(from, to) {
		t.Errorf("logs differ after the copy:\n sqlite   %+v\n postgres %+v", from, to)
	}

	// Refused without --force, and nothing changed; replaced with it.
	okIn(t, "--config", cfg, "--db", dsn, "reset", "youtube")
	if _, errs, code := runIn(t, "--config", cfg, "--db", dsn, "migrate-from-sqlite", file); code != 1 || !strings.Contains(errs, "not empty") {
		t.Errorf("second copy without --force: exit %d %s", code, errs)
	}
	if st := status(dsn); st.APIs[1].Windows[0].Used != 0 {
		t.Errorf("refused copy changed the target: %+v", st.APIs[1])
	}
	okIn(t, "--config", cfg, "--db", dsn, "migrate-from-sqlite", file, "--force", "--json")
	if from, to := logs(file), logs(dsn); !reflect.DeepEqual(from, to) {
		t.Errorf("logs differ after the forced copy")
	}

	// Usage errors: no PostgreSQL target, no such file.
	if _, errs, code := runIn(t, "--config", cfg, "--db", filepath.Join(t.TempDir(), "x.db"), "migrate-from-sqlite", file); code != 2 {
		t.Errorf("copy into SQLite: exit %d %s", code, errs)
	}
	if _, errs, code := runIn(t, "--config", cfg, "--db", dsn, "migrate-from-sqlite", filepath.Join(t.TempDir(), "missing.db")); code != 2 || !strings.Contains(errs, "does not exist") {
		t.Errorf("copy of a missing file: exit %d %s", code, errs)
	}
}
