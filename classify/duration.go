package classify

import (
	"strings"
	"time"
)

// units maps lower-case unit words to their length in nanoseconds.
var units = map[string]uint64{
	"ns": 1, "nsec": 1, "nanosecond": 1, "nanoseconds": 1,
	"us": 1e3, "µs": 1e3, "μs": 1e3, "usec": 1e3, "microsecond": 1e3, "microseconds": 1e3,
	"ms": 1e6, "msec": 1e6, "msecs": 1e6, "millisecond": 1e6, "milliseconds": 1e6,
	"s": 1e9, "sec": 1e9, "secs": 1e9, "second": 1e9, "seconds": 1e9,
	"m": 60e9, "min": 60e9, "mins": 60e9, "minute": 60e9, "minutes": 60e9,
	"h": 3600e9, "hr": 3600e9, "hrs": 3600e9, "hour": 3600e9, "hours": 3600e9,
	"d": 86400e9, "day": 86400e9, "days": 86400e9,
}

// ParseDuration parses provider durations: Go-like forms ("7m12.3s",
// "2m59.56s", "50.597142857s", "12ms", "1h30m") and spelled-out ones ("24
// hours", "20 seconds", "1 minute", "an hour", "1 hour 30 minutes", "1h,
// 30m"). Units are case-insensitive and include d/day(s). "0" alone is
// accepted as in Go. Negative, empty and longer than 366 days are rejected.
// Where time.ParseDuration accepts the same text, the values are equal.
func ParseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, true
	}
	d, n, ok := parseDurationPrefix(s)
	if !ok || n != len(s) {
		return 0, false
	}
	return d, true
}

// parseDurationPrefix parses the longest duration at the start of s and
// returns it with the number of bytes it spans.
func parseDurationPrefix(s string) (time.Duration, int, bool) {
	var total uint64
	end, comps := 0, 0
	for {
		i := end
		if comps > 0 {
			i = skipSep(s, end)
		}
		v, next, st := parseComponent(s, i)
		if st == compOverflow {
			return 0, 0, false
		}
		if st == compNone {
			break
		}
		total += v // each v <= maxWait: cannot overflow
		if total > uint64(maxWait) {
			return 0, 0, false
		}
		comps++
		end = next
	}
	if comps == 0 {
		return 0, 0, false
	}
	return time.Duration(total), end, true
}

// skipSep skips white space, commas and "and" between components.
func skipSep(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == ',':
			i++
		case hasFoldPrefix(s[i:], "and ") && i > 0 && (s[i-1] == ' ' || s[i-1] == ','):
			i += 4
		default:
			return i
		}
	}
	return i
}

const (
	compOK = iota
	compNone
	compOverflow
)

// parseComponent parses one "number unit" at s[i:], the way
// time.ParseDuration does (including its float rounding of fractions),
// allowing spaces before the unit and "a"/"an" for 1.
func parseComponent(s string, i int) (v uint64, next int, st int) {
	const max = 1 << 63
	j := i
	var f uint64
	scale := 1.0
	pre, post := false, false
	switch {
	case hasFoldPrefix(s[j:], "an "):
		v, pre, j = 1, true, j+2
	case hasFoldPrefix(s[j:], "a "):
		v, pre, j = 1, true, j+1
	default:
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			if v > (max-1)/10 {
				return 0, 0, compOverflow
			}
			v = v*10 + uint64(s[j]-'0')
			if v > max {
				return 0, 0, compOverflow
			}
			pre = true
		}
		if j < len(s) && s[j] == '.' {
			j++
			overflow := false
			for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
				post = true
				if overflow {
					continue
				}
				if f > (max-1)/10 {
					overflow = true
					continue
				}
				y := f*10 + uint64(s[j]-'0')
				if y > max {
					overflow = true
					continue
				}
				f = y
				scale *= 10
			}
		}
	}
	if !pre && !post {
		return 0, 0, compNone
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	u0 := j
	j = unitEnd(s, j)
	unit, ok := lookupUnit(s[u0:j])
	if !ok {
		return 0, 0, compNone
	}
	if v > max/unit {
		return 0, 0, compOverflow
	}
	v *= unit
	if f > 0 {
		v += uint64(float64(f) * (float64(unit) / scale))
		if v > max {
			return 0, 0, compOverflow
		}
	}
	if v > uint64(maxWait) {
		return 0, 0, compOverflow
	}
	return v, j, compOK
}

// unitEnd returns the end of the run of letters (and µ, μ) at s[j:].
func unitEnd(s string, j int) int {
	for j < len(s) {
		c := s[j]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j++
		case j+1 < len(s) && (c == 0xC2 && s[j+1] == 0xB5 || c == 0xCE && s[j+1] == 0xBC): // µ, μ
			j += 2
		default:
			return j
		}
	}
	return j
}

// lookupUnit finds a unit word, case-insensitively, without allocating.
func lookupUnit(w string) (uint64, bool) {
	if w == "" || len(w) > 16 {
		return 0, false
	}
	var b [16]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	u, ok := units[string(b[:len(w)])]
	return u, ok
}

// hasFoldPrefix reports whether s starts with the lower-case ASCII prefix p,
// ignoring case.
func hasFoldPrefix(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// retryPhrases introduce a stated wait in error texts. The last three also
// accept a bare number of seconds ("retry after 30") or an RFC 3339 time.
var retryPhrases = [...]string{"try again in", "retry in", "try again after", "retry after", "retry-after:"}

// textStamp returns the latest wait stated by a "try again in 7m12.3s",
// "Please retry in 36.3s", "retry after 20 seconds" phrase of the text.
func textStamp(text, lower string, now time.Time) stamp {
	var best stamp
	for pi, p := range retryPhrases {
		for i := 0; ; {
			j := strings.Index(lower[i:], p)
			if j < 0 {
				break
			}
			j += i + len(p)
			i = j
			k := j
			for k < len(lower) && (lower[k] == ' ' || lower[k] == '\t') {
				k++
			}
			if k == j && p[len(p)-1] != ':' {
				continue
			}
			d, n, ok := parseDurationPrefix(lower[k:])
			if !ok && pi >= 2 {
				d, n, ok = bareSeconds(lower[k:])
			}
			if !ok && pi >= 2 {
				d, n, ok = timestamp(text[k:], now)
			}
			if ok {
				src := `"` + clip(strings.TrimSpace(text[j-len(p):k+n])) + `"`
				best = later(best, stamp{now.Add(d), src})
			}
		}
	}
	return best
}

// bareSeconds reads a number of seconds standing alone at the start of s
// (not the year of a date, not a version).
func bareSeconds(s string) (time.Duration, int, bool) {
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.') {
		n++
	}
	if n < len(s) {
		if c := s[n]; isAlnum(c) || c == '-' || c == ':' || c == '/' || c == '_' {
			return 0, 0, false
		}
	}
	num := strings.TrimRight(s[:n], ".")
	d, ok := parseSeconds(num)
	return d, len(num), ok
}

// timestamp reads an RFC 3339 time at the start of s as a wait from now
// (the past means now).
func timestamp(s string, now time.Time) (time.Duration, int, bool) {
	n := 0
	for n < len(s) && n < 40 && s[n] != ' ' && s[n] != ',' && s[n] != ';' && s[n] != ')' {
		n++
	}
	tok := strings.TrimRight(s[:n], ".")
	t, err := time.Parse(time.RFC3339, tok)
	if err != nil {
		return 0, 0, false
	}
	t, ok := clampTime(t, now)
	if !ok {
		return 0, 0, false
	}
	return t.Sub(now), len(tok), true
}
