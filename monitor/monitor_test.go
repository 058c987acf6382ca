package monitor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/monitor"
	"github.com/quotad/quotad/store/sqlite"
)

// harness runs a Monitor on a fake clock and lets the test wait for its
// passes instead of sleeping.
type harness struct {
	t      *testing.T
	ctx    context.Context
	e      *engine.Engine
	st     *sqlite.Store
	clock  *clock.Fake
	passes chan engine.TickResult
	done   chan struct{}
}

func start(t *testing.T, at time.Time, chans []quotad.Channel) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(at)
	cfg := config.DefaultConfig()
	e := engine.New(st, engine.Options{Clock: fc, Location: cfg.Location()})
	apis, _ := cfg.Domain()
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, e: e, st: st, clock: fc, passes: make(chan engine.TickResult, 100), done: make(chan struct{})}
	m := monitor.New(e, monitor.Options{SafetyTick: time.Hour, PollInterval: time.Second, OnPass: func(r engine.TickResult, err error) {
		if err != nil {
			t.Errorf("pass: %v", err)
		}
		h.passes <- r
	}})
	go func() { defer close(h.done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-h.done; e.Close(); st.Close() })
	h.pass() // start-up catch-up
	return h
}

func (h *harness) pass() engine.TickResult {
	h.t.Helper()
	select {
	case r := <-h.passes:
		return r
	case <-time.After(10 * time.Second):
		h.t.Fatal("monitor made no pass")
		return engine.TickResult{}
	}
}

// sleeping waits until the monitor is asleep on a timer.
func (h *harness) sleeping() {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		added := h.clock.TimerAdded()
		if h.clock.Timers() > 0 {
			return
		}
		select {
		case <-added:
		case <-deadline:
			h.t.Fatal("monitor never went to sleep")
		}
	}
}

// advanceTo moves the fake clock in poll-sized steps to target, each step
// taken only once the monitor sleeps, and returns the pass made at target.
func (h *harness) advanceTo(target time.Time) engine.TickResult {
	h.t.Helper()
	for h.clock.Now().Before(target) {
		h.sleeping()
		next := h.clock.Now().Add(time.Second)
		if next.After(target) {
			next = target
		}
		h.clock.Set(next)
	}
	return h.pass()
}

