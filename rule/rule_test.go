package rule_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad/rule"
)

// la is the default zone of the tests, as of quotad's config.
var la = mustZone("America/Los_Angeles")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at parses an RFC 3339 instant.
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// utc formats an instant for comparison with the tables.
func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// nextCase is a rule, a start instant and the instants Next gives from it,
// one after the other.
type nextCase struct {
	rule string
	from string
	want []string
}

// checkNext follows Next from c.from and compares with c.want; it also
// checks that Prev of each instant is the instant itself and that Prev just
// before it is the one before (or at most from).
func checkNext(t *testing.T, c nextCase) {
	t.Helper()
	r, err := rule.Parse(c.rule, la)
	if err != nil {
		t.Fatalf("Parse(%q): %v", c.rule, err)
	}
	from := at(t, c.from)
	cur := from
	for i, w := range c.want {
		n := r.Next(cur)
		if got := utc(n); got != w {
			t.Fatalf("%s: Next #%d from %s = %s (%s), want %s", c.rule, i+1, utc(cur), got, n.Format("Mon 2006-01-02 15:04 MST"), w)
		}
		if p := r.Prev(n); !p.Equal(n) {
			t.Errorf("%s: Prev(%s) = %s, want the instant itself", c.rule, w, utc(p))
		}
		before := r.Prev(n.Add(-time.Nanosecond))
		if i > 0 && !before.Equal(cur) {
			t.Errorf("%s: Prev(%s - 1ns) = %s, want %s", c.rule, w, utc(before), utc(cur))
		}
		if i == 0 && before.After(from) {
			t.Errorf("%s: Prev(%s - 1ns) = %s, after the start %s", c.rule, w, utc(before), c.from)
		}
		cur = n
	}
}

