//go:build unix

package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

// Start runs a job now under the scheduling loop (the dashboard's "Run
// now"): it returns once the run has started, refuses what RunOnce refuses,
// and the run is recorded like any other.
func TestStartRunsAJobNowUnderRun(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go")
	f := newFixture(t, start12, strings.Replace(blockingJob(gate), "every 1m", "every 6h", 1))
	n := f.node("host:1:a", nil)
	if _, err := n.r.Start("Writer", false); !errors.Is(err, runner.ErrNotRunning) {
		t.Fatalf("Start outside Run: %v, want ErrNotRunning", err)
	}
	n.run()
	n.pass()
	n.noRun() // not due for hours

	started, err := n.r.Start("Writer", false)
	if err != nil || !started.Equal(start12) {
		t.Fatalf("Start: %s %v", started, err)
	}
	if s := n.state("Writer"); s.Holder != "host:1:a" {
		t.Fatalf("Start returned before the lease was taken: %+v", s)
	}
	if _, err := n.r.Start("Writer", true); !errors.Is(err, runner.ErrBusy) {
		t.Fatalf("second Start while running: %v, want ErrBusy", err)
	}
	if _, err := n.r.Start("Nobody", false); !errors.Is(err, quotad.ErrUnknownChannel) {
		t.Fatalf("Start of a channel without a job: %v", err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := n.result(); !res.OK() || res.Trigger != "manual" || res.Channel != "Writer" {
		t.Fatalf("run: %+v", res)
	}

	if _, err := n.e.Pause(n.ctx, "Writer", "by a person"); err != nil {
		t.Fatal(err)
	}
	var pe *runner.PausedError
	if _, err := n.r.Start("Writer", false); !errors.As(err, &pe) || pe.Reasons[0] != quotad.ReasonManual.String() {
		t.Fatalf("Start of a paused channel: %v, want a PausedError", err)
	}
	if _, err := n.r.Start("Writer", true); err != nil {
		t.Fatalf("forced Start: %v", err)
	}
	if res := n.result(); !res.OK() || res.Trigger != "forced" {
		t.Fatalf("forced run: %+v", res)
	}
	if evs := n.jobEvents("Writer"); len(evs) != 2 {
		t.Fatalf("job events %d, want 2", len(evs))
	}
}

// A channel paused because every provider of a fallback need is exhausted
// is refused with the time the first provider comes back, not as waiting
// for a person.
func TestPausedErrorOfACapabilityPauseSaysWhenItResumes(t *testing.T) {
	f := newFixture(t, start12, fallbackJob)
	n := f.node("host:1:a", nil)
	for _, api := range []string{"groq", "openai"} {
		if _, err := n.e.Spend(n.ctx, api, 10000, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
	var pe *runner.PausedError
	if !errors.As(err, &pe) || len(pe.Reasons) != 1 || pe.Reasons[0] != "capability:llm" {
		t.Fatalf("RunOnce: %v, want a capability pause", err)
	}
	if want := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC); !pe.ResumeAt.Equal(want) {
		t.Errorf("ResumeAt %s, want the providers' reset %s", pe.ResumeAt, want)
	}
}
