package main

import (
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// jobEngineOptions gives the engine the channels' job views (last run,
// result, next run), from the config's schedules and the store's job
// records, when a channel has a job.
func jobEngineOptions(cfg config.Config, o *engine.Options) {
	if jobs := runnerJobs(cfg.Channels); len(jobs) > 0 {
		o.DescribeJob = runner.Describer(jobs, cfg.Location())
	}
}
