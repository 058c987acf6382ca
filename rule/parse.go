package rule

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/quotad/quotad"
)

// expectedKinds lists the forms of a rule, for error messages.
const expectedKinds = `daily HH:MM [TZ], weekly DAY HH:MM [TZ], monthly D|last HH:MM [TZ], every DURATION, cron "EXPR" [TZ]`

// parseError is a malformed rule. It wraps quotad.ErrInvalid.
type parseError struct {
	text string // the rule as given
	msg  string // what is wrong and what was expected
}

func (e *parseError) Error() string { return "rule " + quote(e.text) + ": " + e.msg }

func (e *parseError) Unwrap() error { return quotad.ErrInvalid }

// quote quotes a rule for a message: in back quotes when it holds double
// quotes (as cron rules do) and nothing that needs escaping, else as %q.
func quote(s string) string {
	if strings.Contains(s, `"`) && strconv.CanBackquote(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// Parse parses the text of a reset rule (see the package documentation).
// defaultLoc is the zone of a rule whose text names none; nil means UTC.
// Zones are identified by name: a defaultLoc that time.LoadLocation can load
// by its name is replaced by the package's copy of that zone, so that rules
// compare equal whichever copy they were parsed with.
//
// Errors wrap quotad.ErrInvalid and say what was expected, e.g.
//
//	rule "dayly 00:00": unknown kind "dayly"; expected one of: daily HH:MM [TZ], weekly DAY HH:MM [TZ], monthly D|last HH:MM [TZ], every DURATION, cron "EXPR" [TZ]
func Parse(text string, defaultLoc *time.Location) (Rule, error) {
	r, msg := parse(text, defaultLoc)
	if msg != "" {
		return Rule{}, &parseError{text: text, msg: msg}
	}
	return r, nil
}

// MustParse is like Parse but panics if the text does not parse. It is meant
// for rules written in the program itself.
func MustParse(text string, defaultLoc *time.Location) Rule {
	r, err := Parse(text, defaultLoc)
	if err != nil {
		panic(err)
	}
	return r
}

// parse returns the rule, or a message saying what is wrong.
func parse(text string, defaultLoc *time.Location) (Rule, string) {
	s := strings.TrimSpace(text)
	if s == "" {
		return Rule{}, "empty rule; expected one of: " + expectedKinds
	}
	word, rest := s, ""
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		word, rest = s[:i], strings.TrimSpace(s[i:])
	}
	var r Rule
	var args []string // the fields after the kind that are not the zone
	var want string   // the form, for error messages
	switch lower(word) {
	case "daily":
		r.kind, want = kindDaily, "daily HH:MM [TZ]"
		args = strings.Fields(rest)
		if len(args) == 0 || len(args) > 2 {
			return Rule{}, fieldCount(len(args), want)
		}
	case "weekly":
		r.kind, want = kindWeekly, "weekly DAY HH:MM [TZ]"
		args = strings.Fields(rest)
		if len(args) < 2 || len(args) > 3 {
			return Rule{}, fieldCount(len(args), want)
		}
		d, ok := weekdayByName[lower(args[0])]
		if !ok {
			return Rule{}, fmt.Sprintf("bad day %q; expected mon..sun or monday..sunday", args[0])
		}
		r.day, args = int8(d), args[1:]
	case "monthly":
		r.kind, want = kindMonthly, "monthly D|last HH:MM [TZ]"
		args = strings.Fields(rest)
		if len(args) < 2 || len(args) > 3 {
			return Rule{}, fieldCount(len(args), want)
		}
		d, ok := monthDay(args[0])
		if !ok {
			return Rule{}, fmt.Sprintf("bad day of month %q; expected 1..31 or last", args[0])
		}
		r.day, args = int8(d), args[1:]
	case "every":
		args = strings.Fields(rest)
		switch {
		case len(args) == 0:
			return Rule{}, "missing duration; expected every DURATION, e.g. every 1h"
		case len(args) > 1:
			return Rule{}, fmt.Sprintf("every takes no zone or other field (found %q): it is aligned to the Unix epoch; expected every DURATION", args[1])
		}
		p, msg := parsePeriod(args[0])
		if msg != "" {
			return Rule{}, msg
		}
		return Rule{kind: kindEvery, every: p}, ""
	case "cron":
		expr, zone, msg := splitCron(rest)
		if msg != "" {
			return Rule{}, msg
		}
		c, msg := parseCron(expr)
		if msg != "" {
			return Rule{}, msg
		}
		r.kind, r.cron, r.loc = kindCron, c, canonicalZone(defaultLoc)
		if zone != "" {
			if r.loc, msg = loadZone(zone); msg != "" {
				return Rule{}, msg
			}
		}
		return r, ""
	default:
		return Rule{}, fmt.Sprintf("unknown kind %q; expected one of: %s", word, expectedKinds)
	}
	// daily, weekly, monthly: args is HH:MM [TZ].
	tod, ok := clock(args[0])
	if !ok {
		return Rule{}, fmt.Sprintf("bad time %q; expected HH:MM from 00:00 to 23:59", args[0])
	}
	r.tod, r.loc = tod, canonicalZone(defaultLoc)
	if len(args) == 2 {
		var msg string
		if r.loc, msg = loadZone(args[1]); msg != "" {
			return Rule{}, msg
		}
	}
	return r, ""
}

// fieldCount explains a wrong number of fields after the kind.
func fieldCount(n int, want string) string {
	if n == 0 {
		return "missing fields; expected " + want
	}
	return fmt.Sprintf("wrong number of fields (%d after the kind); expected %s", n, want)
}

// splitCron splits `"EXPR" [TZ]` into the expression and the zone.
func splitCron(rest string) (expr, zone, msg string) {
	const want = `expected cron "EXPR" [TZ], e.g. cron "0 2 * * *" America/Los_Angeles`
	if rest == "" {
		return "", "", "missing expression; " + want
	}
	if rest[0] != '"' {
		return "", "", "the cron expression must be in double quotes; " + want
	}
	end := strings.IndexByte(rest[1:], '"')
	if end < 0 {
		return "", "", "missing closing double quote; " + want
	}
	expr, tail := rest[1:1+end], rest[2+end:]
	if tail != "" && !unicode.IsSpace(rune(tail[0])) {
		return "", "", "missing space after the closing quote; " + want
	}
	switch f := strings.Fields(tail); len(f) {
	case 0:
		return expr, "", ""
	case 1:
		return expr, f[0], ""
	default:
		return "", "", fmt.Sprintf("too many fields after the expression (%q); %s", strings.Join(f, " "), want)
	}
}

// clock parses H:MM or HH:MM into seconds after midnight.
func clock(s string) (int32, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return 0, false
	}
	return int32(hh*3600 + mm*60), true
}

