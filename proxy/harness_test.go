package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
	"github.com/quotad/quotad/store/sqlite"
)

// t0 is 11:00 PDT on 15 June 2026: YouTube's buckets reset at 07:00 UTC on
// the 16th, Groq's days at 00:00 UTC on the 16th.
var t0 = time.Date(2026, 6, 15, 18, 0, 0, 0, time.UTC)

// Credentials the callers send; none may ever be stored or logged.
const (
	groqKey    = "gsk_LiveGroqSecretKey0123456789"
	openaiKey  = "sk-proj-OpenAISecretKey0123456789"
	youtubeKey = "AIzaSyYouTubeSecretKey0123456789abc"
	pexelsKey  = "563492ad6f917000010000PexelsSecret01"
	pixabayKey = "49817234-0a2b3c4d5e6fPixabaySecret"
	genericKey = "generic-SecretApiKey-0123456789"
)

// basePaths are the upstream base paths of each provider, as in reality.
var basePaths = map[string]string{
	"groq": "/openai/v1", "openai": "/v1", "youtube": "/youtube/v3", "pexels": "", "pixabay": "/api", "generic": "/v2",
}

// testChannels use every proxied API.
var testChannels = []quotad.Channel{
	{Name: "RankRiot", APIs: []string{"groq", "youtube", "pexels"}},
	{Name: "Shorts", APIs: []string{"youtube"}},
	{Name: "Bot", APIs: []string{"openai"}},
	{Name: "Stock", APIs: []string{"pixabay"}},
	{Name: "Gen", APIs: []string{"gen"}},
}

// seen is one request an upstream received.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// fake is a provider's upstream: its handler is set by the test.
type fake struct {
	*httptest.Server
	mu      sync.Mutex
	handler http.HandlerFunc
	reqs    []seen
}

func newFake(t testing.TB) *fake {
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		h := f.handler
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if h == nil {
			http.Error(w, "no handler", http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) set(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = h
}

func (f *fake) calls() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) last(t testing.TB) seen {
	t.Helper()
	c := f.calls()
	if len(c) == 0 {
		t.Fatal("the upstream got no call")
	}
	return c[len(c)-1]
}

// syncBuffer collects log output from many goroutines.
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

// env is a proxy over a real engine on a temporary SQLite store, with a
// fake upstream per provider.
type env struct {
	t      testing.TB
	dbPath string
	st     *sqlite.Store
	e      *engine.Engine
	clk    *clock.Fake
	px     *proxy.Proxy
	ts     *httptest.Server
	logs   *syncBuffer
	log    *slog.Logger
	up     map[string]*fake // by provider name
}

// genAPI is the generic API's own configuration.
var genAPI = quotad.API{Name: "gen", Unit: "requests", Keywords: []string{"gen"}, AutoResume: true,
	Windows: []quotad.Window{{Name: "requests", Limit: 100, Rule: "every 1m"}}}

// envSettings are what a test may change of an env.
type envSettings struct {
	proxy    proxy.Options
	logLevel slog.Level                   // default debug: every log line is checked for credentials
	huge     bool                         // limits so large that nothing is ever exhausted (benchmarks)
	scopes   map[string]map[string]string // API → credential scope → credential
}

type envOption func(*envSettings)

func withProxy(f func(o *proxy.Options)) envOption { return func(s *envSettings) { f(&s.proxy) } }

// withScope names a credential scope of an API, as the config's
// credentials do.
func withScope(api, scope, credential string) envOption {
	return func(s *envSettings) {
		if s.scopes == nil {
			s.scopes = map[string]map[string]string{}
		}
		if s.scopes[api] == nil {
			s.scopes[api] = map[string]string{}
		}
		s.scopes[api][scope] = credential
	}
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	set := envSettings{logLevel: slog.LevelDebug}
	for _, opt := range opts {
		opt(&set)
	}
	ev := &env{t: t, dbPath: t.TempDir() + "/q.db", clk: clock.NewFake(t0), logs: &syncBuffer{}, up: map[string]*fake{}}
	ev.log = slog.New(slog.NewJSONHandler(ev.logs, &slog.HandlerOptions{Level: set.logLevel}))
	st, err := sqlite.Open(ctx, ev.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	ev.st = st
	ev.e = engine.New(st, engine.Options{Clock: ev.clk, Logger: ev.log})
	t.Cleanup(func() { ev.e.Close(); ev.st.Close() })
	var apis []quotad.API
	var specs []provider.Spec
	for _, name := range provider.Names() {
		f := newFake(t)
		ev.up[name] = f
		api := name
		if name == "generic" {
			api = "gen"
			apis = append(apis, genAPI)
		} else {
			p, _ := provider.Lookup(name)
			a, err := p.API(name)
			if err != nil {
				t.Fatal(err)
			}
			apis = append(apis, a)
		}
		specs = append(specs, provider.Spec{API: api, Provider: name, Upstream: f.URL + basePaths[name], Scopes: set.scopes[api]})
	}
	if set.huge {
		for i := range apis {
			for j := range apis[i].Windows {
				apis[i].Windows[j].Limit = 1e12
			}
		}
	}
	if _, err := ev.e.Configure(ctx, apis, testChannels); err != nil {
		t.Fatal(err)
	}
	profiles, err := provider.Build(specs)
	if err != nil {
		t.Fatal(err)
	}
	o := set.proxy
	o.Logger = ev.log
	ev.px, err = proxy.New(ev.e, profiles, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.px.Close(context.Background()) }) // before the engine closes
	mux := http.NewServeMux()
	mux.Handle("/proxy/", ev.px)
	ev.ts = httptest.NewServer(mux)
	t.Cleanup(ev.ts.Close)
	return ev
}

// do sends a call through the proxy and returns the response with its body
// read.
func (ev *env) do(method, path string, body string, headers ...string) (*http.Response, string) {
	ev.t.Helper()
	req, err := http.NewRequest(method, ev.ts.URL+path, strings.NewReader(body))
	if err != nil {
		ev.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ev.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		ev.t.Fatal(err)
	}
	ev.settle()
	return resp, string(b)
}

// settle waits for the accounting of the calls answered so far. (The
// proxy's copy of the state is its own business: the tests check that it
// refuses and forwards as it should without help.)
func (ev *env) settle() {
	ev.t.Helper()
	if err := ev.px.Wait(context.Background()); err != nil {
		ev.t.Fatal(err)
	}
}

// api returns an API's current state.
func (ev *env) api(name string) quotad.API {
	ev.t.Helper()
	var a quotad.API
	if err := ev.st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		a, err = tx.API(name)
		return err
	}); err != nil {
		ev.t.Fatal(err)
	}
	return a
}

