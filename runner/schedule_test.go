//go:build unix

package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

const oneJob = `timezone: UTC
apis:
  groq:
    unit: tokens
    keywords: [groq, llama]
    windows:
      - {name: hourly, limit: 10000, reset: "every 1h"}
channels:
  Writer:
    apis: [groq]
    job:
      command: echo ran for "$QUOTAD_CHANNEL"
      schedule: every 1m
      estimate: {groq: 3000}
`

func TestNoRunWhilePausedThenFirstChanceAfterResume(t *testing.T) {
	f := newFixture(t, start12, oneJob)
	n := f.node("a", nil)
	if _, err := n.e.Pause(n.ctx, "Writer", "testing"); err != nil {
		t.Fatal(err)
	}
	n.run()
	if p := n.pass(); len(p.Started) != 0 {
		t.Fatalf("first pass started %v before the schedule's first instant", p.Started)
	}
	if got, want := n.state("Writer").NextRun, start12.Truncate(time.Minute).Add(time.Minute); !got.Equal(want) {
		t.Fatalf("next run %v, want %v (the schedule's next instant)", got, want)
	}
	for _, at := range []time.Duration{31 * time.Second, 2 * time.Minute, 10 * time.Minute} {
		f.set(start12.Add(at))
		p := n.passUntil("at "+at.String(), func(p runner.Pass) bool { return !p.At.Before(start12.Add(at)) })
		if len(p.Started) != 0 || !strings.Contains(p.Held["Writer"], "channel paused (manual)") {
			t.Fatalf("pass at +%s: started %v, held %q; want held for the pause", at, p.Started, p.Held["Writer"])
		}
	}
	n.noRun()
	if _, err := n.e.Resume(n.ctx, "Writer"); err != nil {
		t.Fatal(err)
	}
	res := n.result() // woken by the resume event: no clock movement needed
	if !res.OK() || res.Tail[0] != "ran for Writer" {
		t.Fatalf("run after resume: %+v", res)
	}
	now := f.clock.Now()
	st := n.state("Writer")
	if st.Runs != 1 || !st.LastStart.Equal(now) || !st.NextRun.Equal(now.Truncate(time.Minute).Add(time.Minute)) || st.Holder != "" || st.LastResult != quotad.JobOK {
		t.Fatalf("job state after the run: %+v", st)
	}
	n.passUntil("after the run", func(p runner.Pass) bool { return len(p.Started) == 0 && len(p.Held) == 0 })
	n.noRun()
}

func TestMissedRunsRunOnceNotNTimes(t *testing.T) {
	f := newFixture(t, start12, oneJob)
	n := f.node("a", nil)
	n.saveState(quotad.JobState{Channel: "Writer", NextRun: start12.Add(-10 * time.Hour), Runs: 7})
	n.run()
	if p := n.pass(); !slices.Equal(p.Started, []string{"Writer"}) {
		t.Fatalf("start-up pass started %v, want the missed run", p.Started)
	}
	if res := n.result(); !res.OK() {
		t.Fatalf("missed run: %+v", res)
	}
	n.passUntil("idle after the missed run", func(p runner.Pass) bool { return len(p.Started) == 0 })
	st := n.state("Writer")
	if want := start12.Truncate(time.Minute).Add(time.Minute); st.Runs != 8 || !st.NextRun.Equal(want) {
		t.Fatalf("after catch-up: runs %d next %v; want 8 runs, next %v", st.Runs, st.NextRun, want)
	}
	n.noRun()
	// The schedule goes on normally: one run at the next instant.
	f.set(start12.Add(30 * time.Second))
	if res := n.result(); !res.OK() {
		t.Fatalf("scheduled run: %+v", res)
	}
	n.passUntil("idle", func(p runner.Pass) bool { return len(p.Started) == 0 && p.At.Equal(f.clock.Now()) })
	n.noRun()
	if st := n.state("Writer"); st.Runs != 9 {
		t.Fatalf("runs %d, want 9", st.Runs)
	}
}

