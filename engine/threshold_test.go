package engine_test

import (
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
