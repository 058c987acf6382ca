package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
	"github.com/quotad/quotad/server"
)

func init() { extraCommands = append(extraCommands, newProvidersCmd) }

func newProvidersCmd(_ *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "providers [NAME...]",
		Short: "List the built-in provider profiles: upstream, windows, costs and parsing rules",
		Long: `List the built-in provider profiles that an API can choose with "provider:" in
the config (youtube, groq, openai, pexels, pixabay, generic): each one's upstream
base URL, its real quota windows (the defaults when the config names none), what
each window meters (requests, tokens from the responses' usage figures, or cost-
table units), the cost table, and how quotad reads the provider's rate-limit
headers and error bodies.

"quotad serve" proxies /proxy/{api}/... to the upstream of every API that has a
provider profile and meters each call from the provider's own response.`,
		Args: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if _, ok := provider.Lookup(a); !ok {
					return usagef("unknown provider %q; expected one of: %s", a, strings.Join(provider.Names(), ", "))
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			profiles := provider.All()
			if len(args) > 0 {
				profiles = profiles[:0]
				for _, a := range args {
					p, _ := provider.Lookup(a)
					profiles = append(profiles, p)
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), profiles)
			}
			for i, p := range profiles {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				printProfile(cmd.OutOrStdout(), p)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printProfile writes one profile for people.
func printProfile(out io.Writer, p *provider.Profile) {
	upstream := p.Upstream
	if upstream == "" {
		upstream = "(set upstream: in the config)"
	}
	fmt.Fprintf(out, "%s  %s\n", p.Name, upstream)
	kw := "-"
	if len(p.Keywords) > 0 {
		kw = strings.Join(p.Keywords, ", ")
	}
	fmt.Fprintf(out, "  unit %s; keywords %s\n", p.Unit, kw)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(p.Windows) == 0 {
		fmt.Fprintf(tw, "  windows: none built in; every configured window meters %s\n", p.DefaultMeter)
	} else {
		fmt.Fprintln(tw, "  WINDOW\tLIMIT\tRESET\tMETER\tNOTE")
		for _, w := range p.Windows {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", w.Name, w.Limit, w.Reset, w.Meter, w.Note)
		}
	}
	tw.Flush()
	if len(p.Costs) > 0 {
		fmt.Fprintln(out, "  costs (the most specific rule wins; READ = GET/HEAD, WRITE = POST/PUT/PATCH/DELETE):")
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, c := range p.Costs {
			fmt.Fprintf(tw, "    %s\t%s\t→ %s\t%d\n", c.Method, c.Path, c.Window, c.Cost)
		}
		tw.Flush()
		if p.FailedCost > 0 {
			fmt.Fprintf(out, "    a call answered with an error costs %d\n", p.FailedCost)
		}
	}
	for _, sec := range []struct {
		title string
		lines []string
	}{{"headers", p.Headers}, {"errors", p.Errors}, {"notes", p.Notes}} {
		if len(sec.lines) == 0 {
			continue
		}
		fmt.Fprintf(out, "  %s:\n", sec.title)
		for _, l := range sec.lines {
			fmt.Fprintf(out, "    - %s\n", l)
		}
	}
}

// mountProxy mounts the metering proxy at /proxy/ on the daemon's HTTP
// server for the APIs whose config names a provider (specs). remote is true
// when the listener is reachable from other machines: calls then need the
// daemon's token in X-Quotad-Token (their Authorization header is the
// provider's). It returns a stop function to call once the HTTP server has
// shut down and before the engine closes: it commits the accounting of the
// calls already answered. With no specs it mounts nothing.
func mountProxy(srv *server.Server, d *daemon, specs []provider.Spec, remote bool) (stop func(), err error) {
	if len(specs) == 0 {
		return func() {}, nil
	}
	profiles, err := provider.Build(specs)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	opts := proxy.Options{Logger: d.log}
	if remote {
		opts.Token = d.token
	}
	px, err := proxy.New(d.engine, profiles, opts)
	if err != nil {
		return nil, err
	}
	// Handle, not HandleRead: the proxy checks its own token, and the
	// caller's Authorization header belongs to the provider.
	srv.Handle("/proxy/", px)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := px.Close(ctx); err != nil {
			d.log.Warn("proxy: accounting of answered calls did not finish", "err", err)
		}
	}, nil
}
