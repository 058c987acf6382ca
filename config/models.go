package config

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/provider"
)

// This file holds what shapes an API's limits like its provider's: the
// windows of each model ("models"), what each window counts ("meter"), the
// credential scopes ("credentials") and the prices of tokens ("prices").

// Meters a window may name (WindowConfig.Meter).
const (
	MeterRequests = "requests" // 1 per call, spend or reservation
	MeterTokens   = "tokens"   // the units given, as tokens
	MeterUnits    = "units"    // the units given, in the API's unit (the default)
)

// CredentialConfig names a credential scope of an API: the calls made with
// the credential in environment variable Env count against windows of their
// own (Groq and OpenAI count per organization or project, YouTube per
// Google Cloud project). The credential is read when the daemon starts and
// only a salted hash of it is kept.
type CredentialConfig struct {
	Scope string `yaml:"-"`
	Env   string `yaml:"env"`
}

// PriceConfig is a model's price in US dollars per million tokens.
type PriceConfig struct {
	Input  float64 `yaml:"input"`
	Output float64 `yaml:"output"`
}

var (
	scopeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	envRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	modelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$`)
)

func decodeCredentials(m map[string]CredentialConfig) []CredentialConfig {
	var out []CredentialConfig
	for _, k := range slices.Sorted(maps.Keys(m)) {
		c := m[k]
		c.Scope = k
		out = append(out, c)
	}
	return out
}

// perModel returns the API's provider profile when its limits are per
// model.
func (a APIConfig) perModel() (*provider.Profile, bool) {
	p, ok := provider.Lookup(a.Provider)
	return p, ok && p.PerModel
}

// domainWindows returns the API's windows as domain values: the configured
// ones (their meter and bucket from the config or the provider's profile),
// then every model's: with a per-model profile, its table with the config's
// overrides when the API lists no windows of its own, else the models the
// config lists; without one, the configured windows of each name with the
// model's limits. ruleText gives a rule's canonical text.
func (a APIConfig) domainWindows(ruleText func(string) string) []quotad.Window {
	prof, hasProf := provider.Lookup(a.Provider)
	out := make([]quotad.Window, 0, len(a.Windows))
	for _, w := range a.Windows {
		d := quotad.Window{Name: w.Name, Limit: w.Limit, Rule: ruleText(w.Reset), Meter: domainMeter(w.Meter)}
		if hasProf {
			if w.Meter == "" {
				d.Meter = prof.DomainMeter(w.Name)
			}
			d.Bucket = prof.IsBucket(w.Name)
		}
		out = append(out, d)
	}
	if hasProf && prof.PerModel {
		// The profile's table fills an API that lists no windows of its
		// own; one that does gets exactly those (for every call) and the
		// models it lists.
		ws, err := prof.ModelWindows(a.Models)
		if len(a.Windows) > 0 {
			ws, err = prof.OverrideWindows(a.Models)
		}
		if err == nil { // Validate reports it
			out = append(out, ws...)
		}
		return out
	}
	for _, model := range slices.Sorted(maps.Keys(a.Models)) {
		for _, w := range out[:len(a.Windows)] {
			if n, ok := a.Models[model][w.Name]; ok && !w.Bucket {
				w.Model, w.Limit = model, n
				out = append(out, w)
			}
		}
	}
	return out
}

func domainMeter(m string) string {
	if m == MeterUnits {
		return ""
	}
	return m
}

// modelProblems checks an API's models, meters, credentials and prices.
func (a APIConfig) modelProblems(p fieldPath) []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	for i, w := range a.Windows {
		switch w.Meter {
		case "", MeterRequests, MeterTokens, MeterUnits:
		default:
			add(p.to("windows", i, "meter"), "unknown meter %q; expected requests, tokens or units", w.Meter)
		}
	}
	prof, perModel := a.perModel()
	for _, model := range slices.Sorted(maps.Keys(a.Models)) {
		mp := p.to("models", model)
		if !modelRE.MatchString(model) {
			add(mp, "invalid model name %q; expected the provider's model id, like llama-3.3-70b-versatile", model)
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(a.Models[model])) {
			n := a.Models[model][name]
			var known []string
			if perModel {
				for _, w := range prof.Windows {
					known = append(known, w.Name)
				}
			} else {
				known = windowNames(a)
			}
			if !slices.Contains(known, name) {
				add(mp.to(name), "unknown window %q; a model's windows are named after the API's: %s", name, strings.Join(known, ", "))
			} else if n < 1 || n > MaxLimit {
				add(mp.to(name), "expected a limit from 1 to %d, got %d", int64(MaxLimit), n)
			}
		}
	}
	for _, c := range a.Credentials {
		cp := p.to("credentials", c.Scope)
		if !scopeRE.MatchString(c.Scope) {
			add(cp, "invalid scope name %q; expected lower-case letters, digits, '.', '_' or '-', like shorts", c.Scope)
		}
		if !envRE.MatchString(c.Env) {
			add(cp.to("env"), "expected the name of the environment variable that holds the credential, like YT_SHORTS_KEY, got %q (the credential itself never goes in the file)", c.Env)
		}
	}
	if len(a.Credentials) > 0 && a.Provider == "" {
		add(p.to("credentials"), "credentials without a provider: only proxied calls carry a credential; expected a provider key")
	}
	for _, model := range slices.Sorted(maps.Keys(a.Prices)) {
		pr := a.Prices[model]
		if pr.Input < 0 || pr.Output < 0 || pr.Input > 1e6 || pr.Output > 1e6 {
			add(p.to("prices", model), "expected dollars per million tokens from 0 to 1000000, like {input: 0.59, output: 0.79}")
		}
	}
	return ps
}

// Scopes returns, for each API that names credentials, scope → credential
// read from its environment variable (unset variables are left out): what
// the metering proxy hashes to recognise calls. The credentials are not
// kept anywhere else.
func (c *Config) Scopes() (map[string]map[string]string, []string) {
	out := map[string]map[string]string{}
	var missing []string
	for _, a := range c.APIs {
		for _, cr := range a.Credentials {
			v := strings.TrimSpace(os.Getenv(cr.Env))
			if v == "" {
				missing = append(missing, fmt.Sprintf("%s credential %s: environment variable %s is not set; its calls count in the default scope", a.Name, cr.Scope, cr.Env))
				continue
			}
			if out[a.Name] == nil {
				out[a.Name] = map[string]string{}
			}
			out[a.Name][cr.Scope] = v
		}
	}
	return out, missing
}

// domainPrices returns the API's prices: its provider's, with the config's
// in their place.
func (a APIConfig) domainPrices() []quotad.Price {
	var out []quotad.Price
	if prof, ok := provider.Lookup(a.Provider); ok {
		for _, p := range prof.Prices {
			if _, over := a.Prices[p.Model]; !over {
				out = append(out, quotad.Price{Model: p.Model, Input: p.Input, Output: p.Output})
			}
		}
	}
	for _, m := range slices.Sorted(maps.Keys(a.Prices)) {
		out = append(out, quotad.Price{Model: m, Input: a.Prices[m].Input, Output: a.Prices[m].Output})
	}
	return out
}
