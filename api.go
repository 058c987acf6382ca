package quotad

import (
	"strings"
	"time"
)

// API is a provider that pipelines call (groq, youtube, pexels, ...). It has
// a unit, attribution keywords, an auto-resume switch and one or more quota
// windows. An API is available when none of its windows is exhausted.
type API struct {
	Name       string
	Unit       string
	Keywords   []string // lower-case words that attribute an error text to this API
	AutoResume bool     // clear quota:<api> pauses automatically when available again
	Windows    []Window // at least one; order is the config's
	// Reserve keeps the last Units of every window for channels at or above
	// Priority: lower channels stop there. The zero Reserve keeps nothing.
	Reserve Reserve
	// Prices are what each model's tokens cost: usage shows money and a
	// budget can be money.
	Prices []Price
}

// Price is what one model's tokens cost, in US dollars per million tokens.
type Price struct {
	Model  string  `json:"model"`
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// PriceOf returns the price of a model and whether the API has one.
func (a API) PriceOf(model string) (Price, bool) {
	for _, p := range a.Prices {
		if p.Model == model {
			return p, true
		}
	}
	return Price{}, false
}

// Micros returns what input and output tokens cost at price p, in
// millionths of a US dollar (rounded up: money is never undercounted).
func (p Price) Micros(input, output int64) int64 {
	v := float64(input)*p.Input + float64(output)*p.Output // dollars per million tokens × tokens = micro-dollars
	n := int64(v)
	if float64(n) < v {
		n++
	}
	return n
}

// Reserve is the part of every window of an API kept for channels at or
// above a priority.
type Reserve struct {
	Priority Priority `json:"priority"`
	Units    int64    `json:"units"`
}

// Available reports whether no window of the API is exhausted (of any
// model, bucket or scope). Whether a call or a need is served is
// NeedAvailable's question.
func (a API) Available() bool {
	for _, w := range a.Windows {
		if w.Exhausted {
			return false
		}
	}
	return true
}

// Window returns the window with the given name and whether it exists.
func (a API) Window(name string) (Window, bool) {
	for _, w := range a.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// AvailableAt returns when the API is expected to be available again: the
// latest "until" among its exhausted windows (blocked_until when a provider
// named a time, else next_reset). It returns the zero time when the API is
// available now.
func (a API) AvailableAt() time.Time {
	var at time.Time
	for _, w := range a.Windows {
		if !w.Exhausted {
			continue
		}
		u := w.Until()
		if u.After(at) {
			at = u
		}
	}
	return at
}

// Meters of a window: what one call, spend or reservation counts in it.
const (
	MeterRequests = "requests" // 1 per call, whatever its units
	MeterTokens   = "tokens"   // the call's tokens
	// "" counts the units given, in the API's unit.
)

// Window is one quota of an API: a limit and a reset rule, plus its state.
// Zero times mean "not set" (NULL in the store).
//
// A window's identity within its API is its Key: its Name, the Model it
// belongs to ("" for every call of the API) and the credential Scope it
// counts ("" for the default scope). Groq's llama-3.3-70b-versatile tpd is
// {Name: "tpd", Model: "llama-3.3-70b-versatile"}; YouTube's search.list
// bucket is {Name: "search.list", Bucket: true}.
type Window struct {
	Name  string
	Model string // the model whose calls it counts; "" = every call of the API
	Scope string // the credential scope (organization, project) it counts; "" = the default scope
	// Meter is what it counts: MeterRequests, MeterTokens, or "" (units
	// in the API's unit).
	Meter string
	// Bucket marks a window only the calls charged to it by name count
	// (YouTube's search.list and videos.insert): it refuses only those.
	Bucket bool
	Limit  int64
	Rule   string // reset rule text, e.g. "daily 00:00 America/Los_Angeles"

	Used         int64     // units spent since LastReset
	Reserved     int64     // units held by outstanding reservations
	LastReset    time.Time // when the window last refilled
	NextReset    time.Time // when the window refills next
	Exhausted    bool
	ExhaustedAt  time.Time
	BlockedUntil time.Time // a provider-stated retry time; zero when unknown
}

// Remaining returns the units left before the limit, ignoring reservations:
// the seed's quota_remaining column.
func (w Window) Remaining() int64 {
	if r := w.Limit - w.Used; r > 0 {
		return r
	}
	return 0
}

// Free returns the units that can still be reserved or spent: limit minus
// used minus reserved, never negative.
func (w Window) Free() int64 {
	if r := w.Limit - w.Used - w.Reserved; r > 0 {
		return r
	}
	return 0
}

// Until returns when an exhausted window is expected to serve again:
// BlockedUntil when a provider stated it, else NextReset.
func (w Window) Until() time.Time {
	if !w.BlockedUntil.IsZero() {
		return w.BlockedUntil
	}
	return w.NextReset
}

// Key returns the window's identity within its API: "tpd",
// "llama-3.3-70b-versatile/tpd", "daily@shorts". It is the window_name of
// its api_quotas row.
func (w Window) Key() string { return WindowKey(w.Model, w.Name, w.Scope) }

// HasKey reports whether key is the window's Key, without building it (a
// window of a model or a scope would allocate its key on every comparison).
func (w Window) HasKey(key string) bool {
	if w.Scope != "" {
		n := len(key) - len(w.Scope) - 1
		if n < 0 || key[n] != '@' || key[n+1:] != w.Scope {
			return false
		}
		key = key[:n]
	}
	if w.Model != "" {
		n := len(w.Model)
		if len(key) <= n || key[n] != '/' || key[:n] != w.Model {
			return false
		}
		key = key[n+1:]
	}
	return key == w.Name
}

// WindowKey returns the key of the window name of a model ("" none) in a
// scope ("" the default).
func WindowKey(model, name, scope string) string {
	k := name
	if model != "" {
		k = model + "/" + name
	}
	if scope != "" {
		k += "@" + scope
	}
	return k
}

// Amount returns what units spent in one call count in the window: 1 in a
// requests window, units otherwise.
func (w Window) Amount(units int64) int64 {
	if w.Meter == MeterRequests {
		return 1
	}
	return units
}

// UnitOf returns the unit a window counts in: its meter, else the API's
// unit.
func (a API) UnitOf(w Window) string {
	if w.Meter != "" {
		return w.Meter
	}
	return a.Unit
}

// WindowByKey returns the index of the window with the given key, or -1.
func (a API) WindowByKey(key string) int {
	for i := range a.Windows {
		if a.Windows[i].HasKey(key) {
			return i
		}
	}
	return -1
}

// Target names what a call, a spend or a need concerns: an API, a model
// of it or one of its buckets ("" for none), and a credential scope ("" the
// default). Its text is API[/MODEL][@SCOPE]: "groq",
// "groq/llama-3.3-70b-versatile", "youtube/videos.insert", "youtube@shorts".
type Target struct {
	API   string `json:"api"`
	Model string `json:"model,omitempty"`
	Scope string `json:"scope,omitempty"`
}

// ParseTarget reads API[/MODEL][@SCOPE]. A model may contain "/"
// (meta-llama/llama-4-scout-17b-16e-instruct): the API is what comes
// before the first "/".
func ParseTarget(s string) Target {
	var t Target
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s, t.Scope = s[:i], s[i+1:]
	}
	t.API, t.Model, _ = strings.Cut(s, "/")
	return t
}

// String returns the target's text, API[/MODEL][@SCOPE].
func (t Target) String() string {
	s := t.API
	if t.Model != "" {
		s += "/" + t.Model
	}
	if t.Scope != "" {
		s += "@" + t.Scope
	}
	return s
}

// Selected returns the indices of the windows a call to target t (its
// model or bucket, its scope) is charged to and refused by: the windows of
// t's scope that belong to every call of the API (not buckets), except
// those a window of the same name of t's model replaces; the windows of
// t's model; and the bucket t names. An exhausted window outside these
// never refuses the call.
func (a API) Selected(t Target) []int {
	var out []int
	for i, w := range a.Windows {
		if w.Scope != t.Scope {
			continue
		}
		switch {
		case w.Bucket:
			if w.Name == t.Model {
				out = append(out, i)
			}
		case w.Model != "":
			if w.Model == t.Model {
				out = append(out, i)
			}
		case !a.shadowed(w, t):
			out = append(out, i)
		}
	}
	return out
}

// shadowed reports whether a window of t's model has the name of the
// model-less window w.
func (a API) shadowed(w Window, t Target) bool {
	if t.Model == "" {
		return false
	}
	for _, m := range a.Windows {
		if m.Model == t.Model && m.Name == w.Name && m.Scope == t.Scope && !m.Bucket {
			return true
		}
	}
	return false
}

// NeedWindows returns the indices of the windows a channel's need t is
// paused for: with a model or bucket, the windows a call to it is charged
// to (Selected); without, every window of the scope that belongs to no
// model, buckets included (a channel that needs youtube is taken to make
// every kind of YouTube call: searches and uploads).
func (a API) NeedWindows(t Target) []int {
	if t.Model != "" {
		return a.Selected(t)
	}
	var out []int
	for i, w := range a.Windows {
		if w.Scope == t.Scope && w.Model == "" {
			out = append(out, i)
		}
	}
	return out
}

// NeedAvailable reports whether no window of need t (NeedWindows) is
// exhausted.
func (a API) NeedAvailable(t Target) bool {
	for _, i := range a.NeedWindows(t) {
		if a.Windows[i].Exhausted {
			return false
		}
	}
	return true
}

// NeedAvailableAt returns when need t is expected to be served again: the
// latest "until" among its exhausted windows; zero when it is available.
func (a API) NeedAvailableAt(t Target) time.Time {
	var at time.Time
	for _, i := range a.NeedWindows(t) {
		if w := a.Windows[i]; w.Exhausted && w.Until().After(at) {
			at = w.Until()
		}
	}
	return at
}

// HasModel reports whether some window of the API belongs to the model.
func (a API) HasModel(model string) bool {
	for _, w := range a.Windows {
		if w.Model == model && model != "" {
			return true
		}
	}
	return false
}

// HasScope reports whether some window of the API counts the scope ("" is
// always there).
func (a API) HasScope(scope string) bool {
	if scope == "" {
		return true
	}
	for _, w := range a.Windows {
		if w.Scope == scope {
			return true
		}
	}
	return false
}

// ScopeWindows returns fresh copies of the default scope's windows for
// scope: what a credential's first call adds (two keys, two sets of
// windows). Their state is zero: the caller schedules them.
func (a API) ScopeWindows(scope string) []Window {
	var out []Window
	for _, w := range a.Windows {
		if w.Scope == "" {
			out = append(out, Window{Name: w.Name, Model: w.Model, Scope: scope, Meter: w.Meter, Bucket: w.Bucket, Limit: w.Limit, Rule: w.Rule})
		}
	}
	return out
}

// WindowName returns the name of the window with the given key, model and
// scope: the key without "model/" and "@scope" (how stores read the
// window_name column back).
func WindowName(key, model, scope string) string {
	if scope != "" {
		key = strings.TrimSuffix(key, "@"+scope)
	}
	if model != "" {
		key = strings.TrimPrefix(key, model+"/")
	}
	return key
}
