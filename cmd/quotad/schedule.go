package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/rule"
)

func newScheduleCmd(g *globals) *cobra.Command {
	var from string
	var n int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schedule RULE",
		Short: "Print the next reset instants of a rule (like systemd-analyze calendar)",
		Long: `Print the next N reset instants of a rule, in the rule's zone and in UTC.

Rules: daily HH:MM [TZ] | weekly DAY HH:MM [TZ] | monthly D|last HH:MM [TZ] |
       every DURATION | cron "EXPR" [TZ]
TZ defaults to the config's timezone (America/Los_Angeles).

  quotad schedule "daily 00:00"
  quotad schedule 'cron "0 2 * * *" America/Los_Angeles' --from 2026-03-07T00:00:00Z -n 3`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 1 || n > 1000 {
				return usagef("-n must be between 1 and 1000, got %d", n)
			}
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			r, err := rule.Parse(args[0], cfg.Location())
			if err != nil {
				return usageError{err}
			}
			t := time.Now()
			if from != "" {
				if t, err = time.Parse(time.RFC3339, from); err != nil {
					return usagef("--from must be an RFC 3339 time such as 2026-03-07T00:00:00Z, got %q", from)
				}
			}
			out := make([]time.Time, 0, n)
			for range n {
				t = r.Next(t)
				if t.IsZero() {
					break
				}
				out = append(out, t.UTC())
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rule: %s\n", r)
			for _, t := range out {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  (%s)\n", t.In(r.Location()).Format("Mon 2006-01-02 15:04:05 MST"), t.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start after this RFC 3339 instant (default now)")
	cmd.Flags().IntVarP(&n, "count", "n", 5, "how many instants")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of RFC 3339 instants")
	return cmd
}
