package provider

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every credential Redact removes.
const Redacted = "[REDACTED]"

// credential patterns, case-insensitive. Each keeps what names the secret
// (group 1) and replaces the secret itself.
var redactREs = []*regexp.Regexp{
	// Header lines and header-like text: "Authorization: Bearer X", "x-api-key: X".
	regexp.MustCompile(`(?i)((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|x-quotad-token)(\s*[:=]\s*"?)(?:(?:bearer|basic|token)\s+)?[^\s",;}&]+`),
	// JSON members: "api_key": "X", "key": "X", "authorization": "Bearer X".
	regexp.MustCompile(`(?i)("(?:authorization|api_key|apikey|api-key|x-api-key|key|access_token|token|secret|password)"\s*:\s*")[^"]*`),
	// Query and form parameters: key=X, api_key=X, access_token=X.
	regexp.MustCompile(`(?i)((?:^|[^a-z0-9_-])(?:key|api_key|apikey|api-key|access_token|token))(=)[^&\s"'#;,)]+`),
	// Bearer tokens anywhere.
	regexp.MustCompile(`(?i)(bearer)(\s+)[a-z0-9._~+/=-]+`),
	// Key shapes: OpenAI sk-..., Groq gsk_..., Google AIza... and ya29. tokens.
	regexp.MustCompile(`()()\b(?:sk-[A-Za-z0-9_-]{6,}|gsk_[A-Za-z0-9]{6,}|AIza[0-9A-Za-z_-]{16,}|ya29\.[0-9A-Za-z._-]{8,})`),
}

// Redact returns s with credentials removed: the given secret values
// wherever they occur (as sent or URL-encoded), Authorization and API-key
// headers, key=, api_key= and access_token= parameters, bearer tokens, and
// OpenAI, Groq and Google key shapes. It is the one function every log,
// event and error text of quotad's proxy passes through.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, Redacted)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Redacted)
		}
		if esc := url.PathEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Redacted)
		}
	}
	for _, re := range redactREs {
		s = re.ReplaceAllString(s, "${1}${2}"+Redacted)
	}
	return s
}

// credentialHeaders are the request headers that carry a caller's
// credentials.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "X-Quotad-Token"}

// credentialParams are the query parameters that carry a caller's
// credentials (lower case).
var credentialParams = []string{"key", "api_key", "apikey", "api-key", "access_token", "token"}

// Secrets returns the credential values a request carries, for Redact: the
// values of its credential headers (whole, and without an auth scheme) and
// of its key=, api_key= and access_token= query parameters.
func Secrets(r *http.Request) []string {
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= 4 && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, h := range credentialHeaders {
		for _, v := range r.Header.Values(h) {
			add(v)
			if _, tok, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
				add(tok)
			}
		}
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		for k, vs := range r.URL.Query() {
			if slices.Contains(credentialParams, strings.ToLower(k)) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	// Longest first, so that a value is not left half-replaced by a
	// shorter one it contains.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
