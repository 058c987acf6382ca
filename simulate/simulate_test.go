package simulate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/simulate"
)

// video is the job of the seed's channels: three Groq calls of 2,500
// tokens, a YouTube search and upload, ten Pexels searches, over 4 minutes.
const video = `
    job:
      schedule: every 2h
      simulate:
        calls:
          - {api: groq, model: llama-3.3-70b-versatile, tokens: 2500, count: 3}
          - {api: youtube, method: search.list}
          - {api: youtube, method: videos.insert}
          - {api: pexels, count: 10}
        duration: 4m
        fail_rate: 0.02`

// threeChannels are the seed's three channels on the seed's quotas, with
// Groq's day where Groq has it (UTC, as the fake provider).
func threeChannels(groqWindow string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "timezone: America/Los_Angeles\napis:\n  groq:\n    windows: [%s]\n  youtube:\n    windows: [{name: daily, limit: 10000, reset: \"daily 00:00\"}]\n  pexels:\n    windows: [{name: hourly, limit: 200, reset: \"every 1h\"}, {name: monthly, limit: 20000, reset: \"monthly 1 00:00\"}]\nchannels:\n", groqWindow)
	for _, name := range []string{"RankRiot", "TechTen", "DailyFacts"} {
		fmt.Fprintf(&b, "  %s:\n    apis: [groq, youtube, pexels]%s\n", name, video)
	}
	return b.String()
}

func parse(t *testing.T, yaml string) config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var utcMidnight = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// TestDaysOfTheSeedsChannels: where demand exceeds Groq's day, quotad uses
// at least 95% of it, never overspends a window and needs no person, while
// the seed's rules (a refusal pauses until midnight Pacific) need one
// every day.
func TestDaysOfTheSeedsChannels(t *testing.T) {
	cfg := parse(t, threeChannels(`{name: daily, limit: 100000, reset: "daily 00:00 UTC"}`))
	rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 2, Seed: 1, Start: utcMidnight, Baseline: true, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tpd, ok := rep.Window("groq/llama-3.3-70b-versatile/tpd")
	if !ok || tpd.Utilization < 0.95 {
		t.Errorf("quotad used %.1f%% of Groq's tokens per day, want at least 95%%: %+v", 100*tpd.Utilization, tpd)
	}
	if len(rep.Overspent) > 0 {
		t.Errorf("quotad's windows overspent: %v", rep.Overspent)
	}
	for _, w := range rep.Windows {
		if w.Overspent || w.BestPeriod > 1 {
			t.Errorf("window %s overspent: %+v", w.Window, w)
		}
	}
	if len(rep.Interventions) != 0 {
		t.Errorf("quotad needed %d interventions: %+v", len(rep.Interventions), rep.Interventions)
	}
	if n := len(rep.Baseline.Interventions); n < 1 {
		t.Errorf("the seed's rules needed %d interventions in 2 days, want some", n)
	}
	var q, s, started, failed int
	var wasted float64
	for name, c := range rep.Channels {
		started += c.Runs.Started
		failed += c.Runs.Failed
		q += c.Runs.Finished
		s += rep.Baseline.Channels[name].Runs.Finished
		wasted += rep.Baseline.Channels[name].Runs.PausedAvailableMinutes
		if c.Runs.PausedAvailableMinutes > 0 {
			t.Errorf("%s paused %.0f minutes while the providers would serve it", name, c.Runs.PausedAvailableMinutes)
		}
	}
	// quotad starts a run only when its cost fits: runs fail only at the
	// job's own fail rate (2%), never for want of quota.
	if failed > started/20 {
		t.Errorf("quotad started %d runs and %d failed: runs were started that the quota could not carry", started, failed)
	}
	if wasted < 2*60 {
		t.Errorf("the seed's rules kept channels paused %.0f minutes while Groq would serve them, want hours", wasted)
	}
	t.Logf("finished runs: quotad %d, seed %d; groq tpd utilization quotad %.1f%%; seed paused with quota available %.0f min", q, s, 100*tpd.Utilization, wasted)
}

// TestProviderRefusalPausesDependentsUntilItsTime: a provider's refusal
// (Groq's tokens per day, which quotad's own window does not foresee)
// exhausts groq until the provider's stated time and pauses every channel
// that needs groq, the one that called and the one that did not; the
// monitor's pass resumes them when the provider serves again, with no
// paused time while it would serve, every day.
func TestProviderRefusalPausesDependentsUntilItsTime(t *testing.T) {
	cfg := parse(t, `timezone: America/Los_Angeles
apis:
  groq:
    windows: [{name: daily, limit: 10000000, reset: "daily 00:00 UTC"}]
channels:
  Writer:
    apis: [groq]
    job:
      schedule: every 10m
      simulate: {calls: [{api: groq, tokens: 2500, count: 3}], duration: 1m}
  Reader:
    apis: [groq]
    job:
      schedule: every 6h
      simulate: {calls: [{api: groq, tokens: 2500}]}
`)
	rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 2, Start: utcMidnight, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Writer", "Reader"} {
		c := rep.Channels[name]
		for _, d := range c.Days {
			if d.PausedOutMinutes == 0 {
				t.Errorf("%s %s: never paused while groq was out", name, d.Date)
			}
		}
		// A job's printed refusal is classified when the job ends, its
		// stated wait counted from then: Writer's run lasts a minute.
		for _, d := range c.Days {
			if d.PausedAvailableMinutes > 1 {
				t.Errorf("%s %s: paused %.0f minutes while Groq would serve it: not resumed on time", name, d.Date, d.PausedAvailableMinutes)
			}
		}
	}
	if d := rep.Channels["Writer"].Days; d[len(d)-1].Finished == 0 {
		t.Errorf("Writer finished nothing on its last day: not resumed")
	}
	if len(rep.Interventions) != 0 {
		t.Errorf("interventions: %+v", rep.Interventions)
	}
	tpd, _ := rep.Window("groq/llama-3.3-70b-versatile/tpd")
	if tpd.Utilization < 0.95 || len(tpd.Exhausted) == 0 {
		t.Errorf("groq tpd: %+v", tpd)
	}
}

// TestSameSeedSameMonth: the month is a function of the config and the
// seed.
func TestSameSeedSameMonth(t *testing.T) {
	cfg := parse(t, strings.ReplaceAll(threeChannels(`{name: daily, limit: 100000, reset: "daily 00:00 UTC"}`), "fail_rate: 0.02", "fail_rate: 0.3"))
	run := func(seed int64) string {
		rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 1, Seed: seed, ErrorRate: 0.05, Baseline: true, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rep)
		return string(b)
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("the same seed gave two months:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 gave the same month")
	}
}

func TestNoSimulatedJob(t *testing.T) {
	cfg := parse(t, "channels:\n  A:\n    apis: [groq]\n    job: {command: make, schedule: every 1h}\n")
	if _, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 1, Dir: t.TempDir()}); err != simulate.ErrNoJobs {
		t.Fatalf("got %v, want ErrNoJobs", err)
	}
}
