package provider

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/quotad/quotad"
)

// CostRule charges calls matching a method and a path to a window.
type CostRule struct {
	// Method is GET, HEAD, POST, PUT, PATCH or DELETE, or READ (GET and
	// HEAD), WRITE (POST, PUT, PATCH and DELETE), or * (any).
	Method string `json:"method"`
	// Path is a path prefix below the upstream's base path, matched on
	// segment boundaries: "/videos" matches /videos and /videos/rate, not
	// /videosx. "/" matches every path.
	Path     string `json:"path"`
	Window   string `json:"window"`
	Cost     int64  `json:"cost"`
	Override bool   `json:"override,omitempty"` // from the config: wins over a built-in rule as specific
}

// MaxCost bounds one rule's cost.
const MaxCost = 1_000_000_000

var methods = map[string]int{ // method → specificity
	"GET": 2, "HEAD": 2, "POST": 2, "PUT": 2, "PATCH": 2, "DELETE": 2, "READ": 1, "WRITE": 1, "*": 0,
}

func (r CostRule) check() error {
	if _, ok := methods[r.Method]; !ok {
		return quotad.Invalidf("cost rule method %q; expected GET, HEAD, POST, PUT, PATCH, DELETE, READ, WRITE or *", r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?# \t") {
		return quotad.Invalidf("cost rule path %q; expected a path starting with /, like /search", r.Path)
	}
	if r.Cost < 0 || r.Cost > MaxCost {
		return quotad.Invalidf("cost %d for %s %s; expected 0 to %d", r.Cost, r.Method, r.Path, MaxCost)
	}
	if r.Window != "" && !validName(r.Window) {
		return quotad.Invalidf("cost rule window %q; expected a window name", r.Window)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

// matches reports whether the rule applies to a call.
func (r CostRule) matches(method, path string) bool {
	switch r.Method {
	case "*":
	case "READ":
		if method != "GET" && method != "HEAD" {
			return false
		}
	case "WRITE":
		if method != "POST" && method != "PUT" && method != "PATCH" && method != "DELETE" {
			return false
		}
	default:
		if method != r.Method {
			return false
		}
	}
	prefix := strings.TrimRight(r.Path, "/")
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// specificity orders matching rules: longer paths, then exact methods,
// then overrides win.
func (r CostRule) specificity() [3]int {
	o := 0
	if r.Override {
		o = 1
	}
	return [3]int{len(strings.TrimRight(r.Path, "/")), methods[r.Method], o}
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Cost returns the most specific cost rule for a call, and whether one
// matched. path is the call's path below the proxy's API root (as sent by
// the caller), before or after the upstream's base path.
func (p *Profile) Cost(method, path string) (CostRule, bool) {
	path = p.CostPath(path)
	method = strings.ToUpper(method)
	var best CostRule
	found := false
	for _, r := range p.Costs {
		if r.matches(method, path) && (!found || less(best.specificity(), r.specificity())) {
			best, found = r, true
		}
	}
	return best, found
}

// CostPath normalizes a call's path for the cost table: an origin prefix
// (/upload) and the upstream's base path (/youtube/v3) are removed, so that
// /upload/youtube/v3/videos and /videos are both /videos.
func (p *Profile) CostPath(path string) string {
	if path == "" {
		path = "/"
	}
	path, _ = p.CutOrigin(path)
	if base := p.basePath(); base != "" && (path == base || strings.HasPrefix(path, base+"/")) {
		path = path[len(base):]
	}
	if path == "" {
		path = "/"
	}
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return path
}

// CutOrigin reports whether path is forwarded relative to the upstream's
// origin (it starts with one of OriginPaths, on a segment boundary), and
// returns path without that prefix: /upload/youtube/v3/videos →
// /youtube/v3/videos, true. Otherwise it returns path, false.
func (p *Profile) CutOrigin(path string) (string, bool) {
	for _, o := range p.OriginPaths {
		if o = strings.TrimRight(o, "/"); o != "" && strings.HasPrefix(path, o+"/") {
			return path[len(o):], true
		}
	}
	return path, false
}

// ParseCost reads one cost table override: key "METHOD /path" (METHOD as
// in CostRule; a bare "/path" means *), value "N" (charged to the profile's
// first cost-metered window) or "WINDOW:N".
func ParseCost(key, value string) (CostRule, error) {
	var r CostRule
	f := strings.Fields(key)
	switch len(f) {
	case 1:
		r.Method, r.Path = "*", f[0]
	case 2:
		r.Method, r.Path = strings.ToUpper(f[0]), f[1]
	default:
		return CostRule{}, quotad.Invalidf("cost key %q; expected \"METHOD /path\", like \"GET /search\"", clip(key))
	}
	v := strings.TrimSpace(value)
	if w, n, ok := strings.Cut(v, ":"); ok {
		r.Window, v = strings.TrimSpace(w), strings.TrimSpace(n)
		if r.Window == "" {
			return CostRule{}, quotad.Invalidf("cost %q for %s: expected WINDOW:N with a window name", clip(value), clip(key))
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return CostRule{}, quotad.Invalidf("cost %q for %s: expected a number of units, or WINDOW:N", clip(value), clip(key))
	}
	r.Cost = n
	if err := r.check(); err != nil {
		return CostRule{}, err
	}
	return r, nil
}

// ParseCosts reads a cost table override map (see ParseCost), in key order.
func ParseCosts(m map[string]string) ([]CostRule, error) {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]CostRule, 0, len(keys))
	for _, k := range keys {
		r, err := ParseCost(k, m[k])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// clip shortens text for an error message and removes what could be a
// credential.
func clip(s string) string { return Redact(clipN(s, 80)) }

// clipN shortens s to its first n bytes (a split rune dropped) and an
// ellipsis when it is longer.
func clipN(s string, n int) string {
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
