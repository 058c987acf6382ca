package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

func newLogsCmd(g *globals) *cobra.Command {
	var f quotad.EventFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the event log, newest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Limit < 0 || f.Limit > 10000 {
				return usagef("--limit must be between 1 and 10000, got %d", f.Limit)
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				evs, err := svc.Logs(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), evs)
				}
				for _, ev := range evs {
					fmt.Fprintln(cmd.OutOrStdout(), logLine(ev, cfg.Location()))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.Category, "category", "", "only this category (a LIKE pattern when it contains %)")
	cmd.Flags().StringVar(&f.Channel, "channel", "", "only this channel")
	cmd.Flags().StringVar(&f.Level, "level", "", "only this level (INFO, WARNING, ERROR)")
	cmd.Flags().IntVar(&f.Limit, "limit", 20, "at most this many events")
	cmd.Flags().Int64Var(&f.Before, "before", 0, "only events with an id below this (paging)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// logLine formats an event the way the seed logs it:
// [2026-01-11 12:30:45 PST] [WARNING] [RankRiot] [quota] message
func logLine(ev quotad.EventStatus, loc *time.Location) string {
	ch := ""
	if ev.Channel != "" {
		ch = " [" + ev.Channel + "]"
	}
	return fmt.Sprintf("[%s] [%s]%s [%s] %s", ev.Time.In(loc).Format("2006-01-02 15:04:05 MST"), ev.Level, ch, ev.Category, ev.Message)
}
