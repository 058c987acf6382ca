// Package hostcheck decides whether a request's Host header names the
// listener it arrived on: a loopback name or address, the configured listen
// host, or a name an operator allowed (a reverse proxy's public name). A
// web page that rebinds its own DNS name to 127.0.0.1 sends its own name as
// Host and is refused.
package hostcheck

import (
	"net"
	"strings"
)

// Allow is the set of host names a listener answers to. The zero value
// allows loopback names and addresses only.
type Allow struct {
	names map[string]bool
	anyIP bool // the listener is on an unspecified address (0.0.0.0, ::)
}

// New returns the Allow of a listener on listen (host:port or host) with
// the extra names of an allow-list (host or host:port; the port is
// ignored). A listener on an unspecified address answers to any IP address
// literal.
func New(listen string, extra []string) Allow {
	a := Allow{names: map[string]bool{}}
	for _, n := range append([]string{listen}, extra...) {
		h := Name(n)
		if h == "" && strings.HasPrefix(strings.TrimSpace(n), ":") {
			a.anyIP = true // ":8080": every address of the machine
			continue
		}
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			a.anyIP = true
			continue
		}
		a.names[h] = true
	}
	return a
}

// Allowed reports whether host (a Host header) names the listener.
func (a Allow) Allowed(host string) bool {
	h := Name(host)
	if h == "" {
		return false
	}
	if Loopback(h) || a.names[h] {
		return true
	}
	return a.anyIP && net.ParseIP(h) != nil
}

// Loopback reports whether a host name (no port) names this machine
// without DNS: localhost, a name under .localhost, or a loopback address.
func Loopback(h string) bool {
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// Name returns the host of a Host header or host:port, lower-cased,
// without its port, brackets or a trailing dot.
func Name(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
}
