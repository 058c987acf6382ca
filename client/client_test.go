package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/client"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/server"
	"github.com/quotad/quotad/store/sqlite"
)

var t0 = time.Date(2026, 1, 11, 18, 0, 0, 0, time.UTC) // 10:00 PST

const token = "client-test-token"

type fixture struct {
	eng   *engine.Engine
	store *sqlite.Store
	clock *clock.Fake
	ts    *httptest.Server
	c     *client.Client
}

// newFixture serves a real engine on a temporary SQLite store and returns a
// client of it that sends the token.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	e := engine.New(st, engine.Options{Clock: clk})
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, []quotad.Channel{
		{Name: "RankRiot", APIs: []string{"groq", "youtube"}},
		{Name: "Shorts", APIs: []string{"youtube"}},
		{Name: "a/b c?", APIs: []string{"pexels"}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(e, server.Options{Token: token, Ready: st.Ping}))
	c, err := client.New(ts.URL, client.WithToken(token), client.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ts.Close()
		e.Close()
		st.Close()
	})
	return &fixture{eng: e, store: st, clock: clk, ts: ts, c: c}
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "http://", "://"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":         "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/api/v1":   "http://127.0.0.1:8080",
		"https://q.example/quotad/":      "https://q.example/quotad",
		" http://h:1/api/v1/?x=1#frag ":  "http://h:1",
		"http://h:1/prefix/api/v1/":      "http://h:1/prefix",
		"http://user:pw@h:1/api/v1#frag": "http://user:pw@h:1",
	} {
		c, err := client.New(in)
		if err != nil || c.BaseURL() != want {
			t.Errorf("New(%q).BaseURL() = %q, %v; want %q", in, c.BaseURL(), err, want)
		}
	}
}

