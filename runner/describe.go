package runner

import (
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/rule"
)

// JobStatus is a channel's job as shown to people and programs: the "job"
// object of `quotad channels --json`.
type JobStatus struct {
	Schedule   string     `json:"schedule"`    // canonical rule text; "" = runs only on demand (quotad run)
	NextRun    *time.Time `json:"next_run"`    // when the schedule next makes it due; null without a schedule
	LastStart  *time.Time `json:"last_start"`  // null if it never ran
	LastEnd    *time.Time `json:"last_end"`    // null if it never finished
	LastResult string     `json:"last_result"` // ok, failed, quota, timeout, or "" (never ran)
	LastDetail string     `json:"last_detail"` // exit status and the classified error
	Runs       int64      `json:"runs"`
	Running    bool       `json:"running"` // a live lease says it runs now
}

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
