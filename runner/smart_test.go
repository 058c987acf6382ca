//go:build unix

package runner_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// fakeExec is an in-process job: it spends its channel's cost through the
// engine, on the picked provider for a fallback need.
type fakeExec struct {
	e     *engine.Engine
	mu    sync.Mutex
	cost  map[string]map[string]int64 // channel → API or capability → units
	runs  map[string]int
	seen  []runner.Exec
	fails int
	errs  []string // the refusals of the failed runs
}

func newFakeExec(e *engine.Engine) *fakeExec {
	return &fakeExec{e: e, cost: map[string]map[string]int64{}, runs: map[string]int{}}
}

func (x *fakeExec) run(ctx context.Context, run runner.Exec) (int, error) {
	x.mu.Lock()
	x.runs[run.Channel]++
	x.seen = append(x.seen, run)
	cost := x.cost[run.Channel]
	x.mu.Unlock()
	for name, u := range cost {
		api := name
		if p, ok := run.Providers[name]; ok {
			api = p
		}
		if _, err := x.e.Spend(ctx, api, u, run.Channel); err != nil {
			fmt.Fprintln(run.Out, err)
			x.mu.Lock()
			x.fails++
			x.errs = append(x.errs, run.Channel+": "+err.Error())
			x.mu.Unlock()
			return 1, nil
		}
	}
	fmt.Fprintln(run.Out, "done")
	return 0, nil
}

// quietNode is a node whose runner uses the fake executor and reports to
// no channel (RunDue drives it).
func (f *fixture) quietNode(x **fakeExec, tweak func(*runner.Options)) *node {
	var fx *fakeExec
	n := f.node("sim", func(o *runner.Options) {
		o.OnRun, o.OnPass = nil, nil
		o.Paced = f.cfg.PacedAPIs()
		o.Exec = func(ctx context.Context, run runner.Exec) (int, error) { return fx.run(ctx, run) }
		if tweak != nil {
			tweak(o)
		}
	})
	fx = newFakeExec(n.e)
	*x = fx
	return n
}

const fallbackJob = `timezone: UTC
apis:
  groq:
    windows: [{name: daily, limit: 10000, reset: "daily 00:00"}]
  openai:
    windows: [{name: daily, limit: 10000, reset: "daily 00:00"}]
channels:
  Writer:
    fallbacks: {llm: [groq, openai]}
    job:
      command: [make, video]
      schedule: every 1h
      estimate: {groq: 100, openai: 100}
`

func TestProviderEnvSwitchesAndReturnsAfterReset(t *testing.T) {
	f := newFixture(t, start12, fallbackJob)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	x.cost["Writer"] = map[string]int64{"llm": 100}
	env := func(i int) string {
		for _, kv := range x.seen[i].Env {
			if v, ok := strings.CutPrefix(kv, "QUOTAD_PROVIDER_LLM="); ok {
				return v
			}
		}
		return ""
	}
	run := func(want string) {
		t.Helper()
		res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
		if err != nil || !res.OK() || res.Providers["llm"] != want || env(len(x.seen)-1) != want {
			t.Fatalf("run: %v %+v; env %q; want provider %s", err, res, env(len(x.seen)-1), want)
		}
	}
	run("groq")
	if _, err := n.e.Spend(n.ctx, "groq", 9900, ""); err != nil { // groq is exhausted now
		t.Fatal(err)
	}
	run("openai")
	// The gate still lets the job through: one provider of llm can serve.
	if h := gateNow(t, n, "Writer", map[string]int64{"groq": 100, "openai": 100}); h.Held() {
		t.Fatalf("held with openai available: %+v", h)
	}
	if _, err := n.e.Spend(n.ctx, "openai", 9900, ""); err != nil {
		t.Fatal(err)
	}
	h := gateNow(t, n, "Writer", map[string]int64{"groq": 100, "openai": 100})
	if h.Kind != runner.HoldCapability || !h.Until.Equal(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("hold with every provider exhausted: %+v", h)
	}
	f.clock.Set(time.Date(2026, 1, 12, 0, 0, 1, 0, time.UTC))
	if _, err := n.e.Tick(n.ctx); err != nil {
		t.Fatal(err)
	}
	run("groq") // back to the preferred provider after the reset
}

