//go:build unix

package runner_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
	"github.com/quotad/quotad/store/sqlite"
)

// wait bounds every wait of these tests; nothing sleeps.
const wait = 30 * time.Second

// start12 is the fake time tests begin at: half a minute past noon UTC.
var start12 = time.Date(2026, 1, 11, 12, 0, 30, 0, time.UTC)

// node is one engine (a daemon) over a store, with a runner.
type node struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	st     *sqlite.Store
	e      *engine.Engine
	r      *runner.Runner
	runs   chan runner.Result
	passes chan runner.Pass
	done   chan struct{}
}

// fixture is a store, a fake clock and the config the nodes share.
type fixture struct {
	t     *testing.T
	dir   string
	db    string
	cfg   config.Config
	clock *clock.Fake
}

// newFixture parses the config and applies it to a fresh store.
func newFixture(t *testing.T, at time.Time, yaml string) *fixture {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: t.TempDir(), cfg: cfg, clock: clock.NewFake(at)}
	f.db = filepath.Join(f.dir, "q.db")
	n := f.node("setup", nil)
	apis, chans := cfg.Domain()
	if _, err := n.e.Configure(n.ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	return f
}

// jobs are the jobs of the config's channels, as the daemon translates
// them.
func (f *fixture) jobs() []runner.Job {
	var out []runner.Job
	for _, ch := range f.cfg.Channels {
		if j := ch.Job; j != nil {
			out = append(out, runner.Job{Channel: ch.Name, Priority: ch.Priority, Command: j.Command, Dir: j.Dir, Env: j.Env,
				Schedule: j.Schedule, Timeout: time.Duration(j.Timeout), Estimate: j.Estimate})
		}
	}
	return out
}

// node opens the store with an engine and a runner named id; tweak adjusts
// the runner's options.
func (f *fixture) node(id string, tweak func(*runner.Options)) *node {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(st, engine.Options{Clock: f.clock, Location: f.cfg.Location(), ErrorThreshold: f.cfg.ErrorThreshold})
	n := &node{t: t, ctx: ctx, cancel: cancel, st: st, e: e, runs: make(chan runner.Result, 100), passes: make(chan runner.Pass, 10000), done: make(chan struct{})}
	opts := runner.Options{
		Clock: f.clock, ID: id, ConfigDir: f.dir, KillGrace: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)).With("runner", id),
		OnRun:  func(r runner.Result) { n.runs <- r },
		OnPass: func(p runner.Pass) { n.passes <- p },
	}
	if tweak != nil {
		tweak(&opts)
	}
	n.r, err = runner.New(e, f.jobs(), opts)
	if err != nil {
		t.Fatal(err)
	}
	close(n.done)
	t.Cleanup(func() { cancel(); <-n.done; e.Close(); st.Close() })
	return n
}

// run starts the node's scheduling loop.
func (n *node) run() {
	n.done = make(chan struct{})
	go func() {
		defer close(n.done)
		if err := n.r.Run(n.ctx); err != nil {
			n.t.Errorf("Run: %v", err)
		}
	}()
}

// pass waits for the next scheduling pass.
func (n *node) pass() runner.Pass {
	n.t.Helper()
	select {
	case p := <-n.passes:
		return p
	case <-time.After(wait):
		n.t.Fatal("the runner made no pass")
		return runner.Pass{}
	}
}

// passUntil waits for a pass that satisfies ok, returning it.
func (n *node) passUntil(what string, ok func(runner.Pass) bool) runner.Pass {
	n.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case p := <-n.passes:
			if ok(p) {
				return p
			}
		case <-deadline:
			n.t.Fatalf("no pass %s", what)
			return runner.Pass{}
		}
	}
}

// result waits for the next recorded run.
func (n *node) result() runner.Result {
	n.t.Helper()
	select {
	case r := <-n.runs:
		return r
	case <-time.After(wait):
		n.t.Fatal("no run was recorded")
		return runner.Result{}
	}
}

// noRun fails if a run has been recorded.
func (n *node) noRun() {
	n.t.Helper()
	select {
	case r := <-n.runs:
		n.t.Fatalf("unexpected run: %+v", r)
	default:
	}
}

func (n *node) state(channel string) quotad.JobState {
	n.t.Helper()
	var s quotad.JobState
	if err := n.st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		s, err = tx.JobState(channel)
		return err
	}); err != nil {
		n.t.Fatal(err)
	}
	return s
}

func (n *node) saveState(s quotad.JobState) {
	n.t.Helper()
	if err := n.st.Update(context.Background(), func(tx quotad.Tx) error { return tx.SaveJobState(s) }); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) channel(name string) quotad.ChannelStatus {
	n.t.Helper()
	c, err := n.e.Channel(context.Background(), name)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

func (n *node) jobEvents(channel string) []quotad.Event {
	n.t.Helper()
	evs, err := n.e.Events(context.Background(), quotad.EventFilter{Category: quotad.CategoryJob, Channel: channel, Limit: 1000})
	if err != nil {
		n.t.Fatal(err)
	}
	return evs
}

// signalWriter closes fired when the output written to it contains marker.
type signalWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	fired  chan struct{}
	once   sync.Once
}

func newSignalWriter(marker string) *signalWriter {
	return &signalWriter{marker: marker, fired: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.fired) })
	}
	return len(p), nil
}

func (w *signalWriter) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.fired:
	case <-time.After(wait):
		t.Fatalf("the job never printed %q", w.marker)
	}
}

// gone reports whether a process no longer runs: it does not exist, or it
// is a zombie waiting for a parent that may never reap it.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return os.IsNotExist(err)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

// sleeping waits until k runner loops sleep on the fake clock, so that
// moving the clock fires their timers.
func (f *fixture) sleeping(k int) {
	f.t.Helper()
	deadline := time.After(wait)
	for {
		added := f.clock.TimerAdded()
		if f.clock.Timers() >= k {
			return
		}
		select {
		case <-added:
		case <-deadline:
			f.t.Fatalf("%d runner(s) never went to sleep", k)
		}
	}
}

// set moves the fake clock to at once the runner sleeps.
func (f *fixture) set(at time.Time) {
	f.t.Helper()
	f.sleeping(1)
	f.clock.Set(at)
}