func TestNextEveryKind(t *testing.T) {
	const jan1 = "2026-01-01T00:00:00Z" // a Thursday
	cases := []nextCase{
		// daily
		{"daily 00:00 UTC", jan1, []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"daily 9:05 UTC", "2026-01-01T09:05:00Z", []string{"2026-01-02T09:05:00Z", "2026-01-03T09:05:00Z"}},
		{"daily 9:05 UTC", "2026-01-01T09:04:59.999Z", []string{"2026-01-01T09:05:00Z"}},
		{"daily 00:00", jan1, []string{"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z"}}, // default zone: Los Angeles, PST
		{"daily 00:00 America/Los_Angeles", jan1, []string{"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z"}},
		{"daily 23:59 Asia/Tokyo", jan1, []string{"2026-01-01T14:59:00Z", "2026-01-02T14:59:00Z"}},
		{"daily 12:00 Asia/Kolkata", jan1, []string{"2026-01-01T06:30:00Z", "2026-01-02T06:30:00Z"}},
		// weekly
		{"weekly mon 09:00 UTC", jan1, []string{"2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z"}},
		{"weekly thu 00:00 UTC", jan1, []string{"2026-01-08T00:00:00Z", "2026-01-15T00:00:00Z"}},
		{"weekly Sunday 00:00 Europe/Berlin", jan1, []string{"2026-01-03T23:00:00Z", "2026-01-10T23:00:00Z"}},
		{"weekly fri 17:30 ET", jan1, []string{"2026-01-02T22:30:00Z", "2026-01-09T22:30:00Z"}},
		// monthly
		{"monthly 1 00:00 UTC", jan1, []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
		{"monthly 15 12:00 America/New_York", jan1, []string{"2026-01-15T17:00:00Z", "2026-02-15T17:00:00Z", "2026-03-15T16:00:00Z"}},
		{"monthly last 23:30 UTC", jan1, []string{"2026-01-31T23:30:00Z", "2026-02-28T23:30:00Z", "2026-03-31T23:30:00Z"}},
		// every: aligned to the Unix epoch
		{"every 1h", jan1, []string{"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"}},
		{"every 1h", "2026-01-01T00:59:59.5Z", []string{"2026-01-01T01:00:00Z"}},
		{"every 1m", "2026-01-01T00:00:30Z", []string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}},
		{"every 45s", jan1, []string{"2026-01-01T00:00:45Z", "2026-01-01T00:01:30Z"}},
		{"every 90m", jan1, []string{"2026-01-01T01:30:00Z", "2026-01-01T03:00:00Z"}},
		{"every 1d", "2026-01-01T13:00:00Z", []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"every 7d", jan1, []string{"2026-01-08T00:00:00Z", "2026-01-15T00:00:00Z"}}, // Thursdays, like 1970-01-01
		// cron
		{`cron "*/15 * * * *" UTC`, jan1, []string{"2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"}},
		{`cron "5/20 * * * *" UTC`, jan1, []string{"2026-01-01T00:05:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:05:00Z"}},
		{`cron "10-50/20 9 * * *" UTC`, jan1, []string{"2026-01-01T09:10:00Z", "2026-01-01T09:30:00Z", "2026-01-01T09:50:00Z", "2026-01-02T09:10:00Z"}},
		{`cron "0 0 1,15 * *" UTC`, jan1, []string{"2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z"}},
		{`cron "0 12 * jan-mar mon-fri" UTC`, jan1, []string{"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-05T12:00:00Z"}},
		{`cron "0 9 * * fri-sun" UTC`, jan1, []string{"2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z", "2026-01-04T09:00:00Z", "2026-01-09T09:00:00Z"}},
		{`cron "0 0 * * 7" UTC`, jan1, []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		// Both day fields restricted: either matches (Fridays, and the 13th, a Tuesday).
		{`cron "0 0 13 * fri" UTC`, jan1, []string{"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"}},
		// Day of month starts with *: both must match (1st, 11th, 21st, 31st that are Mondays).
		{`cron "0 0 */10 * mon" UTC`, jan1, []string{"2026-05-11T00:00:00Z", "2026-06-01T00:00:00Z"}},
		{`cron "0 0 29 2 *" UTC`, jan1, []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{`cron "30 4 1 1 *" Asia/Tokyo`, jan1, []string{"2026-12-31T19:30:00Z", "2027-12-31T19:30:00Z"}},
		{`cron "@hourly" UTC`, jan1, []string{"2026-01-01T01:00:00Z"}},
		{`cron "@daily" UTC`, jan1, []string{"2026-01-02T00:00:00Z"}},
		{`cron "@midnight" UTC`, jan1, []string{"2026-01-02T00:00:00Z"}},
		{`cron "@weekly" UTC`, jan1, []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{`cron "@monthly" UTC`, jan1, []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
		{`cron "@yearly" UTC`, jan1, []string{"2027-01-01T00:00:00Z"}},
		{`cron "@annually" UTC`, jan1, []string{"2027-01-01T00:00:00Z"}},
		{`cron "0 0 * * *"`, jan1, []string{"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z"}}, // default zone
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) { checkNext(t, c) })
	}
}

func TestPrev(t *testing.T) {
	cases := []struct{ rule, t, want string }{
		{"daily 00:00 America/Los_Angeles", "2026-01-01T07:59:59Z", "2025-12-31T08:00:00Z"},
		{"daily 00:00 America/Los_Angeles", "2026-01-01T08:00:00Z", "2026-01-01T08:00:00Z"},
		{"daily 00:00 America/Los_Angeles", "2026-01-01T08:00:00.5Z", "2026-01-01T08:00:00Z"},
		{"weekly mon 09:00 UTC", "2026-01-05T08:59:00Z", "2025-12-29T09:00:00Z"},
		{"monthly last 23:30 UTC", "2026-03-15T00:00:00Z", "2026-02-28T23:30:00Z"},
		{"monthly 31 00:00 UTC", "2026-03-30T00:00:00Z", "2026-02-28T00:00:00Z"},
		{"every 1h", "2026-01-01T10:59:59Z", "2026-01-01T10:00:00Z"},
		{"every 1h", "1969-12-31T23:30:00Z", "1969-12-31T23:00:00Z"},
		{`cron "0 0 29 2 *" UTC`, "2026-06-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{`cron "*/15 * * * *" UTC`, "2026-01-01T00:14:59Z", "2026-01-01T00:00:00Z"},
		{`cron "0 0 13 * fri" UTC`, "2026-01-12T12:00:00Z", "2026-01-09T00:00:00Z"},
		{`cron "0 9-17 * * mon-fri" UTC`, "2026-01-05T08:00:00Z", "2026-01-02T17:00:00Z"},
	}
	for _, c := range cases {
		r := rule.MustParse(c.rule, la)
		if got := utc(r.Prev(at(t, c.t))); got != c.want {
			t.Errorf("%s: Prev(%s) = %s, want %s", c.rule, c.t, got, c.want)
		}
	}
}

func TestMonthEnds(t *testing.T) {
	cases := []nextCase{
		{"monthly 31 00:00 UTC", "2026-01-01T00:00:00Z", []string{
			"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z",
			"2026-05-31T00:00:00Z", "2026-06-30T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z",
			"2026-09-30T00:00:00Z", "2026-10-31T00:00:00Z", "2026-11-30T00:00:00Z", "2026-12-31T00:00:00Z",
		}},
		{"monthly 31 00:00 UTC", "2027-12-31T00:00:00Z", []string{
			"2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z", "2028-04-30T00:00:00Z",
			"2028-05-31T00:00:00Z", "2028-06-30T00:00:00Z", "2028-07-31T00:00:00Z", "2028-08-31T00:00:00Z",
			"2028-09-30T00:00:00Z", "2028-10-31T00:00:00Z", "2028-11-30T00:00:00Z", "2028-12-31T00:00:00Z",
		}},
		{"monthly last 00:00 UTC", "2028-01-01T00:00:00Z", []string{
			"2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z", "2028-04-30T00:00:00Z",
		}},
		{"monthly 30 06:00 UTC", "2026-01-01T00:00:00Z", []string{"2026-01-30T06:00:00Z", "2026-02-28T06:00:00Z", "2026-03-30T06:00:00Z"}},
		{"monthly 29 00:00 UTC", "2027-12-31T00:00:00Z", []string{"2028-01-29T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-29T00:00:00Z"}},
		{"monthly 29 00:00 UTC", "2100-01-31T00:00:00Z", []string{"2100-02-28T00:00:00Z", "2100-03-29T00:00:00Z"}}, // 2100 is not a leap year
		{"monthly 1 00:00 America/Los_Angeles", "2025-12-31T12:00:00Z", []string{
			"2026-01-01T08:00:00Z", "2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z", "2026-04-01T07:00:00Z",
			"2026-05-01T07:00:00Z", "2026-06-01T07:00:00Z", "2026-07-01T07:00:00Z", "2026-08-01T07:00:00Z",
			"2026-09-01T07:00:00Z", "2026-10-01T07:00:00Z", "2026-11-01T07:00:00Z", "2026-12-01T08:00:00Z",
			"2027-01-01T08:00:00Z",
		}},
		{"monthly last 23:30 America/Los_Angeles", "2026-01-01T00:00:00Z", []string{
			"2026-01-01T07:30:00Z", "2026-02-01T07:30:00Z", "2026-03-01T07:30:00Z", "2026-04-01T06:30:00Z",
		}},
	}
	for _, c := range cases {
		t.Run(c.rule+" from "+c.from, func(t *testing.T) { checkNext(t, c) })
	}
}

func TestZeroRule(t *testing.T) {
	var r rule.Rule
	now := at(t, "2026-01-01T00:00:00Z")
	if !r.Next(now).IsZero() || !r.Prev(now).IsZero() {
		t.Errorf("zero Rule: Next = %v, Prev = %v, want zero times", r.Next(now), r.Prev(now))
	}
	if r.String() != "" {
		t.Errorf("zero Rule: String = %q, want empty", r.String())
	}
	if r.Location() != time.UTC {
		t.Errorf("zero Rule: Location = %v, want UTC", r.Location())
	}
}

func TestResultsAreInRuleZone(t *testing.T) {
	r := rule.MustParse("daily 00:00 Europe/Berlin", la)
	if got := r.Next(at(t, "2026-01-01T00:00:00Z")).Location().String(); got != "Europe/Berlin" {
		t.Errorf("Next in zone %s, want Europe/Berlin", got)
	}
	e := rule.MustParse("every 1h", la)
	if got := e.Next(at(t, "2026-01-01T00:00:00Z")).Location(); got != time.UTC {
		t.Errorf("every: Next in zone %s, want UTC", got)
	}
}
