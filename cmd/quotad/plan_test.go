//go:build unix

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/runner"
)

// planConfig's daily windows reset twelve hours from when the test runs, so
// a plan's two-hour horizon never reaches a reset (which would lift the
// reserve the test expects to hold) whatever the time of day.
var planConfig = strings.ReplaceAll(`timezone: UTC
apis:
  groq:
    windows: [{name: daily, limit: 1000, reset: "daily RESET"}]
  openai:
    windows: [{name: daily, limit: 1000, reset: "daily RESET"}]
  youtube:
    windows: [{name: daily, limit: 10000, reset: "daily RESET"}]
    reserve: {priority: high, units: 2000}
channels:
  Writer:
    apis: [youtube]
    priority: high
    fallbacks: {llm: [groq, openai]}
    job: {command: "true", schedule: every 1h, estimate: {youtube: 100, groq: 50}}
  Cheap:
    apis: [youtube]
    priority: low
    job: {command: "true", schedule: every 1h, estimate: {youtube: 500}}
  Idle:
    apis: [youtube]
  Fresh:
    apis: [openai]
    job: {command: '"$QUOTAD_BIN" spend openai 70 --channel "$QUOTAD_CHANNEL"', schedule: every 1h}
`, "RESET", time.Now().UTC().Add(12*time.Hour).Format("15:04"))

func TestPlanAndPickCommands(t *testing.T) {
	c := newCLI(t, planConfig)
	out := c.ok("plan")
	if !strings.Contains(out, "CHANNEL") || !strings.Contains(out, "Writer") || !strings.Contains(out, "youtube=100 (estimate)") || strings.Contains(out, "Idle") {
		t.Fatalf("plan:\n%s", out)
	}
	// Times to the second with the time left; a job without an estimate
	// says its cost is not known until its first run, then the learned one.
	if !strings.Contains(out, "unknown (no estimate; learned from its first run)") || !strings.Contains(out, ":00:00 UTC (in ") {
		t.Fatalf("plan:\n%s", out)
	}
	c.ok("run", "Fresh")
	if out := c.ok("plan"); !strings.Contains(out, "openai=70 (learned)") {
		t.Fatalf("plan after Fresh's first run:\n%s", out)
	}
	c.ok("reset", "openai")
	c.ok("spend", "youtube", "8000")
	var plan []runner.PlanEntry
	if err := json.Unmarshal([]byte(c.ok("plan", "--json", "--horizon", "2h")), &plan); err != nil {
		t.Fatal(err)
	}
	got := map[string]runner.PlanEntry{}
	for _, e := range plan {
		got[e.Channel] = e
	}
	if w := got["Writer"]; w.Held != "" || w.Start == nil || w.Cost["youtube"] != 100 {
		t.Fatalf("Writer: %+v", w)
	}
	if ch := got["Cheap"]; ch.Held != runner.HoldReserve || ch.Start != nil || ch.Until == nil {
		t.Fatalf("Cheap: %+v", ch)
	}
	if out := c.ok("plan"); !strings.Contains(out, "reserve for higher priority until") {
		t.Fatalf("plan:\n%s", out)
	}

	if out := c.ok("pick", "llm", "--channel", "Writer"); strings.TrimSpace(out) != "groq" {
		t.Fatalf("pick: %q", out)
	}
	c.ok("spend", "groq", "1000")
	if out := c.ok("pick", "llm", "--channel", "Writer", "--json"); !strings.Contains(out, `"provider": "openai"`) {
		t.Fatalf("pick --json: %s", out)
	}
	c.ok("spend", "openai", "1000")
	if out, errs, code := c.run("pick", "llm", "--channel", "Writer"); code != 1 || out != "" || !strings.Contains(errs, "no provider of llm is available") {
		t.Fatalf("pick with none: %d %q %q", code, out, errs)
	}
	if _, _, code := c.run("pick", "llm"); code != 2 {
		t.Fatalf("pick without --channel: exit %d", code)
	}
}
