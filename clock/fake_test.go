package clock_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad/clock"
)

func TestFakeTimersFireWhenTimeReachesThem(t *testing.T) {
	start := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	f := clock.NewFake(start)
	a, b := f.NewTimer(time.Second), f.NewTimer(time.Hour)
	stopped := f.NewTimer(time.Minute)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-a.C():
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Millisecond)
	if got := <-a.C(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("fired with %v", got)
	}
	f.Set(start.Add(-time.Hour)) // a step back fires nothing
	if f.Timers() != 1 {
		t.Fatalf("%d timers waiting, want 1", f.Timers())
	}
	added := f.TimerAdded()
	f.NewTimer(0)
	select {
	case <-added:
	default:
		t.Fatal("TimerAdded not signalled")
	}
	f.Set(start.Add(2 * time.Hour))
	<-b.C()
	select {
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
}
