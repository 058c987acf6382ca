package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// tokSet is a set of reason tokens and phrases found in the evidence text.
type tokSet uint16

const (
	tokTooLarge     tokSet = 1 << iota // a request-size code: always the request's fault
	tokTooLargeText                    // a request-size phrase: the request's fault with status 413, 429 or none
	tokBilling                         // quota no time restores
	tokUpload                          // a limit of the channel (YouTube uploads)
	tokQuota                           // a daily quota (YouTube quotaExceeded, dailyLimitExceeded)
	tokRate                            // a provider-named rate limit (rateLimitExceeded, rate_limit_exceeded)
	tokExhausted                       // Google's RESOURCE_EXHAUSTED: a quota of unknown window
)

func (t tokSet) has(x tokSet) bool { return t&x != 0 }

// tokenTable maps lower-case needles to tokens. Camel-case Google reasons
// are matched lower-cased ("quotaExceeded" → "quotaexceeded"), so they are
// found in JSON bodies, Python reprs and Go client error strings alike.
var tokenTable = [...]struct {
	needle string
	tok    tokSet
}{
	{"request_too_large", tokTooLarge},
	{"context_length_exceeded", tokTooLarge},
	{"request too large", tokTooLargeText},
	{"must be reduced", tokTooLargeText},
	{"reduce your message size", tokTooLargeText},
	{"payload too large", tokTooLargeText},
	{"request entity too large", tokTooLargeText},
	{"insufficient_quota", tokBilling},
	{"billing_hard_limit_reached", tokBilling},
	{"credit balance is too low", tokBilling},
	{"uploadlimitexceeded", tokUpload},
	{"upload limit exceeded", tokUpload},
	{"daily upload limit", tokUpload},
	{"exceeded the number of videos they may upload", tokUpload},
	{"quotaexceeded", tokQuota},
	{"dailylimitexceeded", tokQuota},
	{"ratelimitexceeded", tokRate}, // also userRateLimitExceeded
	{"rate_limit_exceeded", tokRate},
	{"rate_limit_error", tokRate},
	{"rate limit reached for", tokRate},
	{"resource_exhausted", tokExhausted},
	{"resource has been exhausted", tokExhausted},
}

// findTokens returns the tokens whose needles occur in lower.
func findTokens(lower string) tokSet {
	var t tokSet
	for _, e := range tokenTable {
		if !t.has(e.tok) && strings.Contains(lower, e.needle) {
			t |= e.tok
		}
	}
	return t
}

// reason is one machine-readable reason of a structured body.
type reason struct {
	field, value, domain string
}

func (r reason) label() string {
	l := r.field + ` "` + clip(r.value) + `"`
	if r.domain != "" {
		l += " (" + clip(r.domain) + ")"
	}
	return l
}

// clip shortens a provider string for an evidence text (64 bytes, cut at
// a rune start) and blanks control characters.
func clip(s string) string {
	cut := len(s) > 64
	if cut {
		n := 64
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	if cut {
		s += "…"
	}
	return s
}

// body is what a JSON error body says.
type body struct {
	google   bool     // a Google API error (errors[] with reason/domain, or google.rpc details)
	youtube  bool     // a Google error with a youtube.* domain
	openai   bool     // an OpenAI-compatible error: {"error":{"message","type","code"}} with word codes
	code     int      // numeric status in the body ("code": 403), 0 when none
	reasons  []reason // errors[].reason, details[].reason, code, type and status strings
	messages []string // decoded message texts
	retry    stamp    // google.rpc.RetryInfo retryDelay
}

// reasonLabel describes the first body reason carrying tok (any reason
// when tok is 0), else the first text occurrence of a needle of tok.
func (s *scan) reasonLabel(tok tokSet) string {
	for _, r := range s.body.reasons {
		if tok == 0 || findTokens(asciiLower(r.value)).has(tok) {
			return r.label()
		}
	}
	best, n := -1, 0
	for _, e := range tokenTable {
		if e.tok != tok {
			continue
		}
		if i := strings.Index(s.lower, e.needle); i >= 0 && (best < 0 || i < best) {
			best, n = i, len(e.needle)
		}
	}
	if best < 0 {
		return ""
	}
	return `"` + s.text[best:best+n] + `"`
}

// flex is a JSON string or number kept as text; other JSON values leave it
// empty. Providers disagree on types ("code": 429 vs "code": "429").
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		*f = flex(b[1 : len(b)-1]) // no escapes: the text is the value
	case len(b) > 0 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*f = flex(s)
		}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*f = flex(b)
	}
	return nil
}

type wireItem struct {
	Message flex `json:"message"`
	Domain  flex `json:"domain"`
	Reason  flex `json:"reason"`
}

