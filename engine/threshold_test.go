package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// A spend that carries a window to its limit says so with the exhaustion
// alone; the "passed 80%/95%" events are for windows still serving.
func TestThresholdEventsNotBesideExhaustion(t *testing.T) {
	cases := []struct {
		name   string
		spends []int64 // youtube: 10,000 units a day
		want   []string
	}{
		{"straight to exhaustion", []int64{10000}, nil},
		{"from 85% to exhaustion", []int64{8500, 1500}, []string{"80"}},
		{"to 96%", []int64{9600}, []string{"80", "95"}},
		{"to 80%, then 95%", []int64{8000, 1500}, []string{"80", "95"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, time.Date(2026, 1, 11, 12, 0, 0, 0, la), map[string][]string{"Shorts": {"youtube"}})
			for _, u := range c.spends {
				if _, err := f.e.Spend(f.ctx, "youtube", u, "Shorts"); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			evs := f.events(quotad.CategoryThreshold)
			for i := len(evs) - 1; i >= 0; i-- {
				got = append(got, evs[i].Fields["threshold"])
			}
			if len(got) != len(c.want) || (len(got) > 0 && (got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1])) {
				t.Fatalf("threshold events %v, want %v", got, c.want)
			}
		})
	}
}

// A timer reset of a window that was serving writes no event (a per-minute
// window would write 1,440 a day) but is counted; the reset of an exhausted
// window is news, and its message names the window when the API has more
// than one.
func TestQuietTimerResets(t *testing.T) {
	start := time.Date(2026, 1, 11, 12, 0, 30, 0, la)
	f := newFixtureWith(t, start, func(apis []quotad.API) {
		for i := range apis {
			if apis[i].Name == "groq" {
				apis[i].Windows = append(apis[i].Windows, quotad.Window{Name: "rpm", Limit: 30, Rule: "every 1m"})
			}
		}
	}, []quotad.Channel{{Name: "Writer", APIs: []string{"groq"}}})
	if _, err := f.e.Spend(f.ctx, "groq", 5, "Writer"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(start.Add(time.Minute))
	if r := f.tick(); len(r.Resets) != 1 || r.Resets[0] != "groq/rpm" {
		t.Fatalf("resets %v", r.Resets)
	}
	if evs := f.events(quotad.CategoryQuotaReset); len(evs) != 0 {
		t.Fatalf("a reset of a window that was serving wrote %d events: %q", len(evs), evs[0].Message)
	}
	if n := f.e.Counters().Resets["groq"]; n != 1 {
		t.Fatalf("resets counted %d, want 1", n)
	}
	if _, err := f.e.Spend(f.ctx, "groq", 30, "Writer"); err != nil { // exhausts rpm
		t.Fatal(err)
	}
	f.clock.Set(start.Add(2 * time.Minute))
	f.tick()
	evs := f.events(quotad.CategoryQuotaReset)
	if len(evs) != 1 || !strings.HasPrefix(evs[0].Message, "GROQ rpm quota reset at ") {
		t.Fatalf("reset of the exhausted window: %v", evs)
	}
	if n := f.e.Counters().Resets["groq"]; n != 2 {
		t.Fatalf("resets counted %d, want 2", n)
	}
}
