package main

import (
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/notify"
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

// notifiers returns the config's notifiers, in config order, as notify
// sends to them.
func notifiers(cfg config.Config) []notify.Notifier {
	out := make([]notify.Notifier, 0, len(cfg.Notifiers))
	for _, n := range cfg.Notifiers {
		out = append(out, notifier(n))
	}
	return out
}

// notifier returns one configured notifier as notify sends to it.
func notifier(n config.NotifierConfig) notify.Notifier {
	return notify.Notifier{
		Name: n.Name, Type: n.Type, Events: n.Events, URL: n.URL, Secret: n.Secret,
		Host: n.Host, Port: n.Port, Username: n.Username, Password: n.Password, From: n.From, To: n.To, StartTLS: n.StartTLS,
		Timeout: time.Duration(n.Timeout), MaxAttempts: n.MaxAttempts,
	}
}
