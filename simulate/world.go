package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/internal/fakeprovider"
)

// hosts are the upstream hosts of the built-in profiles, served in-process
// by the fake providers.
var hosts = map[string]string{
	"api.groq.com":       "groq",
	"api.openai.com":     "openai",
	"www.googleapis.com": "youtube",
	"api.pexels.com":     "pexels",
}

// world is the fake providers on the virtual clock, reached by an
// in-memory transport that also injects provider errors and outages.
type world struct {
	fake     *fakeprovider.Fake
	fopts    fakeprovider.Options
	handlers map[string]http.Handler // provider → handler
	seed     int64
	errRate  float64 // each call answered 500 with this probability
	outRate  float64 // each provider down for a whole hour with this probability
	now      func() time.Time
	calls    int64 // calls made, for the error draw
}

func newWorld(now func() time.Time, seed int64, errRate, outRate float64) *world {
	w := &world{seed: seed, errRate: errRate, outRate: outRate, now: now}
	w.fopts = fakeprovider.Options{Clock: clockFunc(now), GroqModels: fakeprovider.GroqModels, OpenAIModels: fakeprovider.OpenAIModels,
		YouTube: fakeprovider.DefaultYouTube, Pexels: fakeprovider.DefaultPexels, CompletionTokens: 24}
	w.fake = fakeprovider.New(w.fopts)
	w.handlers = map[string]http.Handler{"groq": w.fake.Groq(), "openai": w.fake.OpenAI(), "youtube": w.fake.YouTube(), "pexels": w.fake.Pexels()}
	return w
}

type clockFunc func() time.Time

func (c clockFunc) Now() time.Time { return c() }

