package main

import (
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/runner"
)

// This file translates the config into the options of the parts it
// configures, so that those parts (runner, notify) do not depend on the
// config package.

// runnerJobs returns the jobs of the channels that have one, in config
// order, as the runner runs them.
func runnerJobs(channels []config.ChannelConfig) []runner.Job {
	var jobs []runner.Job
	for _, ch := range channels {
		if ch.Job != nil {
			jobs = append(jobs, runnerJob(ch))
		}
	}
	return jobs
}

// runnerJob returns the job of a channel that has one.
func runnerJob(ch config.ChannelConfig) runner.Job {
	j := ch.Job
	return runner.Job{
		Channel: ch.Name, Priority: ch.Priority, Command: j.Command, Dir: j.Dir, Env: j.Env,
		Schedule: j.Schedule, Timeout: time.Duration(j.Timeout), Estimate: j.Estimate,
	}
}
