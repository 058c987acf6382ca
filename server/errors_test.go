package server

import (
	"context"
	"encoding/json"
	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBadInput(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	for _, c := range []struct {
		method, path, body string
		want               []string
	}{
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 5`, []string{"JSON ends early"}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 5,}`, []string{"malformed JSON"}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 5, "chanel": "Shorts"}`, []string{`unknown field "chanel"`}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 5} {"units": 6}`, []string{"data after the JSON object"}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": -5}`, []string{"units must be positive, got -5"}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 0}`, []string{"units must be positive"}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 1e15}`, []string{`field "units" must be a whole number`}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 2.5}`, []string{`field "units" must be a whole number`}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": "5"}`, []string{`field "units" must be a whole number, got string`}},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 5000000000000}`, []string{"exceed the maximum"}},
		{"POST", "/api/v1/apis/youtube/spend", `[1]`, []string{"must be a JSON object"}},
		{"POST", "/api/v1/apis/youtube/spend", ``, []string{`"units" is required`}},
		{"POST", "/api/v1/apis/youtube/reserve", `{"units": 5, "ttl": "soon"}`, []string{`"ttl" must be a duration`}},
		{"POST", "/api/v1/apis/youtube/reserve", `{"units": 5, "ttl": "48h"}`, []string{"ttl must be between"}},
		{"POST", "/api/v1/apis/youtube/reserve", `{"ttl": "1m"}`, []string{`"units" is required`}},
		{"POST", "/api/v1/reservations/abc/commit", `{}`, []string{`"units" is required`}},
		{"POST", "/api/v1/reservations/abc/commit", `{"units": -1}`, []string{"units must be positive"}},
		{"POST", "/api/v1/reservations/abc/release", `{"units": 1}`, []string{`unknown field "units"`}},
		{"POST", "/api/v1/apis/youtube/reset", `{"all": true}`, []string{`unknown field "all"`}},
		{"POST", "/api/v1/reset", `{"apis": []}`, []string{"name at least one API"}},
		{"POST", "/api/v1/reset", `{"apis": "groq"}`, []string{`field "apis" must be an array`}},
		{"POST", "/api/v1/channels/Shorts/pause", `{"reason": "` + strings.Repeat("x", 1100) + `"}`, []string{"longer than 1024"}},
		{"POST", "/api/v1/channels/Shorts/resume", `{"x": 1}`, []string{`unknown field "x"`}},
		{"POST", "/api/v1/channels/Shorts/success", `null x`, []string{"data after the JSON object"}},
		{"POST", "/api/v1/resume", `{"all": true, "channels": ["Shorts"]}`, []string{"not both"}},
		{"POST", "/api/v1/resume", `{"channels": []}`, []string{"name at least one channel"}},
		{"POST", "/api/v1/errors", `{}`, []string{`give the error's "message"`}},
		{"POST", "/api/v1/errors", `{"status": 42}`, []string{"100..599, got 42"}},
		{"POST", "/api/v1/errors", `{"status": 429, "headers": {"Retry-After": 5}}`, []string{"string or an array of strings"}},
		{"POST", "/api/v1/errors", `{"status": 429, "headers": {" ": "5"}}`, []string{"header name is empty"}},
		{"POST", "/api/v1/classify", `{"message": "x", "extra": 1}`, []string{`unknown field "extra"`}},
		{"POST", "/api/v1/classify", `{"status": 1000}`, []string{"100..599"}},
		{"GET", "/api/v1/logs?limit=0", "", []string{`"limit" must be a whole number 1..10000`}},
		{"GET", "/api/v1/logs?limit=lots", "", []string{`"limit"`}},
		{"GET", "/api/v1/logs?limit=10001", "", []string{`"limit"`}},
		{"GET", "/api/v1/logs?before=-3", "", []string{`"before" must be a positive event id`}},
		{"GET", "/api/v1/logs?after=x", "", []string{`"after"`}},
		{"GET", "/api/v1/logs?chanel=Shorts", "", []string{`unknown query parameter "chanel"`}},
		{"GET", "/api/v1/logs?limit=1&limit=2", "", []string{`given 2 times`}},
		{"GET", "/api/v1/schedule", "", []string{`"rule" is required`}},
		{"GET", "/api/v1/schedule?rule=hourly", "", []string{`rule "hourly"`}},
		{"GET", "/api/v1/schedule?rule=daily+25:00", "", []string{"rule"}},
		{"GET", "/api/v1/schedule?rule=daily+00:00&from=yesterday", "", []string{`"from" must be an RFC 3339 time`}},
		{"GET", "/api/v1/schedule?rule=daily+00:00&n=0", "", []string{`"n" must be a whole number 1..1000`}},
		{"GET", "/api/v1/schedule?rule=daily+00:00&n=1001", "", []string{`"n"`}},
		{"GET", "/api/v1/schedule?rule=daily+00:00&count=2", "", []string{`unknown query parameter "count"`}},
	} {
		t.Run(c.method+" "+c.path+" "+c.body, func(t *testing.T) {
			ev.t = t
			ev.wantError(ev.req(c.method, c.path, c.body), http.StatusBadRequest, codeInvalid, c.want...)
		})
	}
	ev.t = t
	var yt struct{ Windows []struct{ Used int64 } }
	ev.ok("GET", "/api/v1/apis/youtube", "", &yt)
	if yt.Windows[0].Used != 0 {
		t.Fatalf("bad input changed something: used %d", yt.Windows[0].Used)
	}
}

