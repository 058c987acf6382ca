//go:build unix

package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/runner"
)

// Closing Options.Drain makes Run stop starting jobs and return once the
// running job has ended by itself: the job is not stopped (a config reload
// must not interrupt a pipeline's run).
func TestDrainLetsTheRunningJobFinish(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go")
	drain := make(chan struct{})
	f := newFixture(t, start12, strings.Replace(blockingJob(gate), "every 1m", "every 6h", 1))
	n := f.node("host:1:a", func(o *runner.Options) { o.Drain = drain })
	n.run()
	n.pass()
	if _, err := n.r.Start("Writer", false); err != nil {
		t.Fatal(err)
	}
	close(drain)
	select {
	case <-n.done:
		t.Fatal("Run returned while its job was still running")
	case <-time.After(50 * time.Millisecond): // a bound on a negative, not a wait for a signal
	}
	if _, err := n.r.Start("Writer", true); err == nil {
		t.Fatal("a draining runner started a job")
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := n.result(); !res.OK() {
		t.Fatalf("the drained job did not finish on its own: %+v", res)
	}
	select {
	case <-n.done:
	case <-time.After(wait):
		t.Fatal("Run did not return after its last job ended")
	}
}
