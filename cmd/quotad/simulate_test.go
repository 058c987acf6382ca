package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimulateCLI runs the example's seed channels for two days with the
// seed's rules beside, as JSON and as text, and refuses bad flags with a
// usage error.
func TestSimulateCLI(t *testing.T) {
	out, errOut, code := runCLI("simulate", "--config", "../../examples/simulate/quotad.yaml", "--days", "2", "--seed", "3", "--baseline", "seed", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Channels map[string]struct {
			Runs struct{ Started, Finished int }
		}
		Windows []struct {
			Window      string
			Utilization *float64
		}
		Interventions []any
		Baseline      *struct {
			Channels      map[string]any
			Windows       []any
			Interventions []any
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Channels) != 3 || rep.Channels["RankRiot"].Runs.Finished == 0 {
		t.Errorf("channels: %+v", rep.Channels)
	}
	if len(rep.Windows) == 0 || rep.Windows[0].Utilization == nil {
		t.Errorf("windows: %+v", rep.Windows)
	}
	if rep.Interventions == nil || rep.Baseline == nil || len(rep.Baseline.Channels) != 3 || len(rep.Baseline.Windows) != len(rep.Windows) || rep.Baseline.Interventions == nil {
		t.Errorf("baseline: %+v", rep.Baseline)
	}
	out, errOut, code = runCLI("simulate", "--config", "../../examples/simulate/quotad.yaml", "--days", "1")
	if code != 0 || !strings.Contains(out, "RankRiot") || !strings.Contains(out, "groq/llama-3.3-70b-versatile/tpd") || !strings.Contains(out, "Interventions needed: quotad 0") {
		t.Errorf("text (exit %d, %s):\n%s", code, errOut, out)
	}
	for _, args := range [][]string{{"--baseline", "cron"}, {"--days", "0"}, {"--start", "March"}} {
		_, errOut, code := runCLI(append([]string{"simulate", "--config", "../../examples/simulate/quotad.yaml"}, args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage): %s", args, code, errOut)
		}
	}
}
