package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/runner"
)

func newPlanCmd(g *globals) *cobra.Command {
	var asJSON bool
	var horizon time.Duration
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show the upcoming runs of the channels' jobs and why any is held",
		Long: `Show the next run of every channel with a scheduled job: when it is due, when it
is expected to start, its expected cost per API (learned from its recent runs,
else the config's estimate) and, when it is held, why and until when: paused,
API exhausted, insufficient quota until the reset, a reserve kept for higher
priorities, pacing (pace: even), or the channel's budget.

plan reads the store directly (--db, QUOTAD_DB).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.serverURL() != "" {
				return usagef("plan reads the store: run it without --server (QUOTAD_SERVER), with --db")
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			l, err := g.openLocal(ctx, cfg)
			if err != nil {
				return err
			}
			defer l.Close()
			snap, err := runner.ReadSnapshot(ctx, quotad.ReadStore(l.store))
			if err != nil {
				return err
			}
			in := runner.PlanInput{Channels: snap.Channels, APIs: snap.APIs, States: snap.States,
				Jobs: runnerJobs(l.cfg.Channels), Paced: l.cfg.PacedAPIs(), Location: l.cfg.Location(), Now: l.engine.Clock().Now(), Horizon: horizon}
			var names []string
			for _, ch := range l.cfg.Channels {
				names = append(names, ch.Name)
			}
			if in.Costs, err = runner.LearnCosts(ctx, l.engine, names, 0, 0); err != nil {
				return err
			}
			in.Check = func(channel string, cost, pending map[string]int64) runner.Hold {
				h, _ := runner.CostHold(ctx, l.engine, channel, engine.Expected{Cost: cost, Pending: pending}, in.Now)
				return h
			}
			plan := runner.Plan(in)
			if asJSON {
				if plan == nil {
					plan = []runner.PlanEntry{}
				}
				return printJSON(cmd.OutOrStdout(), plan)
			}
			printPlan(cmd, plan, in.Location, in.Now)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().DurationVar(&horizon, "horizon", runner.DefaultHorizon, "how far ahead to look")
	return cmd
}

func printPlan(cmd *cobra.Command, plan []runner.PlanEntry, loc *time.Location, now time.Time) {
	if len(plan) == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "no channel has a scheduled job")
		return
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tPRIORITY\tDUE\tSTART\tCOST\tHELD")
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return humanIn(t, loc, now)
	}
	for _, e := range plan {
		keys := slices.Sorted(maps.Keys(e.Cost))
		var cost []string
		for _, k := range keys {
			cost = append(cost, fmt.Sprintf("%s=%d", k, e.Cost[k]))
		}
		c := strings.Join(cost, " ")
		switch {
		case c == "" && e.CostSource == "estimate":
			c = "unknown (no estimate; learned from its first run)"
		case c == "":
			c = "nothing (learned)"
		default:
			c += " (" + e.CostSource + ")"
		}
		held := e.Describe(loc)
		if held == "" {
			held = "-"
		}
		if e.Running {
			held = "running; " + held
		}
		due := e.Due
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Channel, e.Priority, at(&due), at(e.Start), c, held)
	}
	tw.Flush()
}
