// Package provider holds quotad's built-in provider profiles: for each
// provider (youtube, groq, openai, pexels, pixabay, generic) its upstream
// base URL, its real quota windows as defaults, what each window meters, the
// cost table, and the rules that read the provider's own responses — rate
// limit headers, usage figures in bodies and streams, and error bodies.
//
// It is pure logic: responses and a time in, observations, charges and
// verdicts out. The proxy package applies them to an engine; engine.Observe
// adopts the observations (the provider is the truth about its quotas).
//
// Every text that may reach a log, an event or an error passes through
// Redact, which removes credentials.
package provider

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// Meter says what a window counts for each proxied call.
type Meter string

// Meters.
const (
	MeterRequests Meter = "requests" // 1 per call that reached the provider
	MeterTokens   Meter = "tokens"   // the tokens of the response's usage figures
	MeterCost     Meter = "cost"     // the cost table: units per call by method and path
)

// Window is one of a profile's default quota windows.
type Window struct {
	Name  string `json:"name"`
	Limit int64  `json:"limit"`
	Reset string `json:"reset"` // reset rule text, naming its zone
	Meter Meter  `json:"meter"`
	// Bucket marks a window only the calls the cost table charges to it
	// count (YouTube's search.list): it refuses only those.
	Bucket bool   `json:"bucket,omitempty"`
	Note   string `json:"note,omitempty"`
}

// ModelLimits are one model's limits in a profile whose limits are per
// model: window name → limit. Its windows are the profile's Windows (their
// reset and meter) with these limits; a window it does not name it lacks.
type ModelLimits struct {
	Model  string           `json:"model"`
	Limits map[string]int64 `json:"limits"`
}

// Observation is what a provider's response says about one window. The
// engine adopts it: Used = Limit − Remaining, NextReset = Reset, and a
// Remaining of 0 exhausts the window until Reset.
type Observation struct {
	Window    string    `json:"window"`
	Limit     int64     `json:"limit"`     // provider-stated limit; -1 unknown (the window's own limit is used)
	Remaining int64     `json:"remaining"` // provider-stated remaining; -1 unknown (nothing adopted but Reset)
	Reset     time.Time `json:"reset"`     // when the provider says the window refills; zero unknown
	Source    string    `json:"source"`    // the headers or body it came from, for events
}

// Profile is one provider's profile. Profiles returned by Lookup, All and
// Build are copies the caller may change.
type Profile struct {
	Name     string   `json:"name"`
	Upstream string   `json:"upstream"` // base URL calls are forwarded to
	Unit     string   `json:"unit"`
	Keywords []string `json:"keywords"`
	Windows  []Window `json:"windows"`
	// PerModel says the provider limits each model apart (Groq, OpenAI):
	// Windows are then the shape of every model's windows, Models the
	// published limits, and a call is charged to its model's windows. A
	// model not in Models gets the windows its rate-limit headers state.
	PerModel bool          `json:"per_model,omitempty"`
	Models   []ModelLimits `json:"models,omitempty"`
	// Prices are what a model's tokens cost, for usage and money budgets.
	Prices []Price    `json:"prices,omitempty"`
	Costs  []CostRule `json:"costs,omitempty"`
	// DefaultMeter meters windows the profile does not name (windows a
	// config defines for itself).
	DefaultMeter Meter `json:"default_meter"`
	// FailedCost is what a call the provider answered with an error
	// (other than a quota refusal) costs in cost-metered windows, at most
	// the table's cost; 0 means such calls cost nothing there.
	FailedCost int64 `json:"failed_cost,omitempty"`
	// UsageWindow names the window whose charge is the call's usage in the
	// API's unit (usage history, budgets, forecasts).
	UsageWindow string `json:"usage_window,omitempty"`
	// OriginPaths are path prefixes forwarded relative to the upstream's
	// origin instead of its base path (YouTube's /upload/youtube/v3/...).
	OriginPaths []string `json:"origin_paths,omitempty"`
	// SessionParam is the query parameter of calls that continue an upload
	// session an earlier call opened and paid for (YouTube's upload_id);
	// they are charged nothing.
	SessionParam string `json:"session_param,omitempty"`
	// Headers, Errors and Notes describe the parsing rules for people.
	Headers []string `json:"headers"`
	Errors  []string `json:"errors"`
	Notes   []string `json:"notes,omitempty"`

	rules   []headerRule      // rate-limit header sets read into observations
	ietf    bool              // read RateLimit-* / X-RateLimit-* generically
	errs    errorStyle        // how error responses are read and refusals shaped
	tokens  bool              // read usage figures from bodies and streams
	okOnly  bool              // rate-limit headers come on 2xx responses only
	builtIn int               // position among the built-ins, for listings
	base    upstreamBase      // Upstream's base path, parsed once (Clone, WithUpstream)
	hasher  *credentialHasher // the credential scopes it recognises; nil none
}