// draw returns a deterministic number in [0, 1) for the seed and the keys.
func draw(seed int64, keys ...any) float64 {
	h := fnv.New64a()
	fmt.Fprint(h, seed)
	for _, k := range keys {
		fmt.Fprint(h, "|", k)
	}
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// RoundTrip answers a call to a provider's host with its fake, in memory.
func (w *world) RoundTrip(req *http.Request) (*http.Response, error) {
	name, ok := hosts[req.URL.Hostname()]
	if !ok {
		return nil, fmt.Errorf("simulate: no fake provider at %s", req.URL.Host)
	}
	now := w.now()
	w.calls++
	rec := httptest.NewRecorder()
	switch {
	case w.outRate > 0 && draw(w.seed, "outage", name, now.Unix()/3600) < w.outRate:
		rec.WriteHeader(http.StatusServiceUnavailable)
		rec.WriteString("upstream connect error or disconnect/reset before headers. reset reason: overflow")
	case w.errRate > 0 && draw(w.seed, "error", name, w.calls) < w.errRate:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusInternalServerError)
		rec.WriteString(`{"error":{"message":"Internal server error","type":"internal_server_error"}}`)
	default:
		r := req.Clone(req.Context())
		r.RequestURI = ""
		w.handlers[name].ServeHTTP(rec, r)
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// request returns the HTTP request of one simulated call at a provider's
// path (relative to its profile's upstream), with base the URL prefix it
// is sent to: the proxy's /proxy/{api} or the provider's own origin.
func request(ctx context.Context, base string, c config.SimCall, provider string) (*http.Request, error) {
	var method, path string
	var body []byte
	switch provider {
	case "groq", "openai":
		model := c.Model
		if model == "" {
			model = defaultModel(provider)
		}
		n := max(c.Tokens-8-24, 0) * 4
		body, _ = json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": strings.Repeat("word", int(n/4))}}})
		method, path = http.MethodPost, "/chat/completions"
	case "youtube":
		switch c.Method {
		case "search.list":
			method, path = http.MethodGet, "/search?part=snippet&q=sim"
		case "videos.insert":
			method, path = http.MethodPost, "/videos?part=snippet,status"
			body = []byte(`{"snippet":{"title":"simulated"}}`)
		case "channels.list":
			method, path = http.MethodGet, "/channels?part=snippet&mine=true"
		default:
			method, path = http.MethodGet, "/videos?part=snippet&id=sim"
		}
	case "pexels":
		method, path = http.MethodGet, "/v1/search?query=nature&per_page=2"
	default:
		return nil, fmt.Errorf("simulate: API %s has no fake provider", c.API)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer sim-key")
	return req, nil
}

func defaultModel(provider string) string {
	if provider == "openai" {
		return "gpt-4o-mini"
	}
	return "llama-3.3-70b-versatile"
}

// upstream is each provider's origin as its profile names it.
var upstream = map[string]string{
	"groq":    "https://api.groq.com/openai/v1",
	"openai":  "https://api.openai.com/v1",
	"youtube": "https://www.googleapis.com/youtube/v3",
	"pexels":  "https://api.pexels.com",
}

// windows are the provider windows the report follows: the fakes' own,
// with their limits.
func (w *world) windows(cfg config.Config) []provWindow {
	var out []provWindow
	models := map[string]bool{}
	for _, ch := range cfg.Channels {
		if ch.Job == nil || ch.Job.Simulate == nil {
			continue
		}
		for _, c := range ch.Job.Simulate.Calls {
			p := providerOf(cfg, c.API)
			if p == "groq" || p == "openai" {
				m := c.Model
				if m == "" {
					m = defaultModel(p)
				}
				models[p+"/"+m] = true
			}
		}
	}
	for _, key := range sortedKeys(models) {
		p, m, _ := strings.Cut(key, "/")
		lim := w.fopts.GroqModels[m]
		if p == "openai" {
			lim = w.fopts.OpenAIModels[m]
		}
		if lim.RPD > 0 {
			out = append(out, provWindow{provider: p, scope: m, name: "rpd", limit: lim.RPD})
		}
		if lim.TPD > 0 {
			out = append(out, provWindow{provider: p, scope: m, name: "tpd", limit: lim.TPD})
		}
	}
	y, px := w.fopts.YouTube, w.fopts.Pexels
	out = append(out,
		provWindow{provider: "youtube", name: "daily", limit: y.Daily},
		provWindow{provider: "youtube", name: "search.list", limit: y.Search},
		provWindow{provider: "youtube", name: "videos.insert", limit: y.Insert},
		provWindow{provider: "pexels", name: "hourly", limit: px.Hourly},
		provWindow{provider: "pexels", name: "monthly", limit: px.Monthly})
	return out
}

// provWindow is one window of a fake provider.
type provWindow struct {
	provider, scope, name string
	limit                 int64
}

func (p provWindow) key() string {
	if p.scope != "" {
		return p.provider + "/" + p.scope + "/" + p.name
	}
	return p.provider + "/" + p.name
}

// serves reports whether the providers would serve a whole run of calls
// now: what its calls need of each day, hour and month window is left, and
// each call fits its minute windows. It is the availability of a paused
// channel's quota.
func (w *world) serves(cfg config.Config, calls []config.SimCall) bool {
	need := map[string]int64{} // provider/scope/name → units the run needs
	for _, c := range expand(calls) {
		p := providerOf(cfg, c.API)
		switch p {
		case "groq", "openai":
			m := c.Model
			if m == "" {
				m = defaultModel(p)
			}
			lim := w.fopts.GroqModels[m]
			if p == "openai" {
				lim = w.fopts.OpenAIModels[m]
			}
			tokens := max(c.Tokens, 1)
			if (lim.RPM > 0 && lim.RPM-w.fake.Used(p, m, "rpm") < 1) || (lim.TPM > 0 && lim.TPM-w.fake.Used(p, m, "tpm") < tokens) {
				return false
			}
			need[p+"/"+m+"/rpd"]++
			need[p+"/"+m+"/tpd"] += tokens
		case "youtube":
			need["youtube//daily"]++
			if b := c.Method; b == "search.list" || b == "videos.insert" {
				need["youtube//"+b]++
			}
		case "pexels":
			need["pexels//hourly"]++
			need["pexels//monthly"]++
		}
	}
	for key, n := range need {
		parts := strings.SplitN(key, "/", 3)
		if l := w.limit(parts[0], parts[1], parts[2]); l > 0 && l-w.fake.Used(parts[0], parts[1], parts[2]) < n {
			return false
		}
	}
	return true
}

// limit returns a fake window's limit (0: no such limit).
func (w *world) limit(provider, scope, name string) int64 {
	switch provider {
	case "groq", "openai":
		lim := w.fopts.GroqModels[scope]
		if provider == "openai" {
			lim = w.fopts.OpenAIModels[scope]
		}
		return map[string]int64{"rpm": lim.RPM, "rpd": lim.RPD, "tpm": lim.TPM, "tpd": lim.TPD}[name]
	case "youtube":
		y := w.fopts.YouTube
		return map[string]int64{"daily": y.Daily, "search.list": y.Search, "videos.insert": y.Insert}[name]
	case "pexels":
		return map[string]int64{"hourly": w.fopts.Pexels.Hourly, "monthly": w.fopts.Pexels.Monthly}[name]
	}
	return 0
}

// providerOf returns the provider of a configured API: its provider key,
// else the API's own name when that is a known fake.
func providerOf(cfg config.Config, api string) string {
	if a, ok := cfg.API(api); ok && a.Provider != "" {
		return a.Provider
	}
	return api
}
