package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

// picker is what `quotad pick` needs: the engine, or a client that
// implements it.
type picker interface {
	Pick(ctx context.Context, channel, capability string) (quotad.Pick, error)
}

func newPickCmd(g *globals) *cobra.Command {
	var channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pick CAPABILITY --channel C",
		Short: "Print the provider a channel should use now for a fallback need",
		Long: `Print the provider a channel should use now for one of its fallback needs
(channels.<name>.fallbacks): the first in its order of preference that is
available and not held by the channel's budget or a reserve. A job run by
quotad gets the same answer in QUOTAD_PROVIDER_<CAPABILITY>. The exit status
is 1 when no provider is available.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if channel == "" {
				return usagef("--channel is required")
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				pk, ok := svc.(picker)
				if !ok {
					return fmt.Errorf("the server client cannot pick providers yet: run quotad pick without --server (QUOTAD_SERVER), with --db")
				}
				p, err := pk.Pick(ctx, channel, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(cmd.OutOrStdout(), p); err != nil {
						return err
					}
				} else if p.Provider != "" {
					fmt.Fprintln(cmd.OutOrStdout(), p.Provider)
				}
				if p.Provider == "" {
					msg := fmt.Sprintf("no provider of %s is available for %s (%v)", p.Capability, p.Channel, p.Providers)
					if p.Until != nil {
						msg += "; the first is expected back at " + human(p.Until, cfg.Location())
					}
					return fmt.Errorf("%s", msg)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
