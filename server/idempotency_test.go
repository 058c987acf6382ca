package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

func (ev *env) used(api string) int64 {
	ev.t.Helper()
	a, err := ev.eng.API(context.Background(), api)
	if err != nil {
		ev.t.Fatal(err)
	}
	return a.Windows[0].Used
}

func TestIdempotentSpend(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	const path = "/api/v1/apis/youtube/spend"
	first := ev.req("POST", path, `{"units":5,"channel":"RankRiot"}`, "Idempotency-Key: k-1")
	if first.status != http.StatusOK || first.header.Get(ReplayedHeader) != "" {
		t.Fatalf("first: %d %s %v", first.status, first.body, first.header)
	}
	again := ev.req("POST", path, `{"units":5,"channel":"RankRiot"}`, "Idempotency-Key: k-1")
	if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) || again.header.Get(ReplayedHeader) != "true" {
		t.Fatalf("retry: %d %s, want the first answer %s replayed", again.status, again.body, first.body)
	}
	if got := ev.used("youtube"); got != 5 {
		t.Fatalf("youtube used %d after a spend and its retry, want 5", got)
	}
	// The same key with another body, or on another endpoint: 422, nothing changed.
	ev.wantError(ev.req("POST", path, `{"units":6,"channel":"RankRiot"}`, "Idempotency-Key: k-1"),
		http.StatusUnprocessableEntity, codeIdempotency, "k-1")
	ev.wantError(ev.req("POST", "/api/v1/apis/groq/spend", `{"units":5,"channel":"RankRiot"}`, "Idempotency-Key: k-1"),
		http.StatusUnprocessableEntity, codeIdempotency)
	if got := ev.used("youtube"); got != 5 {
		t.Fatalf("youtube used %d after refused reuses of the key, want 5", got)
	}
	// Without a key every spend counts.
	ev.ok("POST", path, `{"units":5,"channel":"RankRiot"}`, nil)
	ev.ok("POST", path, `{"units":5,"channel":"RankRiot"}`, nil)
	if got := ev.used("youtube"); got != 15 {
		t.Fatalf("youtube used %d, want 15", got)
	}
	// A malformed key is refused and changes nothing.
	ev.wantError(ev.req("POST", path, `{"units":5}`, "Idempotency-Key: has space"), http.StatusBadRequest, codeInvalid, "Idempotency-Key")
	if got := ev.used("youtube"); got != 15 {
		t.Fatalf("youtube used %d after a malformed key, want 15", got)
	}
}

// TestIdempotentConcurrent: the same key sent many times at once (retries
// racing each other, in one group-commit transaction or several) counts once.
func TestIdempotentConcurrent(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	var wg sync.WaitGroup
	bodies := make([][]byte, 16)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ev.req("POST", "/api/v1/apis/groq/spend", `{"units":100}`, "Idempotency-Key: same")
			if r.status != http.StatusOK {
				t.Errorf("status %d %s", r.status, r.body)
			}
			bodies[i] = r.body
		}()
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Fatalf("answers differ: %s vs %s", b, bodies[0])
		}
	}
	if got := ev.used("groq"); got != 100 {
		t.Fatalf("groq used %d after 16 copies of one keyed spend, want 100", got)
	}
}

// TestIdempotencyExpiry: a key is remembered 24 hours; then it is new again,
// and housekeeping deletes it.
func TestIdempotencyExpiry(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	spend := func() reply {
		return ev.req("POST", "/api/v1/apis/groq/spend", `{"units":1}`, "Idempotency-Key: daily-job")
	}
	spend()
	ev.clock.Advance(quotad.IdempotencyTTL - time.Second)
	if r := spend(); r.header.Get(ReplayedHeader) != "true" {
		t.Fatalf("within 24 h: %d %s not replayed", r.status, r.body)
	}
	if got := ev.used("groq"); got != 1 {
		t.Fatalf("groq used %d, want 1", got)
	}
	ev.clock.Advance(2 * time.Second)
	if r := spend(); r.status != http.StatusOK || r.header.Get(ReplayedHeader) != "" {
		t.Fatalf("after 24 h: %d %s, want a new spend", r.status, r.body)
	}
	if got := ev.used("groq"); got != 2 {
		t.Fatalf("groq used %d after the key expired and was used again, want 2", got)
	}
	// Housekeeping deletes keys older than 24 h.
	res, err := ev.eng.CompactUsage(context.Background(), engine.UsageRetention{})
	if err != nil || res.Keys != 0 {
		t.Fatalf("housekeeping pruned %d keys (%v), want 0: the key is fresh", res.Keys, err)
	}
	ev.clock.Advance(quotad.IdempotencyTTL + time.Second)
	if res, err = ev.eng.CompactUsage(context.Background(), engine.UsageRetention{}); err != nil || res.Keys != 1 {
		t.Fatalf("housekeeping pruned %d keys (%v), want 1", res.Keys, err)
	}
}

