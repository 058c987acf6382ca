package rule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// fuzzInstants are where FuzzParse checks Next and Prev: zone changes,
// month and year ends, the epoch, and fractions of a second.
var fuzzInstants = []string{
	"2026-01-01T00:00:00Z",
	"2026-03-08T09:59:59.5Z",
	"2026-03-08T10:00:00Z",
	"2026-11-01T08:45:00Z",
	"2026-11-01T09:30:00Z",
	"2028-02-29T23:59:59Z",
	"2026-12-31T23:59:59.999999999Z",
	"1970-01-01T00:00:00Z",
	"1969-12-31T23:59:59.5Z",
	"2011-12-30T10:00:00Z",
	"2099-06-15T12:00:00Z",
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"daily 00:00", "daily 02:30 America/Los_Angeles", "daily 7:05 PT", "DAILY 23:59 Europe/Berlin",
		"weekly mon 09:00", "weekly Sunday 02:30 ET", "monthly 31 00:00", "monthly last 23:30 UTC",
		"monthly 1 02:30 Australia/Sydney", "every 1h", "every 90m", "every 1d12h", "every 1s", "every 0.5d",
		`cron "0 2 * * *"`, `cron "30 1 * * *" PT`, `cron "*/30 * * * *" America/Los_Angeles`,
		`cron "10-50/20 9-17 * jan-mar mon-fri" UTC`, `cron "0 0 13 * fri"`, `cron "0 0 */10 * mon"`,
		`cron "0 0 29 2 *"`, `cron "@weekly" Pacific/Apia`, `cron "5/15 */2 1,15 * 7"`, `cron "0 0 29 2 */7"`,
		"dayly 00:00", "daily 24:00", "weekly fun 00:00", "monthly 32 00:00", "daily 00:00 Mars/Olympus",
		"every 1h UTC", "every 1.5s", "cron 0 2 * * *", `cron "0 2 * *"`, `cron "0 0 30 2 *"`, `cron "*/0 * * * *"`,
		`cron "0 2 * * *"UTC`, "", " ", "every 9223372036s", `cron "@reboot"`, "daily 00:00 Local",
	} {
		f.Add(s)
	}
	var instants []time.Time
	for _, s := range fuzzInstants {
		instants = append(instants, at(f, s))
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := rule.Parse(text, la)
		if err != nil {
			if !errors.Is(err, quotad.ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", text, err)
			}
			if !strings.HasPrefix(err.Error(), "rule ") {
				t.Fatalf("Parse(%q): error %q does not name the rule", text, err)
			}
			return
		}
		s := r.String()
		again, err := rule.Parse(s, time.UTC)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", text, s, err)
		}
		if again != r || again.String() != s {
			t.Fatalf("Parse(%q).String() = %q parses to %q, a different rule", text, s, again)
		}
		for _, tt := range instants {
			n, p := r.Next(tt), r.Prev(tt)
			if !n.After(tt) {
				t.Fatalf("%q: Next(%s) = %s, not after", s, tt, n)
			}
			if p.IsZero() || p.After(tt) {
				t.Fatalf("%q: Prev(%s) = %s, after or zero", s, tt, p)
			}
			if !r.Prev(n).Equal(n) {
				t.Fatalf("%q: Prev(Next(%s)) = %s, want %s", s, tt, r.Prev(n), n)
			}
			if !r.Next(p).Equal(n) {
				t.Fatalf("%q: Next(Prev(%s)) = %s, want Next = %s", s, tt, r.Next(p), n)
			}
		}
	})
}

// FuzzNext checks Next and Prev of valid rules at arbitrary instants from
// 1800 to 2200.
func FuzzNext(f *testing.F) {
	for i, s := range consistencyRules {
		f.Add(s, int64(1772956800+i*3607), int32(i)) // from 2026-03-08
		f.Add(s, int64(1793519999-i*1801), int32(0)) // to 2026-11-01 09:00Z
	}
	lo, span := at(f, "1800-01-01T00:00:00Z").Unix(), int64(400*365*86400)
	f.Fuzz(func(t *testing.T, text string, sec int64, nsec int32) {
		r, err := rule.Parse(text, la)
		if err != nil {
			return
		}
		tt := time.Unix(lo+(sec%span+span)%span, int64(nsec)%1e9)
		n, p := r.Next(tt), r.Prev(tt)
		switch {
		case !n.After(tt):
			t.Fatalf("%q: Next(%s) = %s, not after", r, tt, n)
		case p.After(tt):
			t.Fatalf("%q: Prev(%s) = %s, after", r, tt, p)
		case !r.Prev(n).Equal(n):
			t.Fatalf("%q: Prev(Next(%s)) = %s, want %s", r, tt, r.Prev(n), n)
		case !r.Next(p).Equal(n):
			t.Fatalf("%q: Next(Prev(%s)) = %s, want Next = %s", r, tt, r.Next(p), n)
		case !r.Prev(n.Add(-time.Nanosecond)).Equal(p):
			t.Fatalf("%q: Prev(Next(%s)-1ns) = %s, want Prev = %s", r, tt, r.Prev(n.Add(-time.Nanosecond)), p)
		}
	})
}
