// Package classify decides whether a failed API call was a quota error, for
// which API, and until when the provider will refuse to serve. It is pure
// logic: evidence and a time in, a verdict out.
//
// Structured evidence is read first: the HTTP status, provider JSON error
// bodies (Google/YouTube, OpenAI-compatible such as Groq), the Retry-After
// and x-ratelimit-* headers, and "try again in 7m12.3s" texts. The seed's
// keywords (quota, rate limit, limit exceeded, too many requests, 429 as a
// status) are the fallback.
package classify

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Evidence is what a caller knows about a failed call.
type Evidence struct {
	API     string      `json:"api,omitempty"`     // explicit API name; wins over keyword attribution
	Status  int         `json:"status,omitempty"`  // HTTP status, 0 if unknown
	Headers http.Header `json:"headers,omitempty"` // response headers (any case)
	Message string      `json:"message,omitempty"` // error text or the raw response body (may be JSON)
}

// APIInfo names a configured API and its attribution keywords (lower case),
// e.g. {groq, [groq llama]}, {youtube, [youtube google]}, {pexels, [pexels]}.
// The name itself is always an attribution keyword too.
type APIInfo struct {
	Name     string
	Keywords []string
}

// Kind is the kind of a classified error.
type Kind string

// Kinds of errors.
const (
	KindNone      Kind = "error"         // not a quota error: counts toward the channel's consecutive-error threshold
	KindQuota     Kind = "quota"         // a window's quota is used up: exhaust the API until Until, or its next reset when Until is zero
	KindRateLimit Kind = "rate_limit"    // a short rate limit (per minute etc.): block the API until Until (always set: provider time, or now+60s when none is stated)
	KindBilling   Kind = "billing"       // quota that no time restores (OpenAI insufficient_quota): pause until a person acts
	KindChannel   Kind = "channel_limit" // a limit of the calling channel, not the API (YouTube uploadLimitExceeded, "try again in 24 hours"): pause that channel until Until
	KindRequest   Kind = "request"       // the request itself is wrong or too large (Groq/OpenAI "Request too large ... must be reduced" 429): not quota, no waiting fixes it
)

// quota reports whether errors of kind k are quota errors.
func (k Kind) quota() bool {
	return k == KindQuota || k == KindRateLimit || k == KindBilling || k == KindChannel
}

// Verdict is the classification of one Evidence.
type Verdict struct {
	Quota    bool      // true for quota, rate_limit, billing, channel_limit
	Kind     Kind      // never empty in a verdict from Classify
	API      string    // attributed API name, "" when unknown
	Until    time.Time // when the provider says it will serve again; zero when not stated
	Evidence string    // short human explanation of what decided it, e.g. `status 403, reason "quotaExceeded" (youtube.quota)` or `keyword "rate limit"`
}

// MarshalJSON encodes the verdict as
// {"quota":bool,"kind":"…","api":"…","until":RFC 3339 string or null,"evidence":"…"}
// with until in UTC and fractional seconds only when they are not zero.
// encoding/json decodes that form back into a Verdict without help.
func (v Verdict) MarshalJSON() ([]byte, error) {
	var until *string
	if !v.Until.IsZero() {
		s := v.Until.UTC().Format(time.RFC3339Nano)
		until = &s
	}
	return json.Marshal(struct {
		Quota    bool    `json:"quota"`
		Kind     Kind    `json:"kind"`
		API      string  `json:"api"`
		Until    *string `json:"until"`
		Evidence string  `json:"evidence"`
	}{v.Quota, v.Kind, v.API, until, v.Evidence})
}

// Limits of the classification.
const (
	defaultRateWait    = 60 * time.Second     // rate limit with no stated time
	defaultChannelWait = 24 * time.Hour       // uploadLimitExceeded with no stated time
	shortLimit         = time.Hour            // a stated wait up to this is a rate limit, beyond it a quota
	maxWait            = 366 * 24 * time.Hour // longer stated waits are rejected as nonsense
	maxScan            = 64 << 10             // bytes of the message that are examined
	maxMessages        = 16                   // decoded JSON messages added to the text
)

// Classify classifies evidence at time now. Structured evidence first,
// keywords as the fallback. The result's API is ev.API when set (verbatim),
// else the API attributed from the evidence, else "".
//
// A message carrying quotad's own refusal (FindHold) is KindHold, never a
// quota error: quotad refusing a spend says nothing new about the provider.
func Classify(ev Evidence, apis []APIInfo, now time.Time) Verdict {
	if h, ok := FindHold(capped(ev.Message)); ok {
		v := holdVerdict(h)
		if ev.API != "" {
			v.API = ev.API
		}
		return v
	}
	s := newScan(ev, now)
	v := s.decide()
	v.Quota = v.Kind.quota()
	if ev.API != "" {
		v.API = ev.API
	} else {
		v.API = s.attribute(apis)
	}
	return v
}

// capped returns the part of a message that is examined.
func capped(msg string) string {
	if len(msg) > maxScan {
		return msg[:maxScan]
	}
	return msg
}

// stamp is a stated time and what stated it.
type stamp struct {
	t   time.Time
	src string
}

// later returns the later of two stamps (a when equal); zero stamps lose.
func later(a, b stamp) stamp {
	if b.t.After(a.t) {
		return b
	}
	return a
}

