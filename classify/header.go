package classify

import (
	"net/http"
	"strings"
	"time"
)

// headerVals are the rate-limit headers Classify reads, by lower-case name.
type headerVals struct {
	retryAfter  string // Retry-After: seconds or HTTP-date
	reset       string // X-RateLimit-Reset: Unix time (Pexels, GitHub) or delta seconds
	remaining   string // X-RateLimit-Remaining
	resetReq    string // x-ratelimit-reset-requests: duration (Groq, OpenAI)
	remainReq   string // x-ratelimit-remaining-requests
	resetTok    string // x-ratelimit-reset-tokens: duration
	remainTok   string // x-ratelimit-remaining-tokens
	rlReset     string // RateLimit-Reset (IETF draft): delta seconds
	rlRemaining string // RateLimit-Remaining
}

// readHeaders picks the first non-empty value of each header it knows,
// matching names in any case (callers may not have canonicalized them).
func readHeaders(h http.Header) headerVals {
	var v headerVals
	for k, vs := range h {
		val := ""
		for _, x := range vs {
			if x = strings.TrimSpace(x); x != "" {
				val = x
				break
			}
		}
		if val == "" {
			continue
		}
		var dst *string
		switch {
		case strings.EqualFold(k, "Retry-After"):
			dst = &v.retryAfter
		case strings.EqualFold(k, "X-RateLimit-Reset"):
			dst = &v.reset
		case strings.EqualFold(k, "X-RateLimit-Remaining"):
			dst = &v.remaining
		case strings.EqualFold(k, "X-RateLimit-Reset-Requests"):
			dst = &v.resetReq
		case strings.EqualFold(k, "X-RateLimit-Remaining-Requests"):
			dst = &v.remainReq
		case strings.EqualFold(k, "X-RateLimit-Reset-Tokens"):
			dst = &v.resetTok
		case strings.EqualFold(k, "X-RateLimit-Remaining-Tokens"):
			dst = &v.remainTok
		case strings.EqualFold(k, "RateLimit-Reset"):
			dst = &v.rlReset
		case strings.EqualFold(k, "RateLimit-Remaining"):
			dst = &v.rlRemaining
		default:
			continue
		}
		if *dst == "" {
			*dst = val
		}
	}
	return v
}

// headerStamp returns the latest time stated by the headers. A reset header
// counts only when its remaining counterpart says nothing is left: a
// per-dimension reset (requests, tokens) needs remaining = 0, a general one
// (X-RateLimit-Reset, RateLimit-Reset) remaining = 0 or no remaining header,
// so a monthly reset does not explain an hourly 429 with quota left.
func headerStamp(h http.Header, now time.Time) stamp {
	if len(h) == 0 {
		return stamp{}
	}
	v := readHeaders(h)
	var best stamp
	if t, ok := ParseRetryAfter(v.retryAfter, now); ok {
		best = later(best, stamp{t, "retry-after " + clip(v.retryAfter)})
	}
	add := func(name, val, remaining string, needRemaining bool) {
		if val == "" || (remaining == "" && needRemaining) || (remaining != "" && !isZero(remaining)) {
			return
		}
		if t, ok := ParseResetHeader(val, now); ok {
			best = later(best, stamp{t, name + " " + clip(val)})
		}
	}
	add("x-ratelimit-reset", v.reset, v.remaining, false)
	add("x-ratelimit-reset-requests", v.resetReq, v.remainReq, true)
	add("x-ratelimit-reset-tokens", v.resetTok, v.remainTok, true)
	add("ratelimit-reset", v.rlReset, v.rlRemaining, false)
	return best
}

// isZero reports whether a remaining-count header value is 0.
func isZero(v string) bool {
	sec, ns, ok := parseDecimal(v)
	return ok && sec == 0 && ns == 0
}

// ParseRetryAfter parses a Retry-After value: delay-seconds (a fraction is
// tolerated) or an HTTP-date (RFC 1123, RFC 850, ANSI C; RFC 3339 is
// tolerated too). A date in the past means now. Waits longer than 366 days,
// negative numbers and anything else are rejected.
func ParseRetryAfter(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return time.Time{}, false
	}
	if d, ok := parseSeconds(v); ok {
		return now.Add(d), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, false
		}
	}
	return clampTime(t, now)
}

// ParseResetHeader parses an X-RateLimit-Reset-style value: a Unix time in
// seconds (>= 1e9; from 1e12 on, Unix milliseconds), else delta-seconds
// (possibly fractional), else a duration as ParseDuration reads it, such as
// "2m59.56s", "7.66s", "12ms", "1h2m3s". A Unix time in the past means now.
// Waits longer than 366 days are rejected.
func ParseResetHeader(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return time.Time{}, false
	}
	if sec, ns, ok := parseDecimal(v); ok {
		switch {
		case sec >= 1e12:
			return clampTime(time.UnixMilli(sec), now)
		case sec >= 1e9:
			return clampTime(time.Unix(sec, ns), now)
		}
		d := time.Duration(sec)*time.Second + time.Duration(ns)
		if d > maxWait {
			return time.Time{}, false
		}
		return now.Add(d), true
	}
	if d, ok := ParseDuration(v); ok {
		return now.Add(d), true
	}
	return time.Time{}, false
}

// clampTime maps a stated instant to a retry time: the past means now, and
// more than maxWait ahead is rejected.
func clampTime(t, now time.Time) (time.Time, bool) {
	if !t.After(now) {
		return now, true
	}
	if t.Sub(now) > maxWait {
		return time.Time{}, false
	}
	return t.In(now.Location()), true
}

// parseSeconds parses delay-seconds ("120", "3.5") up to maxWait.
func parseSeconds(v string) (time.Duration, bool) {
	sec, ns, ok := parseDecimal(v)
	if !ok || sec > int64(maxWait/time.Second) {
		return 0, false
	}
	d := time.Duration(sec)*time.Second + time.Duration(ns)
	if d > maxWait {
		return 0, false
	}
	return d, true
}

// parseDecimal parses digits with an optional fraction ("1736640000",
// "7.66", "3.") into whole units and nanoseconds; fraction digits past the
// ninth are ignored. No sign, exponent or spaces; at most 18 integer digits.
func parseDecimal(v string) (sec, ns int64, ok bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		if i == 18 {
			return 0, 0, false
		}
		sec = sec*10 + int64(v[i]-'0')
		i++
	}
	if i == 0 {
		return 0, 0, false
	}
	if i == len(v) {
		return sec, 0, true
	}
	if v[i] != '.' {
		return 0, 0, false
	}
	scale := int64(1e8)
	for i++; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		ns += int64(c-'0') * scale
		scale /= 10
	}
	return sec, ns, true
}
