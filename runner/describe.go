package runner

import (
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// JobStatus is a channel's job as shown to people and programs: the "job"
// object of `quotad channels --json`.
type JobStatus = quotad.JobStatus

// Describe returns the view of a channel's job from its config and its
// record in the store at now; loc is the zone of a schedule that names
// none. A job whose next run was never
// stored (the daemon has not seen it yet) shows the next instant of its
// schedule after now.
func Describe(j Job, loc *time.Location, s quotad.JobState, now time.Time) *JobStatus {
	return Describer([]Job{j}, loc)(j.Channel, s, now)
}

// Describer returns Describe for the jobs with each schedule parsed once
// (nil for a channel without a job): what Views calls for every channel of
// every status read.
func Describer(jobs []Job, loc *time.Location) func(channel string, s quotad.JobState, now time.Time) *JobStatus {
	type described struct {
		j      Job
		sched  rule.Rule
		parsed bool // sched holds the job's schedule
	}
	byChannel := map[string]described{}
	for _, j := range jobs {
		d := described{j: j}
		if j.Schedule != "" {
			if r, err := rule.Parse(j.Schedule, loc); err == nil {
				d.sched, d.parsed = r, true
			}
		}
		byChannel[j.Channel] = d
	}
	return func(channel string, s quotad.JobState, now time.Time) *JobStatus {
		d, ok := byChannel[channel]
		if !ok {
			return nil
		}
		js := &JobStatus{
			Schedule: d.j.Schedule, LastStart: quotad.TimePtr(s.LastStart), LastEnd: quotad.TimePtr(s.LastEnd),
			LastResult: s.LastResult, LastDetail: s.LastDetail, Runs: s.Runs, Running: s.Running(now),
		}
		switch {
		case d.parsed:
			js.NextRun = quotad.TimePtr(nextDue(s.NextRun, d.sched, now))
		case d.j.Schedule != "":
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
