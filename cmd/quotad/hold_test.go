//go:build unix

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

const holdConfig = `timezone: America/Los_Angeles
apis:
  youtube:
    unit: units
    keywords: [youtube, google]
    windows:
      - {name: daily, limit: 1000, reset: "daily 00:00"}
    reserve: {priority: high, units: 300}
channels:
  Norm:
    apis: [youtube]
    budgets: {youtube: 150}
    job:
      command: for i in 1 2 3; do "$QUOTAD_BIN" spend youtube 100 --channel "$QUOTAD_CHANNEL" || exit 1; done
  Other:
    apis: [youtube]
  Lo:
    priority: low
    apis: [youtube]
  Hi:
    priority: high
    apis: [youtube]
`

// TestOwnRefusalStaysTheChannels is the repro: a job whose spend is
// refused by its channel's budget echoes quotad's refusal and exits 1. The
// runner must not take that for youtube's quota error: youtube stays
// available, the other channels active, and the budget is not overspent.
func TestOwnRefusalStaysTheChannels(t *testing.T) {
	c := newCLI(t, holdConfig)
	out, errs, code := c.run("run", "Norm")
	if code != 1 || !strings.Contains(out+errs, "[quotad-hold kind=budget api=youtube channel=Norm") {
		t.Fatalf("run Norm: exit %d\n%s%s", code, out, errs)
	}
	st := c.status()
	if a := st.APIs[0]; !a.Available || a.Windows[0].Used != 100 {
		t.Fatalf("youtube after Norm's budget refusal: %+v", a)
	}
	for _, name := range []string{"Norm", "Other", "Lo", "Hi"} {
		if ch := channelOf(st, name); !ch.Active {
			t.Fatalf("%s paused by Norm's own budget refusal: %+v", name, ch)
		}
	}
	var evs []quotad.EventStatus
	if err := json.Unmarshal([]byte(c.ok("logs", "--json", "--category", "job")), &evs); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Fields["kind"] != "quotad_hold" || evs[0].Fields["api"] != "youtube" || evs[0].Fields["outcome"] != "quota" ||
		!strings.Contains(evs[0].Message, "Job was refused by quotad's own hold on youtube") {
		t.Fatalf("the run's event: %+v", evs)
	}
	if ch := channelOf(st, "Norm"); ch.ConsecutiveErrors != 0 {
		t.Fatalf("quotad's own refusal counted as an error of Norm: %+v", ch)
	}
	if _, errs, code := c.run("spend", "youtube", "10", "--channel", "Other"); code != 0 {
		t.Fatalf("Other refused after Norm's budget refusal: exit %d %s", code, errs)
	}
	// The refusal itself: exit status 3, whose hold and until when.
	_, errs, code = c.run("spend", "youtube", "100", "--channel", "Norm")
	if code != 3 || !strings.Contains(errs, "held by quotad: channel Norm's budget of youtube (window daily): 100 of its budget of 150 units spent, 100 asked until 2026-") {
		t.Fatalf("spend past Norm's budget: exit %d %q", code, errs)
	}
	// A reserve refusal says it is the reserve, for which priority, while
	// the window has more left than asked.
	c.ok("spend", "youtube", "550", "--channel", "Other") // 660 used, 340 left, 300 kept for high
	_, errs, code = c.run("reserve", "youtube", "100", "--channel", "Lo")
	if code != 3 || !strings.Contains(errs, "is the reserve for high priority; channel Lo is below it: 340 of 1000 units left, 300 kept, 100 asked") ||
		!strings.Contains(errs, "kind=reserve") {
		t.Fatalf("reserve into the reserve: exit %d %q", code, errs)
	}
	if _, errs, code := c.run("reserve", "youtube", "100", "--channel", "Hi"); code != 0 {
		t.Fatalf("high priority refused inside its reserve: exit %d %s", code, errs)
	}
	// Units that do not fit the window are refused whole, with status 3.
	_, errs, code = c.run("spend", "youtube", "500", "--channel", "Hi")
	if code != 3 || !strings.Contains(errs, "window daily cannot take it: 500 units asked, 240 free") {
		t.Fatalf("spend past the window: exit %d %q", code, errs)
	}
	if used := c.status().APIs[0].Windows[0].Used; used != 660 {
		t.Fatalf("youtube used %d after refused spends, want 660", used)
	}
}

// quotad plan foresees what the runner does: a run whose cost does not fit
// what is left of the channel's budget is held until the budget's reset.
func TestPlanForeseesABudgetHold(t *testing.T) {
	c := newCLI(t, `timezone: UTC
apis:
  youtube:
    windows: [{name: daily, limit: 1000, reset: "daily 00:00"}]
channels:
  Thrifty:
    apis: [youtube]
    budgets: {youtube: 150}
    job: {command: "true", schedule: every 1m, estimate: {youtube: 100}}
`)
	c.ok("spend", "youtube", "100", "--channel", "Thrifty")
	var plan []runner.PlanEntry
	if err := json.Unmarshal([]byte(c.ok("plan", "--json")), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || plan[0].Held != runner.HoldBudget || plan[0].Start == nil || plan[0].Start.UTC().Format("15:04") != "00:00" {
		t.Fatalf("plan with 50 of Thrifty's budget left for a run of 100: %+v", plan)
	}
	if out := c.ok("plan"); !strings.Contains(out, "budget spent until") {
		t.Fatalf("plan:\n%s", out)
	}
}