type wireDetail struct {
	Type       flex `json:"@type"`
	Reason     flex `json:"reason"`
	Domain     flex `json:"domain"`
	RetryDelay flex `json:"retryDelay"`
}

type wireError struct {
	Code    flex         `json:"code"`
	Message flex         `json:"message"`
	Type    flex         `json:"type"`
	Status  flex         `json:"status"`
	Errors  []wireItem   `json:"errors"`
	Details []wireDetail `json:"details"`
}

// wireErrField is "error": an object (Google, OpenAI) or a string.
type wireErrField struct {
	obj *wireError
	str string
}

func (e *wireErrField) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '{':
		var o wireError
		if err := json.Unmarshal(b, &o); err == nil || isTypeError(err) {
			e.obj = &o
		}
	case len(b) > 0 && b[0] == '"':
		_ = json.Unmarshal(b, &e.str)
	}
	return nil
}

type wireBody struct {
	Error   wireErrField `json:"error"`
	Code    flex         `json:"code"`
	Message flex         `json:"message"`
	Type    flex         `json:"type"`
	Status  flex         `json:"status"`
	Detail  flex         `json:"detail"`
	Errors  []wireItem   `json:"errors"`
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// jsonStart returns the index of the first '{' that opens a JSON object
// (followed, after white space, by '"'), or -1.
func jsonStart(msg string) int {
	for i := 0; i < len(msg); {
		j := strings.IndexByte(msg[i:], '{')
		if j < 0 {
			return -1
		}
		j += i
		k := j + 1
		for k < len(msg) && (msg[k] == ' ' || msg[k] == '\n' || msg[k] == '\r' || msg[k] == '\t') {
			k++
		}
		if k < len(msg) && msg[k] == '"' {
			return j
		}
		i = j + 1
	}
	return -1
}

// parseBody decodes the first JSON object of msg (which may follow a prefix
// such as "POST https://…: 429 Too Many Requests "). Anything else gives
// the zero body; text forms are left to the token and keyword scans.
func parseBody(msg string, now time.Time) body {
	i := jsonStart(msg)
	if i < 0 {
		return body{}
	}
	var w wireBody
	if err := json.NewDecoder(strings.NewReader(msg[i:])).Decode(&w); err != nil && !isTypeError(err) {
		return body{}
	}
	var b body
	if e := w.Error.obj; e != nil {
		b.setCode(e.Code)
		b.messages = append(b.messages, string(e.Message))
		b.addItems(e.Errors)
		for _, d := range e.Details {
			if strings.Contains(string(d.Type), "googleapis.com") {
				b.google = true
			}
			if d.Reason != "" {
				b.reasons = append(b.reasons, reason{"reason", string(d.Reason), string(d.Domain)})
			}
			if dur, ok := ParseDuration(string(d.RetryDelay)); ok && strings.HasSuffix(string(d.Type), "RetryInfo") {
				b.retry = later(b.retry, stamp{now.Add(dur), "retryDelay " + clip(string(d.RetryDelay))})
			}
		}
		n := len(b.reasons)
		b.addStrings(e.Code, e.Type, e.Status)
		b.openai = !b.google && len(b.reasons) > n
	}
	b.setCode(w.Code)
	b.setCode(w.Status)
	b.addItems(w.Errors)
	b.addStrings(w.Code, w.Type, w.Status)
	b.messages = append(b.messages, w.Error.str, string(w.Message), string(w.Detail))
	return b
}

// setCode records a numeric HTTP status found in the body.
func (b *body) setCode(f flex) {
	if b.code != 0 || len(f) != 3 {
		return
	}
	n := 0
	for i := 0; i < 3; i++ {
		c := f[i]
		if c < '0' || c > '9' {
			return
		}
		n = n*10 + int(c-'0')
	}
	if n >= 100 && n <= 599 {
		b.code = n
	}
}

// addItems records Google errors[] items.
func (b *body) addItems(items []wireItem) {
	for _, it := range items {
		if it.Reason == "" && it.Domain == "" {
			continue
		}
		b.google = true
		if strings.HasPrefix(string(it.Domain), "youtube") {
			b.youtube = true
		}
		b.messages = append(b.messages, string(it.Message))
		if it.Reason != "" {
			b.reasons = append(b.reasons, reason{"reason", string(it.Reason), string(it.Domain)})
		}
	}
}

// addStrings records code, type and status values that are words, not numbers.
func (b *body) addStrings(code, typ, status flex) {
	for _, r := range [...]reason{{"code", string(code), ""}, {"type", string(typ), ""}, {"status", string(status), ""}} {
		if r.value == "" || r.value[0] == '-' || r.value[0] >= '0' && r.value[0] <= '9' {
			continue
		}
		b.reasons = append(b.reasons, r)
	}
}
