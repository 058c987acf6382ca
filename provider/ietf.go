package provider

import (
	"net/http"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Limits of the structured-field parser.
const (
	maxFieldLen = 2048
	maxItems    = 16
	maxParams   = 16
)

// sfItem is one member of a structured-field-like list:
// `"name";q=100;w=60` or `100;w=60` or `limit=100`.
type sfItem struct {
	bare   string            // the item itself, unquoted
	params map[string]string // parameters, values unquoted, keys lower-cased
}

// parseList splits a header value into items and their parameters,
// tolerantly: commas and semicolons inside quoted strings are kept.
func parseList(v string) []sfItem {
	if len(v) > maxFieldLen {
		v = v[:maxFieldLen]
	}
	var out []sfItem
	for _, raw := range splitQuoted(v, ',') {
		if len(out) == maxItems {
			break
		}
		parts := splitQuoted(raw, ';')
		it := sfItem{bare: unquote(strings.TrimSpace(parts[0]))}
		for _, p := range parts[1:] {
			if len(it.params) == maxParams {
				break
			}
			k, val, _ := strings.Cut(p, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				continue
			}
			if it.params == nil {
				it.params = map[string]string{}
			}
			if _, dup := it.params[k]; !dup {
				it.params[k] = unquote(strings.TrimSpace(val))
			}
		}
		if it.bare != "" || len(it.params) > 0 {
			out = append(out, it)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted && i+1 < len(s):
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote removes the double quotes of an sf-string ("a\"b" → a"b).
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// rawObs is one set of figures before it is matched to a window.
type rawObs struct {
	name             string // policy name, "" when none
	limit, remaining int64  // -1 unknown
	reset            time.Time
	src              string
}

// ietfObservations reads the IETF RateLimit fields (every draft's form)
// and the common X-RateLimit-* headers, and matches each set of figures to
// a window: by policy name, else by limit, else the API's only window.
func ietfObservations(h http.Header, api quotad.API, now time.Time) []Observation {
	var raws []rawObs
	policies := map[string]int64{} // name → quota
	var anonPolicy int64 = -1
	for _, it := range parseList(h.Get("RateLimit-Policy")) {
		q := int64(-1)
		if n, ok := parseCount(it.params["q"]); ok {
			q = n // later drafts: "name";q=100;w=60
		} else if n, ok := parseCount(it.bare); ok {
			q = n // earlier drafts: 100;w=60
			if anonPolicy < 0 {
				anonPolicy = n
			}
			continue
		}
		if _, dup := policies[it.bare]; !dup && q > 0 {
			policies[it.bare] = q
		}
	}
	if v := h.Get("RateLimit"); v != "" {
		items := parseList(v)
		dict := len(items) > 0 && strings.Contains(items[0].bare, "=") && !strings.HasPrefix(strings.TrimSpace(v), `"`)
		if dict { // limit=100, remaining=50, reset=50
			r := rawObs{limit: -1, remaining: -1, src: "ratelimit " + clipValue(v)}
			for _, it := range items {
				k, val, _ := strings.Cut(it.bare, "=")
				val = unquote(strings.TrimSpace(val))
				n, ok := parseCount(val)
				if !ok {
					continue
				}
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "limit":
					r.limit = n
				case "remaining":
					r.remaining = n
				case "reset":
					r.reset, _ = parseReset(val, true, now)
				}
			}
			raws = append(raws, r)
		} else { // "name";r=50;t=30
			for _, it := range items {
				r := rawObs{name: it.bare, limit: -1, remaining: -1, src: "ratelimit " + clipValue(v)}
				if n, ok := parseCount(it.params["r"]); ok {
					r.remaining = n
				}
				r.reset, _ = parseReset(it.params["t"], true, now)
				if q, ok := policies[it.bare]; ok {
					r.limit = q
				}
				raws = append(raws, r)
			}
		}
	}
	raws = append(raws, headerSet(h, "RateLimit", now, anonPolicy))
	raws = append(raws, headerSet(h, "X-RateLimit", now, -1))
	var out []Observation
	for _, r := range raws {
		if r.limit > 0 && r.remaining > r.limit {
			r.remaining = -1
		}
		if r.limit < 0 && r.remaining < 0 && r.reset.IsZero() {
			continue
		}
		w := resolveWindow(api, r.name, r.limit)
		if w == "" && len(api.Windows) == 1 && (r.name == "" || r.name == "default") {
			w = api.Windows[0].Name
		}
		if w == "" {
			continue
		}
		out = append(out, Observation{Window: w, Limit: r.limit, Remaining: r.remaining, Reset: r.reset, Source: r.src})
	}
	return out
}

// headerSet reads PREFIX-Limit, PREFIX-Remaining and PREFIX-Reset. The
// limit may be a list ("100, 100;w=60"): its first number counts.
func headerSet(h http.Header, prefix string, now time.Time, policyLimit int64) rawObs {
	r := rawObs{limit: -1, remaining: -1}
	lv, rv, tv := h.Get(prefix+"-Limit"), h.Get(prefix+"-Remaining"), h.Get(prefix+"-Reset")
	var src []string
	if items := parseList(lv); len(items) > 0 {
		if n, ok := parseCount(items[0].bare); ok && n > 0 {
			r.limit = n
			src = append(src, strings.ToLower(prefix)+"-limit "+clipValue(lv))
		}
	}
	if r.limit < 0 && policyLimit > 0 && (rv != "" || tv != "") {
		r.limit = policyLimit
	}
	if n, ok := parseCount(rv); ok {
		r.remaining = n
		src = append(src, strings.ToLower(prefix)+"-remaining "+clipValue(rv))
	}
	if t, ok := parseReset(tv, false, now); ok {
		r.reset = t
		src = append(src, strings.ToLower(prefix)+"-reset "+clipValue(tv))
	}
	r.src = strings.Join(src, ", ")
	return r
}
