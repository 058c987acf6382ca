package quotad

import "time"

// Job outcomes, as stored in JobState.LastResult.
const (
	JobOK      = "ok"
	JobFailed  = "failed"
	JobQuota   = "quota"
	JobTimeout = "timeout"
)

// JobState is the runner's record of one channel's job.
type JobState struct {
	Channel    string
	NextRun    time.Time // when the schedule next makes the job due; zero = not computed yet
	LastStart  time.Time
	LastEnd    time.Time
	LastResult string // JobOK, JobFailed, JobQuota, JobTimeout, or "" (never ran)
	LastDetail string // short text: exit status, the classified error
	Runs       int64
	Holder     string    // id of the runner holding the lease, "" when free
	LeaseUntil time.Time // the lease lapses then if its holder dies
}

// Running reports whether a live lease says the job is running at now.
func (s JobState) Running(now time.Time) bool {
	return s.Holder != "" && s.LeaseUntil.After(now)
}
