package main

import (
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// jobViews returns e as the daemon and the CLI show it: with the channels'
// job views (last run, result, next run), from the config's schedules and
// the store's job records, when a channel has a job.
func jobViews(e *engine.Engine, cfg config.Config) *runner.Views {
	return runner.NewViews(e, runnerJobs(cfg.Channels), cfg.Location())
}
