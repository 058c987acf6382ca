package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/quotad/quotad"
)

// JobStarter starts channels' jobs for POST /api/v1/channels/{name}/run.
type JobStarter interface {
	// StartJob starts the channel's job now, whatever its schedule, and
	// returns once it has started, with the time it started. An error
	// wrapping quotad.ErrUnknownChannel (no such channel, or no job) answers
	// 404; quotad.ErrConflict (the channel is paused and force is false, or
	// its job is running) 409; ErrNoJobs 503.
	StartJob(channel string, force bool) (time.Time, error)
}

// ErrNoJobs reports a run request to a daemon that is not running jobs.
var ErrNoJobs = errors.New("this daemon is not running jobs (it was started with --no-jobs, no channel has a job, or it is starting or stopping)")

// RunRequest is the body of POST /api/v1/channels/{name}/run: Force runs
// the job of a paused channel too.
type RunRequest struct {
	Force bool `json:"force,omitempty"`
}

func (s *Server) runJob(w http.ResponseWriter, r *http.Request) error {
	var req RunRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if s.opts.Jobs == nil {
		return ErrNoJobs
	}
	name := r.PathValue("name")
	started, err := s.opts.Jobs.StartJob(name, req.Force)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, quotad.JobStart{Channel: name, Force: req.Force, Started: started.UTC()})
	return nil
}