// monthDay parses 1..31 or "last" (lastDay).
func monthDay(s string) (int, bool) {
	if lower(s) == "last" {
		return lastDay, true
	}
	if len(s) > 2 || !digits(s) {
		return 0, false
	}
	d, _ := strconv.Atoi(s)
	return d, d >= 1 && d <= 31
}

// parsePeriod parses an every duration into whole seconds.
func parsePeriod(s string) (int64, string) {
	bad := func(why string) (int64, string) {
		return 0, fmt.Sprintf("bad duration %q: %s; expected a Go duration such as 1h, 90m or 1d (d = 24h), at least 1s", s, why)
	}
	if strings.HasPrefix(s, "-") {
		return bad("it is negative")
	}
	rest := strings.TrimPrefix(lower(s), "+")
	if rest == "" {
		return bad("no number")
	}
	var total time.Duration
	for rest != "" {
		// One component: a decimal number and a unit.
		i := strings.IndexFunc(rest, func(c rune) bool { return (c < '0' || c > '9') && c != '.' })
		if i <= 0 {
			return bad("expected a number followed by a unit")
		}
		j := strings.IndexFunc(rest[i:], func(c rune) bool { return (c >= '0' && c <= '9') || c == '.' })
		if j < 0 {
			j = len(rest) - i
		}
		num, unit := rest[:i], rest[i:i+j]
		rest = rest[i+j:]
		goUnit, scale := unit, time.Duration(1)
		if unit == "d" {
			goUnit, scale = "h", 24
		}
		whole, frac, _ := strings.Cut(num, ".")
		if !durationUnits[unit] || (whole == "" && frac == "") || strings.Contains(frac, ".") {
			return bad(fmt.Sprintf("%q is not a number and a unit (ns, us, ms, s, m, h, d)", num+unit))
		}
		d, err := time.ParseDuration(num + goUnit)
		if err != nil { // a well-formed number: it overflows
			return bad("it is too long")
		}
		if d > (1<<63-1)/scale || total > 1<<63-1-d*scale {
			return bad("it is too long")
		}
		total += d * scale
	}
	switch {
	case total < time.Second:
		return bad("it is shorter than 1s")
	case total%time.Second != 0:
		return bad("it is not a whole number of seconds")
	}
	return int64(total / time.Second), ""
}

// durationUnits are the units of an every duration.
var durationUnits = map[string]bool{"ns": true, "us": true, "µs": true, "μs": true, "ms": true, "s": true, "m": true, "h": true, "d": true}

// zoneAliases are the short zone names accepted besides IANA names (matched
// case-insensitively).
var zoneAliases = map[string]string{
	"pt":      "America/Los_Angeles",
	"pacific": "America/Los_Angeles",
	"et":      "America/New_York",
	"eastern": "America/New_York",
	"ct":      "America/Chicago",
	"mt":      "America/Denver",
	"utc":     "UTC",
}

// zones caches loaded zones by name, so that equal rules share one
// *time.Location and compare ==.
var zones sync.Map // string → *time.Location

// loadZone loads a zone named in a rule.
func loadZone(name string) (*time.Location, string) {
	if alias, ok := zoneAliases[lower(name)]; ok {
		name = alias
	}
	if loc := zoneByName(name); loc != nil {
		return loc, ""
	}
	if name == "Local" {
		return nil, `zone "Local" is not allowed: it depends on the machine; expected an IANA name such as America/Los_Angeles or UTC`
	}
	return nil, fmt.Sprintf("unknown zone %q; expected an IANA name such as America/Los_Angeles, Europe/Berlin or UTC, or one of PT, ET, CT, MT", name)
}

// zoneByName returns the package's copy of the named zone, or nil if the
// name is not an IANA zone.
func zoneByName(name string) *time.Location {
	if name == "UTC" {
		return time.UTC
	}
	if v, ok := zones.Load(name); ok {
		return v.(*time.Location)
	}
	if name == "" || name == "Local" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	v, _ := zones.LoadOrStore(name, loc)
	return v.(*time.Location)
}

// canonicalZone returns the zone used for a rule without one.
func canonicalZone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	if c := zoneByName(loc.String()); c != nil {
		return c
	}
	return loc
}

// weekdayNames are the canonical names of weekdays, Sunday first.
var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekdayByName maps short and long weekday names to 0 (Sunday) .. 6.
var weekdayByName = map[string]int{
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
}

// lower lower-cases ASCII letters only, so that no other letter can match a
// keyword through Unicode case folding.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// digits reports whether s is non-empty and all ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
