package rule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

func TestParseCanonical(t *testing.T) {
	cases := []struct {
		text string
		loc  *time.Location // default zone; la when nil
		want string
	}{
		{text: "daily 0:00", want: "daily 00:00 America/Los_Angeles"},
		{text: "  daily   00:00   UTC  ", want: "daily 00:00 UTC"},
		{text: "daily\t00:00\tUTC", want: "daily 00:00 UTC"},
		{text: "DAILY 7:05 pt", want: "daily 07:05 America/Los_Angeles"},
		{text: "daily 00:00 Pacific", want: "daily 00:00 America/Los_Angeles"},
		{text: "daily 00:00 ET", want: "daily 00:00 America/New_York"},
		{text: "daily 00:00 eastern", want: "daily 00:00 America/New_York"},
		{text: "daily 00:00 CT", want: "daily 00:00 America/Chicago"},
		{text: "daily 00:00 MT", want: "daily 00:00 America/Denver"},
		{text: "daily 00:00 utc", want: "daily 00:00 UTC"},
		{text: "daily 23:59 Europe/Berlin", want: "daily 23:59 Europe/Berlin"},
		{text: "daily 00:00", loc: time.UTC, want: "daily 00:00 UTC"},
		{text: "daily 00:00", loc: mustZone("Asia/Tokyo"), want: "daily 00:00 Asia/Tokyo"},
		{text: "Weekly Monday 09:00 Europe/Berlin", want: "weekly mon 09:00 Europe/Berlin"},
		{text: "weekly SUN 9:00", want: "weekly sun 09:00 America/Los_Angeles"},
		{text: "weekly saturday 00:00 UTC", want: "weekly sat 00:00 UTC"},
		{text: "monthly LAST 23:30 UTC", want: "monthly last 23:30 UTC"},
		{text: "monthly 01 00:00 UTC", want: "monthly 1 00:00 UTC"},
		{text: "monthly 31 00:00", want: "monthly 31 00:00 America/Los_Angeles"},
		{text: "every 1h", want: "every 1h"},
		{text: "EVERY 90m", want: "every 1h30m"},
		{text: "every 1d", want: "every 1d"},
		{text: "every 24h", want: "every 1d"},
		{text: "every 0.5d", want: "every 12h"},
		{text: "every 1.5h", want: "every 1h30m"},
		{text: "every 3600s", want: "every 1h"},
		{text: "every 1d1h1m1s", want: "every 1d1h1m1s"},
		{text: "every 1s", want: "every 1s"},
		{text: "every 2000ms", want: "every 2s"},
		{text: `cron "0 2 * * *"`, want: `cron "0 2 * * *" America/Los_Angeles`},
		{text: `cron   "0  2 * *   *"   UTC`, want: `cron "0 2 * * *" UTC`},
		{text: `CRON "0 9 * JAN-MAR Mon-Fri" ET`, want: `cron "0 9 * jan-mar mon-fri" America/New_York`},
		{text: `cron "@Daily" UTC`, want: `cron "@daily" UTC`},
		{text: `cron " @weekly " PT`, want: `cron "@weekly" America/Los_Angeles`},
		{text: "daily 00:00", loc: nil, want: "daily 00:00 America/Los_Angeles"},
	}
	for _, c := range cases {
		loc := c.loc
		if loc == nil {
			loc = la
		}
		r, err := rule.Parse(c.text, loc)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.text, err)
			continue
		}
		if got := r.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.text, got, c.want)
		}
		again, err := rule.Parse(r.String(), time.UTC)
		if err != nil {
			t.Errorf("Parse(%q) (a String): %v", r.String(), err)
			continue
		}
		if again != r {
			t.Errorf("Parse(%q) is not equal to the rule it came from (%q)", r.String(), c.text)
		}
	}
}

func TestParseNilLocationIsUTC(t *testing.T) {
	r, err := rule.Parse("daily 00:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != "daily 00:00 UTC" || r.Location() != time.UTC {
		t.Errorf("Parse with nil zone = %q in %v, want daily 00:00 UTC", r, r.Location())
	}
}