// callModel is the model of the calls the tests make to each per-model
// API (chatBody's).
var callModel = map[string]string{"groq": "llama-3.3-70b-versatile", "openai": "gpt-4o-mini"}

// window returns the window of an API that a call of the tests sees under
// that name: callModel's, else the API's own (default scope).
func (ev *env) window(api, name string) quotad.Window {
	ev.t.Helper()
	a := ev.api(api)
	if i := a.WindowByKey(quotad.WindowKey(callModel[api], name, "")); i >= 0 {
		return a.Windows[i]
	}
	if i := a.WindowByKey(name); i >= 0 {
		return a.Windows[i]
	}
	ev.t.Fatalf("no window %s/%s", api, name)
	return quotad.Window{}
}

// apisNow returns every API as stored (to configure again).
func (ev *env) apisNow() []quotad.API {
	ev.t.Helper()
	var list []quotad.API
	if err := ev.st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		list, err = tx.APIs()
		return err
	}); err != nil {
		ev.t.Fatal(err)
	}
	return list
}

func (ev *env) channel(name string) quotad.Channel {
	ev.t.Helper()
	var c quotad.Channel
	if err := ev.st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		c, err = tx.Channel(name)
		return err
	}); err != nil {
		ev.t.Fatal(err)
	}
	return c
}

// used returns the Used of every window of an API a call of the tests
// sees (callModel's and the API's own, default scope), by name.
func (ev *env) used(api string) map[string]int64 {
	out := map[string]int64{}
	for _, w := range ev.api(api).Windows {
		if w.Scope == "" && (w.Model == "" || w.Model == callModel[api]) {
			out[w.Name] = w.Used
		}
	}
	return out
}

func (ev *env) events() []quotad.Event {
	ev.t.Helper()
	evs, err := ev.e.Events(context.Background(), quotad.EventFilter{Limit: 1000})
	if err != nil {
		ev.t.Fatal(err)
	}
	return evs
}

// tick advances the clock and applies what is due, as the monitor would.
func (ev *env) tick(d time.Duration) {
	ev.t.Helper()
	ev.clk.Advance(d)
	if _, err := ev.e.Tick(context.Background()); err != nil {
		ev.t.Fatal(err)
	}
	ev.px.Invalidate()
}