func TestResetByTimerResumesAtTheInstant(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	at := time.Date(2026, 3, 7, 23, 59, 50, 0, la) // the night before the spring DST change
	h := start(t, at, []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq", "youtube", "pexels"}}})
	if _, err := h.e.ReportError(h.ctx, engine.ErrorReport{Channel: "RankRiot", Evidence: classify.Evidence{Message: "YouTube API: quota exceeded"}}); err != nil {
		t.Fatal(err)
	}
	midnight := time.Date(2026, 3, 8, 0, 0, 0, 0, la)
	r := h.advanceTo(midnight)
	if len(r.Resumed) != 1 || r.Resumed[0] != "RankRiot" {
		t.Fatalf("resumed %v", r.Resumed)
	}
	if got := h.clock.Now(); got.Sub(midnight) >= time.Second {
		t.Fatalf("resumed at %v, more than a second after the reset instant %v", got, midnight)
	}
	c, _ := h.e.Channel(h.ctx, "RankRiot")
	if !c.Active {
		t.Fatal("not active")
	}
	y, _ := h.e.API(h.ctx, "youtube")
	if want := time.Date(2026, 3, 9, 0, 0, 0, 0, la); !y.Windows[0].NextReset.Equal(want) {
		t.Fatalf("next reset %v, want %v (a 23-hour day)", y.Windows[0].NextReset, want)
	}
}

func TestMonitorHonoursAnotherProcessesEdit(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	h := start(t, time.Date(2026, 1, 11, 12, 0, 0, 0, la), []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq"}}})
	if _, err := h.e.Pause(h.ctx, "RankRiot", "x"); err != nil {
		t.Fatal(err)
	}
	// Another process (the seed's sqlite3 one-liner) reactivates it.
	if _, err := h.st.DB().Exec("UPDATE channels SET is_active = 1 WHERE name = 'RankRiot'"); err != nil {
		t.Fatal(err)
	}
	h.sleeping()
	h.clock.Advance(time.Second) // one poll interval
	r := h.pass()
	if len(r.Reconciled) != 1 {
		t.Fatalf("reconciled %v after one poll interval", r.Reconciled)
	}
}

func TestStartUpCatchUp(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(time.Date(2026, 1, 11, 18, 30, 0, 0, la))
	e := engine.New(st, engine.Options{Clock: fc})
	apis, _ := config.DefaultConfig().Domain()
	e.Configure(ctx, apis, []quotad.Channel{{Name: "A", APIs: []string{"groq"}}})
	if _, err := e.Spend(ctx, "groq", 100000, "A"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	st.Close()

	// The daemon was down over two midnights; a new one starts.
	h := start2(t, dir+"/q.db", time.Date(2026, 1, 13, 9, 0, 0, 0, la))
	c, _ := h.Channel(ctx, "A")
	if !c.Active {
		t.Fatal("start-up catch-up did not resume A")
	}
}

func start2(t *testing.T, path string, at time.Time) *engine.Engine {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(st, engine.Options{Clock: clock.NewFake(at)})
	passed := make(chan struct{}, 10)
	m := monitor.New(e, monitor.Options{OnPass: func(engine.TickResult, error) { passed <- struct{}{} }})
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	<-passed
	t.Cleanup(func() { cancel(); <-done; e.Close(); st.Close() })
	return e
}

// armingClock is a fake clock that records the deadline of every timer armed
// on it, so a test can see what the monitor sleeps until.
type armingClock struct {
	*clock.Fake
	mu    sync.Mutex
	armed []time.Time
}

func (c *armingClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	c.armed = append(c.armed, c.Fake.Now().Add(d))
	c.mu.Unlock()
	return c.Fake.NewTimer(d)
}

func (c *armingClock) lastArmed() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.armed) == 0 {
		return time.Time{}
	}
	return c.armed[len(c.armed)-1]
}

// TestSleepsUntilTheDueInstant checks that the monitor wakes by a timer armed
// for the earliest next_reset or blocked_until, not by polling: with a poll
// interval of a minute, it arms its timer for the instant itself, does
// nothing a nanosecond before it, and resets and resumes exactly at it.
func TestSleepsUntilTheDueInstant(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	midnight := time.Date(2026, 3, 8, 0, 0, 0, 0, la)
	noon := time.Date(2026, 3, 7, 12, 0, 0, 0, la)
	for _, tc := range []struct {
		name  string
		start time.Time
		err   classify.Evidence
		api   string
		until time.Time
	}{
		{"next_reset", midnight.Add(-10 * time.Second), classify.Evidence{Message: "YouTube API: quota exceeded"}, "youtube", midnight},
		// A provider-stated retry time 17 s away, at noon: blocked_until,
		// not the window's reset at midnight.
		{"blocked_until", noon, classify.Evidence{Message: "groq: Rate limit reached. Please try again in 17s."}, "groq", noon.Add(17 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st, err := sqlite.Open(ctx, t.TempDir()+"/q.db")
			if err != nil {
				t.Fatal(err)
			}
			fc := &armingClock{Fake: clock.NewFake(tc.start)}
			cfg := config.DefaultConfig()
			e := engine.New(st, engine.Options{Clock: fc, Location: cfg.Location()})
			apis, _ := cfg.Domain()
			if _, err := e.Configure(ctx, apis, []quotad.Channel{{Name: "RankRiot", APIs: []string{tc.api}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ReportError(ctx, engine.ErrorReport{Channel: "RankRiot", Evidence: tc.err}); err != nil {
				t.Fatal(err)
			}
			if c, _ := e.Channel(ctx, "RankRiot"); c.Active {
				t.Fatal("the quota error did not pause RankRiot")
			}
			passes := make(chan engine.TickResult, 10)
			m := monitor.New(e, monitor.Options{SafetyTick: time.Hour, PollInterval: time.Minute, OnPass: func(r engine.TickResult, err error) {
				if err != nil {
					t.Errorf("pass: %v", err)
				}
				passes <- r
			}})
			done := make(chan struct{})
			go func() { defer close(done); m.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done; e.Close(); st.Close() })
			h := &harness{t: t, ctx: ctx, e: e, st: st, clock: fc.Fake, passes: passes}
			h.pass() // start-up catch-up: nothing due yet
			h.sleeping()

			if got := fc.lastArmed(); !got.Equal(tc.until) {
				t.Fatalf("the monitor sleeps until %v, want the due instant %v (poll interval 1m)", got.In(la), tc.until.In(la))
			}
			fc.Set(tc.until.Add(-time.Nanosecond))
			select {
			case r := <-passes:
				t.Fatalf("a pass ran before the due instant: %+v", r)
			default:
			}
			if c, _ := e.Channel(ctx, "RankRiot"); c.Active {
				t.Fatal("RankRiot resumed before the due instant")
			}
			fc.Set(tc.until)
			r := h.pass()
			if len(r.Resumed) != 1 || r.Resumed[0] != "RankRiot" {
				t.Fatalf("at the due instant: resumed %v, want RankRiot (%+v)", r.Resumed, r)
			}
			if c, _ := e.Channel(ctx, "RankRiot"); !c.Active {
				t.Fatal("RankRiot not active at the due instant")
			}
		})
	}
}
