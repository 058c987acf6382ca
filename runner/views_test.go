//go:build unix

package runner_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

const jobAndPlain = oneJob + `  Plain:
    apis: [groq]
`

// TestViewsShowEachChannelsJob: the status the daemon serves and the CLI
// prints shows a channel's job (schedule, last result, runs, next run) from
// its stored record; a channel without a job shows none, and a reload that
// drops the job drops its view.
func TestViewsShowEachChannelsJob(t *testing.T) {
	f := newFixture(t, start12, jobAndPlain)
	n := f.node("a", nil)
	last := start12.Add(-10 * time.Minute)
	if err := n.st.Update(n.ctx, func(tx quotad.Tx) error {
		return tx.SaveJobState(quotad.JobState{Channel: "Writer", LastStart: last, LastEnd: last.Add(time.Minute),
			LastResult: "ok", Runs: 3, NextRun: start12.Add(20 * time.Second)})
	}); err != nil {
		t.Fatal(err)
	}
	v := runner.NewViews(n.e, f.jobs(), time.UTC)

	st, err := v.Status(n.ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]*quotad.JobStatus{}
	for _, c := range st.Channels {
		jobs[c.Name] = c.Job
	}
	w := jobs["Writer"]
	if w == nil || w.Schedule != "every 1m" || w.LastResult != "ok" || w.Runs != 3 ||
		w.NextRun == nil || !w.NextRun.Equal(start12.Add(20*time.Second)) || w.LastStart == nil || !w.LastStart.Equal(last) {
		t.Fatalf("Writer's job in the status: %+v, want its schedule and stored record", w)
	}
	if jobs["Plain"] != nil {
		t.Fatalf("Plain has no job but its status shows %+v", jobs["Plain"])
	}
	c, err := v.Channel(n.ctx, "Writer")
	if err != nil {
		t.Fatal(err)
	}
	if c.Job == nil || c.Job.Runs != 3 {
		t.Fatalf("Writer's job in its channel view: %+v", c.Job)
	}
	if _, err := v.Channel(n.ctx, "Nope"); err == nil {
		t.Fatal("an unknown channel's view did not fail")
	}

	v.SetJobs(nil, time.UTC)
	if c, err = v.Channel(n.ctx, "Writer"); err != nil || c.Job != nil {
		t.Fatalf("after the job was removed, Writer's view shows %+v (%v)", c.Job, err)
	}
}
