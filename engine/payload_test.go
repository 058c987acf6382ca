package engine_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// The events the engine writes carry the typed payloads their readers
// (metrics, notifications, the console) decode: an exhaustion, the pauses
// it causes, and the resets that end it.
func TestEventsCarryTypedPayloads(t *testing.T) {
	f := newFixture(t, time.Date(2026, 3, 7, 12, 0, 0, 0, la), map[string][]string{"Shorts": {"youtube"}})
	var evs []quotad.Event
	defer f.e.Subscribe(func(b []quotad.Event) { evs = append(evs, b...) })()

	if _, err := f.e.Spend(f.ctx, "youtube", 10000, "Shorts"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Reset(f.ctx, "youtube"); err != nil {
		t.Fatal(err)
	}
	var exhausted, paused, refilled bool
	for _, ev := range evs {
		if x, ok := ev.Exhaustion(); ok {
			exhausted = x.API == "youtube" && len(x.Windows) == 1 && x.Windows[0] == "daily" && !x.Until.IsZero()
		}
		if p, ok := ev.Paused(); ok && ev.Channel == "Shorts" {
			paused = p.Reason == quotad.QuotaReason("youtube") && p.API == "youtube"
		}
		if r, ok := ev.Refill(); ok {
			refilled = r.API == "youtube" && r.Trigger == quotad.TriggerManual
		}
	}
	if !exhausted || !paused || !refilled {
		t.Fatalf("exhaustion %v, quota pause %v, manual refill %v in %d events", exhausted, paused, refilled, len(evs))
	}
	if c := f.e.Counters(); c.Exhaustions["youtube"] != 1 || c.Resets["youtube"] != 1 {
		t.Fatalf("counters: exhaustions %v, resets %v", c.Exhaustions, c.Resets)
	}
}
