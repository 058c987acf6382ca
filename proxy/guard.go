package proxy

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/quotad/quotad/internal/hostcheck"
)

// guard is the proxy's entry check, run before anything else of a call: the
// proxy spends the operator's quota on behalf of whoever reaches it, so a
// web page the operator happens to open must not be able to drive it.
type guard struct {
	hosts     hostcheck.Allow
	checkHost bool
	token     [sha256.Size]byte
	hasToken  bool
}

func newGuard(o Options) guard {
	return guard{
		hosts:     hostcheck.New(o.Listen, o.AllowedHosts),
		checkHost: o.Token == "" || len(o.AllowedHosts) > 0,
		token:     sha256.Sum256([]byte(o.Token)),
		hasToken:  o.Token != "",
	}
}

// admit returns 0 when a call may proceed, else the status, code and
// message of its refusal. Refused, whatever the method:
//   - a request a browser marks as coming from another site
//     (Sec-Fetch-Site cross-site or same-site; same-origin and none, a
//     typed URL or bookmark, pass);
//   - a request with an Origin other than the listener's own (a page of
//     another origin, or a sandboxed one: Origin null);
//   - a Host that is not one of the listener's names (a page that rebinds
//     its DNS name to 127.0.0.1): checked when no token is needed, or when
//     Options.AllowedHosts is set;
//   - a missing or wrong X-Quotad-Token when one is configured, compared in
//     constant time (of hashes, so not even its length leaks).
//
// SDKs and other programs send neither Origin nor Sec-Fetch-* and pass.
func (g guard) admit(r *http.Request) (status int, code, msg string) {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return http.StatusForbidden, "cross_site", "forbidden: the proxy does not serve requests from web pages of another site (Sec-Fetch-Site: " + clip(site) + ")"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, "cross_site", "forbidden: the proxy does not serve requests from web pages of another origin (Origin: " + clip(origin) + ")"
		}
	}
	if g.checkHost && !g.hosts.Allowed(r.Host) {
		return http.StatusForbidden, "forbidden_host", "forbidden: Host " + clip(r.Host) + " is not a name of this listener; " +
			"call it as localhost or 127.0.0.1, or add the name to server.allowed_hosts"
	}
	if g.hasToken {
		got := sha256.Sum256([]byte(r.Header.Get(HeaderToken)))
		if subtle.ConstantTimeCompare(got[:], g.token[:]) != 1 {
			return http.StatusUnauthorized, "unauthorized", "missing or wrong " + HeaderToken + " header (quotad's token; the provider's credentials go in their usual place)"
		}
	}
	return 0, "", ""
}

// maxEcho is how much of a caller's input an error message repeats.
const maxEcho = 128

// clip quotes s for an error message, cut to maxEcho bytes.
func clip(s string) string {
	if len(s) > maxEcho {
		return strconv.Quote(s[:maxEcho]) + "…"
	}
	return strconv.Quote(s)
}
