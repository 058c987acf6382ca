package provider_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/rule"
)

// now is 11:00 PDT on 15 June 2026: YouTube's buckets reset at 07:00 UTC on
// the 16th.
var now = time.Date(2026, 6, 15, 18, 0, 0, 0, time.UTC)

// state returns the domain API of a built-in profile, with its windows
// scheduled as the engine would schedule them at now.
func state(t testing.TB, name string) quotad.API {
	t.Helper()
	p, ok := provider.Lookup(name)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	a, err := p.API(name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Windows {
		r := rule.MustParse(a.Windows[i].Rule, time.UTC)
		a.Windows[i].LastReset, a.Windows[i].NextReset = r.Prev(now), r.Next(now)
	}
	return a
}

func mustLookup(t testing.TB, name string) *provider.Profile {
	t.Helper()
	p, ok := provider.Lookup(name)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	return p
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestBuiltinsAreValid(t *testing.T) {
	names := provider.Names()
	if want := []string{"youtube", "groq", "openai", "pexels", "pixabay", "generic"}; !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, p := range provider.All() {
		if p.Name != "generic" {
			if _, err := provider.ParseUpstream(p.Upstream); err != nil {
				t.Errorf("%s upstream: %v", p.Name, err)
			}
			a, err := p.API(p.Name)
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if !slices.Contains(a.Keywords, p.Name) || a.Unit == "" || !a.AutoResume {
				t.Errorf("%s API = %+v", p.Name, a)
			}
		}
		for _, w := range p.Windows {
			if _, err := rule.Parse(w.Reset, time.UTC); err != nil {
				t.Errorf("%s window %s: %v", p.Name, w.Name, err)
			}
			if w.Meter != provider.MeterRequests && w.Meter != provider.MeterTokens && w.Meter != provider.MeterCost {
				t.Errorf("%s window %s meter %q", p.Name, w.Name, w.Meter)
			}
		}
		for _, c := range p.Costs {
			if p.MeterOf(c.Window) != provider.MeterCost {
				t.Errorf("%s cost rule %+v charges a window that is not cost-metered", p.Name, c)
			}
		}
		if len(p.Headers) == 0 || len(p.Errors) == 0 {
			t.Errorf("%s has no described rules", p.Name)
		}
		b, err := json.Marshal(p)
		if err != nil || !json.Valid(b) {
			t.Errorf("%s does not marshal: %v", p.Name, err)
		}
	}
	// The published defaults the issue names.
	g := state(t, "groq")
	for name, limit := range map[string]int64{"rpm": 30, "rpd": 1000, "tpm": 12000, "tpd": 100000} {
		if w, ok := g.Window(name); !ok || w.Limit != limit {
			t.Errorf("groq %s = %+v", name, w)
		}
	}
	if w, _ := g.Window("rpd"); w.Rule != "daily 00:00 UTC" {
		t.Errorf("groq rpd rule %q", w.Rule)
	}
	y := state(t, "youtube")
	for name, limit := range map[string]int64{"daily": 10000, "search.list": 100, "videos.insert": 100} {
		w, ok := y.Window(name)
		if !ok || w.Limit != limit || w.Rule != "daily 00:00 America/Los_Angeles" {
			t.Errorf("youtube %s = %+v", name, w)
		}
		if !w.NextReset.Equal(time.Date(2026, 6, 16, 7, 0, 0, 0, time.UTC)) {
			t.Errorf("youtube %s resets %s", name, w.NextReset)
		}
	}
	if _, ok := provider.Lookup(" GROQ "); !ok {
		t.Error("Lookup is not case-insensitive")
	}
	if _, ok := provider.Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	p := mustLookup(t, "youtube")
	p.Windows[0].Limit = 1
	p.Costs[0].Cost = 999
	q := mustLookup(t, "youtube")
	if q.Windows[0].Limit != 10000 || q.Costs[0].Cost != 1 {
		t.Fatal("changing a looked-up profile changed the built-in")
	}
}

func TestYouTubeCostTable(t *testing.T) {
	p := mustLookup(t, "youtube")
	a := state(t, "youtube")
	cases := []struct {
		method, path string
		status       int
		want         map[string]int64
	}{
		{"GET", "/search", 200, map[string]int64{"search.list": 1}},
		{"GET", "/search/", 200, map[string]int64{"search.list": 1}},
		{"POST", "/videos", 200, map[string]int64{"videos.insert": 1}},
		{"POST", "/upload/youtube/v3/videos", 200, map[string]int64{"videos.insert": 1}},
		{"GET", "/videos", 200, map[string]int64{"daily": 1}},
		{"GET", "/channels", 200, map[string]int64{"daily": 1}},
		{"GET", "/playlistItems", 200, map[string]int64{"daily": 1}},
		{"POST", "/playlistItems", 200, map[string]int64{"daily": 50}},
		{"POST", "/upload/youtube/v3/thumbnails/set", 200, map[string]int64{"daily": 50}},
		{"PUT", "/videos", 200, map[string]int64{"daily": 50}},
		{"DELETE", "/comments", 200, map[string]int64{"daily": 50}},
		{"GET", "/searchx", 200, map[string]int64{"daily": 1}},
		// Every call costs at least 1, even an invalid one.
		{"POST", "/playlistItems", 400, map[string]int64{"daily": 1}},
		{"GET", "/search", 400, map[string]int64{"search.list": 1}},
	}
	for _, c := range cases {
		got, _ := p.Charges(a, c.method, c.path, c.status, 0)
		if !mapsEqual(got, c.want) {
			t.Errorf("%s %s (%d) charges %v, want %v", c.method, c.path, c.status, got, c.want)
		}
	}
	if _, usage := p.Charges(a, "POST", "/comments", 200, 0); usage != 50 {
		t.Errorf("usage of a write = %d, want 50 units", usage)
	}
}

// CostPath strips the base path of the profile's current upstream, however
// it was set, and the origin prefix CutOrigin reports.
func TestCostPathFollowsUpstream(t *testing.T) {
	p := mustLookup(t, "youtube")
	for _, c := range [][2]string{
		{"/youtube/v3/videos", "/videos"}, {"/upload/youtube/v3/videos", "/videos"}, {"/videos/", "/videos"},
		{"", "/"}, {"/youtube/v3", "/"}, {"/youtube/v3x", "/youtube/v3x"}, {"/upload", "/upload"},
	} {
		if got := p.CostPath(c[0]); got != c[1] {
			t.Errorf("youtube CostPath(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	if rest, ok := p.CutOrigin("/upload/youtube/v3/videos"); !ok || rest != "/youtube/v3/videos" {
		t.Errorf("CutOrigin(/upload/youtube/v3/videos) = %q, %v", rest, ok)
	}
	for _, path := range []string{"/upload", "/uploadx/y", "/videos"} {
		if rest, ok := p.CutOrigin(path); ok || rest != path {
			t.Errorf("CutOrigin(%q) = %q, %v; want it unchanged, false", path, rest, ok)
		}
	}
	q, err := p.WithUpstream("https://yt.example.com/base/")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.CostPath("/base/videos"); got != "/videos" {
		t.Errorf("WithUpstream: CostPath(/base/videos) = %q, want /videos", got)
	}
	q.Upstream = "https://yt.example.com/other"
	if got := q.CostPath("/other/videos"); got != "/videos" {
		t.Errorf("changed Upstream: CostPath(/other/videos) = %q, want /videos", got)
	}
	if got := q.Clone().CostPath("/base/videos"); got != "/base/videos" {
		t.Errorf("clone of changed Upstream: CostPath(/base/videos) = %q, want it unchanged", got)
	}
	var zero provider.Profile
	if got := zero.CostPath("/a/b/"); got != "/a/b" {
		t.Errorf("zero profile: CostPath(/a/b/) = %q", got)
	}
}

func TestCostOverrides(t *testing.T) {
	rules, err := provider.ParseCosts(map[string]string{
		"POST /thumbnails/set": "100",
		"GET /videos":          "daily:3",
		"WRITE /":              "40",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mustLookup(t, "youtube").WithCosts(rules...)
	if err != nil {
		t.Fatal(err)
	}
	a := state(t, "youtube")
	for _, c := range []struct {
		method, path string
		want         map[string]int64
	}{
		{"POST", "/upload/youtube/v3/thumbnails/set", map[string]int64{"daily": 100}},
		{"GET", "/videos", map[string]int64{"daily": 3}},
		{"POST", "/comments", map[string]int64{"daily": 40}},      // WRITE / beats "* /" 50
		{"POST", "/videos", map[string]int64{"videos.insert": 1}}, // the built-in is more specific
		{"GET", "/search", map[string]int64{"search.list": 1}},
	} {
		if got, _ := p.Charges(a, c.method, c.path, 200, 0); !mapsEqual(got, c.want) {
			t.Errorf("%s %s charges %v, want %v", c.method, c.path, got, c.want)
		}
	}
	for _, bad := range [][2]string{{"FETCH /x", "1"}, {"GET x", "1"}, {"GET /x", "-1"}, {"GET /x", "lots"}, {"GET /x", ":3"}, {"a b c", "1"}, {"GET /x", "Bad Window:1"}} {
		if _, err := provider.ParseCost(bad[0], bad[1]); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("ParseCost(%q, %q) = %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
	if _, err := mustLookup(t, "groq").WithCosts(provider.CostRule{Method: "GET", Path: "/models", Window: "rpm", Cost: 1}); err == nil {
		t.Error("a cost rule on groq's requests window was accepted")
	}
	if _, err := mustLookup(t, "groq").WithCosts(provider.CostRule{Method: "GET", Path: "/models", Cost: 1}); err == nil {
		t.Error("a cost rule without a window on a profile without cost windows was accepted")
	}
	// A generic API may meter a window of its own by a cost table.
	g, err := mustLookup(t, "generic").WithCosts(provider.CostRule{Method: "POST", Path: "/render", Window: "credits", Cost: 5})
	if err != nil {
		t.Fatal(err)
	}
	ga := quotad.API{Name: "gen", Windows: []quotad.Window{{Name: "requests", Limit: 10}, {Name: "credits", Limit: 100}}}
	if got, _ := g.Charges(ga, "POST", "/render", 200, 0); !mapsEqual(got, map[string]int64{"requests": 1, "credits": 5}) {
		t.Errorf("generic charges %v", got)
	}
}

func TestBuild(t *testing.T) {
	m, err := provider.Build([]provider.Spec{
		{API: "youtube", Provider: "youtube", Costs: map[string]string{"GET /videos": "2"}},
		{API: "llm", Provider: "groq", Upstream: "http://127.0.0.1:9/openai/v1/"},
		{API: "stock", Provider: "generic", Upstream: "https://api.example.com/v2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m["llm"].Upstream != "http://127.0.0.1:9/openai/v1" || m["llm"].Name != "groq" {
		t.Errorf("llm = %+v", m["llm"])
	}
	if r, ok := m["youtube"].Cost("GET", "/videos"); !ok || r.Cost != 2 {
		t.Errorf("override lost: %+v", r)
	}
	for _, bad := range [][]provider.Spec{
		{{API: "x", Provider: "nope"}},
		{{API: "x", Provider: "generic"}},
		{{API: "x", Provider: "groq", Upstream: "ftp://host"}},
		{{API: "x", Provider: "groq", Upstream: "https://user:sk-secret@host"}},
		{{API: "x", Provider: "groq", Upstream: "https://host?key=abc"}},
		{{API: "x", Provider: "youtube", Costs: map[string]string{"GET /x": "no"}}},
		{{API: "x", Provider: "groq"}, {API: "x", Provider: "openai"}},
	} {
		if _, err := provider.Build(bad); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("Build(%+v) = %v, want ErrInvalid", bad, err)
		} else if strings.Contains(err.Error(), "sk-secret") {
			t.Errorf("error shows a credential: %v", err)
		}
	}
}

func TestGroqHeaders(t *testing.T) {
	p := mustLookup(t, "groq")
	h := hdr("x-ratelimit-limit-requests", "1000", "x-ratelimit-remaining-requests", "987",
		"x-ratelimit-reset-requests", "2m59.56s", "x-ratelimit-limit-tokens", "12000",
		"x-ratelimit-remaining-tokens", "11000", "x-ratelimit-reset-tokens", "7.66s")
	obs := p.Observations(h, 200, state(t, "groq"), now)
	want := []provider.Observation{
		{Window: "rpd", Limit: 1000, Remaining: 987, Reset: now.Add(2*time.Minute + 59560*time.Millisecond)},
		{Window: "tpm", Limit: 12000, Remaining: 11000, Reset: now.Add(7660 * time.Millisecond)},
	}
	checkObs(t, obs, want)
	for _, v := range []string{"50.597142857s", "12ms", "1h2m3s"} {
		h := hdr("x-ratelimit-remaining-tokens", "5", "x-ratelimit-reset-tokens", v)
		d, _ := time.ParseDuration(v)
		checkObs(t, p.Observations(h, 429, state(t, "groq"), now), []provider.Observation{{Window: "tpm", Limit: -1, Remaining: 5, Reset: now.Add(d)}})
	}
	// OpenAI's requests header is per minute.
	o := mustLookup(t, "openai")
	obs = o.Observations(hdr("x-ratelimit-limit-requests", "500", "x-ratelimit-remaining-requests", "499", "x-ratelimit-reset-requests", "120ms"), 200, state(t, "openai"), now)
	checkObs(t, obs, []provider.Observation{{Window: "rpm", Limit: 500, Remaining: 499, Reset: now.Add(120 * time.Millisecond)}})
	// Nonsense is dropped, not adopted.
	obs = p.Observations(hdr("x-ratelimit-limit-tokens", "12000", "x-ratelimit-remaining-tokens", "99999", "x-ratelimit-reset-tokens", "-3s"), 200, state(t, "groq"), now)
	checkObs(t, obs, []provider.Observation{{Window: "tpm", Limit: 12000, Remaining: -1}})
	if obs := p.Observations(hdr("x-ratelimit-remaining-tokens", "many"), 200, state(t, "groq"), now); len(obs) != 0 {
		t.Errorf("unparseable figures gave %+v", obs)
	}
}

func TestPexelsHeaders(t *testing.T) {
	p := mustLookup(t, "pexels")
	reset := time.Date(2026, 7, 3, 9, 12, 0, 0, time.UTC)
	h := hdr("X-Ratelimit-Limit", "20000", "X-Ratelimit-Remaining", "19684", "X-Ratelimit-Reset", "1783069920")
	checkObs(t, p.Observations(h, 200, state(t, "pexels"), now), []provider.Observation{{Window: "monthly", Limit: 20000, Remaining: 19684, Reset: reset}})
	if obs := p.Observations(h, 429, state(t, "pexels"), now); len(obs) != 0 {
		t.Errorf("figures on a 429 were read: %+v", obs)
	}
	// A roll-over in the past is no news.
	h.Set("X-Ratelimit-Reset", "1700000000")
	checkObs(t, p.Observations(h, 200, state(t, "pexels"), now), []provider.Observation{{Window: "monthly", Limit: 20000, Remaining: 19684}})
}

func TestPixabayHeaders(t *testing.T) {
	p := mustLookup(t, "pixabay")
	h := hdr("X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "37")
	checkObs(t, p.Observations(h, 200, state(t, "pixabay"), now), []provider.Observation{{Window: "minute", Limit: 100, Remaining: 0, Reset: now.Add(37 * time.Second)}})
}

func TestGenericHeaders(t *testing.T) {
	p := mustLookup(t, "generic")
	one := quotad.API{Name: "gen", Windows: []quotad.Window{{Name: "requests", Limit: 100}}}
	two := quotad.API{Name: "gen", Windows: []quotad.Window{{Name: "burst", Limit: 10}, {Name: "daily", Limit: 1000}}}
	cases := []struct {
		name string
		api  quotad.API
		h    http.Header
		want []provider.Observation
	}{
		{"draft RateLimit-*", one, hdr("RateLimit-Limit", "100", "RateLimit-Remaining", "40", "RateLimit-Reset", "30"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 40, Reset: now.Add(30 * time.Second)}}},
		{"limit list and policy", two, hdr("RateLimit-Limit", "10, 10;w=1, 1000;w=86400", "RateLimit-Remaining", "3", "RateLimit-Reset", "1"),
			[]provider.Observation{{Window: "burst", Limit: 10, Remaining: 3, Reset: now.Add(time.Second)}}},
		{"policy number only", one, hdr("RateLimit-Policy", "100;w=60", "RateLimit-Remaining", "7"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 7}}},
		{"RateLimit dictionary", one, hdr("RateLimit", "limit=100, remaining=50, reset=50"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 50, Reset: now.Add(50 * time.Second)}}},
		{"named policies", two, hdr("RateLimit-Policy", `"burst";q=10;w=1, "daily";q=1000;w=86400`, "RateLimit", `"burst";r=0;t=1, "daily";r=600;t=3600`),
			[]provider.Observation{{Window: "burst", Limit: 10, Remaining: 0, Reset: now.Add(time.Second)}, {Window: "daily", Limit: 1000, Remaining: 600, Reset: now.Add(time.Hour)}}},
		{"X-RateLimit with Unix reset", one, hdr("X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "99", "X-RateLimit-Reset", "1781550000"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 99, Reset: time.Unix(1781550000, 0)}}},
		{"X-RateLimit matched by limit", two, hdr("X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "999"),
			[]provider.Observation{{Window: "daily", Limit: 1000, Remaining: 999}}},
		{"no match", two, hdr("X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "4"), nil},
		// Delta seconds: 0 and more than 366 days say nothing of the reset.
		{"dictionary reset 0", one, hdr("RateLimit", "limit=100, remaining=50, reset=0"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 50}}},
		{"dictionary reset 366 days", one, hdr("RateLimit", `limit=100, remaining=50, reset="31622400"`),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 50, Reset: now.Add(366 * 24 * time.Hour)}}},
		{"dictionary reset past 366 days", one, hdr("RateLimit", "limit=100, remaining=50, reset=31622401"),
			[]provider.Observation{{Window: "requests", Limit: 100, Remaining: 50}}},
		{"named t 0 and past 366 days", two, hdr("RateLimit-Policy", `"burst";q=10;w=1, "daily";q=1000;w=86400`, "RateLimit", `"burst";r=0;t=0, "daily";r=600;t=99999999999`),
			[]provider.Observation{{Window: "burst", Limit: 10, Remaining: 0}, {Window: "daily", Limit: 1000, Remaining: 600}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkObs(t, p.Observations(c.h, 200, c.api, now), c.want) })
	}
}

func checkObs(t *testing.T, got, want []provider.Observation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("observations %+v, want %+v", got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Window != w.Window || g.Limit != w.Limit || g.Remaining != w.Remaining || !g.Reset.Equal(w.Reset) {
			t.Errorf("observation %d = %+v, want %+v", i, g, w)
		}
		if w.Remaining >= 0 && g.Source == "" {
			t.Errorf("observation %d has no source", i)
		}
	}
}

// Bodies as the providers send them.
const (
	youtubeQuota = `{
  "error": {
    "code": 403,
    "message": "The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.",
    "errors": [
      {
        "message": "The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.",
        "domain": "youtube.quota",
        "reason": "quotaExceeded"
      }
    ]
  }
}`
	youtubeDaily   = `{"error":{"errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded","message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT). You may monitor your quota usage and adjust limits in the API Console: https://console.developers.google.com/apis/api/youtube.googleapis.com/quotas?project=123"}],"code":403,"message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT)."}}`
	youtubeRate    = `{"error":{"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","message":"User Rate Limit Exceeded"}],"code":403,"message":"User Rate Limit Exceeded"}}`
	youtubeUpload  = `{"error":{"code":400,"message":"The user has exceeded the number of videos they may upload. Please try again in 24 hours.","errors":[{"message":"The user has exceeded the number of videos they may upload. Please try again in 24 hours.","domain":"youtube.video","reason":"uploadLimitExceeded"}]}}`
	groqTPM        = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11862, Requested 1107. Please try again in 4.845s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqTPD        = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99541, Requested 1032. Please try again in 8m45.312s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqRPM        = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s.\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"
	groqTooLarge   = "{\"error\":{\"message\":\"Request too large for model `llama-3.3-70b-versatile` in organization `org_01hq` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Requested 25123, please reduce your message size and try again.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	openaiTooLarge = `{"error":{"message":"Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	openaiBilling  = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
)

func TestAssess(t *testing.T) {
	cases := []struct {
		name, profile string
		r             provider.Response
		kind          classify.Kind
		window        string
		until         time.Time // of the verdict
	}{
		{"youtube quotaExceeded on a list call", "youtube", provider.Response{Method: "GET", Path: "/videos", Status: 403, Body: []byte(youtubeQuota)},
			classify.KindQuota, "daily", time.Time{}},
		{"youtube quotaExceeded on search", "youtube", provider.Response{Method: "GET", Path: "/search", Status: 403, Body: []byte(youtubeQuota)},
			classify.KindQuota, "search.list", time.Time{}},
		{"youtube dailyLimitExceeded on upload", "youtube", provider.Response{Method: "POST", Path: "/upload/youtube/v3/videos", Status: 403, Body: []byte(youtubeDaily)},
			classify.KindQuota, "videos.insert", time.Time{}},
		{"youtube userRateLimitExceeded", "youtube", provider.Response{Method: "GET", Path: "/videos", Status: 403, Body: []byte(youtubeRate)},
			classify.KindRateLimit, "", now.Add(60 * time.Second)},
		{"youtube uploadLimitExceeded", "youtube", provider.Response{Method: "POST", Path: "/videos", Status: 400, Body: []byte(youtubeUpload)},
			classify.KindChannel, "", now.Add(24 * time.Hour)},
		{"youtube forbidden", "youtube", provider.Response{Method: "GET", Path: "/videos", Status: 403, Body: []byte(`{"error":{"code":403,"message":"Forbidden","errors":[{"domain":"global","reason":"forbidden","message":"Forbidden"}]}}`)},
			classify.KindNone, "", time.Time{}},
		{"groq TPM", "groq", provider.Response{Status: 429, Header: hdr("retry-after", "5", "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "4.845s"), Body: []byte(groqTPM)},
			classify.KindRateLimit, "tpm", now.Add(5 * time.Second)},
		{"groq TPD", "groq", provider.Response{Status: 429, Header: hdr("retry-after", "526"), Body: []byte(groqTPD)},
			classify.KindQuota, "tpd", now.Add(526 * time.Second)},
		{"groq RPM", "groq", provider.Response{Status: 429, Header: hdr("retry-after", "2"), Body: []byte(groqRPM)},
			classify.KindRateLimit, "rpm", now.Add(2 * time.Second)},
		{"groq request too large", "groq", provider.Response{Status: 429, Body: []byte(groqTooLarge)},
			classify.KindRequest, "", time.Time{}},
		{"openai request too large", "openai", provider.Response{Status: 429, Body: []byte(openaiTooLarge)},
			classify.KindRequest, "", time.Time{}},
		{"openai billing", "openai", provider.Response{Status: 429, Body: []byte(openaiBilling)},
			classify.KindBilling, "", time.Time{}},
		{"openai 429 with headers only", "openai", provider.Response{Status: 429, Header: hdr("retry-after", "20", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "20s"), Body: []byte(`{"error":{"message":"Too many requests","type":"requests","code":"rate_limit_exceeded"}}`)},
			classify.KindRateLimit, "rpm", now.Add(20 * time.Second)},
		{"pexels 429, monthly left", "pexels", provider.Response{Status: 429, Body: []byte(`Too Many Requests`)},
			classify.KindRateLimit, "hourly", time.Date(2026, 6, 15, 19, 0, 0, 0, time.UTC)},
		{"pixabay 429", "pixabay", provider.Response{Status: 429, Header: hdr("X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "12"), Body: []byte("[ERROR 429] API rate limit exceeded")},
			classify.KindRateLimit, "minute", now.Add(12 * time.Second)},
		{"pixabay 429 without figures", "pixabay", provider.Response{Status: 429, Body: []byte("API rate limit exceeded")},
			classify.KindRateLimit, "minute", time.Date(2026, 6, 15, 18, 1, 0, 0, time.UTC)},
		{"not an error", "groq", provider.Response{Status: 200, Header: hdr("x-ratelimit-remaining-tokens", "0")},
			"", "", time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustLookup(t, c.profile)
			a := p.Assess(c.profile, state(t, c.profile), c.r, now)
			if a.Verdict.Kind != c.kind || a.Window != c.window || !a.Verdict.Until.Equal(c.until) {
				t.Fatalf("assessment kind %q window %q until %s (%s), want %q %q %s", a.Verdict.Kind, a.Window, a.Verdict.Until, a.Verdict.Evidence, c.kind, c.window, c.until)
			}
			if c.kind != "" && a.Verdict.API != c.profile {
				t.Errorf("verdict API %q", a.Verdict.API)
			}
		})
	}
	// Pexels: the monthly window when its last stated remaining was 0.
	a := state(t, "pexels")
	a.Windows[1].Used = a.Windows[1].Limit
	as := mustLookup(t, "pexels").Assess("pexels", a, provider.Response{Status: 429}, now)
	if as.Window != "monthly" || as.Verdict.Kind != classify.KindQuota || !as.Verdict.Until.Equal(a.Windows[1].NextReset) {
		t.Errorf("pexels with monthly used up: %+v", as)
	}
}

// Assess reads nothing but the rate-limit headers: the proxy hands it
// RateHeaders of the response, and the full headers assess the same.
func TestAssessReadsRateHeadersOnly(t *testing.T) {
	h := hdr("Retry-After", "7", "X-Ratelimit-Limit-Tokens", "12000", "X-Ratelimit-Remaining-Tokens", "0",
		"X-Ratelimit-Reset-Tokens", "4.845s", "RateLimit-Remaining", "0", "Content-Type", "application/json",
		"Set-Cookie", "session=sk-secret")
	rh := provider.RateHeaders(h)
	if rh.Get("Set-Cookie") != "" || rh.Get("Content-Type") != "" || rh.Get("Retry-After") != "7" || len(rh) != 5 {
		t.Fatalf("RateHeaders = %v", rh)
	}
	for _, name := range provider.Names() {
		p := mustLookup(t, name)
		a := genericAPI
		if name != "generic" {
			a = state(t, name)
		}
		for _, status := range []int{200, 403, 429} {
			r := provider.Response{Method: "POST", Path: "/chat/completions", Status: status, Header: h, Body: []byte(groqTPM)}
			full := p.Assess(name, a, r, now)
			r.Header = rh
			if got := p.Assess(name, a, r, now); !reflect.DeepEqual(got, full) {
				t.Errorf("%s %d: assessment of the rate headers %+v, of all headers %+v", name, status, got, full)
			}
		}
	}
}

func TestRefusalShapes(t *testing.T) {
	until := now.Add(90*time.Second + 500*time.Millisecond)
	for _, name := range provider.Names() {
		p := mustLookup(t, name)
		status, h, body := p.Refusal(name, provider.Hold{Window: "w", Until: until, Short: true}, now)
		want := http.StatusTooManyRequests
		if name == "youtube" {
			want = http.StatusForbidden // Google's rateLimitExceeded and quotaExceeded are 403
		}
		if status != want || h.Get("Retry-After") != "91" || h.Get("X-Quotad-Refused") != name+"/w" {
			t.Errorf("%s: status %d headers %v", name, status, h)
		}
		// 91 s is longer than a retry makes sense: SDKs are told not to.
		if h.Get("X-Should-Retry") != "false" {
			t.Errorf("%s: a 91 s block does not say x-should-retry: false: %v", name, h)
		}
		// A block of a few seconds lets them retry after Retry-After.
		_, h, _ = p.Refusal(name, provider.Hold{Window: "w", Until: now.Add(3 * time.Second), Short: true}, now)
		if h.Get("X-Should-Retry") != "" || h.Get("Retry-After") != "3" {
			t.Errorf("%s: a 3 s block: %v", name, h)
		}
		// A caller reporting the refusal to quotad gets a quota verdict
		// until about the same time.
		v := classify.Classify(classify.Evidence{API: name, Status: status, Headers: h, Message: string(body)}, nil, now)
		if !v.Quota || v.Until.Before(until.Add(-time.Second)) || v.Until.After(until.Add(2*time.Second)) {
			t.Errorf("%s refusal classifies as %+v (body %s)", name, v, body)
		}
		if name != "pixabay" && !json.Valid(body) {
			t.Errorf("%s body is not JSON: %s", name, body)
		}
	}
	// YouTube's quota shape is Google's; OpenAI-compatible bodies name the window.
	_, _, body := mustLookup(t, "youtube").Refusal("youtube", provider.Hold{Window: "search.list", Until: now.Add(time.Hour)}, now)
	if !strings.Contains(string(body), `"reason":"quotaExceeded"`) || !strings.Contains(string(body), `"domain":"youtube.quota"`) {
		t.Errorf("youtube body %s", body)
	}
	_, _, body = mustLookup(t, "groq").Refusal("groq", provider.Hold{Window: "tpd", Until: now.Add(3 * time.Hour)}, now)
	if !strings.Contains(string(body), "tokens per day (TPD)") || !strings.Contains(string(body), `"code":"rate_limit_exceeded"`) {
		t.Errorf("groq body %s", body)
	}
	v := classify.Classify(classify.Evidence{API: "groq", Status: 429, Message: string(body)}, nil, now)
	if v.Kind != classify.KindQuota {
		t.Errorf("a per-day refusal classifies as %s", v.Kind)
	}
	// YouTube's daily refusal is Google's 403 quotaExceeded, code 403.
	status, h, body := mustLookup(t, "youtube").Refusal("youtube", provider.Hold{Window: "daily", Until: now.Add(5 * time.Hour)}, now)
	var g struct {
		Error struct {
			Code   int `json:"code"`
			Errors []struct{ Reason, Domain string }
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &g); err != nil || status != 403 || g.Error.Code != 403 || len(g.Error.Errors) != 1 || g.Error.Errors[0].Reason != "quotaExceeded" {
		t.Errorf("youtube daily refusal %d %s", status, body)
	}
	if v := classify.Classify(classify.Evidence{API: "youtube", Status: status, Message: string(body)}, nil, now); v.Kind != classify.KindQuota {
		t.Errorf("youtube refusal classifies as %s", v.Kind)
	}
	// A paused channel's refusal names the pause and is never retried.
	status, h, body = mustLookup(t, "groq").Refusal("groq", provider.Hold{Window: "manual", Paused: true,
		Detail: "channel RankRiot is paused by a person since 2026-01-12T02:00:00Z: re-shooting"}, now)
	if status != 429 || h.Get("X-Should-Retry") != "false" || h.Get("Retry-After") != "" ||
		!strings.Contains(string(body), "paused by a person since 2026-01-12T02:00:00Z: re-shooting") || !strings.Contains(string(body), `"code":"channel_paused"`) {
		t.Errorf("paused refusal %d %v %s", status, h, body)
	}
	if v := classify.Classify(classify.Evidence{Status: status, Message: string(body)}, nil, now); v.Quota || v.Kind != classify.KindHold || v.API != "groq" {
		t.Errorf("paused refusal classifies as %+v", v)
	}
	// A channel's own hold (its budget) is quotad's, never the provider's
	// quota error, whichever shape carries it.
	for _, name := range provider.Names() {
		_, _, body := mustLookup(t, name).Refusal(name, provider.Hold{Window: "budget:" + name, Until: now.Add(time.Hour)}, now)
		v := classify.Classify(classify.Evidence{Status: 429, Message: string(body)}, nil, now)
		if v.Quota || v.Kind != classify.KindHold || v.API != name || !v.Until.Equal(now.Add(time.Hour).Truncate(time.Second)) {
			t.Errorf("%s budget refusal classifies as %+v (body %s)", name, v, body)
		}
	}
	// A billing hold has no Retry-After and says insufficient_quota.
	status, h, body = mustLookup(t, "openai").Refusal("openai", provider.Hold{Window: "rpm", Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, now)
	if status != 429 || h.Get("Retry-After") != "" || h.Get("X-Should-Retry") != "false" || !strings.Contains(string(body), "insufficient_quota") {
		t.Errorf("billing refusal %d %v %s", status, h, body)
	}
	if v := classify.Classify(classify.Evidence{Status: status, Message: string(body)}, nil, now); v.Kind != classify.KindBilling {
		t.Errorf("billing refusal classifies as %s", v.Kind)
	}
}

func TestBlocking(t *testing.T) {
	a := state(t, "groq")
	if _, ok := provider.Blocking(a, now); ok {
		t.Fatal("a fresh API blocks")
	}
	a.Windows[0].Exhausted, a.Windows[0].BlockedUntil = true, now.Add(10*time.Second)
	a.Windows[3].Exhausted = true // until its reset, 00:00 UTC
	h, ok := provider.Blocking(a, now)
	if !ok || h.Window != "tpd" || !h.Until.Equal(a.Windows[3].NextReset) || h.Short {
		t.Fatalf("hold %+v", h)
	}
	a.Windows[3].Exhausted = false
	if h, _ := provider.Blocking(a, now); h.Window != "rpm" || !h.Short {
		t.Fatalf("hold %+v", h)
	}
	// A block whose time has passed does not hold (the monitor clears it).
	if _, ok := provider.Blocking(a, now.Add(11*time.Second)); ok {
		t.Fatal("an expired block holds")
	}
}

func TestTokensFromJSON(t *testing.T) {
	cases := map[string]int64{
		`{"id":"chatcmpl-1","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}`: 42,
		`{"usage":{"prompt_tokens":7,"completion_tokens":3}}`:                                                                                10,
		`{"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}`:                                                           8,
		`{"output":[],"usage":{"input_tokens":5,"output_tokens":6,"total_tokens":11}}`:                                                       11,
		`{"choices":[],"x_groq":{"id":"req_1","usage":{"total_tokens":17}}}`:                                                                 17,
		`{"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}`:                                            3,
		`{"usage":null,"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}}`:                                       5,
		`{"usage":{"total_tokens":-4,"prompt_tokens":2,"completion_tokens":2}}`:                                                              4,
		`{"choices":[{"delta":{"content":"\"total_tokens\": 99"}}]}`:                                                                         -1,
		`not json "total_tokens"`:           -1,
		`{"usage":{"total_tokens":"many"}}`: -1,
	}
	for body, want := range cases {
		n, ok := provider.TokensFromJSON([]byte(body))
		if want < 0 && ok || want >= 0 && (!ok || n != want) {
			t.Errorf("TokensFromJSON(%s) = %d, %v; want %d", body, n, ok, want)
		}
	}
}

// groqStream is a streamed Groq chat completion: usage in x_groq of the
// final chunk.
const groqStream = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"x_groq\":{\"id\":\"req_01\"}}\n\n" +
	"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"req_01\",\"usage\":{\"queue_time\":0.01,\"prompt_tokens\":12,\"prompt_time\":0.001,\"completion_tokens\":5,\"completion_time\":0.02,\"total_tokens\":17,\"total_time\":0.021}}}\n\n" +
	"data: [DONE]\n\n"

// openaiStream has usage in the last chunk (stream_options.include_usage)
// and "usage": null before, with CRLF line ends.
const openaiStream = "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\r\n\r\n" +
	"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\r\n\r\n" +
	"data: [DONE]\r\n\r\n"

func TestSSEUsage(t *testing.T) {
	for name, c := range map[string]struct {
		stream string
		want   int64
		ok     bool
	}{
		"groq x_groq":         {groqStream, 17, true},
		"openai include":      {openaiStream, 11, true},
		"no usage":            {"data: {\"choices\":[]}\n\ndata: [DONE]\n\n", 0, false},
		"no final newline":    {"data: {\"usage\":{\"total_tokens\":3}}", 3, true},
		"comments and events": {": ping\n\nevent: message\ndata: {\"usage\":{\"total_tokens\":4}}\n\n", 4, true},
	} {
		// Every split of the stream into two writes gives the same answer.
		for i := 0; i <= len(c.stream); i++ {
			var s provider.SSEUsage
			s.Write([]byte(c.stream[:i]))
			s.Write([]byte(c.stream[i:]))
			s.Close()
			if n, ok := s.Tokens(); n != c.want || ok != c.ok {
				t.Fatalf("%s split at %d: %d, %v; want %d, %v", name, i, n, ok, c.want, c.ok)
			}
		}
	}
	var s provider.SSEUsage
	s.Write([]byte("data: " + strings.Repeat("x", 2<<20) + "\n"))
	s.Write([]byte("data: {\"usage\":{\"total_tokens\":5}}\ndata: [DONE]\n"))
	if n, ok := s.Tokens(); !ok || n != 5 || !s.Done() {
		t.Errorf("after a huge line: %d %v done=%v", n, ok, s.Done())
	}
}

func TestRedact(t *testing.T) {
	secret := "sk-proj-Abc123XYZsecretvalue"
	cases := []string{
		"Authorization: Bearer " + secret,
		"authorization=Bearer%20" + secret,
		`{"api_key":"` + secret + `"}`,
		"GET https://www.googleapis.com/youtube/v3/videos?part=id&key=" + secret + "&x=1",
		"https://pixabay.com/api/?api_key=" + secret,
		"x-api-key: " + secret,
		"Incorrect API key provided: " + secret + ". You can find your API key at ...",
		"token " + secret,
	}
	for _, c := range cases {
		if got := provider.Redact(c, secret); strings.Contains(got, secret) || strings.Contains(got, "Abc123XYZ") {
			t.Errorf("Redact(%q) = %q", c, got)
		}
	}
	// Without being told the secret: the patterns alone.
	for _, c := range []string{
		"Authorization: Bearer gsk_abcdefghijklmnop",
		"Authorization: 563492ad6f91700001000001aaaabbbbcccc",
		"?key=AIzaSyD-abcdefghijklmnopqrstuv",
		"GET /api/?q=cat&key=49817234-0a2b3c4d5e6f7a8b9c0d&image_type=photo",
		"call failed: Bearer ya29.a0AfH6SMBabcdefghijk",
		"sk-live0123456789abcdef leaked",
	} {
		got := provider.Redact(c)
		if !strings.Contains(got, provider.Redacted) {
			t.Errorf("Redact(%q) = %q: nothing redacted", c, got)
		}
		for _, frag := range []string{"abcdefghijklmnop", "563492ad6f917", "AIzaSyD", "49817234-0a2b", "ya29.a0", "live0123456789"} {
			if strings.Contains(got, frag) {
				t.Errorf("Redact(%q) = %q keeps %q", c, got, frag)
			}
		}
	}
	// Ordinary text stays as it is.
	for _, c := range []string{"monkey=banana", "Rate limit reached for model `llama` on tokens per minute (TPM)", "risk-assessment", "the key is to wait"} {
		if got := provider.Redact(c); got != c {
			t.Errorf("Redact(%q) = %q", c, got)
		}
	}
}

func TestSecrets(t *testing.T) {
	r := httptest.NewRequest("GET", "/proxy/youtube/videos?part=id&key=AIzaSECRETKEY123&api_key=pix-SECRET-2", nil)
	r.Header.Set("Authorization", "Bearer sk-SECRET-3")
	r.Header.Set("X-Api-Key", "SECRET-4")
	got := provider.Secrets(r)
	for _, want := range []string{"AIzaSECRETKEY123", "pix-SECRET-2", "Bearer sk-SECRET-3", "sk-SECRET-3", "SECRET-4"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets = %v, missing %q", got, want)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
