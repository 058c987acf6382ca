package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"strings"
)

// errorBody is the API's JSON error body: {"error": {"code", "message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes the API's JSON error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="quotad"`)
	}
	writeJSON(w, status, errorBody{errorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// readAccess decides, as the API does for its reads, whether a request may
// read: with a token, reads are open unless ProtectReads; without one, only
// requests naming the host as localhost or an IP address are served (which
// keeps out web pages that rebind a DNS name to 127.0.0.1), and nothing when
// ProtectReads. It writes the refusal and returns false.
type readAccess struct {
	hash         [sha256.Size]byte
	hasToken     bool
	protectReads bool
}

func newReadAccess(o Options) readAccess {
	return readAccess{hash: sha256.Sum256([]byte(o.Token)), hasToken: o.Token != "", protectReads: o.ProtectReads}
}

func (a readAccess) allow(w http.ResponseWriter, r *http.Request) bool {
	if !a.hasToken {
		if a.protectReads {
			writeError(w, http.StatusUnauthorized, "unauthorized", "unauthorized: no token is configured on this server, so only /healthz and /readyz are served")
			return false
		}
		if !localHost(r.Host) {
			writeError(w, http.StatusForbidden, "forbidden", "forbidden: without a token this server only answers requests for localhost or an IP address, not "+quote(r.Host))
			return false
		}
		return true
	}
	if !a.protectReads {
		return true
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", `unauthorized: this request needs the header "Authorization: Bearer TOKEN" (see quotad token)`)
		return false
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], a.hash[:]) != 1 {
		writeError(w, http.StatusUnauthorized, "unauthorized", "unauthorized: wrong bearer token")
		return false
	}
	return true
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
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
