package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/rule"
)

// usageReader is what `quotad usage` needs: the engine, or a client that
// implements it.
type usageReader interface {
	Usage(ctx context.Context, q engine.UsageQuery) ([]engine.UsagePoint, error)
}

func newUsageCmd(g *globals) *cobra.Command {
	var q engine.UsageQuery
	var since, until string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show usage history: units and money spent per API, model and channel, by minute, hour or day",
		Long: `Show the units spent per API, model and channel, and what they cost (at the
models' prices, per million input and output tokens), by minute, hour or day
(calendar days in the config's timezone), newest last; then totals per API,
per model and, when there is money to show, per channel.

Every spend is recorded per minute, per API, model and channel (its units in
the API's unit). Minutes are
kept for usage.minutes (default 48h), then rolled up into hours, kept for
usage.hours (default 400d); asked by minute, older history comes by the hour.

  --since 6h | 7d | 2026-01-11 | 2026-01-11T08:00:00Z   (default 24h)`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch q.By {
			case engine.ByMinute, engine.ByHour, engine.ByDay:
			default:
				return usagef("--by must be minute, hour or day, got %q", q.By)
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				ur, ok := svc.(usageReader)
				if !ok {
					return fmt.Errorf("usage history is read from the store: run quotad usage without --server (QUOTAD_SERVER), with --db")
				}
				loc := cfg.Location()
				now := time.Now()
				var err error
				if q.Since, err = parseSince(since, now, loc); err != nil {
					return usagef("--since: %v", err)
				}
				if q.Until, err = parseSince(until, now, loc); err != nil {
					return usagef("--until: %v", err)
				}
				pts, err := ur.Usage(ctx, q)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), pts)
				}
				printUsage(cmd, pts, q.By, loc)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.API, "api", "", "only this API")
	f.StringVar(&q.Channel, "channel", "", "only this channel")
	f.StringVar(&since, "since", "24h", "start: a duration back from now (30m, 6h, 7d), a date (2026-01-11) or an RFC 3339 time")
	f.StringVar(&until, "until", "", "end, exclusive, in the same forms (default now)")
	f.StringVar(&q.By, "by", engine.ByHour, "points of a minute, hour or day")
	f.BoolVar(&asJSON, "json", false, `print JSON: [{"start","api","model","channel","units","count","cost"}]`)
	return cmd
}

// parseSince reads a duration back from now, a date (midnight in loc) or an
// RFC 3339 time; "" is the zero time.
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := rule.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("expected a positive duration, got %s", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a duration (6h, 7d), a date (2026-01-11) or an RFC 3339 time", s)
}

func printUsage(cmd *cobra.Command, pts []engine.UsagePoint, by string, loc *time.Location) {
	out := cmd.OutOrStdout()
	if len(pts) == 0 {
		fmt.Fprintln(out, "(no usage recorded in this range)")
		return
	}
	layout := map[string]string{engine.ByMinute: "2006-01-02 15:04 MST", engine.ByHour: "2006-01-02 15:04 MST", engine.ByDay: "2006-01-02 Mon"}[by]
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "START\tAPI\tMODEL\tCHANNEL\tUNITS\tSPENDS\tCOST\t")
	type total struct {
		units, count int64
		cost         float64
	}
	totals := map[[3]string]*total{} // API, model, channel; "" in a place = all of them
	add := func(k [3]string, p engine.UsagePoint) {
		t := totals[k]
		if t == nil {
			t = &total{}
			totals[k] = t
		}
		t.units += p.Units
		t.count += p.Count
		t.cost += p.Cost
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	priced := false
	for _, p := range pts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", p.Start.In(loc).Format(layout), p.API, dash(p.Model), dash(p.Channel), p.Units, p.Count, money(p.Cost))
		add([3]string{p.API, "", ""}, p)
		if p.Model != "" {
			add([3]string{p.API, p.Model, ""}, p)
		}
		add([3]string{"", "", dash(p.Channel)}, p)
		priced = priced || p.Cost > 0
	}
	keys := make([][3]string, 0, len(totals))
	for k := range totals {
		if k[0] != "" || priced { // totals per channel only when there is money to show
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if (a[0] == "") != (b[0] == "") {
			return a[0] != "" // per API first, then per channel
		}
		for n := range a {
			if a[n] != b[n] {
				return a[n] < b[n]
			}
		}
		return false
	})
	for _, k := range keys {
		t := totals[k]
		fmt.Fprintf(tw, "total\t%s\t%s\t%s\t%d\t%d\t%s\t\n", k[0], k[1], k[2], t.units, t.count, money(t.cost))
	}
	tw.Flush()
}

// money formats US dollars, "-" for none (no price known).
func money(d float64) string {
	switch {
	case d == 0:
		return "-"
	case d < 0.01:
		return fmt.Sprintf("$%.6f", d)
	}
	return fmt.Sprintf("$%.2f", d)
}

const (
	compactEvery  = 10 * time.Minute // roll-up and pruning of usage history
	forecastEvery = time.Minute      // exhaustion forecasts
)

// serveHousekeeping is the serve hook of usage housekeeping and forecasts.
func serveHousekeeping(ctx context.Context, d *daemon) error {
	return housekeeping(ctx, d.engine, engine.UsageRetention{
		Minutes: time.Duration(d.cfg.Usage.Minutes), Hours: time.Duration(d.cfg.Usage.Hours),
	}, d.log, nil)
}

// housekeeping rolls usage history up and prunes it every compactEvery (and
// at once), and checks exhaustion forecasts every minute, a second after
// the minute turns (so the last minute's bucket is complete), until ctx is
// done. Errors are logged and retried at the next turn. pass, if set, is
// called after each round (tests).
func housekeeping(ctx context.Context, e *engine.Engine, r engine.UsageRetention, log *slog.Logger, pass func()) error {
	clk := e.Clock()
	var nextCompact time.Time
	for {
		now := clk.Now()
		if !now.Before(nextCompact) {
			if res, err := e.CompactUsage(ctx, r); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Error("housekeeping: usage roll-up", "err", err)
			} else if res.RolledUp+res.Pruned > 0 {
				log.Debug("housekeeping: usage", "rolled_up", res.RolledUp, "pruned", res.Pruned)
			}
			nextCompact = now.Add(compactEvery)
		}
		if fs, err := e.CheckForecasts(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error("housekeeping: forecasts", "err", err)
		} else {
			for _, f := range fs {
				if f.Warned {
					log.Info("forecast", "api", f.API, "window", f.Window, "exhausted_at", f.ExhaustedAt, "next_reset", f.NextReset)
				}
			}
		}
		if pass != nil {
			pass()
		}
		wake := now.Truncate(forecastEvery).Add(forecastEvery + time.Second)
		if !sleepUntil(ctx, clk, earliest(wake, nextCompact)) {
			return nil
		}
	}
}

// sleepUntil waits until at on clk; false when ctx ended first.
func sleepUntil(ctx context.Context, clk clock.Clock, at time.Time) bool {
	d := at.Sub(clk.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
