package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

func newResetCmd(g *globals) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "reset API... | --all",
		Short: "Refill APIs' quotas now (a person's decision); resumes channels waiting only on them",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usagef("name the APIs to reset, or give --all (not both)")
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				var res quotad.ResetResult
				var err error
				if all {
					res, err = svc.ResetAll(ctx)
				} else {
					res, err = svc.Reset(ctx, args...)
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), res)
				}
				out := cmd.OutOrStdout()
				for _, a := range res.APIs {
					fmt.Fprintf(out, "[OK] %s quota reset\n", strings.ToUpper(a))
				}
				for _, c := range res.Resumed {
					fmt.Fprintf(out, "[OK] Resumed: %s\n", c)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "reset every API")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newResumeCmd(g *globals) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "resume [CHANNEL... | --all]",
		Short: "Resume channels",
		Long: `Resume channels.

  quotad resume RankRiot    clear every pause of RankRiot (manual, errors, quota)
  quotad resume --all       clear every pause of every channel
  quotad resume             resume the channels whose quota pauses are cleared
                            (their APIs are available again); manual and errors
                            pauses stay - the seed's auto_resume_paused_channels`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return usagef("give channel names or --all, not both")
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				var res quotad.ResumeResult
				var err error
				switch {
				case all:
					res, err = svc.ResumeAll(ctx)
				case len(args) > 0:
					res, err = svc.Resume(ctx, args...)
				default:
					res, err = svc.ResumeEligible(ctx)
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), res)
				}
				out := cmd.OutOrStdout()
				for _, c := range res.Resumed {
					fmt.Fprintf(out, "[OK] Resumed: %s\n", c)
				}
				for _, c := range res.AlreadyActive {
					fmt.Fprintf(out, "[OK] %s was already active\n", c)
				}
				if len(res.Resumed)+len(res.AlreadyActive) == 0 {
					fmt.Fprintln(out, "No channel to resume.")
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "resume every channel, whatever paused it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newPauseCmd(g *globals) *cobra.Command {
	var reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pause CHANNEL",
		Short: "Pause a channel until a person resumes it",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				st, err := svc.Pause(ctx, args[0], reason)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), st)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "[OK] Paused: %s (until a person resumes it)\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept with the pause)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// parseUnits parses a units argument: a non-negative integer; "1_000" and
// "1,000" are accepted.
func parseUnits(s string) (int64, error) { return parseUnitsFrom(s, 1) }

// parseUnitsFrom reads a whole number of units of at least min; "_" and ","
// may group digits.
func parseUnitsFrom(s string, min int64) (int64, error) {
	clean := strings.NewReplacer("_", "", ",", "").Replace(s)
	n, err := strconv.ParseInt(clean, 10, 64)
	switch {
	case (err != nil || n < min) && min > 0:
		return 0, usagef("units must be a positive whole number, got %q", s)
	case err != nil || n < min:
		return 0, usagef("units must be a whole number of at least %d, got %q", min, s)
	}
	return n, nil
}

func newSpendCmd(g *globals) *cobra.Command {
	var channel string
	var tf targetFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "spend API UNITS",
		Short: "Record units spent on an API (refused whole when they do not fit)",
		Long: `Record units spent on an API by a channel. A spend that does not fit what is
left is refused whole and changes nothing: a window that is exhausted or has
fewer free units, the channel's budget, or the reserve kept for higher
priorities. The refusal says whose hold it is and until when, and ends with a
marker quotad recognises when a job prints it ("[quotad-hold kind=budget
api=youtube channel=Norm ...]"): a job that echoes it is never taken for the
provider's quota error. See docs/budgets-and-scheduling.md.

Each window the spend is charged to counts it by its meter: a requests window
counts 1, a tokens or units window the UNITS (quotad spend groq 1200 --model
llama-3.3-70b-versatile is one request and 1,200 tokens). With --model only
that model's windows (and the API's own) count it; on YouTube --model may name
a bucket (videos.insert, search.list).

Exit status: 0 recorded, 1 failure, 2 usage error, 3 refused by a hold of
quotad (window, budget or reserve).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			units, err := parseUnits(args[1])
			if err != nil {
				return err
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				res, err := svc.Spend(ctx, tf.target(args[0]), units, channel)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), res)
				}
				out := cmd.OutOrStdout()
				for _, w := range res.Windows {
					fmt.Fprintf(out, "%s/%s: %d/%d %s used, %d remaining\n", res.API, w.Key, w.Used, w.Limit, w.Unit, w.Remaining)
				}
				if res.Exhausted {
					fmt.Fprintf(out, "[WARNING] %s quota exhausted\n", strings.ToUpper(res.API))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel that spent them")
	tf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// targetFlags are --model and --scope of spend and reserve.
type targetFlags struct{ model, scope string }

func (f *targetFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.model, "model", "", "the model (or YouTube bucket) spent on: only its windows and the API's own count it")
	cmd.Flags().StringVar(&f.scope, "scope", "", "the credential scope spent in (default: the default scope)")
}

// target returns the engine's target text for API and the flags
// (API[/MODEL][@SCOPE]; API may already be written so).
func (f *targetFlags) target(api string) string {
	t := quotad.ParseTarget(api)
	if f.model != "" {
		t.Model = f.model
	}
	if f.scope != "" {
		t.Scope = f.scope
	}
	return t.String()
}
