package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/simulate"
)

func newSimulateCmd(g *globals) *cobra.Command {
	var days, copies int
	var seed int64
	var asJSON bool
	var baseline, start string
	var errRate, outRate float64
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Live through a month of the channels' jobs on a virtual clock",
		Long: `Live through days or a month of the config's channels in seconds, on a
virtual clock, with quotad's own engine, monitor pass, runner decisions and
metering proxy against in-process fake providers (Groq, OpenAI, YouTube,
Pexels with their real limits, headers and refusals). Each channel's job is
described by what it calls (job.simulate in the config); nothing is run and
nothing leaves the process. The store is a temporary file, removed after.

It reports per channel runs started, finished and failed, held passes by
reason, paused time split into quota truly out and quota available, days
without a finished run; per provider window its utilization and when it
ran out; and the pauses a person would have had to lift. --baseline seed
lives through the same month under the seed's rules (hourly check, midnight
reset, keyword detection, resume of every paused channel), side by side.
The same --seed gives the same month.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > 366 {
				return usagef("--days takes 1 to 366, got %d", days)
			}
			if copies < 1 || copies > 1000 {
				return usagef("--copies takes 1 to 1000, got %d", copies)
			}
			if baseline != "" && baseline != "seed" {
				return usagef("--baseline takes seed, got %q", baseline)
			}
			if errRate < 0 || errRate > 1 || outRate < 0 || outRate > 1 {
				return usagef("--error-rate and --outage-rate take 0 to 1")
			}
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			opts := simulate.Options{Days: days, Seed: seed, Baseline: baseline == "seed", ErrorRate: errRate, OutageRate: outRate, Copies: copies}
			if start != "" {
				t, err := time.ParseInLocation(time.DateOnly, start, cfg.Location())
				if err != nil {
					return usagef("--start takes a date like 2026-03-01, got %q", start)
				}
				opts.Start = t
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			began := time.Now()
			rep, err := simulate.Run(ctx, cfg, opts)
			if errors.Is(err, simulate.ErrNoJobs) {
				return fmt.Errorf("%w: add a simulate key to a channel's job, like simulate: {calls: [{api: groq, tokens: 2500}]}", err)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Simulated in %s.\n", time.Since(began).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&days, "days", simulate.DefaultDays, "days to simulate")
	cmd.Flags().IntVar(&copies, "copies", 1, "simulate this many copies of each channel: how many channels the quotas carry")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the failures, provider errors and outages drawn")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&baseline, "baseline", "", `also simulate under other rules, side by side: "seed"`)
	cmd.Flags().StringVar(&start, "start", "", "first day, in the config's time zone (default 2026-03-01)")
	cmd.Flags().Float64Var(&errRate, "error-rate", 0, "probability that a provider answers a call with a 500")
	cmd.Flags().Float64Var(&outRate, "outage-rate", 0, "probability that a provider is down for a given hour")
	return cmd
}
