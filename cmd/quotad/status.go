package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every API's quota windows and every channel",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				st, err := svc.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), st)
				}
				printAPIs(cmd, st.APIs, cfg.Location(), all)
				fmt.Fprintln(cmd.OutOrStdout())
				printChannels(cmd, st.Channels, cfg.Location())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&all, "all", false, "show the windows of idle models too")
	return cmd
}

// printAPIs prints one line per window: the API (with its credential scope
// when not the default), the model or bucket, the window, what it counts.
// Models none of whose windows has been used are summed up in one line
// unless all is set (Groq's table has a dozen).
func printAPIs(cmd *cobra.Command, apis []quotad.APIStatus, loc *time.Location, all bool) {
	now := time.Now()
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "API\tMODEL\tWINDOW\tUSED/LIMIT\tREMAINING\tSTATE\tNEXT RESET")
	for _, a := range apis {
		busy := map[string]bool{} // model@scope with a window in use
		for _, w := range a.Windows {
			if w.Used > 0 || w.Reserved > 0 || w.Exhausted {
				busy[w.Model+"@"+w.Scope] = true
			}
		}
		var idle []string
		for _, w := range a.Windows {
			if w.Model != "" && !all && !busy[w.Model+"@"+w.Scope] {
				if !slices.Contains(idle, w.Model) {
					idle = append(idle, w.Model)
				}
				continue
			}
			state := "available"
			if w.Exhausted {
				state = "EXHAUSTED until " + humanIn(untilOf(w), loc, now)
			}
			name, model := a.Name, w.Model
			if w.Scope != "" {
				name += "@" + w.Scope
			}
			if model == "" {
				model = "-"
			}
			unit := w.Unit
			if unit == "" {
				unit = a.Unit
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d %s\t%d\t%s\t%s\n", name, model, w.Name, w.Used, w.Limit, unit, w.Remaining, state, humanIn(w.NextReset, loc, now))
		}
		if len(idle) > 0 {
			fmt.Fprintf(tw, "%s\t(%d idle models: %s; quotad status --all shows them)\t\t\t\t\t\n", a.Name, len(idle), strings.Join(idle, ", "))
		}
	}
	tw.Flush()
}

func untilOf(w quotad.WindowStatus) *time.Time {
	if w.BlockedUntil != nil {
		return w.BlockedUntil
	}
	return w.NextReset
}

func printChannels(cmd *cobra.Command, chans []quotad.ChannelStatus, loc *time.Location) {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	jobs := false
	for _, c := range chans {
		jobs = jobs || c.Job != nil
	}
	header := "CHANNEL\tSTATE\tPRIORITY\tAPIS\tPAUSE REASONS\tRESUME AT"
	if jobs {
		header += "\tLAST RUN\tRESULT\tNEXT RUN"
	}
	fmt.Fprintln(tw, header)
	if len(chans) == 0 {
		fmt.Fprintln(tw, "(no channels configured)\t\t\t\t\t")
	}
	for _, c := range chans {
		state, resume := "active", "-"
		if !c.Active {
			state = "paused"
			resume = humanIn(c.ResumeAt, loc, time.Now())
			if c.ResumeAt == nil {
				resume = "when a person resumes it"
			}
		}
		reasons := make([]string, 0, len(c.PauseReasons))
		for _, p := range c.PauseReasons {
			reasons = append(reasons, p.Reason)
		}
		r := strings.Join(reasons, ",")
		if r == "" {
			r = "-"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", c.Name, state, c.Priority, strings.Join(c.APIs, ","), r, resume)
		if jobs {
			last, result, next := "-", "-", "-"
			if j := c.Job; j != nil {
				last, next = humanIn(j.LastStart, loc, time.Now()), humanIn(j.NextRun, loc, time.Now())
				if j.LastResult != "" {
					result = j.LastResult
				}
				if j.Running {
					result = "running"
				}
				if j.Schedule == "" {
					next = "on demand"
				}
			}
			line += "\t" + last + "\t" + result + "\t" + next
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func newChannelsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "channels",
		Short: "Show every channel: state, pause reasons, expected resume time",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				st, err := svc.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), st.Channels)
				}
				printChannels(cmd, st.Channels, cfg.Location())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