// scan is everything Classify reads from one Evidence.
type scan struct {
	now      time.Time
	text     string // message (capped), plus decoded JSON messages not already in it
	lower    string // ASCII-lower-cased text, same byte positions
	status   int    // ev.Status, else a status in the JSON body, else 429 when the text has a 429 token
	statusIn string // "status 429" or "429 in text"; "" when unknown
	body     body   // the structured error body, if any
	toks     tokSet // reason tokens and phrases found in text
	hdr      stamp  // latest time stated by headers
	txt      stamp  // latest "try again in" time stated by text
	empty    bool
}

func newScan(ev Evidence, now time.Time) scan {
	s := scan{now: now, status: ev.Status}
	msg := ev.Message
	if len(msg) > maxScan {
		msg = msg[:maxScan]
	}
	s.empty = ev.Status == 0 && len(ev.Headers) == 0 && strings.TrimSpace(msg) == ""
	if s.empty {
		return s
	}
	s.body = parseBody(msg, now)
	s.text = msg
	for i, m := range s.body.messages {
		if i == maxMessages {
			break
		}
		if m != "" && !strings.Contains(s.text, m) {
			s.text += "\n" + m
		}
	}
	s.lower = asciiLower(s.text)
	s.toks = findTokens(s.lower)
	switch {
	case s.status != 0:
		s.statusIn = "status " + strconv.Itoa(s.status)
	case s.body.code != 0:
		s.status = s.body.code
		s.statusIn = "status " + strconv.Itoa(s.status)
	case has429(s.lower):
		s.status = 429
		s.statusIn = "429 in text"
	}
	s.hdr = headerStamp(ev.Headers, now)
	s.txt = textStamp(s.text, s.lower, now)
	return s
}

// stated returns the latest time stated by headers, text or body.
func (s *scan) stated() stamp {
	return later(later(s.hdr, s.txt), s.body.retry)
}

// decide applies the rules in order: structured evidence, then status, then keywords.
func (s *scan) decide() Verdict {
	if s.empty {
		return Verdict{Kind: KindNone, Evidence: "no evidence"}
	}
	tooLargeStatus := s.status == 0 || s.status == 413 || s.status == 429
	switch {
	case s.toks.has(tokTooLarge):
		return s.verdict(KindRequest, stamp{}, s.reasonLabel(tokTooLarge))
	case s.toks.has(tokTooLargeText) && tooLargeStatus:
		return s.verdict(KindRequest, stamp{}, s.reasonLabel(tokTooLargeText))
	case s.status == 413:
		return s.verdict(KindRequest, stamp{}, "request too large")
	case s.toks.has(tokBilling):
		return s.verdict(KindBilling, stamp{}, s.reasonLabel(tokBilling))
	case s.toks.has(tokUpload):
		u := s.txt
		if u.t.IsZero() {
			u = stamp{s.now.Add(defaultChannelWait), "no retry time stated: 24h"}
		}
		return s.verdict(KindChannel, u, s.reasonLabel(tokUpload))
	case s.toks.has(tokQuota):
		return s.verdict(KindQuota, stamp{}, s.reasonLabel(tokQuota))
	case s.toks.has(tokRate):
		return s.rateFamily(s.reasonLabel(tokRate))
	case s.toks.has(tokExhausted):
		return s.general(s.reasonLabel(tokExhausted))
	case s.body.google && len(s.body.reasons) > 0 && s.status != 429:
		// A Google error that names its reasons, none of them a quota
		// reason (forbidden, insufficientPermissions, ...): final.
		return s.verdict(KindNone, stamp{}, s.reasonLabel(0)+": not a quota reason")
	case s.status == 429:
		return s.general("")
	}
	if kw := findQuotaKeyword(s.lower); kw != "" {
		return s.general(`keyword "` + kw + `"`)
	}
	return s.verdict(KindNone, stamp{}, "no quota evidence")
}

// rateFamily decides a provider-named rate limit by its window: per day or
// month is a quota (until the stated time, if any), anything else a rate
// limit (until the stated time, or for the default wait).
func (s *scan) rateFamily(what string) Verdict {
	u := s.stated()
	switch w := window(s.lower); w {
	case "day", "month":
		return s.verdict(KindQuota, u, what, "per-"+w+" limit")
	case "minute", "hour":
		return s.rate(u, what, "per-"+w+" limit")
	}
	return s.rate(u, what)
}

// general decides a quota error that names no window: a rate limit when a
// short wait is stated, else a quota (until the stated time, if any).
func (s *scan) general(what string) Verdict {
	u := s.stated()
	if !u.t.IsZero() && u.t.Sub(s.now) <= shortLimit {
		return s.verdict(KindRateLimit, u, what)
	}
	return s.verdict(KindQuota, u, what)
}

// rate is a rate limit until u, or for the default wait when u is zero.
func (s *scan) rate(u stamp, what ...string) Verdict {
	if u.t.IsZero() {
		u = stamp{s.now.Add(defaultRateWait), "no retry time stated: 60s"}
	}
	return s.verdict(KindRateLimit, u, what...)
}

// verdict builds a Verdict whose Evidence lists the status, what decided
// it and where Until came from.
func (s *scan) verdict(k Kind, u stamp, what ...string) Verdict {
	parts := make([]string, 0, 4)
	if s.statusIn != "" {
		parts = append(parts, s.statusIn)
	}
	for _, w := range what {
		if w != "" {
			parts = append(parts, w)
		}
	}
	if u.src != "" {
		parts = append(parts, u.src)
	}
	return Verdict{Kind: k, Until: u.t, Evidence: strings.Join(parts, ", ")}
}
