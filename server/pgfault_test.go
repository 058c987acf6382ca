package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

// TestPostgresLockAndOutage: a LOCK TABLE api_quotas held by another session
// gives 503 with Retry-After within the store's bound (it used to hang every
// request for as long as the lock was held), and so does a database that is
// gone (here the pooler in front of it, killed); both recover.
func TestPostgresLockAndOutage(t *testing.T) {
	b := pgtest.StartBouncer(t)
	dsn := b.Schema(t)
	st, err := postgres.Open(context.Background(), dsn, postgres.WithTimeout(faultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	ev := newStoreEnv(t, st)
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":5}`, nil)

	release := pgtest.HoldLock(t, pgtest.Direct(t, dsn), "api_quotas")
	r := ev.spendBounded(`{"units":5}`)
	ev.wantUnavailable(r, http.StatusServiceUnavailable, codeUnavailable, "lock")
	t.Logf("locked: %s", r.body)
	ev.wantReady(false)
	release()
	ev.wantReady(true)
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units":5}`, nil)

	b.Kill()
	r = ev.spendBounded(`{"units":5}`)
	ev.wantUnavailable(r, http.StatusServiceUnavailable, codeUnavailable)
	t.Logf("down: %s", r.body)
	if r := ev.req("GET", "/api/v1/status", ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("status read with the database gone: %d %s, want 503", r.status, r.body)
	}
	if r := ev.req("GET", "/readyz", ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database gone: %d %s", r.status, r.body)
	}
}
