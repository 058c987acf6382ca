// Package rule parses reset rules and computes when they fire.
//
// A reset rule says when a quota window refills. Its text is one of
//
//	daily HH:MM [TZ]
//	weekly DAY HH:MM [TZ]      DAY: mon..sun or monday..sunday
//	monthly D HH:MM [TZ]       D: 1..31 or last
//	every DURATION
//	cron "EXPR" [TZ]
//
// Keywords, day and month names and zone aliases are case-insensitive;
// fields are separated by white space. HH:MM runs from 00:00 to 23:59 (a
// one-digit hour is accepted).
//
// A monthly day past the end of a month means that month's last day:
// "monthly 31" fires on 30 April and on 28 or 29 February.
//
// DURATION is Go duration syntax (time.ParseDuration) plus d for days of 24
// hours, a whole number of seconds and at least 1s: every 1h, every 90m,
// every 1d12h. An every rule is aligned to the Unix epoch and knows no zone:
// every 1h fires on the hour, every 1d at 00:00 UTC, every 7d on Thursdays at
// 00:00 UTC (1 January 1970 was a Thursday).
//
// EXPR is a standard five-field cron expression (minute hour day-of-month
// month day-of-week) in double quotes, with *, lists (1,5), ranges (1-5) and
// steps (*/15, 10-50/10, and 5/15 meaning 5-59/15); month names jan..dec;
// weekday names sun..sat, where 0 and 7 are Sunday (so fri-sun is 5-7).
// As in Vixie cron, when the day-of-month and day-of-week fields both start
// with something other than *, a day matches if either field matches;
// otherwise it must match both (so "0 0 */2 * mon" means odd-numbered days
// that are Mondays, as in Vixie cron). The descriptors @hourly, @daily,
// @midnight, @weekly (Sunday), @monthly, @yearly and @annually are accepted
// inside the quotes. An expression that can never match, such as
// "0 0 30 2 *", is an error.
//
// TZ is an IANA zone name, case-sensitive (America/Los_Angeles, Europe/Berlin,
// UTC; utc is accepted too), or one of the aliases PT and Pacific
// (America/Los_Angeles), ET and Eastern (America/New_York), CT
// (America/Chicago) and MT (America/Denver). Without one, a rule uses the
// zone given to Parse. "Local" is refused: it would make
// a rule mean different instants on different machines. The package embeds
// the time zone database, so every zone is known on any machine.
//
// Rules are computed in the local wall-clock time of their zone, so a local
// day may have 23 or 25 hours. A local time that does not exist (skipped by a
// spring-forward change) resolves to the first instant after the gap: "daily
// 02:30 America/Los_Angeles" fires at 03:00 PDT on 8 March 2026. A local time
// that exists twice (repeated by a fall-back change) resolves to its first
// occurrence only: "daily 01:30 America/Los_Angeles" fires at 01:30 PDT on 1
// November 2026 and not again at 01:30 PST. Cron rules follow the same two
// rules for each minute they name, so "*/30 * * * *" fires at 01:00 and 01:30
// PDT on that day but not again during the repeated hour of PST.
package rule

import (
	"fmt"
	"time"
	_ "time/tzdata" // so a bare machine knows every zone
)

// kind is the form of a rule.
type kind uint8

const (
	kindInvalid kind = iota
	kindDaily
	kindWeekly
	kindMonthly
	kindEvery
	kindCron
)

// lastDay is the monthly day meaning "the month's last day".
const lastDay = 0

// Rule is a parsed reset rule. The zero Rule is invalid: its Next and Prev
// return the zero time and its String is empty.
//
// Rules are comparable with ==: rules whose canonical texts (String) are the
// same are equal, whichever default zone or zone alias they were parsed with.
type Rule struct {
	kind  kind
	loc   *time.Location // nil for every and for the zero Rule
	tod   int32          // seconds after local midnight (daily, weekly, monthly)
	day   int8           // weekday (weekly, 0 = Sunday) or day of month (monthly, lastDay = last)
	every int64          // period in seconds (every)
	cron  cronSpec       // (cron)
}

// Location returns the rule's zone: UTC for every rules and for the zero
// Rule.
func (r Rule) Location() *time.Location {
	if r.loc == nil {
		return time.UTC
	}
	return r.loc
}

// Next returns the first reset instant strictly after t, in the rule's zone.
// It returns the zero time for the zero Rule (and only beyond the range of
// dates Go can represent for others).
func (r Rule) Next(t time.Time) time.Time {
	switch r.kind {
	case kindInvalid:
		return time.Time{}
	case kindEvery:
		return time.Unix((floorDiv(t.Unix(), r.every)+1)*r.every, 0).In(time.UTC)
	}
	ts := t.Unix()
	w := highWall(t, r.loc)
	// Every wall time after highWall resolves after t, so the first one the
	// rule names is the answer; the loop only guards against zones with two
	// backward changes within a day.
	for range 1000 {
		nw, ok := r.after(w)
		if !ok {
			break
		}
		if u := resolve(nw, r.loc); u > ts {
			return time.Unix(u, 0).In(r.loc)
		}
		w = nw
	}
	return time.Time{}
}

