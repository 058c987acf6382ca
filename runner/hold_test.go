//go:build unix

package runner_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

// A job without an estimate is gated by what its recent runs spent: it is
// held when that does not fit what is left, instead of starting and being
// refused (or overspending).
func TestLearnedCostGatesAJobWithoutEstimate(t *testing.T) {
	f := newFixture(t, start12, `timezone: UTC
apis:
  youtube:
    windows: [{name: daily, limit: 1000, reset: "daily 00:00"}]
channels:
  Uploader:
    apis: [youtube]
    job: {command: upload, schedule: every 1h}
`)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	x.cost["Uploader"] = map[string]int64{"youtube": 300}
	var last runner.Pass
	for h := range 5 {
		f.clock.Set(start12.Add(time.Duration(h) * time.Hour))
		last = n.r.RunDue(n.ctx)
	}
	if x.runs["Uploader"] != 3 || x.fails != 0 {
		t.Fatalf("%d runs, %d refused a spend; want 3 runs, none refused", x.runs["Uploader"], x.fails)
	}
	h, ok := last.Holds["Uploader"]
	if !ok || h.Kind != runner.HoldInsufficient || !strings.Contains(h.Reason, "has 100 units free, the job needs 300") {
		t.Fatalf("fourth run: %+v, want held for the learned cost", last)
	}
	st, err := n.e.Status(n.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if used := st.APIs[0].Windows[0].Used; used != 900 {
		t.Fatalf("youtube used %d, want 900", used)
	}
}

// A channel's budget on a fallback's first provider moves its runs to the
// next provider (QUOTAD_PROVIDER_LLM), as soon as the run's cost would not
// fit the budget; nothing is refused and the budget is not overspent.
func TestBudgetOnFirstProviderMovesRunsToTheNext(t *testing.T) {
	f := newFixture(t, start12, `timezone: UTC
apis:
  groq:
    windows: [{name: daily, limit: 100000, reset: "daily 00:00"}]
  openai:
    windows: [{name: daily, limit: 4000, reset: "daily 00:00"}]
channels:
  Writer:
    fallbacks: {llm: [groq, openai]}
    budgets: {groq: 3000}
    job: {command: [make, video], schedule: every 1h}
`)
	var x *fakeExec
	n := f.quietNode(&x, nil)
	x.cost["Writer"] = map[string]int64{"llm": 2000}
	var passes []runner.Pass
	for h := range 5 { // due on the hour: 13:00, 14:00, 15:00, 16:00
		f.clock.Set(start12.Add(time.Duration(h) * time.Hour))
		passes = append(passes, n.r.RunDue(n.ctx))
	}
	var got []string
	for _, run := range x.seen {
		got = append(got, run.Providers["llm"])
	}
	if x.fails != 0 || strings.Join(got, ",") != "groq,openai,openai" {
		t.Fatalf("providers %v, %d refused; want groq,openai,openai and none refused", got, x.fails)
	}
	// The fourth run fits neither groq's budget nor what openai has left.
	h := passes[4].Holds["Writer"]
	if h.Kind != runner.HoldBudget || !strings.Contains(h.Reason, "channel Writer's budget of groq") {
		t.Fatalf("fourth run: %+v, want held by the budget", passes[4])
	}
	st, err := n.e.Status(n.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range st.APIs {
		if used := a.Windows[0].Used; (a.Name == "groq" && used != 2000) || (a.Name == "openai" && used != 4000) {
			t.Fatalf("%s used %d", a.Name, used)
		}
	}
	if ch := channelOf(st, "Writer"); ch == nil || !ch.Active {
		t.Fatalf("Writer: %+v", ch)
	}
}

func channelOf(st quotad.Status, name string) *quotad.ChannelStatus {
	for i := range st.Channels {
		if st.Channels[i].Name == name {
			return &st.Channels[i]
		}
	}
	return nil
}

// A paced hold is logged once, not at every pass while its allowance grows.
func TestPacedHoldIsLoggedOnce(t *testing.T) {
	f := newFixture(t, start12, pacedJob)
	var logs syncBuf
	var x *fakeExec
	n := f.quietNode(&x, func(o *runner.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	x.cost["Stock"] = map[string]int64{"pexels": 10}
	n.r.RunDue(n.ctx)
	f.clock.Set(start12.Add(time.Minute)) // 12:01:30: the first run
	n.r.RunDue(n.ctx)
	for s := range 300 { // 12:02:30 to 12:07:29, a pass a second: held until 12:10
		f.clock.Set(start12.Add(2*time.Minute + time.Duration(s)*time.Second))
		if p := n.r.RunDue(n.ctx); p.Holds["Stock"].Kind != runner.HoldPaced {
			t.Fatalf("%+v", p)
		}
	}
	if got := strings.Count(logs.String(), "job due but held"); got != 1 {
		t.Fatalf("the paced hold was logged %d times in 300 passes, want once:\n%s", got, logs.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Under max_concurrent 1 with higher priorities always due, a low-priority
// job still runs: waiting for a slot ages it.
func TestWaitingJobsAgeUnderMaxConcurrent(t *testing.T) {
	var b strings.Builder
	b.WriteString("timezone: UTC\napis:\n  groq:\n    windows: [{name: daily, limit: 100000, reset: \"daily 00:00\"}]\nchannels:\n")
	for _, c := range []struct{ name, prio string }{{"Hi", "high"}, {"Mid", "normal"}, {"Lo", "low"}} {
		fmt.Fprintf(&b, "  %s:\n    priority: %s\n    apis: [groq]\n    job: {command: x, schedule: every 10s}\n", c.name, c.prio)
	}
	f := newFixture(t, start12, b.String())
	var x *fakeExec
	n := f.quietNode(&x, func(o *runner.Options) { o.MaxConcurrent = 1 })
	for s := 0; s <= 600; s += 10 { // ten minutes, a pass every 10 s
		f.clock.Set(start12.Add(time.Duration(s) * time.Second))
		n.r.RunDue(n.ctx)
	}
	t.Logf("runs: %v", x.runs)
	if x.runs["Lo"] < 3 || x.runs["Mid"] < 3 || x.runs["Hi"] < x.runs["Mid"] || x.runs["Mid"] < x.runs["Lo"] {
		t.Fatalf("runs in 10 minutes at max_concurrent 1: %v; want every channel to run, higher ones more", x.runs)
	}
}
