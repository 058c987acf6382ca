package main

import (
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// Channels' job views (last run, result, next run) come from the config's
// schedules and the store's job records.
func init() {
	engineOptionHooks = append(engineOptionHooks, func(cfg config.Config, o *engine.Options) {
		for _, c := range cfg.Channels {
			if c.Job != nil {
				o.DescribeJob = runner.Describer(runnerJobs(cfg.Channels), cfg.Location())
				return
			}
		}
	})
}
