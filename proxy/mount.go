package proxy

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/quotad/quotad"
)

// clipPath shortens a path for an error message.
func clipPath(s string) string {
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// mountKey is the context key of the mount a request came through.
type mountKey struct{}

// mount is how a request reached the proxy other than through the
// /proxy/{api}/ prefix: at quotad's root by a native path (api ""), or on
// a listener of one API.
type mount struct{ api string }

var nativeMount = &mount{}

// Native returns the handler of the APIs' native paths at quotad's root
// (/youtube/v3/search, /upload/youtube/v3/videos,
// /openai/v1/chat/completions), for SDKs that keep only the origin of their
// endpoint setting. A path is routed to the one API whose upstream it
// belongs to; a path two APIs share (two YouTube APIs) is answered with 421
// and a message naming the fix: a listener of the API's own. Mount it at
// NativePrefixes.
func (p *Proxy) Native() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), mountKey{}, nativeMount)))
	})
}

// NativePrefixes returns the root path prefixes Native serves
// ("/youtube/", "/upload/", "/openai/"), sorted, without those in reserved
// (quotad's own routes, such as "/api/").
func (p *Proxy) NativePrefixes(reserved ...string) []string {
	var out []string
	for _, prof := range p.profiles {
		for _, pre := range prof.NativePrefixes() {
			if !slices.Contains(out, pre) && !slices.Contains(reserved, pre) {
				out = append(out, pre)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Listener returns the handler that serves API api at its root, for a
// listener of the API's own: every path is the API's, in any form its SDKs
// send (below the base path, with it, origin paths, /channel/NAME/…).
func (p *Proxy) Listener(api string) (http.Handler, error) {
	if _, ok := p.profiles[api]; !ok {
		return nil, quotad.Invalidf("API %s is not proxied (it has no provider profile); proxied APIs: %s", api, strings.Join(p.APIs(), ", "))
	}
	m := &mount{api: api}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), mountKey{}, m)))
	}), nil
}

// nativeAPIs returns the proxied APIs, sorted, one of whose native paths
// esc is.
func (p *Proxy) nativeAPIs(esc string) []string {
	var out []string
	for api, prof := range p.profiles {
		if prof.Native(esc) {
			out = append(out, api)
		}
	}
	slices.Sort(out)
	return out
}