func TestNotFound(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	for _, c := range []struct {
		method, path, body, code string
		want                     string
	}{
		{"GET", "/api/v1/apis/nope", "", codeUnknownAPI, `unknown API: "nope"`},
		{"POST", "/api/v1/apis/nope/spend", `{"units": 1}`, codeUnknownAPI, `spend nope: unknown API: "nope"`},
		{"POST", "/api/v1/apis/nope/reserve", `{"units": 1}`, codeUnknownAPI, "unknown API"},
		{"POST", "/api/v1/apis/nope/reset", ``, codeUnknownAPI, "unknown API"},
		{"POST", "/api/v1/reset", `{"apis": ["groq", "nope"]}`, codeUnknownAPI, "unknown API"},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 1, "channel": "Nobody"}`, codeUnknownChannel, `unknown channel: "Nobody"`},
		{"GET", "/api/v1/channels/Nobody", "", codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/channels/Nobody/pause", "", codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/channels/Nobody/resume", "", codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/channels/Nobody/success", "", codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/resume", `{"channels": ["Shorts", "Nobody"]}`, codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/errors", `{"channel": "Nobody", "message": "x"}`, codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/errors", `{"api": "nope", "message": "quota exceeded"}`, codeUnknownAPI, "unknown API"},
		{"POST", "/api/v1/classify", `{"channel": "Nobody", "message": "x"}`, codeUnknownChannel, "unknown channel"},
		{"POST", "/api/v1/reservations/abc/commit", `{"units": 1}`, codeUnknownReservation, `unknown reservation: "abc"`},
		{"POST", "/api/v1/reservations/abc/release", ``, codeUnknownReservation, "unknown reservation"},
		{"GET", "/api/v2/status", "", codeNotFound, "no such endpoint: GET /api/v2/status"},
		{"GET", "/", "", codeNotFound, "no such endpoint"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			ev.t = t
			ev.wantError(ev.req(c.method, c.path, c.body), http.StatusNotFound, c.code, c.want)
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	r := ev.req("GET", "/api/v1/apis/youtube/spend", "")
	ev.wantError(r, http.StatusMethodNotAllowed, codeMethodNotAllowed, "GET is not allowed")
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	r = ev.req("DELETE", "/api/v1/status", "")
	ev.wantError(r, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestBodyTooLarge(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	big := `{"message": "` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	ev.wantError(ev.req("POST", "/api/v1/errors", big), http.StatusRequestEntityTooLarge, codeTooLarge, "larger than 1048576 bytes")
	// A valid object followed by padding past the limit is refused too.
	padded := `{"units": 1}` + strings.Repeat(" ", DefaultMaxBodyBytes)
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", padded), http.StatusRequestEntityTooLarge, codeTooLarge)

	small := newEnv(t, Options{Token: testToken, MaxBodyBytes: 16})
	small.wantError(small.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1, "channel": "Shorts"}`), http.StatusRequestEntityTooLarge, codeTooLarge, "larger than 16 bytes")
}

func TestExhausted(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 9000, "channel": "Shorts"}`, nil)
	// 14 h until midnight Pacific; 1000 units left.
	r := ev.req("POST", "/api/v1/apis/youtube/reserve", `{"units": 2000}`)
	d := ev.wantError(r, http.StatusTooManyRequests, codeExhausted, "reserve youtube", "window daily cannot take it: 2000 units asked, 1000 free")
	next := time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)
	if d.API != "youtube" || d.Window != "daily" || d.Until == nil || !d.Until.Equal(next) || d.Kind != "window" || d.Channel != "" {
		t.Fatalf("exhausted detail: %+v", d)
	}
	if got := r.header.Get("Retry-After"); got != "50400" {
		t.Fatalf("Retry-After %q, want 50400", got)
	}
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 1000}`, nil) // reaches the limit: recorded, exhausts
	ev.clock.Advance(14*time.Hour - 1500*time.Millisecond)
	r = ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1}`)
	d = ev.wantError(r, http.StatusTooManyRequests, codeExhausted, "spend youtube: youtube: quota exhausted (window daily) until 2026-01-12T08:00:00Z")
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q, want 2 (rounded up)", got)
	}
	ev.clock.Advance(time.Second + 400*time.Millisecond)
	if got := ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1}`).header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q, want at least 1", got)
	}
}

func TestStoreFailureIsGeneric(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.store.Close()
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/status", ""},
		{"GET", "/api/v1/apis", ""},
		{"GET", "/api/v1/apis/youtube", ""},
		{"GET", "/api/v1/channels", ""},
		{"GET", "/api/v1/channels/Shorts", ""},
		{"GET", "/api/v1/logs", ""},
		{"POST", "/api/v1/apis/youtube/spend", `{"units": 1}`},
		{"POST", "/api/v1/apis/youtube/reserve", `{"units": 1}`},
		{"POST", "/api/v1/reservations/abc/commit", `{"units": 1}`},
		{"POST", "/api/v1/reservations/abc/release", ``},
		{"POST", "/api/v1/apis/youtube/reset", ``},
		{"POST", "/api/v1/reset", ``},
		{"POST", "/api/v1/channels/Shorts/pause", ``},
		{"POST", "/api/v1/channels/Shorts/resume", ``},
		{"POST", "/api/v1/channels/Shorts/success", ``},
		{"POST", "/api/v1/resume", `{"all": true}`},
		{"POST", "/api/v1/errors", `{"channel": "Shorts", "message": "boom"}`},
		{"POST", "/api/v1/classify", `{"message": "boom"}`},
	} {
		r := ev.req(c.method, c.path, c.body)
		d := ev.wantError(r, http.StatusInternalServerError, codeInternal, "internal error")
		if strings.Contains(d.Message, "sqlite") || strings.Contains(d.Message, "closed") {
			t.Errorf("%s %s: message leaks details: %q", c.method, c.path, d.Message)
		}
	}
	if logs := ev.logs.String(); !strings.Contains(logs, "http: request failed") || !strings.Contains(logs, "closed") {
		t.Errorf("the failure's details are not logged:\n%s", logs)
	}
}

func TestEngineClosed(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.eng.Close()
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1}`), http.StatusServiceUnavailable, codeUnavailable, "shutting down")
	ev.wantError(ev.req("POST", "/api/v1/channels/Shorts/pause", ``), http.StatusServiceUnavailable, codeUnavailable)
}

