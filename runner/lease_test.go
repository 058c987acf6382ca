//go:build unix

package runner_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

// blockingJob is a config whose job prints "started" and waits until the
// file gate exists.
func blockingJob(gate string) string {
	return `timezone: UTC
apis:
  groq:
    windows: [{name: d, limit: 100, reset: "daily 00:00"}]
channels:
  Writer:
    apis: [groq]
    job:
      command: echo started; while [ ! -e "` + gate + `" ]; do sleep 0.01; done; echo done
      schedule: every 1m
`
}

func TestLeaseKeepsTwoRunnersFromRunningOneJobTwice(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go")
	f := newFixture(t, start12, blockingJob(gate))
	a, b := f.node("host:1:a", nil), f.node("host:2:b", nil) // two daemons: two engines on one database
	out := newSignalWriter("started")
	ran := make(chan error, 1)
	go func() {
		_, err := a.r.RunOnce(a.ctx, "Writer", false, out)
		ran <- err
	}()
	out.wait(t)
	_, err := b.r.RunOnce(b.ctx, "Writer", false, nil)
	var busy *runner.BusyError
	if !errors.As(err, &busy) || busy.Holder != "host:1:a" || !errors.Is(err, runner.ErrBusy) {
		t.Fatalf("second runner: %v, want busy with a's lease", err)
	}
	if _, err := b.r.RunOnce(b.ctx, "Writer", true, nil); !errors.Is(err, runner.ErrBusy) {
		t.Fatalf("force must not override a lease: %v", err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if st := a.state("Writer"); st.Runs != 1 || st.Holder != "" {
		t.Fatalf("state %+v", st)
	}
	// Free again: the other runner may run it now.
	if res, err := b.r.RunOnce(b.ctx, "Writer", false, nil); err != nil || !res.OK() {
		t.Fatalf("after release: %+v %v", res, err)
	}
}

func TestTwoSchedulingLoopsRunADueJobOnce(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go")
	f := newFixture(t, start12, blockingJob(gate))
	a, b := f.node("host:1:a", nil), f.node("host:2:b", nil)
	a.saveState(quotad.JobState{Channel: "Writer", NextRun: start12.Add(-time.Second)})
	a.run()
	b.run()
	pa, pb := a.pass(), b.pass()
	started := append(append([]string(nil), pa.Started...), pb.Started...)
	busy := append(append([]string(nil), pa.Busy...), pb.Busy...)
	if !slices.Equal(started, []string{"Writer"}) || !slices.Equal(busy, []string{"Writer"}) {
		t.Fatalf("first passes: a started %v busy %v, b started %v busy %v; want one start and one busy", pa.Started, pa.Busy, pb.Started, pb.Busy)
	}
	winner, loser := a, b
	if len(pb.Started) == 1 {
		winner, loser = b, a
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := winner.result(); !res.OK() {
		t.Fatalf("run: %+v", res)
	}
	// Wake the other loop: it must find the job no longer due.
	if _, err := loser.e.Reset(context.Background(), "groq"); err != nil {
		t.Fatal(err)
	}
	if p := loser.passUntil("after the run", func(p runner.Pass) bool { return len(p.Busy) == 0 }); len(p.Started) != 0 {
		t.Fatalf("the second loop started %v after the run", p.Started)
	}
	loser.noRun()
	if st := a.state("Writer"); st.Runs != 1 || len(a.jobEvents("Writer")) != 1 {
		t.Fatalf("runs %d, want 1", st.Runs)
	}
}

func TestOnlyLapsedLeasesAreTakenOver(t *testing.T) {
	f := newFixture(t, start12, accountConfig(20, "echo ok"))
	n := f.node(runner.NewID(), nil)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, tt := range []struct {
		name   string
		holder string
		until  time.Time
		busy   bool
	}{
		{"live lease of another machine", "elsewhere:1:x", start12.Add(time.Minute), true},
		{"lapsed lease", "elsewhere:1:x", start12.Add(-time.Second), false},
		// Its job may still run in its own process group: wait for the lapse.
		{"live lease of a dead process here", host + ":" + strconv.Itoa(dead.Process.Pid) + ":x", start12.Add(time.Hour), true},
	} {
		n.saveState(quotad.JobState{Channel: "Writer", Holder: tt.holder, LastStart: start12.Add(-time.Hour), LeaseUntil: tt.until})
		res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
		if busy := errors.Is(err, runner.ErrBusy); busy != tt.busy || (!busy && (err != nil || !res.OK())) {
			t.Errorf("%s: %+v %v; want busy %v", tt.name, res, err, tt.busy)
		}
	}
}
