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

// JobStart is a run of a channel's job started on request (the HTTP API's
// POST /api/v1/channels/{name}/run, the dashboard's "Run now"): the run
// goes on in the daemon and is recorded in the event log (category "job")
// and the channel's job status when it ends.
type JobStart struct {
	Channel string    `json:"channel"`
	Force   bool      `json:"force"` // the channel's pauses were overridden
	Started time.Time `json:"started"`
}
