package rule_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad/rule"
)

// In 2026 Los Angeles springs forward on 8 March (02:00 PST becomes 03:00
// PDT at 10:00Z) and falls back on 1 November (02:00 PDT becomes 01:00 PST
// at 09:00Z). Berlin: 29 March (02:00 CET → 03:00 CEST at 01:00Z) and 25
// October (03:00 CEST → 02:00 CET at 01:00Z). Sydney, in the southern
// hemisphere: 5 April (03:00 AEDT → 02:00 AEST at 16:00Z the day before) and
// 4 October (02:00 AEST → 03:00 AEDT at 16:00Z the day before).
func TestDST(t *testing.T) {
	cases := []nextCase{
		// daily 00:00: the 23-hour and the 25-hour day.
		{"daily 00:00 America/Los_Angeles", "2026-03-06T12:00:00Z", []string{
			"2026-03-07T08:00:00Z", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", "2026-03-10T07:00:00Z"}},
		{"daily 00:00 America/Los_Angeles", "2026-10-30T12:00:00Z", []string{
			"2026-10-31T07:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00Z"}},
		// daily 02:30: does not exist on 8 March: first instant after the gap, 03:00 PDT.
		{"daily 02:30 America/Los_Angeles", "2026-03-07T00:00:00Z", []string{
			"2026-03-07T10:30:00Z", "2026-03-08T10:00:00Z", "2026-03-09T09:30:00Z"}},
		{"daily 02:30 America/Los_Angeles", "2026-10-31T00:00:00Z", []string{
			"2026-10-31T09:30:00Z", "2026-11-01T10:30:00Z", "2026-11-02T10:30:00Z"}},
		// daily 01:30: exists twice on 1 November: only the first (PDT) counts.
		{"daily 01:30 America/Los_Angeles", "2026-03-07T00:00:00Z", []string{
			"2026-03-07T09:30:00Z", "2026-03-08T09:30:00Z", "2026-03-09T08:30:00Z"}},
		{"daily 01:30 America/Los_Angeles", "2026-10-31T00:00:00Z", []string{
			"2026-10-31T08:30:00Z", "2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z"}},
		{"daily 01:30 America/Los_Angeles", "2026-11-01T09:15:00Z", []string{"2026-11-02T09:30:00Z"}}, // from 01:15 PST
		// cron, the same rules minute by minute.
		{`cron "0 2 * * *" America/Los_Angeles`, "2026-03-07T00:00:00Z", []string{
			"2026-03-07T10:00:00Z", "2026-03-08T10:00:00Z", "2026-03-09T09:00:00Z"}},
		{`cron "0 2 * * *" America/Los_Angeles`, "2026-10-31T00:00:00Z", []string{
			"2026-10-31T09:00:00Z", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"}},
		{`cron "30 1 * * *" America/Los_Angeles`, "2026-03-07T00:00:00Z", []string{
			"2026-03-07T09:30:00Z", "2026-03-08T09:30:00Z", "2026-03-09T08:30:00Z"}},
		{`cron "30 1 * * *" America/Los_Angeles`, "2026-10-31T00:00:00Z", []string{
			"2026-10-31T08:30:00Z", "2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z"}},
		// */30 in spring: 02:00 and 02:30 do not exist; both, and 03:00, are 10:00Z.
		{`cron "*/30 * * * *" America/Los_Angeles`, "2026-03-08T09:00:00Z", []string{
			"2026-03-08T09:30:00Z", "2026-03-08T10:00:00Z", "2026-03-08T10:30:00Z", "2026-03-08T11:00:00Z"}},
		// */30 in autumn: 01:00 and 01:30 PST repeat 01:00 and 01:30 PDT and
		// are skipped (first occurrence only), so 08:30Z is followed by 10:00Z.
		{`cron "*/30 * * * *" America/Los_Angeles`, "2026-11-01T07:45:00Z", []string{
			"2026-11-01T08:00:00Z", "2026-11-01T08:30:00Z", "2026-11-01T10:00:00Z", "2026-11-01T10:30:00Z"}},
		// weekly across the changes (both are Sundays).
		{"weekly sun 02:30 America/Los_Angeles", "2026-03-01T00:00:00Z", []string{
			"2026-03-01T10:30:00Z", "2026-03-08T10:00:00Z", "2026-03-15T09:30:00Z"}},
		{"weekly sun 01:30 America/Los_Angeles", "2026-10-20T00:00:00Z", []string{
			"2026-10-25T08:30:00Z", "2026-11-01T08:30:00Z", "2026-11-08T09:30:00Z"}},
		{"weekly mon 09:00 America/Los_Angeles", "2026-03-01T00:00:00Z", []string{
			"2026-03-02T17:00:00Z", "2026-03-09T16:00:00Z"}},
		{"weekly mon 09:00 America/Los_Angeles", "2026-10-27T00:00:00Z", []string{
			"2026-11-02T17:00:00Z"}},
		// Europe.
		{"daily 02:30 Europe/Berlin", "2026-03-27T12:00:00Z", []string{
			"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"daily 02:30 Europe/Berlin", "2026-10-23T12:00:00Z", []string{
			"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		// Southern hemisphere: Sydney falls back in April and springs forward in October.
		{"daily 02:30 Australia/Sydney", "2026-04-03T00:00:00Z", []string{
			"2026-04-03T15:30:00Z", "2026-04-04T15:30:00Z", "2026-04-05T16:30:00Z"}},
		{"daily 02:30 Australia/Sydney", "2026-10-02T00:00:00Z", []string{
			"2026-10-02T16:30:00Z", "2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"}},
		{`cron "0 2 * * sun" Australia/Sydney`, "2026-09-28T00:00:00Z", []string{
			"2026-10-03T16:00:00Z", "2026-10-10T15:00:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.rule+" from "+c.from, func(t *testing.T) { checkNext(t, c) })
	}
}

// TestGoTimeDateDiffers documents why the package does not use time.Date:
// it puts a nonexistent 02:30 at 03:30 PDT, half an hour past the gap.
func TestGoTimeDateDiffers(t *testing.T) {
	naive := time.Date(2026, 3, 8, 2, 30, 0, 0, la)
	if utc(naive) != "2026-03-08T10:30:00Z" {
		t.Skipf("time.Date now gives %s", utc(naive))
	}
	r := rule.MustParse("daily 02:30", la)
	if got := utc(r.Next(at(t, "2026-03-08T09:00:00Z"))); got != "2026-03-08T10:00:00Z" {
		t.Errorf("Next = %s, want 2026-03-08T10:00:00Z", got)
	}
}

// TestAgainstBruteForce compares Next with an independent minute-by-minute
// oracle around zone changes, including Lord Howe's half-hour change,
// midnight changes (Santiago, Havana) and Samoa's skipped day in 2011. The
// oracle: an instant u fires when some wall time w named by the rule has
// maxWall(before u) < w <= wall(u), where maxWall is the latest wall clock
// reading seen before u.
func TestAgainstBruteForce(t *testing.T) {
	type span struct{ zone, from string }
	spans := []span{
		{"America/Los_Angeles", "2026-03-07T00:00:00Z"},
		{"America/Los_Angeles", "2026-10-31T00:00:00Z"},
		{"Europe/Berlin", "2026-03-28T00:00:00Z"},
		{"Europe/Berlin", "2026-10-24T00:00:00Z"},
		{"Australia/Lord_Howe", "2026-04-03T00:00:00Z"},
		{"Australia/Lord_Howe", "2026-10-02T00:00:00Z"},
		{"America/Santiago", "2026-09-04T12:00:00Z"},
		{"America/Santiago", "2026-04-03T12:00:00Z"},
		{"America/Havana", "2026-03-07T00:00:00Z"},
		{"America/Havana", "2026-10-31T00:00:00Z"},
		{"Pacific/Apia", "2011-12-28T00:00:00Z"},
	}
	type ruleCase struct {
		text  string                 // rule text without zone
		match func(t time.Time) bool // t is a wall time in UTC form
	}
	rules := []ruleCase{
		{"daily 00:00", func(w time.Time) bool { return w.Hour() == 0 && w.Minute() == 0 }},
		{"daily 00:30", func(w time.Time) bool { return w.Hour() == 0 && w.Minute() == 30 }},
		{"daily 01:30", func(w time.Time) bool { return w.Hour() == 1 && w.Minute() == 30 }},
		{"daily 02:00", func(w time.Time) bool { return w.Hour() == 2 && w.Minute() == 0 }},
		{"daily 02:30", func(w time.Time) bool { return w.Hour() == 2 && w.Minute() == 30 }},
		{"daily 23:45", func(w time.Time) bool { return w.Hour() == 23 && w.Minute() == 45 }},
		{"weekly sun 02:15", func(w time.Time) bool { return w.Weekday() == time.Sunday && w.Hour() == 2 && w.Minute() == 15 }},
		{`cron "*/30 * * * *"`, func(w time.Time) bool { return w.Minute()%30 == 0 }},
		{`cron "*/7 0-3 * * *"`, func(w time.Time) bool { return w.Minute()%7 == 0 && w.Hour() <= 3 }},
		{`cron "15,45 * * * *"`, func(w time.Time) bool { return w.Minute() == 15 || w.Minute() == 45 }},
		{`cron "0 2 * * *"`, func(w time.Time) bool { return w.Hour() == 2 && w.Minute() == 0 }},
		{`cron "30 1 * * *"`, func(w time.Time) bool { return w.Hour() == 1 && w.Minute() == 30 }},
		{`cron "0 0 30 12 *"`, func(w time.Time) bool { return w.Month() == 12 && w.Day() == 30 && w.Hour() == 0 && w.Minute() == 0 }},
	}
	for _, sp := range spans {
		loc := mustZone(sp.zone)
		wall := func(u time.Time) int64 {
			_, off := u.In(loc).Zone()
			return u.Unix() + int64(off)
		}
		start := at(t, sp.from)
		end := start.Add(72 * time.Hour)
		for _, rc := range rules {
			r := rule.MustParse(rc.text+" "+sp.zone, la)
			// The oracle's firing instants in [start, end).
			var want []string
			maxWall := wall(start.Add(-time.Minute))
			for u := start.Add(-48 * time.Hour); u.Before(start); u = u.Add(time.Minute) {
				maxWall = max(maxWall, wall(u))
			}
			for u := start; u.Before(end); u = u.Add(time.Minute) {
				wu := wall(u)
				fires := false
				for w := (maxWall/60 + 1) * 60; w <= wu; w += 60 {
					if rc.match(time.Unix(w, 0).UTC()) {
						fires = true
						break
					}
				}
				if fires {
					want = append(want, utc(u))
				}
				maxWall = max(maxWall, wu)
			}
			// Next from just before start.
			var got []string
			for n := r.Next(start.Add(-time.Second)); n.Before(end); n = r.Next(n) {
				got = append(got, utc(n))
			}
			if len(got) != len(want) {
				t.Errorf("%s %s from %s: Next gives %d instants, oracle %d:\n got %v\nwant %v", rc.text, sp.zone, sp.from, len(got), len(want), got, want)
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s %s from %s: instant %d = %s, oracle %s", rc.text, sp.zone, sp.from, i, got[i], want[i])
					break
				}
			}
		}
	}
}
