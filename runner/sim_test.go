//go:build unix

package runner_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

// simConfig is the seed's quotas with a reserve on youtube for high
// priority and pexels paced, and 20 hourly channels: 4 high (groq and
// youtube), 8 normal and 8 low (groq, youtube and pexels).
func simConfig() string {
	var b strings.Builder
	b.WriteString(`timezone: America/Los_Angeles
apis:
  groq:
    windows: [{name: daily, limit: 100000, reset: "daily 00:00"}]
  youtube:
    windows: [{name: daily, limit: 10000, reset: "daily 00:00"}]
    reserve: {priority: high, units: 2000}
  pexels:
    pace: even
    windows:
      - {name: hourly, limit: 200, reset: "every 1h"}
      - {name: monthly, limit: 20000, reset: "monthly 1 00:00"}
channels:
`)
	for i := range 20 {
		prio, apis, est := "low", "[groq, youtube, pexels]", "{groq: 500, youtube: 100, pexels: 10}"
		switch {
		case i < 4:
			prio, apis, est = "high", "[groq, youtube]", "{groq: 500, youtube: 50}"
		case i < 12:
			prio = "normal"
		}
		fmt.Fprintf(&b, "  ch%02d:\n    apis: %s\n    priority: %s\n    job: {command: make, schedule: every 1h, estimate: %s}\n", i, apis, prio, est)
	}
	return b.String()
}

func TestSimulatedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day of 20 channels")
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	begin := time.Date(2026, 2, 1, 0, 0, 30, 0, la) // the first day of the month: monthly pacing matters
	f := newFixture(t, begin, simConfig())
	var x *fakeExec
	n := f.quietNode(&x, func(o *runner.Options) { o.MaxConcurrent = 20 })
	for _, ch := range f.cfg.Channels {
		x.cost[ch.Name] = ch.Job.Estimate
	}
	const step = 5 * time.Minute
	maxUsed := map[string]float64{}
	held := map[string]int{}
	for t0 := begin; !t0.After(begin.Add(24 * time.Hour)); t0 = t0.Add(step) {
		f.clock.Set(t0)
		if _, err := n.e.Tick(n.ctx); err != nil {
			t.Fatal(err)
		}
		for {
			p := n.r.RunDue(n.ctx)
			for _, h := range p.Holds {
				held[h.Kind]++
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
				key := a.Name + "/" + w.Name
				if w.Used > w.Limit {
					t.Fatalf("%s: %s used %d of %d", t0, key, w.Used, w.Limit)
				}
				maxUsed[key] = max(maxUsed[key], float64(w.Used)/float64(w.Limit))
				if a.Name != "pexels" || w.LastReset == nil || w.NextReset == nil {
					continue
				}
				qw := quotad.Window{Limit: w.Limit, LastReset: *w.LastReset, NextReset: *w.NextReset}
				allowed, _ := runner.Allowance(qw, t0, 0)
				if w.Used > allowed+10 {
					t.Fatalf("%s: paced %s used %d, allowance %d", t0, key, w.Used, allowed)
				}
				if w.Exhausted {
					t.Fatalf("%s: paced %s exhausted before its reset", t0, key)
				}
			}
		}
	}
	runs := map[quotad.Priority]int{}
	for _, ch := range f.cfg.Channels {
		runs[ch.Priority] += x.runs[ch.Name]
		if ch.Priority == quotad.PriorityHigh && x.runs[ch.Name] != 24 {
			t.Errorf("high-priority %s ran %d times in 24h, want 24", ch.Name, x.runs[ch.Name])
		}
	}
	if x.fails != 0 {
		t.Errorf("%d runs were refused a spend", x.fails)
	}
	t.Logf("runs: high %d/96, normal %d/192, low %d/192; holds by kind %v", runs[quotad.PriorityHigh], runs[quotad.PriorityNormal], runs[quotad.PriorityLow], held)
	t.Logf("max used/limit: %v", maxUsed)
}
