package main

import (
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

// Channels' job views (last run, result, next run) come from the config's
// schedules and the store's job records.
func init() {
	engineOptionHooks = append(engineOptionHooks, func(cfg config.Config, o *engine.Options) {
		jobs := map[string]config.ChannelConfig{}
		for _, c := range cfg.Channels {
			if c.Job != nil {
				jobs[c.Name] = c
			}
		}
		if len(jobs) == 0 {
			return
		}
		o.DescribeJob = func(channel string, s quotad.JobState, now time.Time) *quotad.JobStatus {
			c, ok := jobs[channel]
			if !ok {
				return nil
			}
			return runner.Describe(c, s, now)
		}
	})
}
