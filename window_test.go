package quotad_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// hourly is a Schedule of every whole hour (UTC).
type hourly struct{}

func (hourly) Prev(t time.Time) time.Time { return t.Truncate(time.Hour) }
func (hourly) Next(t time.Time) time.Time { return t.Truncate(time.Hour).Add(time.Hour) }

func TestWindowAdvance(t *testing.T) {
	at := func(hm string) time.Time {
		v, err := time.Parse("15:04", hm)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 3, 8, v.Hour(), v.Minute(), 0, 0, time.UTC)
	}
	spent := quotad.Window{Limit: 10, Used: 10, LastReset: at("10:00"), NextReset: at("11:00"), Exhausted: true, ExhaustedAt: at("10:30")}
	serving := quotad.Window{Limit: 10, Used: 4, LastReset: at("10:00"), NextReset: at("11:00")}
	blocked := func(until time.Time, used int64) quotad.Window {
		w := spent
		w.Used, w.BlockedUntil = used, until
		return w
	}
	tests := []struct {
		name string
		w    quotad.Window
		now  time.Time
		step quotad.TimerStep
		want quotad.Window
		was  bool      // WasExhausted
		due  time.Time // Due of a reset
	}{
		{"nothing due", serving, at("10:59"), quotad.TimerNone, serving, false, time.Time{}},
		{"no next reset yet: scheduled", quotad.Window{Limit: 10}, at("10:20"), quotad.TimerScheduled,
			quotad.Window{Limit: 10, NextReset: at("11:00")}, false, time.Time{}},
		{"reset of a serving window", serving, at("11:00"), quotad.TimerReset,
			quotad.Window{Limit: 10, LastReset: at("11:00"), NextReset: at("12:00")}, false, at("11:00")},
		{"reset of an exhausted window makes it available", spent, at("11:00"), quotad.TimerReset,
			quotad.Window{Limit: 10, LastReset: at("11:00"), NextReset: at("12:00")}, true, at("11:00")},
		{"missed resets apply once, at the latest instant", spent, at("14:25"), quotad.TimerReset,
			quotad.Window{Limit: 10, LastReset: at("14:00"), NextReset: at("15:00")}, true, at("14:00")},
		{"a reset while the provider still blocks keeps it exhausted", blocked(at("11:30"), 10), at("11:00"), quotad.TimerReset,
			quotad.Window{Limit: 10, LastReset: at("11:00"), NextReset: at("12:00"), Exhausted: true, ExhaustedAt: at("10:30"), BlockedUntil: at("11:30")}, true, at("11:00")},
		{"the provider's retry time passes: available", blocked(at("10:45"), 3), at("10:45"), quotad.TimerUnblocked,
			quotad.Window{Limit: 10, Used: 3, LastReset: at("10:00"), NextReset: at("11:00")}, false, time.Time{}},
		{"the retry time passes but the count is spent: exhausted until the reset", blocked(at("10:45"), 10), at("10:50"), quotad.TimerBlockEnded,
			quotad.Window{Limit: 10, Used: 10, LastReset: at("10:00"), NextReset: at("11:00"), Exhausted: true, ExhaustedAt: at("10:30")}, false, time.Time{}},
		{"a retry time ahead: nothing", blocked(at("10:45"), 3), at("10:44"), quotad.TimerNone, blocked(at("10:45"), 3), false, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			adv := w.Advance(hourly{}, tc.now)
			if adv.Step != tc.step || adv.WasExhausted != tc.was || !adv.Due.Equal(tc.due) {
				t.Errorf("Advance = %+v, want step %d, was exhausted %v, due %v", adv, tc.step, tc.was, tc.due)
			}
			if w != tc.want {
				t.Errorf("window after Advance:\n got %+v\nwant %+v", w, tc.want)
			}
			again := w
			if adv := again.Advance(hourly{}, tc.now); adv.Step != quotad.TimerNone || again != w {
				t.Errorf("a second Advance at the same instant changed something: %+v", adv)
			}
		})
	}

	// The clock stepped back past the rule: the stored instant is kept.
	w := quotad.Window{Limit: 10, Used: 5, NextReset: at("11:00")}
	stepBack := schedule{prev: at("10:00"), next: at("11:00")}
	if adv := w.Advance(stepBack, at("11:00")); adv.Step != quotad.TimerReset || !adv.Due.Equal(at("11:00")) || !w.LastReset.Equal(at("11:00")) {
		t.Errorf("Advance with a rule behind the stored reset = %+v, window %+v", adv, w)
	}
}

// schedule is a Schedule of fixed answers.
type schedule struct{ prev, next time.Time }

func (s schedule) Prev(time.Time) time.Time { return s.prev }
func (s schedule) Next(time.Time) time.Time { return s.next }

func TestWindowExhaustReleaseReset(t *testing.T) {
	t0 := time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC)
	w := quotad.Window{Limit: 10, Used: 10, NextReset: t0.Add(time.Hour)}
	if !w.Exhaust(time.Time{}, t0) || !w.Exhausted || !w.ExhaustedAt.Equal(t0) || !w.BlockedUntil.IsZero() {
		t.Fatalf("first Exhaust: %+v", w)
	}
	if w.Exhaust(t0.Add(30*time.Minute), t0.Add(time.Minute)) || !w.ExhaustedAt.Equal(t0) || !w.BlockedUntil.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("a second Exhaust must only move the retry time: %+v", w)
	}
	if w.Release() {
		t.Fatal("Release freed a window a provider's retry time holds")
	}
	count := quotad.Window{Limit: 10, Used: 10, Exhausted: true, ExhaustedAt: t0}
	if count.Release() {
		t.Fatal("Release freed a window whose count is spent")
	}
	count.Limit = 20 // a raised limit
	if !count.Release() || count.Exhausted || !count.ExhaustedAt.IsZero() {
		t.Fatalf("Release after a raised limit: %+v", count)
	}
	if count.Release() {
		t.Fatal("Release of an available window reported a change")
	}
	w.Reset(t0.Add(2 * time.Minute))
	if w.Used != 0 || w.Exhausted || !w.BlockedUntil.IsZero() || !w.LastReset.Equal(t0.Add(2*time.Minute)) || !w.NextReset.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a person's Reset: %+v", w)
	}
	n := quotad.Window{Limit: 5, Used: 3, Reserved: 2, Exhausted: true, BlockedUntil: t0}
	n.Start(hourly{}, t0.Add(10*time.Minute))
	if n != (quotad.Window{Limit: 5, LastReset: t0, NextReset: t0.Add(time.Hour)}) {
		t.Fatalf("after Start: %+v", n)
	}
}
