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
	if groq.Unit != "tokens" || len(groq.Windows) != 4 || len(groq.Keywords) == 0 {
		t.Errorf("groq from its profile: %+v", groq)
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
