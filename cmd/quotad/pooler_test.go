package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

// TestBehindPgBouncer: quotad behind PgBouncer in transaction pooling mode,
// as managed PostgreSQL offerings set it up. migrate, status and serve work
// (after the first migrate they used to fail with `prepared statement
// "stmtcache_…" already exists`), and a psql edit reaches a daemon by
// polling within poll_interval, since LISTEN does not cross the pooler.
func TestBehindPgBouncer(t *testing.T) {
	b := pgtest.StartBouncer(t)
	dsn := b.Schema(t)
	cfg, _ := isolate(t, "poll_interval: 300ms\nstore:\n  timeout: 500ms\n")
	common := []string{"--config", cfg, "--db", dsn}
	for i := range 2 {
		if out, errOut, code := runCLI(append([]string{"migrate"}, common...)...); code != 0 {
			t.Fatalf("migrate #%d: exit %d: %s%s", i+1, code, out, errOut)
		}
	}
	if out, errOut, code := runCLI(append([]string{"status"}, common...)...); code != 0 {
		t.Fatalf("status: exit %d: %s%s", code, out, errOut)
	}
	d1 := startDaemon(t, append([]string{"--listen", "127.0.0.1:0", "--quiet"}, common...)...)
	d2 := startDaemon(t, append([]string{"--listen", "127.0.0.1:0", "--quiet"}, common...)...)
	for _, d := range []*daemonRun{d1, d2} {
		deadline := time.Now().Add(10 * time.Second)
		for code, body := get(t, d.url+"/readyz", ""); code != 200; code, body = get(t, d.url+"/readyz", "") {
			if time.Now().After(deadline) {
				t.Fatalf("readyz: %d %q", code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if out, errOut, code := runCLI(append([]string{"spend", "youtube", "7", "--server", d1.url}, common...)...); code != 0 {
		t.Fatalf("spend through the daemon: exit %d: %s%s", code, out, errOut)
	}

	// A person's psql edit (on the server itself) is reconciled by a daemon
	// within the poll interval.
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	edit := time.Now()
	pgtest.Exec(t, pgtest.Direct(t, dsn), "UPDATE channels SET is_active = FALSE WHERE name = 'Shorts'")
	var seen time.Duration
	for time.Since(edit) < 5*time.Second && seen == 0 {
		var c quotad.Channel
		if err := st.View(context.Background(), func(tx quotad.Tx) error {
			var err error
			c, err = tx.Channel("Shorts")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(c.Pauses) == 1 && c.Pauses[0].Reason == quotad.ReasonManual {
			seen = time.Since(edit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	switch {
	case seen == 0:
		t.Fatal("is_active = FALSE set in psql was not reconciled within 5s")
	case seen > 300*time.Millisecond+time.Second:
		t.Errorf("is_active = FALSE set in psql was reconciled after %v, want within the 300ms poll interval (plus slack)", seen)
	}
	t.Logf("psql edit reconciled by polling after %v", seen)
	out, _, _ := runCLI(append([]string{"status", "--server", d2.url}, common...)...)
	if !strings.Contains(out, "Shorts") {
		t.Fatalf("status through the other daemon:\n%s", out)
	}

	// A LOCK TABLE held in psql: the CLI gives up within store.timeout and
	// says why, and so does a daemon (503), instead of hanging.
	release := pgtest.HoldLock(t, pgtest.Direct(t, dsn), "api_quotas")
	start := time.Now()
	_, errOut, code := runCLI(append([]string{"spend", "youtube", "1"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "lock") {
		t.Fatalf("spend during LOCK TABLE: exit %d %q, want 1 and a message naming the lock", code, errOut)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("spend during LOCK TABLE took %v with store.timeout 500ms", took)
	}
	t.Logf("CLI during LOCK TABLE, after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errOut))
	_, errOut, code = runCLI(append([]string{"spend", "youtube", "1", "--server", d1.url}, common...)...)
	if code != 1 || !strings.Contains(errOut, "unavailable") {
		t.Fatalf("spend through the daemon during LOCK TABLE: exit %d %q", code, errOut)
	}
	release()
	if _, errOut, code := runCLI(append([]string{"spend", "youtube", "1"}, common...)...); code != 0 {
		t.Fatalf("spend after the lock: exit %d %s", code, errOut)
	}
}
