package runner_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

func TestPlanPure(t *testing.T) {
	now := time.Date(2026, 1, 11, 12, 0, 30, 0, time.UTC)
	reset := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	day := func(used int64) quotad.Window {
		return quotad.Window{Name: "daily", Limit: 1000, Used: used, Rule: "daily 00:00 UTC", LastReset: reset.Add(-24 * time.Hour), NextReset: reset}
	}
	apis := map[string]quotad.API{
		"youtube": {Name: "youtube", Windows: []quotad.Window{day(850)}},
		"groq":    {Name: "groq", Windows: []quotad.Window{day(1000)}},
		"pexels":  {Name: "pexels", Windows: []quotad.Window{{Name: "hourly", Limit: 60, Rule: "every 1h UTC", LastReset: now.Add(-30 * time.Second), NextReset: now.Add(time.Hour - 30*time.Second)}}},
	}
	apis["groq"].Windows[0].Exhausted = true
	chans := map[string]quotad.Channel{}
	job := func(name string, prio quotad.Priority, apis []string, est map[string]int64) runner.Job {
		chans[name] = quotad.Channel{Name: name, Priority: prio, APIs: apis}
		return runner.Job{Channel: name, Priority: prio, Command: []string{"x"}, Schedule: "every 1h", Estimate: est}
	}
	jobs := []runner.Job{
		job("A", quotad.PriorityHigh, []string{"youtube"}, map[string]int64{"youtube": 100}),
		job("B", quotad.PriorityLow, []string{"youtube"}, map[string]int64{"youtube": 100}), // 50 left after A
		job("C", quotad.PriorityNormal, []string{"groq"}, nil),
		job("D", quotad.PriorityNormal, []string{"pexels"}, map[string]int64{"pexels": 10}),
		job("E", quotad.PriorityNormal, []string{"youtube"}, map[string]int64{"youtube": 1}),
	}
	chans["E"] = quotad.Channel{Name: "E", Priority: quotad.PriorityNormal, APIs: []string{"youtube"}, Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("manual")}}}
	states := map[string]quotad.JobState{}
	for _, j := range jobs {
		states[j.Channel] = quotad.JobState{Channel: j.Channel, NextRun: now.Add(-time.Minute)}
	}
	costs := runner.NewCosts(0)
	costs.Observe("E", map[string]int64{"youtube": 7})
	plan := runner.Plan(runner.PlanInput{Channels: chans, APIs: apis, States: states, Jobs: jobs, Costs: costs, Paced: []string{"pexels"}, Now: now})
	got := map[string]runner.PlanEntry{}
	for _, e := range plan {
		got[e.Channel] = e
	}
	if plan[0].Channel != "A" {
		t.Fatalf("order %+v", plan)
	}
	check := func(name, held string, start, until time.Time) {
		t.Helper()
		e := got[name]
		if e.Held != held || (start.IsZero() != (e.Start == nil)) || (e.Start != nil && !e.Start.Equal(start)) ||
			(!until.IsZero() && (e.Until == nil || !e.Until.Equal(until))) {
			t.Fatalf("%s: %+v", name, e)
		}
	}
	check("A", "", now, time.Time{})
	check("B", runner.HoldInsufficient, reset, reset)
	check("C", runner.HoldExhausted, reset, reset) // expected to start at the reset
	check("D", "", now, time.Time{})               // paced: the period's first run starts at once
	check("E", runner.HoldPaused, time.Time{}, time.Time{})
	if got["E"].CostSource != "learned" || got["E"].Cost["youtube"] != 7 || got["A"].CostSource != "estimate" {
		t.Fatalf("costs %+v %+v", got["E"], got["A"])
	}
}

// A channel paused because every provider of a fallback need is exhausted
// is planned to start when one comes back, as the engine will resume it.
func TestPlanForeseesCapabilityResume(t *testing.T) {
	now := time.Date(2026, 1, 11, 12, 0, 30, 0, time.UTC)
	reset := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	groq := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1000, Used: 1000, Exhausted: true,
		Rule: "daily 00:00 UTC", LastReset: reset.Add(-24 * time.Hour), NextReset: reset}}}
	jobs := []runner.Job{{Channel: "F", Priority: quotad.PriorityNormal, Command: []string{"x"}, Schedule: "every 1h"}}
	chans := map[string]quotad.Channel{"F": {Name: "F", Priority: quotad.PriorityNormal,
		Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"groq"}}}, Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("capability:llm")}}}}
	states := map[string]quotad.JobState{"F": {Channel: "F", NextRun: now.Add(-time.Minute)}}
	plan := runner.Plan(runner.PlanInput{Channels: chans, APIs: map[string]quotad.API{"groq": groq}, States: states, Jobs: jobs, Now: now})
	if len(plan) != 1 || plan[0].Start == nil || !plan[0].Start.Equal(reset) {
		t.Fatalf("plan %+v, want F to start at groq's reset %s", plan, reset)
	}
}
