package clock

import (
	"sync"
	"time"
)

// Fake is a manually driven clock. Timers fire when Advance or Set moves the
// time to or past their deadline. The zero Fake is not usable; call NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever a timer is added
}

// NewFake returns a fake clock reading t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake time reaches Now()+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), c: make(chan time.Time, 1), active: true}
	if d <= 0 {
		t.fire(f.now)
	} else {
		f.timers = append(f.timers, t)
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return t
}

// Advance moves the time forward by d, firing due timers.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the time to t, which may be earlier than now (a clock step
// back). Timers whose deadline is at or before t fire.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	kept := f.timers[:0]
	for _, tm := range f.timers {
		if !tm.active {
			continue
		}
		if !tm.at.After(t) {
			tm.fire(t)
			continue
		}
		kept = append(kept, tm)
	}
	f.timers = kept
}

// Timers returns how many timers are waiting.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.timers {
		if t.active {
			n++
		}
	}
	return n
}

// TimerAdded returns a channel closed the next time a timer is created, so a
// test can wait for a loop to go back to sleep without sleeping itself.
func (f *Fake) TimerAdded() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

type fakeTimer struct {
	f      *Fake
	at     time.Time
	c      chan time.Time
	active bool
}

func (t *fakeTimer) fire(now time.Time) {
	t.active = false
	select {
	case t.c <- now:
	default:
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	t.active = false
	return was
}
