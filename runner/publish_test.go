//go:build unix

package runner_test

import (
	"testing"

	"github.com/quotad/quotad"
)

// A run's event is written through the engine, so the daemon's own
// subscribers (live streams, the console, counters) see it at once, not
// only the next read of the log.
func TestRunEventReachesEngineSubscribers(t *testing.T) {
	f := newFixture(t, start12, accountConfig(5, `echo fine`))
	n := f.node("a", nil)
	got := make(chan quotad.Event, 16)
	unsubscribe := n.e.Subscribe(func(evs []quotad.Event) {
		for _, ev := range evs {
			if ev.Category == quotad.CategoryJob {
				select {
				case got <- ev:
				default:
				}
			}
		}
	})
	defer unsubscribe()
	if res, err := n.r.RunOnce(n.ctx, "Writer", false, nil); err != nil || !res.OK() {
		t.Fatalf("run: %+v %v", res, err)
	}
	select {
	case ev := <-got:
		if ev.Channel != "Writer" {
			t.Fatalf("job event of channel %q, want Writer", ev.Channel)
		}
	default:
		t.Fatal("the run's event never reached the engine's subscribers (it bypassed publish)")
	}
	if evs := n.jobEvents("Writer"); len(evs) != 1 {
		t.Fatalf("%d job events stored, want 1 (written once)", len(evs))
	}
}
