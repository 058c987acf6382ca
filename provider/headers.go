package provider

import (
	"net/http"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// headerRule maps one set of rate-limit headers to a window.
type headerRule struct {
	limit, remaining, reset string
	window                  string // preferred window; else the one whose limit the headers state
	// deltaOnly: the reset header is seconds until the reset, never a Unix
	// time. Otherwise it is a Unix time (>= 1e9), else delta seconds, else
	// a duration (2m59.56s, 7.66s, 12ms).
	deltaOnly bool
}

// Observations returns what a response's headers say about the windows of
// api: remaining counts and reset instants the engine adopts. Figures for a
// window the API does not have are dropped. Resets at or before now are
// dropped (a stale roll-over is no news).
func (p *Profile) Observations(h http.Header, status int, api quotad.API, now time.Time) []Observation {
	if len(h) == 0 || (p.okOnly && (status < 200 || status > 299)) {
		return nil
	}
	var out []Observation
	for _, r := range p.rules {
		o, ok := r.read(h, now)
		if !ok {
			continue
		}
		if o.Window = resolveWindow(api, r.window, o.Limit); o.Window != "" {
			out = append(out, o)
		}
	}
	if p.ietf {
		out = append(out, ietfObservations(h, api, now)...)
	}
	return dedupe(out)
}

// read reads one header set; ok is false when none of its headers is there.
func (r headerRule) read(h http.Header, now time.Time) (Observation, bool) {
	lv, rv, tv := h.Get(r.limit), h.Get(r.remaining), h.Get(r.reset)
	if lv == "" && rv == "" && tv == "" {
		return Observation{}, false
	}
	o := Observation{Limit: -1, Remaining: -1}
	var src []string
	if n, ok := parseCount(lv); ok && n > 0 {
		o.Limit = n
		src = append(src, r.limit+" "+clipValue(lv))
	}
	if n, ok := parseCount(rv); ok {
		o.Remaining = n
		src = append(src, r.remaining+" "+clipValue(rv))
	}
	if t, ok := parseReset(tv, r.deltaOnly, now); ok {
		o.Reset = t
		src = append(src, r.reset+" "+clipValue(tv))
	}
	if o.Limit > 0 && o.Remaining > o.Limit {
		o.Remaining = -1 // nonsense: keep the limit and reset only
	}
	if o.Limit < 0 && o.Remaining < 0 && o.Reset.IsZero() {
		return Observation{}, false
	}
	o.Source = strings.Join(src, ", ")
	return o, true
}

// parseReset reads a reset header value into an instant after now: delta
// seconds (or a Retry-After date) when deltaOnly, else a Unix time, delta
// seconds or a duration.
func parseReset(v string, deltaOnly bool, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	var t time.Time
	var ok bool
	if deltaOnly {
		t, ok = classify.ParseRetryAfter(v, now)
	} else {
		t, ok = classify.ParseResetHeader(v, now)
	}
	if !ok || !t.After(now) {
		return time.Time{}, false
	}
	return t, true
}

// parseCount reads a non-negative count: digits with optional surrounding
// white space, at most 18 of them.
func parseCount(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// resolveWindow picks the window of api that figures describe: the
// preferred name when the API has it, else the only window whose limit is
// the stated limit, else "".
func resolveWindow(api quotad.API, preferred string, limit int64) string {
	if preferred != "" {
		if _, ok := api.Window(preferred); ok {
			return preferred
		}
	}
	if limit <= 0 {
		return ""
	}
	found := ""
	for _, w := range api.Windows {
		if w.Limit == limit {
			if found != "" {
				return "" // ambiguous
			}
			found = w.Name
		}
	}
	return found
}

// dedupe keeps the first observation of each window.
func dedupe(obs []Observation) []Observation {
	if len(obs) < 2 {
		return obs
	}
	seen := make(map[string]bool, len(obs))
	out := obs[:0]
	for _, o := range obs {
		if !seen[o.Window] {
			seen[o.Window] = true
			out = append(out, o)
		}
	}
	return out
}

// clipValue shortens a header value for a Source text and removes what
// could be a credential.
func clipValue(v string) string {
	v = clipN(strings.TrimSpace(v), 40)
	if plainFigure(v) {
		return v // a count or a duration: nothing to redact (the common case, and cheap)
	}
	return Redact(v)
}

// plainFigure reports whether v is made of digits, dots and duration units
// only ("987", "2m59.56s", "12ms").
func plainFigure(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'h', c == 'm', c == 's', c == 'n', c == 'u':
		default:
			return false
		}
	}
	return true
}