// upstreamBase is the base path of an upstream URL, without its trailing
// slash, and the upstream it was read from (a caller may change Upstream).
type upstreamBase struct {
	upstream, path string
}

func newUpstreamBase(upstream string) upstreamBase {
	b := upstreamBase{upstream: upstream}
	if u, err := url.Parse(upstream); err == nil {
		b.path = strings.TrimRight(u.Path, "/")
	}
	return b
}

// basePath returns the upstream's base path without its trailing slash
// ("/youtube/v3"; "" for none).
func (p *Profile) basePath() string {
	if p.base.upstream != p.Upstream {
		return newUpstreamBase(p.Upstream).path // Upstream changed after Clone
	}
	return p.base.path
}

// errorStyle is a provider family's error body shape.
type errorStyle int

const (
	styleGeneric errorStyle = iota
	styleGoogle
	styleOpenAI
	stylePexels
	stylePixabay
)

// Names returns the names of the built-in profiles, in listing order.
func Names() []string {
	out := make([]string, 0, len(builtins))
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

// All returns a copy of every built-in profile, in listing order.
func All() []*Profile {
	out := make([]*Profile, 0, len(builtins))
	for _, p := range builtins {
		out = append(out, p.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].builtIn < out[j].builtIn })
	return out
}

// Lookup returns a copy of the built-in profile with the given name
// (case-insensitive) and whether it exists.
func Lookup(name string) (*Profile, bool) {
	p, ok := builtins[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil, false
	}
	return p.Clone(), true
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Keywords = append([]string{}, p.Keywords...) // [] rather than null in JSON
	c.Windows = append([]Window{}, p.Windows...)
	c.Models = slices.Clone(p.Models)
	for i := range c.Models {
		c.Models[i].Limits = maps.Clone(p.Models[i].Limits)
	}
	c.Prices = slices.Clone(p.Prices)
	c.Costs = slices.Clone(p.Costs)
	c.OriginPaths = slices.Clone(p.OriginPaths)
	c.Headers = slices.Clone(p.Headers)
	c.Errors = slices.Clone(p.Errors)
	c.Notes = slices.Clone(p.Notes)
	c.rules = slices.Clone(p.rules)
	if c.base.upstream != c.Upstream {
		c.base = newUpstreamBase(c.Upstream)
	}
	return &c
}

// WithUpstream returns a copy of p that forwards to base, an http or https
// URL (a trailing slash is dropped).
func (p *Profile) WithUpstream(base string) (*Profile, error) {
	u, err := ParseUpstream(base)
	if err != nil {
		return nil, err
	}
	c := p.Clone()
	c.Upstream = u.String()
	c.base = newUpstreamBase(c.Upstream)
	return c, nil
}

// WithCosts returns a copy of p whose cost table has the overrides added:
// the most specific rule matching a call wins, and an override wins over a
// built-in rule of the same specificity. An override names a cost-metered
// window of the profile, or a window the config defines (which is then
// metered by the cost table); without a window it charges the profile's
// first cost-metered window.
func (p *Profile) WithCosts(overrides ...CostRule) (*Profile, error) {
	c := p.Clone()
	for _, r := range overrides {
		if err := r.check(); err != nil {
			return nil, err
		}
		if r.Window == "" {
			r.Window = c.defaultCostWindow()
		}
		if r.Window == "" {
			return nil, quotad.Invalidf("cost %s %s: the %s profile has no cost-metered window; name one as WINDOW:N", r.Method, r.Path, p.Name)
		}
		if w, ok := c.window(r.Window); ok && w.Meter != MeterCost {
			return nil, quotad.Invalidf("cost %s %s: window %s of %s meters %s, not the cost table", r.Method, r.Path, r.Window, p.Name, w.Meter)
		}
		r.Override = true
		c.Costs = append(c.Costs, r)
	}
	return c, nil
}

