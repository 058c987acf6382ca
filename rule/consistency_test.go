package rule_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/quotad/quotad/rule"
)

// consistencyRules are checked at many instants by TestNextPrevConsistency.
var consistencyRules = []string{
	"daily 00:00 America/Los_Angeles",
	"daily 02:30 America/Los_Angeles",
	"daily 01:30 America/Los_Angeles",
	"daily 00:00 America/Santiago", // midnight does not exist one day a year
	"daily 02:30 Europe/Berlin",
	"daily 02:15 Australia/Lord_Howe", // a half-hour change
	"daily 00:00 Pacific/Apia",        // skipped 30 December 2011
	"daily 23:59 Asia/Tokyo",
	"weekly sun 02:30 America/Los_Angeles",
	"weekly mon 00:00 UTC",
	"monthly 31 00:00 America/Los_Angeles",
	"monthly last 23:30 UTC",
	"monthly 1 02:30 America/Los_Angeles",
	"every 1h",
	"every 90m",
	"every 7d",
	"every 1s",
	`cron "0 2 * * *" America/Los_Angeles`,
	`cron "30 1 * * *" America/Los_Angeles`,
	`cron "*/30 * * * *" America/Los_Angeles`,
	`cron "*/7 1-2 * * *" America/Los_Angeles`,
	`cron "0 0 13 * fri" Europe/Berlin`,
	`cron "0 0 */10 * mon" UTC`,
	`cron "0 0 29 2 *" America/New_York`,
	`cron "15 10 * * 1-5" Australia/Sydney`,
	`cron "@yearly" Asia/Kolkata`,
}

// consistencyInstants returns instants around the 2026 zone changes, a few
// edge cases, and random instants from 1990 to 2060.
func consistencyInstants(t *testing.T) []time.Time {
	var ts []time.Time
	for _, s := range []string{
		"2026-03-08T08:00:00Z", "2026-11-01T07:00:00Z", // Los Angeles
		"2026-03-29T00:00:00Z", "2026-10-25T00:00:00Z", // Berlin
		"2026-04-04T14:00:00Z", "2026-10-03T14:00:00Z", // Sydney, Lord Howe
		"2026-09-05T02:00:00Z", // Santiago
		"2011-12-29T08:00:00Z", // Apia
	} {
		base := at(t, s)
		for m := 0; m < 5*60; m += 7 {
			ts = append(ts, base.Add(time.Duration(m)*time.Minute))
		}
	}
	for _, s := range []string{"2026-11-01T09:00:00Z", "2026-11-01T08:59:59.999999999Z", "2026-03-08T10:00:00Z", "2028-02-29T00:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z",
		"0002-06-02T03:04:05Z", "1883-11-18T20:00:00Z", "3000-06-01T12:00:00Z", "9999-12-31T23:59:59Z"} {
		ts = append(ts, at(t, s))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := at(t, "1990-01-01T00:00:00Z").Unix(), at(t, "2060-01-01T00:00:00Z").Unix()
	for range 300 {
		ts = append(ts, time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)))
	}
	return ts
}

func TestNextPrevConsistency(t *testing.T) {
	ts := consistencyInstants(t)
	for _, text := range consistencyRules {
		r := rule.MustParse(text, la)
		for _, tt := range ts {
			p, n := r.Prev(tt), r.Next(tt)
			switch {
			case p.IsZero() || n.IsZero():
				t.Fatalf("%s at %s: Prev = %v, Next = %v", text, tt, p, n)
			case p.After(tt):
				t.Fatalf("%s at %s: Prev = %s is after t", text, tt, utc(p))
			case !n.After(tt):
				t.Fatalf("%s at %s: Next = %s is not after t", text, tt, utc(n))
			case !r.Next(p).After(p):
				t.Fatalf("%s at %s: Next(Prev) = %s is not after Prev = %s", text, tt, utc(r.Next(p)), utc(p))
			case !r.Next(p).Equal(n):
				t.Fatalf("%s at %s: Next(Prev(t)) = %s, Next(t) = %s: a reset between them", text, tt, utc(r.Next(p)), utc(n))
			case !r.Prev(n).Equal(n):
				t.Fatalf("%s at %s: Prev(Next(t)) = %s, want Next(t) = %s", text, tt, utc(r.Prev(n)), utc(n))
			case !r.Prev(n.Add(-time.Nanosecond)).Equal(p):
				t.Fatalf("%s at %s: Prev(Next(t)-1ns) = %s, want Prev(t) = %s", text, tt, utc(r.Prev(n.Add(-time.Nanosecond))), utc(p))
			}
		}
	}
}

func TestSequence(t *testing.T) {
	daily := map[string]bool{
		"daily 00:00 America/Los_Angeles":       true,
		"daily 02:30 America/Los_Angeles":       true,
		"daily 01:30 America/Los_Angeles":       true,
		"daily 00:00 America/Santiago":          true,
		"daily 02:30 Europe/Berlin":             true,
		"daily 02:15 Australia/Lord_Howe":       true,
		"daily 23:59 Asia/Tokyo":                true,
		`cron "0 2 * * *" America/Los_Angeles`:  true,
		`cron "30 1 * * *" America/Los_Angeles`: true,
	}
	start := at(t, "2026-01-01T00:00:00Z")
	for _, text := range consistencyRules {
		r := rule.MustParse(text, la)
		prev := start
		var lastDay time.Time
		for i := range 400 {
			n := r.Next(prev)
			if !n.After(prev) {
				t.Fatalf("%s: instant %d = %s is not after %s", text, i, utc(n), utc(prev))
			}
			if daily[text] {
				y, m, d := n.In(r.Location()).Date()
				day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
				if i > 0 && !day.Equal(lastDay.AddDate(0, 0, 1)) {
					t.Fatalf("%s: instant %d = %s falls on local day %s, want the day after %s",
						text, i, utc(n), day.Format(time.DateOnly), lastDay.Format(time.DateOnly))
				}
				lastDay = day
			}
			prev = n
		}
	}
}