func TestRulesCompareEqual(t *testing.T) {
	// A default zone loaded separately by the caller still gives a rule
	// equal to one naming the zone.
	a := rule.MustParse("daily 00:00", mustZone("America/Los_Angeles"))
	b := rule.MustParse("daily 00:00 PT", time.UTC)
	if a != b {
		t.Errorf("%q != %q", a, b)
	}
	if a.Location().String() != "America/Los_Angeles" {
		t.Errorf("Location = %v", a.Location())
	}
	if rule.MustParse("every 1h", la).Location() != time.UTC {
		t.Errorf("every: Location is not UTC")
	}
	if rule.MustParse("daily 00:00 UTC", la) == rule.MustParse("daily 00:01 UTC", la) {
		t.Errorf("different rules compare equal")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"", "empty rule; expected one of: daily HH:MM [TZ]"},
		{"   ", "empty rule"},
		{"dayly 00:00", `rule "dayly 00:00": unknown kind "dayly"; expected one of: daily HH:MM [TZ], weekly DAY HH:MM [TZ], monthly D|last HH:MM [TZ], every DURATION, cron "EXPR" [TZ]`},
		{"hourly", `unknown kind "hourly"`},
		{"daily", "missing fields; expected daily HH:MM [TZ]"},
		{"daily 24:00", `bad time "24:00"; expected HH:MM from 00:00 to 23:59`},
		{"daily 12:60", `bad time "12:60"`},
		{"daily 7:5", `bad time "7:5"`},
		{"daily 123:00", `bad time "123:00"`},
		{"daily noon", `bad time "noon"`},
		{"daily -1:00", `bad time "-1:00"`},
		{"daily 00:00 UTC extra", "wrong number of fields (3 after the kind); expected daily HH:MM [TZ]"},
		{"weekly fun 00:00", `bad day "fun"; expected mon..sun or monday..sunday`},
		{"weekly mon", "wrong number of fields (1 after the kind); expected weekly DAY HH:MM [TZ]"},
		{"weekly mon 25:00", `bad time "25:00"`},
		{"monthly 32 00:00", `bad day of month "32"; expected 1..31 or last`},
		{"monthly 0 00:00", `bad day of month "0"`},
		{"monthly first 00:00", `bad day of month "first"`},
		{"monthly 00:00", "wrong number of fields (1 after the kind); expected monthly D|last HH:MM [TZ]"},
		{"daily 00:00 Mars/Olympus", `unknown zone "Mars/Olympus"; expected an IANA name`},
		{"daily 00:00 america/los_angeles", `unknown zone "america/los_angeles"`},
		{"daily 00:00 Local", `zone "Local" is not allowed`},
		{`cron "0 2 * * *" Mars/Olympus`, `unknown zone "Mars/Olympus"`},
		{"every", "missing duration; expected every DURATION"},
		{"every 1h UTC", `every takes no zone or other field (found "UTC")`},
		{"every 0s", `bad duration "0s": it is shorter than 1s`},
		{"every 500ms", "it is shorter than 1s"},
		{"every 1.5s", "it is not a whole number of seconds"},
		{"every -1h", "it is negative"},
		{"every 1x", `"1x" is not a number and a unit`},
		{"every 1", "expected a number followed by a unit"},
		{"every h", "expected a number followed by a unit"},
		{"every 100000000000d", "it is too long"},
		{"cron", "missing expression"},
		{"cron 0 2 * * *", "the cron expression must be in double quotes"},
		{"cron '0 2 * * *'", "the cron expression must be in double quotes"},
		{`cron "0 2 * * *`, "missing closing double quote"},
		{`cron "0 2 * * *"UTC`, "missing space after the closing quote"},
		{`cron "0 2 * * *" UTC extra`, `too many fields after the expression ("UTC extra")`},
		{`cron ""`, `cron expression "" has 0 fields; expected 5 fields`},
		{`cron "0 2 * *"`, `has 4 fields; expected 5 fields (minute hour day-of-month month day-of-week)`},
		{`cron "0 0 2 * * *"`, "has 6 fields"},
		{`cron "61 * * * *"`, `bad minute field "61": 61 is out of range 0-59`},
		{`cron "* 24 * * *"`, `bad hour field "24": 24 is out of range 0-23`},
		{`cron "* * 0 * *"`, `bad day-of-month field "0": 0 is out of range 1-31`},
		{`cron "* * 32 * *"`, `bad day-of-month field "32"`},
		{`cron "* * * 13 *"`, `bad month field "13": 13 is out of range 1-12`},
		{`cron "* * * * 8"`, `bad day-of-week field "8": 8 is out of range 0-7`},
		{`cron "* * * foo *"`, `bad month field "foo": "foo" is not a value; expected 1-12 or jan..dec`},
		{`cron "* * * * funday"`, `"funday" is not a value; expected 0-7 (0 and 7 are Sunday) or sun..sat`},
		{`cron "*/0 * * * *"`, "step 0 is out of range 1-60"},
		{`cron "*/61 * * * *"`, "step 61 is out of range 1-60"},
		{`cron "*/x * * * *"`, `bad step "x"`},
		{`cron "5-1 * * * *"`, "range 5-1 runs backwards"},
		{`cron "1,,2 * * * *"`, "empty list item"},
		{`cron "1- * * * *"`, "missing value"},
		{`cron "0 0 30 2 *"`, `cron expression "0 0 30 2 *" never matches`},
		{`cron "0 0 31 4,6,9,11 *"`, "never matches"},
		{`cron "0 0 30,31 feb *"`, "never matches"},
		{`cron "@reboot"`, `unknown cron descriptor "@reboot"`},
		{`cron "@every 1h"`, "has 2 fields"},
	}
	for _, c := range cases {
		_, err := rule.Parse(c.text, la)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error containing %q", c.text, c.want)
			continue
		}
		if !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap quotad.ErrInvalid", c.text, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error:\n  %v\nwant it to contain:\n  %s", c.text, err, c.want)
		}
		if !strings.HasPrefix(err.Error(), "rule ") {
			t.Errorf("Parse(%q) error %q does not start with the rule", c.text, err)
		}
	}
}

func TestParseErrorQuotesCronRulesReadably(t *testing.T) {
	_, err := rule.Parse(`cron "0 0 30 2 *"`, la)
	const want = "rule `cron \"0 0 30 2 *\"`: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want it to start with %s", err, want)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad rule did not panic")
		}
	}()
	rule.MustParse("dayly 00:00", la)
}

func TestCronCanMatchRareDays(t *testing.T) {
	// Parse accepts expressions that match rarely; Next finds them.
	cases := []struct{ text, from, want string }{
		// 29 February that is a Sunday (day-of-week starts with *: both must match).
		{`cron "0 0 29 2 */7" UTC`, "2026-01-01T00:00:00Z", "2032-02-29T00:00:00Z"},
		{`cron "0 0 31 * */7" UTC`, "2026-01-01T00:00:00Z", "2026-05-31T00:00:00Z"},
	}
	for _, c := range cases {
		r := rule.MustParse(c.text, la)
		if got := utc(r.Next(at(t, c.from))); got != c.want {
			t.Errorf("%s: Next(%s) = %s, want %s", c.text, c.from, got, c.want)
		}
	}
}
