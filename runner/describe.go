package runner

import (
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/rule"
)

// JobStatus is a channel's job as shown to people and programs: the "job"
// object of `quotad channels --json`.
type JobStatus = quotad.JobStatus

// Describe returns the view of a channel's job from its config and its
// record in the store at now, or nil when the channel has no job. A job whose
// next run was never stored (the daemon has not seen it yet) shows the next
// instant of its schedule after now.
func Describe(ch config.ChannelConfig, s quotad.JobState, now time.Time) *JobStatus {
	if ch.Job == nil {
		return nil
	}
	js := &JobStatus{
		Schedule: ch.Job.Schedule, LastStart: quotad.TimePtr(s.LastStart), LastEnd: quotad.TimePtr(s.LastEnd),
		LastResult: s.LastResult, LastDetail: s.LastDetail, Runs: s.Runs, Running: s.Running(now),
	}
	if ch.Job.Schedule != "" {
		next := s.NextRun
		if r, err := rule.Parse(ch.Job.Schedule, time.UTC); err == nil {
			if want := r.Next(now); next.IsZero() || next.After(want) {
				next = want
			}
		}
		js.NextRun = quotad.TimePtr(next)
	}
	return js
}
