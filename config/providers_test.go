package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

// An API naming a provider takes the profile's unit, keywords and windows
// unless it writes its own, and its upstream and cost overrides reach the
// proxy's specs.
func TestProviderFillsWhatTheAPILeavesOut(t *testing.T) {
	doc := `apis:
  groq: {provider: groq}
  youtube:
    provider: youtube
    costs: {"POST /thumbnails/set": 100, "GET /videos": "daily:1"}
  stock:
    provider: generic
    upstream: https://api.example.com/v2
    unit: images
    windows: [{name: requests, limit: 1000, reset: "every 1h"}]
  plain:
    windows: [{name: daily, limit: 5, reset: "daily 00:00"}]
`
	c, err := config.Parse([]byte(doc), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]config.APIConfig{}
	for _, a := range c.APIs {
		byName[a.Name] = a
	}
	groq := byName["groq"]
	if groq.Unit != "tokens" || len(groq.Windows) != 0 || len(groq.Keywords) == 0 {
		t.Errorf("groq from its profile (per model: no API-wide windows): %+v", groq)
	}
	if yt := byName["youtube"]; yt.Unit != "units" || yt.Windows[0].Name != "daily" || yt.Windows[0].Limit != 10000 {
		t.Errorf("youtube from its profile: %+v", yt)
	}
	if st := byName["stock"]; st.Unit != "images" || len(st.Windows) != 1 || st.Windows[0].Limit != 1000 {
		t.Errorf("stock keeps its own unit and windows: %+v", st)
	}
	specs := c.ProviderSpecs()
	if len(specs) != 3 {
		t.Fatalf("specs %+v, want groq, youtube and stock", specs)
	}
	for _, s := range specs {
		switch s.API {
		case "youtube":
			if s.Costs["POST /thumbnails/set"] != "100" || s.Costs["GET /videos"] != "daily:1" {
				t.Errorf("youtube costs %v", s.Costs)
			}
		case "stock":
			if s.Provider != "generic" || s.Upstream != "https://api.example.com/v2" {
				t.Errorf("stock spec %+v", s)
			}
		case "plain":
			t.Errorf("an API without a provider has no spec")
		}
	}
}

// An API's own listener is read and listed.
func TestListeners(t *testing.T) {
	c, err := config.Parse([]byte("apis:\n  youtube: {provider: youtube}\n  shorts: {provider: youtube, listen: \"127.0.0.1:8091\"}\n"), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Listeners(); len(got) != 1 || got["shorts"] != "127.0.0.1:8091" {
		t.Fatalf("Listeners() = %v", got)
	}
}

func TestProviderErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, path, msg string }{
		{"unknown provider", "apis:\n  g: {provider: grok}\n", "apis.g.provider", `unknown provider "grok"; expected one of: `},
		{"generic without upstream", "apis:\n  s:\n    provider: generic\n    windows: [{name: r, limit: 5, reset: every 1h}]\n",
			"apis.s", "needs an upstream URL"},
		{"bad upstream", "apis:\n  g: {provider: groq, upstream: \"ftp://x\"}\n", "apis.g", "upstream"},
		{"bad cost", "apis:\n  y: {provider: youtube, costs: {\"GET /x\": lots}}\n", "apis.y", "GET /x"},
		{"upstream without provider", "apis:\n  g:\n    upstream: https://x\n    windows: [{name: d, limit: 5, reset: daily 00:00}]\n",
			"apis.g.upstream", "upstream without a provider"},
		{"listen without provider", "apis:\n  g:\n    listen: 127.0.0.1:8091\n    windows: [{name: d, limit: 5, reset: daily 00:00}]\n",
			"apis.g.listen", "listen without a provider"},
		{"bad listen", "apis:\n  y: {provider: youtube, listen: \"8091\"}\n", "apis.y.listen", "expected host:port"},
		{"listen taken", "apis:\n  y: {provider: youtube, listen: \"127.0.0.1:8091\"}\n  s: {provider: youtube, listen: \"127.0.0.1:8091\"}\n",
			"apis.s.listen", "already apis.y.listen's"},
		{"listen is the server's", "apis:\n  y: {provider: youtube, listen: \"127.0.0.1:8080\"}\n", "apis.y.listen", "already server.listen's"},
		{"costs without provider", "apis:\n  g:\n    costs: {\"GET /x\": 1}\n    windows: [{name: d, limit: 5, reset: daily 00:00}]\n",
			"apis.g.costs", "costs without a provider"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), "quotad.yaml")
			if !errors.Is(err, quotad.ErrInvalid) {
				t.Fatalf("Parse() = %v, want ErrInvalid", err)
			}
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T", err)
			}
			for _, fe := range ve.Errors {
				if fe.Path == tt.path && strings.Contains(fe.Message, tt.msg) {
					return
				}
			}
			t.Errorf("errors %v\nwant %s: …%s…", err, tt.path, tt.msg)
		})
	}
}

