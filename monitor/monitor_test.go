package monitor_test

import (
	"context"
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