func TestHeldWhileFreeUnitsAreBelowTheEstimate(t *testing.T) {
	f := newFixture(t, start12, oneJob)
	n := f.node("a", nil)
	if _, err := n.e.Spend(n.ctx, "groq", 8000, ""); err != nil {
		t.Fatal(err)
	}
	n.saveState(quotad.JobState{Channel: "Writer", NextRun: start12.Add(-time.Second)})
	n.run()
	p := n.pass()
	if len(p.Started) != 0 || p.Held["Writer"] != "groq/hourly has 2000 tokens free, the job needs 3000" {
		t.Fatalf("pass: started %v held %q", p.Started, p.Held["Writer"])
	}
	if c := n.channel("Writer"); !c.Active {
		t.Fatalf("the gate paused the channel: %+v", c)
	}
	if _, err := n.e.Reset(n.ctx, "groq"); err != nil {
		t.Fatal(err)
	}
	if res := n.result(); !res.OK() {
		t.Fatalf("run after the reset: %+v", res)
	}
	if st := n.state("Writer"); st.Runs != 1 {
		t.Fatalf("runs %d", st.Runs)
	}
}

func TestHeldWhileReservedUnitsLeaveTooLittle(t *testing.T) {
	f := newFixture(t, start12, oneJob)
	n := f.node("a", nil)
	if _, err := n.e.Reserve(n.ctx, "groq", 7500, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	n.saveState(quotad.JobState{Channel: "Writer", NextRun: start12.Add(-time.Second)})
	n.run()
	if p := n.pass(); len(p.Started) != 0 || !strings.Contains(p.Held["Writer"], "2500 tokens free") {
		t.Fatalf("pass: started %v held %q", p.Started, p.Held["Writer"])
	}
	n.noRun()
}

func TestConcurrencyLimitAndPriority(t *testing.T) {
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	job := func(name string) string {
		return `    job:
      command: echo started ` + name + `; while [ ! -e "` + gate + `" ]; do sleep 0.01; done
      schedule: every 1m
`
	}
	f := newFixture(t, start12, `timezone: UTC
apis:
  groq:
    windows: [{name: d, limit: 100, reset: "daily 00:00"}]
channels:
  Low:
    apis: [groq]
    priority: low
`+job("Low")+`  High:
    apis: [groq]
    priority: high
`+job("High"))
	n := f.node("a", func(o *runner.Options) { o.MaxConcurrent = 1 })
	for _, ch := range []string{"Low", "High"} {
		n.saveState(quotad.JobState{Channel: ch, NextRun: start12.Add(-time.Minute)})
	}
	n.run()
	p := n.pass()
	if !slices.Equal(p.Started, []string{"High"}) || !slices.Equal(p.Busy, []string{"Low"}) {
		t.Fatalf("pass: started %v busy %v; want High started (priority), Low waiting for a slot", p.Started, p.Busy)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	first, second := n.result(), n.result()
	if first.Channel != "High" || second.Channel != "Low" || !first.OK() || !second.OK() {
		t.Fatalf("runs: %s %s, %s %s", first.Channel, first.Outcome, second.Channel, second.Outcome)
	}
	if second.Started.Before(first.Ended) {
		t.Fatalf("Low started at %v before High ended at %v: more than MaxConcurrent at once", second.Started, first.Ended)
	}
}

func TestStoppingInterruptsWithoutCountingAFailure(t *testing.T) {
	f := newFixture(t, start12, `timezone: UTC
apis:
  groq:
    windows: [{name: d, limit: 100, reset: "daily 00:00"}]
channels:
  Slow:
    apis: [groq]
    job:
      command: echo started; sleep 100
      schedule: every 1m
`)
	n := f.node("a", nil)
	n.saveState(quotad.JobState{Channel: "Slow", NextRun: start12.Add(-time.Second)})
	n.run()
	if p := n.pass(); !slices.Equal(p.Started, []string{"Slow"}) {
		t.Fatalf("started %v", p.Started)
	}
	n.cancel()
	res := n.result()
	<-n.done
	if !res.Interrupted || res.OK() {
		t.Fatalf("result %+v", res)
	}
	st := n.state("Slow")
	if st.Holder != "" || !st.NextRun.Equal(start12.Add(-time.Second)) || st.LastResult != quotad.JobFailed {
		t.Fatalf("state %+v: want the lease freed and the run still due", st)
	}
	if c := n.channel("Slow"); c.ConsecutiveErrors != 0 {
		t.Fatalf("an interrupted run counted as an error: %+v", c)
	}
}
