package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// t0 is 10:00 PST: youtube's daily window resets 14 h later, at midnight
// America/Los_Angeles (08:00 UTC on the 12th).
var t0 = time.Date(2026, 1, 11, 18, 0, 0, 0, time.UTC)

const testToken = "s3cret-token"

// env is a server over a real engine on a temporary SQLite store.
type env struct {
	t     testing.TB
	store *sqlite.Store
	eng   *engine.Engine
	clock *clock.Fake
	srv   *Server
	ts    *httptest.Server
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testChannels need groq and youtube (RankRiot) or youtube only (Shorts).
var testChannels = []quotad.Channel{
	{Name: "RankRiot", APIs: []string{"groq", "youtube"}},
	{Name: "Shorts", APIs: []string{"youtube"}},
}

// newEnv starts a server with opts (Logger and Ready filled in when nil).
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	e := engine.New(st, engine.Options{Clock: clk})
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, testChannels); err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, store: st, eng: e, clock: clk, logs: &syncBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(ev.logs, nil))
	}
	if opts.Ready == nil {
		opts.Ready = st.Ping
	}
	ev.srv = New(e, opts)
	ev.ts = httptest.NewServer(ev.srv)
	t.Cleanup(func() {
		ev.ts.Close()
		e.Close()
		st.Close()
	})
	return ev
}

// reply is an answer of the server.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return string(r.body) }

// errorBody decodes a JSON error answer.
func (r reply) errorBody(t testing.TB) ErrorDetail {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return b.Error
}

// req sends method path with body ("" for none) and the given headers
// ("Name: value"); a header "Authorization: -" sends none, and without an
// Authorization header the test token is sent.
func (ev *env) req(method, path, body string, headers ...string) reply {
	ev.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ev.ts.URL+path, rd)
	if err != nil {
		ev.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		switch {
		case name == "Authorization" && value == "-":
			req.Header.Del(name)
		case name == "Host":
			req.Host = value
		default:
			req.Header.Set(name, value)
		}
	}
	resp, err := ev.ts.Client().Do(req)
	if err != nil {
		ev.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ev.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// ok sends a request that must answer 200 (or 204) and decodes it into out.
func (ev *env) ok(method, path, body string, out any) {
	ev.t.Helper()
	r := ev.req(method, path, body)
	if r.status != http.StatusOK && r.status != http.StatusNoContent {
		ev.t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			ev.t.Fatalf("%s %s: decode %q: %v", method, path, r.body, err)
		}
	}
}

// wantError checks an error answer's status and code, and that its message
// contains every want.
func (ev *env) wantError(r reply, status int, code string, want ...string) ErrorDetail {
	ev.t.Helper()
	if r.status != status {
		ev.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	d := r.errorBody(ev.t)
	if d.Code != code {
		ev.t.Errorf("code %q, want %q (%s)", d.Code, code, r.body)
	}
	for _, w := range want {
		if !strings.Contains(d.Message, w) {
			ev.t.Errorf("message %q does not contain %q", d.Message, w)
		}
	}
	return d
}
