package rule_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad/rule"
)

func benchmarkNext(b *testing.B, text string) {
	r := rule.MustParse(text, la)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Instants spread over about three years, so zone lookups are not
		// all served by one cached period.
		t := t0.Add(time.Duration(i%100003) * 977 * time.Second)
		if r.Next(t).IsZero() {
			b.Fatal("zero")
		}
		i++
	}
}

func BenchmarkNextDaily(b *testing.B)  { benchmarkNext(b, "daily 00:00 America/Los_Angeles") }
func BenchmarkNextWeekly(b *testing.B) { benchmarkNext(b, "weekly mon 09:00 Europe/Berlin") }
func BenchmarkNextMonthlyLast(b *testing.B) {
	benchmarkNext(b, "monthly last 23:30 America/Los_Angeles")
}
func BenchmarkNextEvery(b *testing.B) { benchmarkNext(b, "every 1h") }
func BenchmarkNextCron(b *testing.B)  { benchmarkNext(b, `cron "0 2 * * *" America/Los_Angeles`) }
func BenchmarkNextCronBusy(b *testing.B) {
	benchmarkNext(b, `cron "*/15 9-17 * * mon-fri" America/New_York`)
}
func BenchmarkNextCronRare(b *testing.B) { benchmarkNext(b, `cron "0 0 29 2 *" UTC`) }
func BenchmarkNextCronRarest(b *testing.B) {
	benchmarkNext(b, `cron "0 0 29 2 */7" UTC`) // 29 February that is a Sunday
}

func BenchmarkPrevDaily(b *testing.B) {
	r := rule.MustParse("daily 00:00 America/Los_Angeles", la)
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		r.Prev(t)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rule.Parse(`cron "*/15 9-17 * * mon-fri" America/New_York`, la); err != nil {
			b.Fatal(err)
		}
	}
}