// gateNow runs Decide against the store's state.
func gateNow(t *testing.T, n *node, channel string, cost map[string]int64) runner.Hold {
	t.Helper()
	var h runner.Hold
	if err := n.st.View(n.ctx, func(tx quotad.Tx) error {
		ch, err := tx.Channel(channel)
		if err != nil {
			return err
		}
		list, err := tx.APIs()
		apis := map[string]quotad.API{}
		for _, a := range list {
			apis[a.Name] = a
		}
		h = runner.Decide(ch, apis, cost, nil, n.e.Clock().Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

const orderJobs = `timezone: UTC
apis:
  youtube:
    windows: [{name: daily, limit: 300, reset: "daily 00:00"}]
channels:
  Low:
    apis: [youtube]
    priority: low
    job: {command: x, schedule: every 1h, estimate: {youtube: 100}}
  Normal:
    apis: [youtube]
    job: {command: x, schedule: every 1h, estimate: {youtube: 100}}
  HighLate:
    apis: [youtube]
    priority: high
    job: {command: x, schedule: every 1h, estimate: {youtube: 100}}
  HighEarly:
    apis: [youtube]
    priority: high
    job: {command: x, schedule: every 1h, estimate: {youtube: 100}}
`

func TestOrderByPriorityThenWait(t *testing.T) {
	f := newFixture(t, start12, orderJobs)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	for _, ch := range []string{"Low", "Normal", "HighLate", "HighEarly"} {
		x.cost[ch] = map[string]int64{"youtube": 100}
	}
	due := map[string]time.Duration{"Low": -3 * time.Hour, "Normal": -2 * time.Hour, "HighLate": -time.Minute, "HighEarly": -time.Hour}
	for ch, d := range due {
		n.saveState(quotad.JobState{Channel: ch, NextRun: start12.Add(d)})
	}
	p := n.r.RunDue(n.ctx)
	if want := []string{"HighEarly", "HighLate", "Normal"}; !slices.Equal(p.Started, want) {
		t.Fatalf("started %v, want %v", p.Started, want)
	}
	if h := p.Holds["Low"]; h.Kind != runner.HoldInsufficient || !strings.Contains(h.Reason, "has 0 units free, the job needs 100") {
		t.Fatalf("Low: %+v", h)
	}
}

const learnJob = `timezone: UTC
apis:
  youtube:
    windows: [{name: daily, limit: 2500, reset: "daily 00:00"}]
channels:
  Uploader:
    apis: [youtube]
    job: {command: x, schedule: every 1h, estimate: {youtube: 100}}
`

func TestLearnedCostReplacesEstimate(t *testing.T) {
	f := newFixture(t, start12, learnJob)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	x.cost["Uploader"] = map[string]int64{"youtube": 1000}
	if c, learned := n.r.Costs().Cost("Uploader", map[string]int64{"youtube": 100}); learned || c["youtube"] != 100 {
		t.Fatalf("before any run: %v %v", c, learned)
	}
	n.r.RunDue(n.ctx) // first sight: computes the next run
	for i, at := range []time.Time{start12.Add(time.Hour), start12.Add(2 * time.Hour)} {
		f.clock.Set(at)
		if p := n.r.RunDue(n.ctx); len(p.Started) != 1 {
			t.Fatalf("run %d: %+v", i, p)
		}
	}
	c, learned := n.r.Costs().Cost("Uploader", map[string]int64{"youtube": 100})
	if !learned || c["youtube"] != 1000 {
		t.Fatalf("learned cost %v %v, want 1000", c, learned)
	}
	// 500 free: the estimate (100) would fit, the learned cost does not.
	f.clock.Set(start12.Add(3 * time.Hour))
	p := n.r.RunDue(n.ctx)
	if h := p.Holds["Uploader"]; len(p.Started) != 0 || h.Kind != runner.HoldInsufficient || !strings.Contains(h.Reason, "the job needs 1000") {
		t.Fatalf("third run: %+v", p)
	}
	// The events carry what each run spent: a new runner learns it back.
	evs := n.jobEvents("Uploader")
	if len(evs) != 2 || evs[0].Fields["spent"] != "youtube=1000" {
		t.Fatalf("events %+v", evs)
	}
	costs, err := runner.LearnCosts(n.ctx, n.e, []string{"Uploader"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, learned := costs.Cost("Uploader", map[string]int64{"youtube": 1}); !learned || c["youtube"] != 1000 || costs.Runs("Uploader") != 2 {
		t.Fatalf("relearned %v %v", c, learned)
	}
}

func TestCostsAverage(t *testing.T) {
	c := runner.NewCosts(0.5)
	c.Observe("A", map[string]int64{"groq": 1000})
	c.Observe("A", map[string]int64{"groq": 2000, "youtube": 100})
	got, _ := c.Cost("A", map[string]int64{"groq": 1})
	if got["groq"] != 1500 || got["youtube"] != 50 {
		t.Fatalf("%v", got)
	}
	if s := runner.FormatSpent(map[string]int64{"b": 2, "a": 1}); s != "a=1,b=2" || runner.ParseSpent(s)["b"] != 2 {
		t.Fatal(s)
	}
}

const pacedJob = `timezone: UTC
apis:
  pexels:
    pace: even
    windows: [{name: hourly, limit: 60, reset: "every 1h"}]
channels:
  Stock:
    apis: [pexels]
    job: {command: x, schedule: every 1m, estimate: {pexels: 10}}
`

func TestPacingHoldsAndReleases(t *testing.T) {
	f := newFixture(t, start12, pacedJob)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	x.cost["Stock"] = map[string]int64{"pexels": 10}
	n.r.RunDue(n.ctx)                     // first sight: computes the next run
	f.clock.Set(start12.Add(time.Minute)) // 12:01:30: nothing spent yet: the period's first run starts at once
	if p := n.r.RunDue(n.ctx); !slices.Equal(p.Started, []string{"Stock"}) {
		t.Fatalf("at 12:01:30: %+v", p)
	}
	f.clock.Set(start12.Add(2 * time.Minute)) // 12:02:30: 10 used, allowance 2: held until it covers 10, 12:10
	p := n.r.RunDue(n.ctx)
	h := p.Holds["Stock"]
	if len(p.Started) != 0 || h.Kind != runner.HoldPaced || !h.Until.Equal(start12.Add(10*time.Minute-30*time.Second)) {
		t.Fatalf("at 12:02:30: %+v", p)
	}
	f.clock.Set(h.Until) // 12:10: the allowance covers 10
	if p := n.r.RunDue(n.ctx); !slices.Equal(p.Started, []string{"Stock"}) {
		t.Fatalf("at 12:10: %+v", p)
	}
	f.clock.Set(start12.Add(11 * time.Minute)) // 12:11:30: 20 used, allowance 11: held until 12:20
	p = n.r.RunDue(n.ctx)
	if h := p.Holds["Stock"]; h.Kind != runner.HoldPaced || !h.Until.Equal(time.Date(2026, 1, 11, 12, 20, 0, 0, time.UTC)) {
		t.Fatalf("at 12:11:30: %+v", p)
	}
	// The period's last run, the one that takes the window to its limit,
	// starts at 12:50, before the reset, not at it: six runs an hour.
	for _, m := range []int{20, 30, 40, 50} {
		f.clock.Set(time.Date(2026, 1, 11, 12, m, 0, 0, time.UTC))
		if p := n.r.RunDue(n.ctx); !slices.Equal(p.Started, []string{"Stock"}) {
			t.Fatalf("at 12:%d: %+v", m, p)
		}
	}
	if x.runs["Stock"] != 6 {
		t.Fatalf("%d runs in the hour, want 6 (60 of 60)", x.runs["Stock"])
	}
}

func TestAllowance(t *testing.T) {
	w := quotad.Window{Limit: 3000, LastReset: start12, NextReset: start12.Add(30 * time.Hour)}
	a, at := runner.Allowance(w, start12.Add(10*time.Hour), 1500)
	if a != 1000 || !at.Equal(start12.Add(15*time.Hour)) {
		t.Fatalf("%d %v", a, at)
	}
}