func TestReads(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.c.Status(ctx)
	if err != nil || len(st.APIs) != 3 || len(st.Channels) != 3 {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	direct, _ := f.eng.Status(ctx)
	if !equalJSON(t, st, direct) {
		t.Fatalf("Status differs from the engine's:\n%+v\n%+v", st, direct)
	}
	apis, err := f.c.APIs(ctx)
	if err != nil || len(apis) != 3 {
		t.Fatalf("APIs: %v, %v", apis, err)
	}
	a, err := f.c.API(ctx, "pexels")
	if err != nil || a.Name != "pexels" || len(a.Windows) != 2 {
		t.Fatalf("API: %+v, %v", a, err)
	}
	chans, err := f.c.Channels(ctx)
	if err != nil || len(chans) != 3 {
		t.Fatalf("Channels: %v, %v", chans, err)
	}
	ch, err := f.c.Channel(ctx, "a/b c?")
	if err != nil || ch.Name != "a/b c?" {
		t.Fatalf("Channel with an awkward name: %+v, %v", ch, err)
	}
	times, err := f.c.Schedule(ctx, "daily 00:00", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), 2)
	if err != nil || len(times) != 2 || !times[1].Equal(time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("Schedule: %v, %v", times, err)
	}
	times, err = f.c.Schedule(ctx, "every 1h", time.Time{}, 0)
	if err != nil || len(times) != server.DefaultScheduleCount || !times[0].Equal(t0.Add(time.Hour)) {
		t.Fatalf("Schedule with defaults: %v, %v", times, err)
	}
	if err := f.c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMutations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	sr, err := f.c.Spend(ctx, "youtube", 100, "Shorts")
	if err != nil || sr.Units != 100 || sr.Channel != "Shorts" || sr.Windows[0].Used != 100 {
		t.Fatalf("Spend: %+v, %v", sr, err)
	}
	r, err := f.c.Reserve(ctx, "youtube", 400, "Shorts", 2*time.Minute)
	if err != nil || r.ID == "" || !r.ExpiresAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Reserve: %+v, %v", r, err)
	}
	sr, err = f.c.Commit(ctx, r.ID, 250)
	if err != nil || sr.Windows[0].Used != 350 || sr.Windows[0].Reserved != 0 {
		t.Fatalf("Commit: %+v, %v", sr, err)
	}
	r, err = f.c.Reserve(ctx, "groq", 10, "", 0)
	if err != nil || !r.ExpiresAt.Equal(t0.Add(engine.DefaultReservationTTL)) {
		t.Fatalf("Reserve with the default ttl: %+v, %v", r, err)
	}
	if err := f.c.Release(ctx, r.ID); err != nil {
		t.Fatalf("Release: %v", err)
	}

	v, err := f.c.Classify(ctx, quotad.ErrorReport{Evidence: classify.Evidence{Status: 429, Headers: http.Header{"Retry-After": {"30"}}, Message: "groq rate limit"}})
	if err != nil || v.Kind != classify.KindRateLimit || v.API != "groq" || !v.Until.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("Classify: %+v, %v", v, err)
	}
	rr, err := f.c.ReportError(ctx, quotad.ErrorReport{Channel: "Shorts", Evidence: classify.Evidence{Message: "connection refused"}})
	if err != nil || rr.ConsecutiveErrors != 1 || rr.Verdict.Quota {
		t.Fatalf("ReportError: %+v, %v", rr, err)
	}
	cs, err := f.c.ReportSuccess(ctx, "Shorts")
	if err != nil || cs.ConsecutiveErrors != 0 {
		t.Fatalf("ReportSuccess: %+v, %v", cs, err)
	}
	rr, err = f.c.ReportError(ctx, quotad.ErrorReport{Channel: "RankRiot", Evidence: classify.Evidence{API: "youtube", Message: "quotaExceeded"}})
	if err != nil || !rr.APIExhausted || !slices.Contains(rr.Paused, "Shorts") {
		t.Fatalf("ReportError (quota): %+v, %v", rr, err)
	}

	reset, err := f.c.Reset(ctx, "youtube")
	if err != nil || !slices.Equal(reset.APIs, []string{"youtube"}) || len(reset.Resumed) != 2 {
		t.Fatalf("Reset one: %+v, %v", reset, err)
	}
	reset, err = f.c.Reset(ctx, "groq", "pexels")
	if err != nil || !slices.Equal(reset.APIs, []string{"groq", "pexels"}) {
		t.Fatalf("Reset two: %+v, %v", reset, err)
	}
	reset, err = f.c.ResetAll(ctx)
	if err != nil || len(reset.APIs) != 3 {
		t.Fatalf("ResetAll: %+v, %v", reset, err)
	}

	cs, err = f.c.Pause(ctx, "a/b c?", "why not")
	if err != nil || cs.Active || cs.PauseReasons[0].Detail != "why not" {
		t.Fatalf("Pause: %+v, %v", cs, err)
	}
	res, err := f.c.ResumeEligible(ctx)
	if err != nil || len(res.Resumed) != 0 {
		t.Fatalf("ResumeEligible: %+v, %v", res, err)
	}
	res, err = f.c.Resume(ctx, "a/b c?")
	if err != nil || !slices.Equal(res.Resumed, []string{"a/b c?"}) {
		t.Fatalf("Resume one: %+v, %v", res, err)
	}
	_, _ = f.c.Pause(ctx, "Shorts", "")
	_, _ = f.c.Pause(ctx, "RankRiot", "")
	res, err = f.c.Resume(ctx, "Shorts", "a/b c?")
	if err != nil || !slices.Equal(res.Resumed, []string{"Shorts"}) || !slices.Equal(res.AlreadyActive, []string{"a/b c?"}) {
		t.Fatalf("Resume two: %+v, %v", res, err)
	}
	res, err = f.c.ResumeAll(ctx)
	if err != nil || !slices.Equal(res.Resumed, []string{"RankRiot"}) {
		t.Fatalf("ResumeAll: %+v, %v", res, err)
	}

	evs, err := f.c.Logs(ctx, quotad.EventFilter{Channel: "a/b c?"})
	if err != nil || len(evs) != 2 || evs[0].Category != quotad.CategoryResume {
		t.Fatalf("Logs: %+v, %v", evs, err)
	}
	direct, _ := f.eng.Logs(ctx, quotad.EventFilter{Limit: 3, Category: "%quota%"})
	page, next, err := f.c.LogPage(ctx, quotad.EventFilter{Limit: 3, Category: "%quota%"})
	if err != nil || len(page) != 3 || next != page[2].ID || !equalJSON(t, page, direct) {
		t.Fatalf("LogPage: %+v next %d, %v", page, next, err)
	}
	older, next2, err := f.c.LogPage(ctx, quotad.EventFilter{Limit: 3, Category: "%quota%", Before: next})
	if err != nil || len(older) == 0 || older[0].ID >= next || (len(older) < 3) != (next2 == 0) {
		t.Fatalf("LogPage 2: %+v next %d, %v", older, next2, err)
	}
}