// TestModelsMetersScopes: a per-model provider gives every model of its
// table its windows, config overrides a model's limits and adds models;
// windows count by meter; buckets and credential scopes come through.
func TestModelsMetersScopes(t *testing.T) {
	t.Setenv("YT_SHORTS_KEY", "AIzaShortsProjectKey0123456789")
	const doc = `
apis:
  groq:
    provider: groq
    models:
      llama-3.3-70b-versatile: {tpd: 200000}
      my-fine-tune: {rpm: 10, tpd: 50000}
    prices:
      my-fine-tune: {input: 1, output: 2}
  youtube:
    provider: youtube
    credentials:
      shorts: {env: YT_SHORTS_KEY}
      main: {env: YT_MAIN_KEY_UNSET}
  plain:
    unit: requests
    windows: [{name: daily, limit: 5, reset: "daily 00:00", meter: tokens}, {name: minute, limit: 3, reset: "every 1m"}]
    models:
      big: {daily: 2}
  openai:
    provider: openai
    windows: [{name: tpd, limit: 900, reset: "daily 00:00 UTC"}]
channels:
  RankRiot:
    apis: [groq/llama-3.3-70b-versatile, youtube]
    fallbacks: {llm: [groq/llama-3.1-8b-instant, groq]}
`
	c, err := config.Parse([]byte(doc), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	apis, _ := c.Domain()
	byKey := map[string]quotad.Window{}
	for _, a := range apis {
		for _, w := range a.Windows {
			byKey[a.Name+" "+w.Key()] = w
		}
	}
	for key, want := range map[string]quotad.Window{
		"groq llama-3.3-70b-versatile/tpd": {Limit: 200000, Meter: quotad.MeterTokens},
		"groq llama-3.3-70b-versatile/rpm": {Limit: 30, Meter: quotad.MeterRequests},
		"groq llama-3.1-8b-instant/rpd":    {Limit: 14400, Meter: quotad.MeterRequests},
		"groq my-fine-tune/rpm":            {Limit: 10, Meter: quotad.MeterRequests},
		"groq my-fine-tune/tpd":            {Limit: 50000, Meter: quotad.MeterTokens},
		"youtube daily":                    {Limit: 10000},
		"youtube videos.insert":            {Limit: 100, Bucket: true},
		"plain daily":                      {Limit: 5, Meter: quotad.MeterTokens},
		"plain big/daily":                  {Limit: 2, Meter: quotad.MeterTokens},
	} {
		got, ok := byKey[key]
		if !ok || got.Limit != want.Limit || got.Meter != want.Meter || got.Bucket != want.Bucket {
			t.Errorf("%s = %+v (found %v), want limit %d meter %q bucket %v", key, got, ok, want.Limit, want.Meter, want.Bucket)
		}
	}
	if w, ok := byKey["openai tpd"]; !ok || w.Meter != quotad.MeterTokens {
		t.Errorf("openai's own tpd %+v", w)
	}
	if _, ok := byKey["openai gpt-4o-mini/rpm"]; ok {
		t.Error("an API listing its own windows got the profile's model table too")
	}
	if _, ok := byKey["groq my-fine-tune/tpm"]; ok {
		t.Error("a model only in the config got a window it does not name")
	}
	if _, ok := byKey["groq rpm"]; ok {
		t.Error("a per-model API got an API-wide window")
	}
	scopes, missing := c.Scopes()
	if scopes["youtube"]["shorts"] != "AIzaShortsProjectKey0123456789" || len(scopes["youtube"]) != 1 || len(missing) != 1 {
		t.Errorf("scopes %v missing %v", scopes, missing)
	}
	specs := c.ProviderSpecs()
	for _, s := range specs {
		if s.API == "groq" && (len(s.Prices) != 1 || s.Prices[0].Model != "my-fine-tune" || s.Prices[0].Output != 2) {
			t.Errorf("groq price overrides %+v", s.Prices)
		}
	}
}

func TestModelsMetersScopesInvalid(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"apis:\n  groq:\n    provider: groq\n    models:\n      llama-3.3-70b-versatile: {tpw: 5}\n", `unknown window "tpw"`},
		{"apis:\n  groq:\n    provider: groq\n    models:\n      llama-3.3-70b-versatile: {tpd: 0}\n", "expected a limit from 1"},
		{"apis:\n  yt:\n    provider: youtube\n    credentials:\n      shorts: {env: \"AIza secret\"}\n", "the credential itself never goes in the file"},
		{"apis:\n  yt:\n    provider: youtube\n    credentials:\n      Bad Scope: {env: K}\n", "invalid scope name"},
		{"apis:\n  p:\n    windows: [{name: d, limit: 5, reset: \"daily 00:00\", meter: bytes}]\n", `unknown meter "bytes"`},
		{"apis:\n  p:\n    windows: [{name: d, limit: 5, reset: \"daily 00:00\"}]\nchannels:\n  c: {apis: [q/model]}\n", `unknown API "q/model"`},
	} {
		_, err := config.Parse([]byte(tc.doc), "quotad.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.doc, err, tc.want)
		}
	}
}