func TestDescribeCancelled(t *testing.T) {
	s := New(nil, Options{})
	if status, b := s.describe(context.Canceled); status != http.StatusServiceUnavailable || b.Error.Code != codeUnavailable {
		t.Fatalf("context.Canceled: %d %+v", status, b)
	}
}

// An answer is encoded before its status is written: a value JSON cannot
// encode is a 500 with an error body, never a 200 with an empty one; a
// schedule reaching past year 9999 ends there.
func TestAnswerEncodedFirst(t *testing.T) {
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Fatalf("unencodable answer: %d %q", rec.Code, rec.Body)
	}
	ev := newEnv(t, Options{Token: testToken})
	r := ev.req("GET", "/api/v1/schedule?rule=daily%2000:00&from=9999-12-31T23:00:00Z", "")
	var out []time.Time
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("schedule at the end of time: %d %q", r.status, r.body)
	}
	if len(out) > 1 {
		t.Fatalf("schedule past year 9999: %v", out)
	}
}

// Error bodies repeat at most a clipped piece of the caller's input: a
// 900 KB channel name is not echoed whole.
func TestErrorEchoClipped(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	name := strings.Repeat("x", 900<<10)
	r := ev.req("GET", "/api/v1/channels/"+name, "")
	d := ev.wantError(r, http.StatusNotFound, codeUnknownChannel, "unknown channel", "more bytes)")
	if len(r.body) > 2048 || len(d.Message) > maxEcho+64 {
		t.Fatalf("a %d-byte name came back in a %d-byte body", len(name), len(r.body))
	}
	if !utf8.ValidString(clip(strings.Repeat("é", maxEcho))) {
		t.Fatal("clip cut a rune")
	}
}

// A channel's budget refuses with its own kind, the channel held and the
// reset, so a client never takes it for the API's exhaustion.
func TestHeldByBudgetSaysWhoseHold(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	apis, _ := config.DefaultConfig().Domain()
	chans := append(append([]quotad.Channel(nil), testChannels...), quotad.Channel{Name: "Norm", APIs: []string{"youtube"},
		Budgets: []quotad.Budget{{API: "youtube", Units: 150}}})
	if _, err := ev.eng.Configure(context.Background(), apis, chans); err != nil {
		t.Fatal(err)
	}
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 100, "channel": "Norm"}`, nil)
	r := ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 100, "channel": "Norm"}`)
	d := ev.wantError(r, http.StatusTooManyRequests, codeExhausted, "channel Norm's budget of youtube", "100 of its budget of 150 units spent, 100 asked",
		"[quotad-hold kind=budget api=youtube channel=Norm window=daily until=2026-01-12T08:00:00Z]")
	if d.Kind != "budget" || d.Channel != "Norm" || d.API != "youtube" || d.Until == nil || r.header.Get("Retry-After") == "" {
		t.Fatalf("budget refusal detail %+v, Retry-After %q", d, r.header.Get("Retry-After"))
	}
	var st quotad.Status
	ev.ok("GET", "/api/v1/status", "", &st)
	for _, a := range st.APIs {
		if a.Name == "youtube" && (!a.Available || a.Windows[0].Used != 100) {
			t.Fatalf("youtube after a refused budget spend: %+v", a)
		}
	}
}