// Prev returns the latest reset instant at or before t, in the rule's zone:
// the start of the period that contains t. It returns the zero time for the
// zero Rule.
func (r Rule) Prev(t time.Time) time.Time {
	switch r.kind {
	case kindInvalid:
		return time.Time{}
	case kindEvery:
		return time.Unix(floorDiv(t.Unix(), r.every)*r.every, 0).In(time.UTC)
	}
	ts := t.Unix()
	w := highWall(t, r.loc)
	for range 1000 {
		pw, ok := r.atOrBefore(w)
		if !ok {
			break
		}
		if u := resolve(pw, r.loc); u <= ts {
			return time.Unix(u, 0).In(r.loc)
		}
		w = pw - 1
	}
	return time.Time{}
}

// after returns the first wall time named by the rule strictly after w.
func (r Rule) after(w int64) (int64, bool) {
	day := floorDiv(w, secondsPerDay)
	tod := w - day*secondsPerDay
	t := int64(r.tod)
	switch r.kind {
	case kindDaily:
		if tod >= t {
			day++
		}
		return day*secondsPerDay + t, true
	case kindWeekly:
		delta := floorMod(int64(int(r.day)-weekdayOf(day)), 7)
		if delta == 0 && tod >= t {
			delta = 7
		}
		return (day+delta)*secondsPerDay + t, true
	case kindMonthly:
		y, m, _ := civilFromDays(day)
		for range 3 {
			if c := r.monthDay(y, m)*secondsPerDay + t; c > w {
				return c, true
			}
			y, m = nextMonth(y, m)
		}
	case kindCron:
		return r.cron.after(w)
	}
	return 0, false
}

// atOrBefore returns the last wall time named by the rule at or before w.
func (r Rule) atOrBefore(w int64) (int64, bool) {
	day := floorDiv(w, secondsPerDay)
	tod := w - day*secondsPerDay
	t := int64(r.tod)
	switch r.kind {
	case kindDaily:
		if tod < t {
			day--
		}
		return day*secondsPerDay + t, true
	case kindWeekly:
		delta := floorMod(int64(weekdayOf(day)-int(r.day)), 7)
		if delta == 0 && tod < t {
			delta = 7
		}
		return (day-delta)*secondsPerDay + t, true
	case kindMonthly:
		y, m, _ := civilFromDays(day)
		for range 3 {
			if c := r.monthDay(y, m)*secondsPerDay + t; c <= w {
				return c, true
			}
			y, m = prevMonth(y, m)
		}
	case kindCron:
		return r.cron.atOrBefore(w)
	}
	return 0, false
}

// monthDay returns the day (days since the epoch) on which a monthly rule
// fires in month m of year y.
func (r Rule) monthDay(y int64, m int) int64 {
	n := daysIn(y, m)
	d := int(r.day)
	if d == lastDay || d > n {
		d = n
	}
	return daysFromCivil(y, m, d)
}

// String returns the canonical text of the rule, naming its zone explicitly
// (except for every rules, which know none), e.g. "daily 00:00
// America/Los_Angeles", "weekly mon 09:00 UTC", "monthly last 23:30 UTC",
// "every 1h30m" or `cron "0 2 * * *" America/Los_Angeles`. Parsing it with
// any default zone gives an equal rule, provided the zone is one that Parse
// accepts by name (any zone loaded with time.LoadLocation, or UTC). String
// returns "" for the zero Rule.
func (r Rule) String() string {
	hm := fmt.Sprintf("%02d:%02d", r.tod/3600, r.tod/60%60)
	switch r.kind {
	case kindDaily:
		return "daily " + hm + " " + r.loc.String()
	case kindWeekly:
		return "weekly " + weekdayNames[r.day] + " " + hm + " " + r.loc.String()
	case kindMonthly:
		d := "last"
		if r.day != lastDay {
			d = fmt.Sprint(r.day)
		}
		return "monthly " + d + " " + hm + " " + r.loc.String()
	case kindEvery:
		return "every " + formatPeriod(r.every)
	case kindCron:
		return `cron "` + r.cron.expr + `" ` + r.loc.String()
	}
	return ""
}

// formatPeriod formats a period in seconds as days, hours, minutes and
// seconds, leaving out zero parts: 90*60 → "1h30m", 86400 → "1d".
func formatPeriod(s int64) string {
	var out []byte
	for _, u := range []struct {
		n    int64
		unit string
	}{{secondsPerDay, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if q := s / u.n; q > 0 {
			out = fmt.Appendf(out, "%d%s", q, u.unit)
			s -= q * u.n
		}
	}
	return string(out)
}
