package dashboard

import (
	"net/http"
	"net/url"
	"strings"
)

// SameOrigin is middleware that refuses cross-origin requests from web
// pages to anything but a safe method (GET, HEAD, OPTIONS pass unchecked),
// answering 403 with the API's JSON error body. A request is same-origin
// when:
//
//   - its Sec-Fetch-Site header (sent by every current browser) is
//     "same-origin", or "none" (the person typed the address); any other
//     value ("same-site", "cross-site") is refused;
//   - else, its Origin header names the request's own Host (scheme default
//     ports ignored); "null" or another host is refused;
//   - else (neither header) it comes from a program, not a web page — curl,
//     the Go client, the CLI — and passes.
//
// The dashboard itself sends its mutations with fetch from the same origin,
// so they pass; a page elsewhere cannot make a browser change quotad, even
// on a daemon without a token.
func SameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := crossOrigin(r); reason != "" {
			writeError(w, http.StatusForbidden, "forbidden", "forbidden: cross-origin requests from web pages may not change quotad ("+reason+")")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin returns why r is a cross-origin mutation, or "".
func crossOrigin(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return ""
		}
		return "Sec-Fetch-Site: " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "Origin: " + origin
	}
	if !strings.EqualFold(hostPort(u.Host, u.Scheme), hostPort(r.Host, u.Scheme)) {
		return "Origin " + origin + " is not " + r.Host
	}
	return ""
}

// hostPort drops the scheme's default port from host.
func hostPort(host, scheme string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	}
	return host
}