// TestErrorsRoundTrip checks that every error keeps its meaning, its
// message and its type across the wire.
func TestErrorsRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	check := func(what string, err, sentinel error, msg string) {
		t.Helper()
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: %v is not %v", what, err, sentinel)
		}
		if msg != "" && (err == nil || err.Error() != msg) {
			t.Errorf("%s: message %q, want %q", what, err, msg)
		}
	}
	// The same call on the engine gives the same message.
	same := func(what string, remote, local error, sentinel error) {
		t.Helper()
		if local == nil {
			t.Fatalf("%s: the engine accepted it", what)
		}
		check(what, remote, sentinel, local.Error())
	}

	_, err := f.c.API(ctx, "nope")
	_, lerr := f.eng.API(ctx, "nope")
	same("API", err, lerr, quotad.ErrUnknownAPI)
	_, err = f.c.Spend(ctx, "nope", 1, "")
	_, lerr = f.eng.Spend(ctx, "nope", 1, "")
	same("Spend unknown API", err, lerr, quotad.ErrUnknownAPI)
	_, err = f.c.Spend(ctx, "youtube", 1, "Nobody")
	_, lerr = f.eng.Spend(ctx, "youtube", 1, "Nobody")
	same("Spend unknown channel", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Spend(ctx, "youtube", -5, "")
	_, lerr = f.eng.Spend(ctx, "youtube", -5, "")
	same("Spend negative", err, lerr, quotad.ErrInvalid)
	_, err = f.c.Reserve(ctx, "youtube", 1, "", 48*time.Hour)
	_, lerr = f.eng.Reserve(ctx, "youtube", 1, "", 48*time.Hour)
	same("Reserve ttl", err, lerr, quotad.ErrInvalid)
	_, err = f.c.Commit(ctx, "gone", 1)
	_, lerr = f.eng.Commit(ctx, "gone", 1)
	same("Commit", err, lerr, quotad.ErrUnknownReservation)
	err = f.c.Release(ctx, "gone")
	same("Release", err, f.eng.Release(ctx, "gone"), quotad.ErrUnknownReservation)
	_, err = f.c.Channel(ctx, "Nobody")
	_, lerr = f.eng.Channel(ctx, "Nobody")
	same("Channel", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Pause(ctx, "Nobody", "")
	_, lerr = f.eng.Pause(ctx, "Nobody", "")
	same("Pause", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Resume(ctx, "Nobody")
	_, lerr = f.eng.Resume(ctx, "Nobody")
	same("Resume", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Resume(ctx)
	_, lerr = f.eng.Resume(ctx)
	same("Resume none", err, lerr, quotad.ErrInvalid)
	_, err = f.c.Reset(ctx, "nope")
	_, lerr = f.eng.Reset(ctx, "nope")
	same("Reset", err, lerr, quotad.ErrUnknownAPI)
	_, err = f.c.Reset(ctx)
	_, lerr = f.eng.Reset(ctx)
	same("Reset none", err, lerr, quotad.ErrInvalid)
	_, err = f.c.ReportSuccess(ctx, "Nobody")
	_, lerr = f.eng.ReportSuccess(ctx, "Nobody")
	same("ReportSuccess", err, lerr, quotad.ErrUnknownChannel)
	rep := quotad.ErrorReport{Channel: "Nobody", Evidence: classify.Evidence{Message: "x"}}
	_, err = f.c.ReportError(ctx, rep)
	_, lerr = f.eng.ReportError(ctx, rep)
	same("ReportError", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Classify(ctx, rep)
	_, lerr = f.eng.Classify(ctx, rep)
	same("Classify", err, lerr, quotad.ErrUnknownChannel)
	_, err = f.c.Logs(ctx, quotad.EventFilter{Limit: 20000})
	check("Logs limit", err, quotad.ErrInvalid, "")
	_, err = f.c.Schedule(ctx, "hourly", time.Time{}, 1)
	check("Schedule", err, quotad.ErrInvalid, "")

	// 429: errors.As gives the *quotad.ExhaustedError with its Until.
	if _, err := f.c.Spend(ctx, "youtube", 10000, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.Spend(ctx, "youtube", 1, "Shorts")
	_, lerr = f.eng.Spend(ctx, "youtube", 1, "Shorts")
	same("Spend exhausted", err, lerr, quotad.ErrExhausted)
	var ee *quotad.ExhaustedError
	if !errors.As(err, &ee) || ee.API != "youtube" || ee.Window != "daily" || !ee.Until.Equal(time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("ExhaustedError: %#v", ee)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusTooManyRequests || ce.Code != "exhausted" || ce.RetryAfter != 14*time.Hour {
		t.Fatalf("client.Error: %#v", ce)
	}
	_, err = f.c.Reserve(ctx, "youtube", 1, "", 0)
	if !errors.As(err, &ee) {
		t.Fatalf("Reserve exhausted: %v", err)
	}

	// 401.
	anon, _ := client.New(f.ts.URL, client.WithHTTPClient(f.ts.Client()))
	_, err = anon.Spend(ctx, "groq", 1, "")
	check("no token", err, client.ErrUnauthorized, "")
	if _, err := anon.Status(ctx); err != nil {
		t.Fatalf("reads are open on loopback: %v", err)
	}
	wrong, _ := client.New(f.ts.URL, client.WithToken("wrong"), client.WithHTTPClient(f.ts.Client()))
	_, err = wrong.ResetAll(ctx)
	check("wrong token", err, client.ErrUnauthorized, "unauthorized: wrong bearer token")

	// 500 and 503.
	f.eng.Close()
	_, err = f.c.Spend(ctx, "groq", 1, "")
	check("engine closed", err, client.ErrUnavailable, "")
	f.store.Close()
	_, err = f.c.Status(ctx)
	check("store closed", err, client.ErrServer, "")
	if err := f.c.Ready(ctx); !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("Ready with the store closed: %v", err)
	}
}

func TestNotQuotadAnswers(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/apis/youtube/spend":
			w.Header().Set("Retry-After", "30")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "/api/v1/status":
			w.Write([]byte("not json"))
		default:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	}))
	defer ts.Close()
	c, _ := client.New(ts.URL)
	defer c.CloseIdleConnections()
	ctx := context.Background()
	_, err := c.Spend(ctx, "youtube", 1, "")
	var ee *quotad.ExhaustedError
	if !errors.As(err, &ee) || ee.Until.Before(time.Now().Add(29*time.Second)) {
		t.Fatalf("429 from a proxy: %v", err)
	}
	if _, err := c.Status(ctx); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("a body that is not JSON: %v", err)
	}
	_, err = c.Channels(ctx)
	if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("502: %v", err)
	}
	ts.Close()
	if err := c.Health(ctx); err == nil {
		t.Fatal("Health of a stopped server")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb)
}
