package rule_test

import (
	"fmt"
	"time"

	"github.com/quotad/quotad/rule"
)

func Example() {
	la, _ := time.LoadLocation("America/Los_Angeles")
	r, err := rule.Parse("daily 02:30", la) // no zone: the default applies
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// 02:30 does not exist on 8 March 2026 in Los Angeles: the reset
	// happens at the first instant after the gap.
	t := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	for range 3 {
		t = r.Next(t)
		fmt.Println(t.Format("Mon 2006-01-02 15:04 MST"), "=", t.UTC().Format(time.RFC3339))
	}
	// Output:
	// daily 02:30 America/Los_Angeles
	// Sun 2026-03-08 03:00 PDT = 2026-03-08T10:00:00Z
	// Mon 2026-03-09 02:30 PDT = 2026-03-09T09:30:00Z
	// Tue 2026-03-10 02:30 PDT = 2026-03-10T09:30:00Z
}

func ExampleParse_error() {
	_, err := rule.Parse("dayly 00:00", time.UTC)
	fmt.Println(err)
	// Output:
	// rule "dayly 00:00": unknown kind "dayly"; expected one of: daily HH:MM [TZ], weekly DAY HH:MM [TZ], monthly D|last HH:MM [TZ], every DURATION, cron "EXPR" [TZ]
}

func ExampleRule_Prev() {
	r := rule.MustParse("monthly last 23:30 UTC", nil)
	now := time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)
	fmt.Println("period started", r.Prev(now).Format(time.RFC3339))
	fmt.Println("period ends   ", r.Next(now).Format(time.RFC3339))
	// Output:
	// period started 2026-02-28T23:30:00Z
	// period ends    2026-03-31T23:30:00Z
}
