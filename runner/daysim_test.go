//go:build unix

package runner_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// holdDayConfig has a reserve on youtube and on groq for high priority,
// budgets, an llm fallback (groq, then openai) and paced pexels: one high
// channel, three normal ones with budgets (one without an estimate) and
// three low ones without estimates, all due far more often than the quotas
// allow, at max_concurrent 2.
const holdDayConfig = `timezone: America/Los_Angeles
apis:
  youtube:
    windows: [{name: daily, limit: 10000, reset: "daily 00:00"}]
    reserve: {priority: high, units: 2000}
  groq:
    windows: [{name: daily, limit: 100000, reset: "daily 00:00"}]
    reserve: {priority: high, units: 10000}
  openai:
    windows: [{name: daily, limit: 200000, reset: "daily 00:00"}]
  pexels:
    pace: even
    windows: [{name: hourly, limit: 200, reset: "every 1h"}]
runner: {max_concurrent: 2}
channels:
  Hi:
    priority: high
    apis: [youtube]
    fallbacks: {llm: [groq, openai]}
    job: {command: make, schedule: every 30m}
  Norm1:
    apis: [youtube, pexels]
    fallbacks: {llm: [groq, openai]}
    budgets: {youtube: 1500, groq: 20000}
    job: {command: make, schedule: every 20m, estimate: {youtube: 200, pexels: 10, groq: 2500}}
  Norm2:
    apis: [youtube, pexels]
    fallbacks: {llm: [groq, openai]}
    budgets: {youtube: 1500, groq: 20000}
    job: {command: make, schedule: every 20m, estimate: {youtube: 200, pexels: 10, groq: 2500}}
  Norm3:
    apis: [youtube, pexels]
    fallbacks: {llm: [groq, openai]}
    budgets: {youtube: 1500, groq: 20000}
    job: {command: make, schedule: every 20m}
  Lo1:
    priority: low
    apis: [youtube]
    fallbacks: {llm: [groq, openai]}
    job: {command: make, schedule: every 15m}
  Lo2:
    priority: low
    apis: [youtube]
    fallbacks: {llm: [groq, openai]}
    job: {command: make, schedule: every 15m}
  Lo3:
    priority: low
    apis: [youtube]
    fallbacks: {llm: [groq, openai]}
    job: {command: make, schedule: every 15m}
`

// TestSimulatedDayHoldsEveryLimit lives through a day on a fake clock with
// jobs that spend through quotad as real ones do (refusals printed, exit 1).
// No window and no budget ends above its limit, nothing is exhausted but by
// reaching a limit (no refusal of quotad's is taken for a provider's), paced
// pexels stays within its allowance, and the high-priority channel is never
// paused and runs every time: its reserves always have room for it.
func TestSimulatedDayHoldsEveryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day of 7 channels")
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	begin := time.Date(2026, 2, 2, 0, 0, 30, 0, la)
	f := newFixture(t, begin, holdDayConfig)
	var x *fakeExec
	n := f.quietNode(&x, func(o *runner.Options) { o.MaxConcurrent = f.cfg.Runner.MaxConcurrent })
	x.cost["Hi"] = map[string]int64{"youtube": 40, "llm": 200}
	for _, c := range []string{"Norm1", "Norm2", "Norm3"} {
		x.cost[c] = map[string]int64{"youtube": 200, "pexels": 10, "llm": 2500}
	}
	for _, c := range []string{"Lo1", "Lo2", "Lo3"} {
		x.cost[c] = map[string]int64{"youtube": 100, "llm": 4000}
	}
	const step = 5 * time.Minute
	end := begin.Add(24*time.Hour - time.Minute) // the day's one window: usage since begin is the window's
	holds := map[string]int{}
	for t0 := begin; t0.Before(end); t0 = t0.Add(step) {
		f.clock.Set(t0)
		if _, err := n.e.Tick(n.ctx); err != nil {
			t.Fatal(err)
		}
		for {
			p := n.r.RunDue(n.ctx)
			for _, h := range p.Holds {
				holds[h.Kind]++
			}
			if len(p.Started) == 0 {
				break
			}
		}
		st, err := n.e.Status(n.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range st.APIs {
			for _, w := range a.Windows {
				if w.Used > w.Limit {
					t.Fatalf("%s: %s/%s used %d of %d", t0, a.Name, w.Name, w.Used, w.Limit)
				}
				if w.Exhausted && w.Used < w.Limit {
					t.Fatalf("%s: %s/%s exhausted at %d of %d: a refusal was taken for the provider's", t0, a.Name, w.Name, w.Used, w.Limit)
				}
				if a.Name == "pexels" && w.LastReset != nil && w.NextReset != nil {
					allowed, _ := runner.Allowance(quotad.Window{Limit: w.Limit, LastReset: *w.LastReset, NextReset: *w.NextReset}, t0, 0)
					if w.Used > allowed+10 {
						t.Fatalf("%s: paced pexels used %d, allowance %d", t0, w.Used, allowed)
					}
				}
			}
		}
		if hi := channelOf(st, "Hi"); !hi.Active {
			t.Fatalf("%s: the high-priority channel is paused: %+v", t0, hi.PauseReasons)
		}
	}
	for _, c := range []string{"Norm1", "Norm2", "Norm3"} {
		for api, budget := range map[string]int64{"youtube": 1500, "groq": 20000} {
			pts, err := n.e.Usage(n.ctx, engine.UsageQuery{Channel: c, API: api, By: engine.ByDay, Since: begin.Add(-time.Minute), Until: end})
			if err != nil {
				t.Fatal(err)
			}
			var used int64
			for _, p := range pts {
				used += p.Units
			}
			if used > budget {
				t.Errorf("%s spent %d of its %s budget of %d", c, used, api, budget)
			}
		}
	}
	if x.runs["Hi"] != 47 { // every 30 min from 00:30 to 23:30
		t.Errorf("the high-priority channel ran %d times in the day, want 47", x.runs["Hi"])
	}
	// Runs are gated on their cost, with the runs in flight counted, and
	// told a provider that can take it: none is refused a spend.
	if x.fails != 0 || holds[runner.HoldBudget] == 0 || holds[runner.HoldReserve] == 0 || holds[runner.HoldPaced] == 0 {
		t.Errorf("%d spends refused: %v; holds %v, want none refused, and budget, reserve and paced holds", x.fails, x.errs, holds)
	}
	st, _ := n.e.Status(n.ctx)
	for _, a := range st.APIs {
		if a.Name == "openai" && a.Windows[0].Used == 0 {
			t.Errorf("no run moved to openai when groq was down to its reserve")
		}
	}
	var runs []string
	for _, c := range []string{"Hi", "Norm1", "Norm2", "Norm3", "Lo1", "Lo2", "Lo3"} {
		runs = append(runs, fmt.Sprintf("%s=%d", c, x.runs[c]))
	}
	var used []string
	for _, a := range st.APIs {
		used = append(used, fmt.Sprintf("%s=%d/%d", a.Name, a.Windows[0].Used, a.Windows[0].Limit))
	}
	t.Logf("runs %s; refused spends %d; holds %v; used %s", strings.Join(runs, " "), x.fails, holds, strings.Join(used, " "))
}
