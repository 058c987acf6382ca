package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/quotad/quotad/internal/hostcheck"
)

// authenticator decides whether a request may use a route.
type authenticator struct {
	hash         [sha256.Size]byte // of the token; compared in constant time
	hasToken     bool
	protectReads bool
	hosts        hostcheck.Allow // names allowed besides localHost's
}

func newAuthenticator(token string, protectReads bool, allowedHosts []string) authenticator {
	return authenticator{hash: sha256.Sum256([]byte(token)), hasToken: token != "", protectReads: protectReads,
		hosts: hostcheck.New("", allowedHosts)}
}

// check returns nil when the request may use a route with the given access.
//
//   - open routes: always;
//   - with a token: mutations need it, and reads when protectReads is set;
//   - without a token (a loopback listener): reads and mutations are open,
//     but only to requests naming the host as an IP address or localhost, so
//     that a web page cannot reach the API by rebinding its DNS name to
//     127.0.0.1; with protectReads set, nothing but open routes is served.
func (a authenticator) check(acc access, r *http.Request) error {
	if acc == open {
		return nil
	}
	if !a.hasToken {
		if a.protectReads {
			return errorf(http.StatusUnauthorized, codeUnauthorized, "unauthorized: no token is configured on this server, so only /healthz and /readyz are served")
		}
		if !localHost(r.Host) && !a.hosts.Allowed(r.Host) {
			return errorf(http.StatusForbidden, codeForbidden, "forbidden: without a token this server only answers requests for localhost, an IP address or a name of server.allowed_hosts, not %q", r.Host)
		}
		return nil
	}
	if acc == reader && !a.protectReads {
		return nil
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return errorf(http.StatusUnauthorized, codeUnauthorized, "unauthorized: this request needs the header \"Authorization: Bearer TOKEN\" (see quotad token)")
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], a.hash[:]) != 1 {
		return errorf(http.StatusUnauthorized, codeUnauthorized, "unauthorized: wrong bearer token")
	}
	return nil
}

// bearer extracts the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// localHost reports whether a Host header names this machine without DNS:
// an IP address literal, localhost, or a name under .localhost.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
