package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
)

func newReserveCmd(g *globals) *cobra.Command {
	var channel string
	var ttl time.Duration
	var tf targetFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reserve API UNITS",
		Short: "Hold units of an API before spending them (refused if they are not free)",
		Long: `Hold units of an API before a call that must not overspend. The grant is
atomic: it is refused when any window it is charged to lacks the free units (a
requests window holds 1, the others UNITS; --model and --scope as for spend). Commit it with the
units really used (quotad commit ID UNITS), or release it (quotad release ID);
an uncommitted grant expires after --ttl and gives its units back. It is refused
as quotad spend refuses a spend (window, budget, reserve for higher priorities).

Exit status: 0 granted, 1 failure, 2 usage error, 3 refused by a hold of
quotad (window, budget or reserve).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			units, err := parseUnits(args[1])
			if err != nil {
				return err
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				r, err := svc.Reserve(ctx, tf.target(args[0]), units, channel, ttl)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), r)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", r.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel that will spend them")
	cmd.Flags().DurationVar(&ttl, "ttl", engine.DefaultReservationTTL, "how long the grant holds the units")
	tf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCommitCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "commit ID UNITS",
		Short: "Turn a reservation into a spend of the units really used (0 allowed)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			units, err := parseUnitsFrom(args[1], 0)
			if err != nil {
				return err
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				res, err := svc.Commit(ctx, args[0], units)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), res)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "[OK] committed %d %s\n", units, res.API)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newReleaseCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "release ID",
		Short: "Give a reservation's units back unspent",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				if err := svc.Release(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "[OK] released")
				return nil
			})
		},
	}
}