// TestIdempotentOtherMutations: reserve, commit, release and error reports
// replay their first answer, refusals included.
func TestIdempotentOtherMutations(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	res1 := ev.req("POST", "/api/v1/apis/youtube/reserve", `{"units":40,"channel":"Shorts"}`, "Idempotency-Key: r1")
	res2 := ev.req("POST", "/api/v1/apis/youtube/reserve", `{"units":40,"channel":"Shorts"}`, "Idempotency-Key: r1")
	if res1.status != http.StatusOK || !bytes.Equal(res1.body, res2.body) {
		t.Fatalf("reserve retry: %d %s vs %s", res1.status, res1.body, res2.body)
	}
	var r quotad.ReserveResult
	ev.ok("GET", "/api/v1/apis/youtube", "", nil)
	if err := jsonUnmarshal(res1.body, &r); err != nil {
		t.Fatal(err)
	}
	a, _ := ev.eng.API(context.Background(), "youtube")
	if a.Windows[0].Reserved != 40 {
		t.Fatalf("reserved %d after a reserve and its retry, want 40", a.Windows[0].Reserved)
	}
	c1 := ev.req("POST", "/api/v1/reservations/"+r.ID+"/commit", `{"units":30}`, "Idempotency-Key: c1")
	c2 := ev.req("POST", "/api/v1/reservations/"+r.ID+"/commit", `{"units":30}`, "Idempotency-Key: c1")
	if c1.status != http.StatusOK || c2.status != http.StatusOK || !bytes.Equal(c1.body, c2.body) {
		t.Fatalf("commit retry: %d %s / %d %s (the retry must not say the reservation is unknown)", c1.status, c1.body, c2.status, c2.body)
	}
	if got := ev.used("youtube"); got != 30 {
		t.Fatalf("youtube used %d, want 30", got)
	}
	// Release of an unknown reservation: the 404 is replayed too.
	l1 := ev.req("POST", "/api/v1/reservations/nope/release", "", "Idempotency-Key: l1")
	l2 := ev.req("POST", "/api/v1/reservations/nope/release", "", "Idempotency-Key: l1")
	if l1.status != http.StatusNotFound || l2.status != http.StatusNotFound || !bytes.Equal(l1.body, l2.body) || l2.header.Get(ReplayedHeader) != "true" {
		t.Fatalf("release retry: %d %s / %d %s", l1.status, l1.body, l2.status, l2.body)
	}
	for range 3 {
		r := ev.req("POST", "/api/v1/errors", `{"channel":"Shorts","message":"ffmpeg crashed"}`, "Idempotency-Key: e1")
		if r.status != http.StatusOK {
			t.Fatalf("error report: %d %s", r.status, r.body)
		}
	}
	ch, _ := ev.eng.Channel(context.Background(), "Shorts")
	if ch.ConsecutiveErrors != 1 {
		t.Fatalf("consecutive errors %d after one report sent 3 times, want 1", ch.ConsecutiveErrors)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// FuzzIdempotencyKey: a key is accepted exactly when it is 1 to 255
// visible ASCII characters; anything else is refused (400, nothing
// changed) rather than stored.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k-1", "", " ", "a b", "ключ", strings.Repeat("x", 255), strings.Repeat("x", 256), "\x00", "\x7f", "~!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := len(key) >= 1 && len(key) <= maxIdempotencyKey
		for _, r := range []byte(key) {
			if r < '!' || r > '~' {
				want = false
			}
		}
		if got := validIdempotencyKey(key); got != want {
			t.Fatalf("validIdempotencyKey(%q) = %v, want %v", key, got, want)
		}
	})
}