func wantUsed(t *testing.T, got map[string]int64, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("window %s used %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// ---- provider-shaped responses ----

// groqHeaders are Groq's rate-limit headers: requests per DAY, tokens per
// MINUTE.
func groqHeaders(h http.Header, remainingReq, remainingTok int) {
	h.Set("x-ratelimit-limit-requests", "1000")
	h.Set("x-ratelimit-limit-tokens", "12000")
	h.Set("x-ratelimit-remaining-requests", fmt.Sprint(remainingReq))
	h.Set("x-ratelimit-remaining-tokens", fmt.Sprint(remainingTok))
	h.Set("x-ratelimit-reset-requests", "2m59.56s")
	h.Set("x-ratelimit-reset-tokens", "7.66s")
	h.Set("x-request-id", "req_01jbd6g2qdfw2adyrt2az8hz4w")
}

const chatCompletion = `{"id":"chatcmpl-f51b2cd2-bef7-417e-964e-a08f0b513c22","object":"chat.completion","created":1730241104,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"message":{"role":"assistant","content":"Fast language models matter because..."},"logprobs":null,"finish_reason":"stop"}],"usage":{"queue_time":0.037493756,"prompt_tokens":18,"prompt_time":0.000680594,"completion_tokens":24,"completion_time":0.463333333,"total_tokens":42,"total_time":0.464013927},"system_fingerprint":"fp_179b0f92c9","x_groq":{"id":"req_01jbd6g2qdfw2adyrt2az8hz4w"}}`

// groqChat answers a chat completion as Groq does, streamed or not.
func groqChat(remainingReq, remainingTok int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		groqHeaders(w.Header(), remainingReq, remainingTok)
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			io.WriteString(w, groqStreamBody)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatCompletion)
	}
}

const groqStreamBody = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"x_groq\":{\"id\":\"req_01\"}}\n\n" +
	"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"req_01\",\"usage\":{\"queue_time\":0.01,\"prompt_tokens\":12,\"prompt_time\":0.001,\"completion_tokens\":5,\"completion_time\":0.02,\"total_tokens\":17,\"total_time\":0.021}}}\n\n" +
	"data: [DONE]\n\n"

// groq429 answers with Groq's 429: retry-after in seconds, the figures,
// and the OpenAI-compatible body.
func groq429(retryAfter string, remainingReq, remainingTok int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		groqHeaders(w.Header(), remainingReq, remainingTok)
		if retryAfter != "" {
			w.Header().Set("retry-after", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, body)
	}
}

// jsonError answers with a status and a JSON body.
func jsonError(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func jsonOK(body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

const (
	groqTPM        = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11862, Requested 1107. Please try again in 4.845s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqTPD        = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99541, Requested 1032. Please try again in 8m45.312s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqTooLarge   = "{\"error\":{\"message\":\"Request too large for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Requested 25123, please reduce your message size and try again.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	openaiBilling  = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	openaiTooLarge = `{"error":{"message":"Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	youtubeQuota   = "{\n  \"error\": {\n    \"code\": 403,\n    \"message\": \"The request cannot be completed because you have exceeded your \\u003ca href=\\\"/youtube/v3/getting-started#quota\\\"\\u003equota\\u003c/a\\u003e.\",\n    \"errors\": [\n      {\n        \"message\": \"The request cannot be completed because you have exceeded your \\u003ca href=\\\"/youtube/v3/getting-started#quota\\\"\\u003equota\\u003c/a\\u003e.\",\n        \"domain\": \"youtube.quota\",\n        \"reason\": \"quotaExceeded\"\n      }\n    ]\n  }\n}\n"
	youtubeDaily   = `{"error":{"errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded","message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT). You may monitor your quota usage and adjust limits in the API Console: https://console.developers.google.com/apis/api/youtube.googleapis.com/quotas?project=123"}],"code":403,"message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT)."}}`
	youtubeRate    = `{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}],"code":403,"message":"Rate Limit Exceeded"}}`
	youtubeUpload  = `{"error":{"code":400,"message":"The user has exceeded the number of videos they may upload. Please try again in 24 hours.","errors":[{"message":"The user has exceeded the number of videos they may upload. Please try again in 24 hours.","domain":"youtube.video","reason":"uploadLimitExceeded"}]}}`
	youtubeBadReq  = `{"error":{"code":400,"message":"'snippet' is required","errors":[{"message":"'snippet' is required","domain":"global","reason":"required"}]}}`
	youtubeList    = `{"kind":"youtube#videoListResponse","etag":"x","items":[{"kind":"youtube#video","id":"dQw4w9WgXcQ"}],"pageInfo":{"totalResults":1,"resultsPerPage":1}}`
)