// ParseUpstream checks an upstream base URL: absolute http or https, a
// host, no query, fragment or user information (credentials are the
// caller's, never quotad's).
func ParseUpstream(base string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	switch {
	case err != nil:
		return nil, quotad.Invalidf("upstream %q is not a URL: %v", Redact(base), err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, quotad.Invalidf("upstream %q: expected an http:// or https:// URL", Redact(base))
	case u.Host == "":
		return nil, quotad.Invalidf("upstream %q: expected a host", Redact(base))
	case u.User != nil:
		return nil, quotad.Invalidf("upstream %q: credentials do not belong in the upstream URL; callers send their own", Redact(base))
	case u.RawQuery != "" || u.Fragment != "":
		return nil, quotad.Invalidf("upstream %q: expected no query or fragment", Redact(base))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// MeterOf returns what the window with the given name meters.
func (p *Profile) MeterOf(window string) Meter {
	if w, ok := p.window(window); ok {
		return w.Meter
	}
	for _, r := range p.Costs {
		if r.Window == window {
			return MeterCost
		}
	}
	return p.DefaultMeter
}

// ReadsTokens reports whether calls need their usage figures read: some
// window of api meters tokens.
func (p *Profile) ReadsTokens(api quotad.API) bool {
	if !p.tokens {
		return false
	}
	for _, w := range api.Windows {
		if p.MeterOf(w.Name) == MeterTokens {
			return true
		}
	}
	return false
}

func (p *Profile) window(name string) (Window, bool) {
	for _, w := range p.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// defaultCostWindow is the first cost-metered window of the profile.
func (p *Profile) defaultCostWindow() string {
	for _, w := range p.Windows {
		if w.Meter == MeterCost {
			return w.Name
		}
	}
	return ""
}

// API returns the domain API the profile describes under the given name:
// its unit, keywords (plus the name) and default windows, with canonical
// rule texts, meters and buckets; for a profile whose limits are per model,
// the windows of every model of its table. Auto-resume is on.
func (p *Profile) API(name string) (quotad.API, error) {
	a := quotad.API{Name: name, Unit: p.Unit, AutoResume: true, Keywords: slices.Clone(p.Keywords)}
	if !slices.Contains(a.Keywords, name) {
		a.Keywords = append(a.Keywords, name)
	}
	if len(p.Windows) == 0 {
		return quotad.API{}, quotad.Invalidf("the %s profile has no default windows; configure them for API %s", p.Name, name)
	}
	for _, pr := range p.Prices {
		a.Prices = append(a.Prices, quotad.Price{Model: pr.Model, Input: pr.Input, Output: pr.Output})
	}
	if p.PerModel {
		ws, err := p.ModelWindows(nil)
		if err != nil {
			return quotad.API{}, err
		}
		a.Windows = ws
		return a, nil
	}
	for _, w := range p.Windows {
		r, err := rule.Parse(w.Reset, time.UTC)
		if err != nil {
			return quotad.API{}, fmt.Errorf("profile %s window %s: %w", p.Name, w.Name, err)
		}
		a.Windows = append(a.Windows, quotad.Window{Name: w.Name, Limit: w.Limit, Rule: r.String(), Meter: p.DomainMeter(w.Name), Bucket: w.Bucket})
	}
	return a, nil
}

// DomainMeter returns the domain meter of the window with the given name:
// quotad.MeterRequests, quotad.MeterTokens, or "" (units of the API's unit:
// the cost table's, or a window the profile does not name).
func (p *Profile) DomainMeter(window string) string {
	switch p.MeterOf(window) {
	case MeterRequests:
		return quotad.MeterRequests
	case MeterTokens:
		return quotad.MeterTokens
	}
	return ""
}

// IsBucket reports whether the profile's window of that name is a bucket.
func (p *Profile) IsBucket(window string) bool {
	w, ok := p.window(window)
	return ok && w.Bucket
}

// ModelWindows returns the windows of every model of a per-model profile's
// table, with the limits of overrides (model → window → limit) in place of
// the table's; a model only in overrides gets the windows it names. Models
// are in table order, then the others' in name order.
func (p *Profile) ModelWindows(overrides map[string]map[string]int64) ([]quotad.Window, error) {
	return p.modelWindows(p.Models, overrides)
}

// OverrideWindows returns the windows of the models of overrides only, as
// ModelWindows makes them, without the profile's table (for an API whose
// config lists its own windows).
func (p *Profile) OverrideWindows(overrides map[string]map[string]int64) ([]quotad.Window, error) {
	var table []ModelLimits
	for _, m := range p.Models {
		if _, ok := overrides[m.Model]; ok {
			table = append(table, m)
		}
	}
	return p.modelWindows(table, overrides)
}

func (p *Profile) modelWindows(table []ModelLimits, overrides map[string]map[string]int64) ([]quotad.Window, error) {
	models := make([]ModelLimits, 0, len(table)+len(overrides))
	for _, m := range table {
		models = append(models, ModelLimits{Model: m.Model, Limits: maps.Clone(m.Limits)})
	}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		i := slices.IndexFunc(models, func(m ModelLimits) bool { return m.Model == name })
		if i < 0 {
			models = append(models, ModelLimits{Model: name, Limits: map[string]int64{}})
			i = len(models) - 1
		}
		for w, n := range overrides[name] {
			models[i].Limits[w] = n
		}
	}
	var out []quotad.Window
	for _, m := range models {
		for w := range m.Limits {
			if _, ok := p.window(w); !ok {
				return nil, quotad.Invalidf("model %s: %s has no window %q; expected one of: %s", m.Model, p.Name, w, strings.Join(p.windowNames(), ", "))
			}
		}
		for _, w := range p.Windows {
			limit, ok := m.Limits[w.Name]
			if !ok || limit <= 0 {
				continue
			}
			r, err := rule.Parse(w.Reset, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("profile %s window %s: %w", p.Name, w.Name, err)
			}
			out = append(out, quotad.Window{Name: w.Name, Model: m.Model, Limit: limit, Rule: r.String(), Meter: p.DomainMeter(w.Name)})
		}
	}
	return out, nil
}

// LearnedWindow returns the window of an unknown model whose limit a
// provider's headers state: the profile's window of that name, with that
// limit.
func (p *Profile) LearnedWindow(model, window string, limit int64) (quotad.Window, bool) {
	w, ok := p.window(window)
	if !ok || limit <= 0 || model == "" {
		return quotad.Window{}, false
	}
	r, err := rule.Parse(w.Reset, time.UTC)
	if err != nil {
		return quotad.Window{}, false
	}
	return quotad.Window{Name: w.Name, Model: model, Limit: limit, Rule: r.String(), Meter: p.DomainMeter(w.Name)}, true
}

func (p *Profile) windowNames() []string {
	out := make([]string, 0, len(p.Windows))
	for _, w := range p.Windows {
		out = append(out, w.Name)
	}
	return out
}

// Spec says how one configured API uses a profile.
type Spec struct {
	API      string            // the API's name in quotad
	Provider string            // a built-in profile name
	Upstream string            // base URL; "" keeps the profile's
	Costs    map[string]string // cost table overrides, "METHOD /path" → "N" or "WINDOW:N"
	Prices   []Price           // price overrides per model
	// Scopes are the credential scopes the config names: scope →
	// credential. Build keeps only salted hashes of them.
	Scopes map[string]string
}

// Build returns the profile of every spec, keyed by API name, with
// upstream and cost overrides applied. A generic profile needs an upstream.
func Build(specs []Spec) (map[string]*Profile, error) {
	out := make(map[string]*Profile, len(specs))
	for _, s := range specs {
		p, ok := Lookup(s.Provider)
		if !ok {
			return nil, quotad.Invalidf("API %s: unknown provider %q; expected one of: %s", s.API, s.Provider, strings.Join(Names(), ", "))
		}
		var err error
		if s.Upstream != "" {
			if p, err = p.WithUpstream(s.Upstream); err != nil {
				return nil, fmt.Errorf("API %s: %w", s.API, err)
			}
		}
		if p.Upstream == "" {
			return nil, quotad.Invalidf("API %s: the %s profile needs an upstream URL", s.API, p.Name)
		}
		if len(s.Costs) > 0 {
			rules, err := ParseCosts(s.Costs)
			if err != nil {
				return nil, fmt.Errorf("API %s: %w", s.API, err)
			}
			if p, err = p.WithCosts(rules...); err != nil {
				return nil, fmt.Errorf("API %s: %w", s.API, err)
			}
		}
		for _, pr := range s.Prices {
			p.Prices = slices.DeleteFunc(p.Prices, func(x Price) bool { return x.Model == pr.Model })
			p.Prices = append(p.Prices, pr)
		}
		p = p.withScopes(s.Scopes)
		if _, dup := out[s.API]; dup {
			return nil, quotad.Invalidf("API %s has two provider specs", s.API)
		}
		out[s.API] = p
	}
	return out, nil
}
