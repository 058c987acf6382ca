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
// record in the store at now, or nil when the channel has no job; loc is
// the zone of a schedule that names none. A job whose next run was never
// stored (the daemon has not seen it yet) shows the next instant of its
// schedule after now.
func Describe(ch config.ChannelConfig, loc *time.Location, s quotad.JobState, now time.Time) *JobStatus {
	return Describer([]config.ChannelConfig{ch}, loc)(ch.Name, s, now)
}

// Describer returns Describe for the channels' jobs with each schedule
// parsed once: the engine's DescribeJob, called for every channel of every
// status read.
func Describer(channels []config.ChannelConfig, loc *time.Location) func(channel string, s quotad.JobState, now time.Time) *JobStatus {
	type described struct {
		ch     config.ChannelConfig
		sched  rule.Rule
		parsed bool // sched holds the job's schedule
	}
	jobs := map[string]described{}
	for _, ch := range channels {
		if ch.Job == nil {
			continue
		}
		d := described{ch: ch}
		if ch.Job.Schedule != "" {
			if r, err := rule.Parse(ch.Job.Schedule, loc); err == nil {
				d.sched, d.parsed = r, true
			}
		}
		jobs[ch.Name] = d
	}
	return func(channel string, s quotad.JobState, now time.Time) *JobStatus {
		d, ok := jobs[channel]
		if !ok {
			return nil
		}
		js := &JobStatus{
			Schedule: d.ch.Job.Schedule, LastStart: quotad.TimePtr(s.LastStart), LastEnd: quotad.TimePtr(s.LastEnd),
			LastResult: s.LastResult, LastDetail: s.LastDetail, Runs: s.Runs, Running: s.Running(now),
		}
		switch {
		case d.parsed:
			js.NextRun = quotad.TimePtr(nextDue(s.NextRun, d.sched, now))
		case d.ch.Job.Schedule != "":
			js.NextRun = quotad.TimePtr(s.NextRun)
		}
		return js
	}
}

// nextDue is when a job is next due: its stored next run, unless that is
// zero (never computed) or later than sched.Next(now) — stored under an
// older schedule, or before the clock stepped back — which give Next(now).
func nextDue(stored time.Time, sched rule.Rule, now time.Time) time.Time {
	if want := sched.Next(now); stored.IsZero() || stored.After(want) {
		return want
	}
	return stored
}
