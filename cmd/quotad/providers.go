package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
	"github.com/quotad/quotad/server"
)

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
		if p.PerModel {
			fmt.Fprintln(tw, "  limits are per model; every model's windows are these, with its own limits:")
		}
		fmt.Fprintln(tw, "  WINDOW\tLIMIT\tRESET\tMETER\tNOTE")
		for _, w := range p.Windows {
			note := w.Note
			if w.Bucket {
				note = "bucket: " + note
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", w.Name, w.Limit, w.Reset, w.Meter, note)
		}
	}
	tw.Flush()
	if len(p.Models) > 0 {
		fmt.Fprintln(out, "  models (limits; price in USD per million input / output tokens):")
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, m := range p.Models {
			var lim []string
			for _, w := range p.Windows {
				if n, ok := m.Limits[w.Name]; ok {
					lim = append(lim, fmt.Sprintf("%s %d", w.Name, n))
				}
			}
			price := "-"
			if pr, ok := p.PriceOf(m.Model); ok {
				price = fmt.Sprintf("$%g / $%g", pr.Input, pr.Output)
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", m.Model, strings.Join(lim, ", "), price)
		}
		tw.Flush()
	}
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
// server for the APIs whose config names a provider (specs), and at the
// root under the APIs' native path prefixes (/youtube/, /upload/, /openai/,
// …) for SDKs that keep only the origin of their endpoint setting. remote
// is true when the listener is reachable from other machines: calls then
// need the daemon's token in X-Quotad-Token (their Authorization header is
// the provider's). It returns the proxy (nil with no specs) and a stop
// function to call once the HTTP servers have shut down and before the
// engine closes: it commits the accounting of the calls already answered.
func mountProxy(srv *server.Server, d *daemon, specs []provider.Spec, listen string, remote bool) (px *proxy.Proxy, stop func(), err error) {
	if len(specs) == 0 {
		return nil, func() {}, nil
	}
	profiles, err := provider.Build(specs)
	if err != nil {
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	opts := proxy.Options{Logger: d.log, Listen: listen, AllowedHosts: d.cfg.Server.AllowedHosts}
	if remote {
		opts.Token = d.token
	}
	px, err = proxy.New(d.engine, profiles, opts)
	if err != nil {
		return nil, nil, err
	}
	// Handle, not HandleRead: the proxy checks its own token, and the
	// caller's Authorization header belongs to the provider.
	srv.Handle("/proxy/", px)
	for _, pre := range px.NativePrefixes(reservedPrefixes...) {
		srv.Handle(pre, px.Native())
	}
	return px, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := px.Close(ctx); err != nil {
			d.log.Warn("proxy: accounting of answered calls did not finish", "err", err)
		}
	}, nil
}

// reservedPrefixes are quotad's own routes: no API's native paths are
// served there at the root (pixabay's /api/ stays under /proxy/pixabay/).
var reservedPrefixes = []string{"/api/", "/proxy/", "/assets/", "/metrics/", "/healthz/", "/readyz/"}

// apiListener is a listener of one API's own ("listen:" in its config),
// serving its proxy at the root.
type apiListener struct {
	api string
	ln  net.Listener
	h   http.Handler
}

// openListeners listens on every API's own address. A listener reachable
// from other machines needs the daemon's token, in X-Quotad-Token.
func openListeners(d *daemon, px *proxy.Proxy) ([]apiListener, error) {
	var out []apiListener
	closeAll := func() {
		for _, l := range out {
			l.ln.Close()
		}
	}
	listens := d.cfg.Listeners()
	apis := make([]string, 0, len(listens))
	for api := range listens {
		apis = append(apis, api)
	}
	slices.Sort(apis)
	for _, api := range apis {
		if px == nil {
			closeAll()
			return nil, fmt.Errorf("apis.%s.listen: the API is not proxied", api)
		}
		h, err := px.Listener(api)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("apis.%s.listen: %w", api, err)
		}
		ln, err := net.Listen("tcp", listens[api])
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("apis.%s.listen: %w", api, err)
		}
		if !isLoopback(ln.Addr()) {
			if d.token == "" {
				ln.Close()
				closeAll()
				return nil, fmt.Errorf("refusing to serve API %s on %s without a token: that address is reachable from other machines; "+
					"set server.token in the config or QUOTAD_TOKEN, or listen on 127.0.0.1", api, listens[api])
			}
			h = requireToken(d.token, h)
		}
		out = append(out, apiListener{api: api, ln: ln, h: h})
	}
	return out, nil
}

// requireToken answers 401 to a call without the daemon's token in
// X-Quotad-Token.
func requireToken(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(proxy.HeaderToken)), []byte(token)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Quotad-Error", "unauthorized")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"code":"unauthorized","message":"missing or wrong %s header (quotad's token; the provider's credentials go in their usual place)"}}`+"\n", proxy.HeaderToken)
			return
		}
		r.Header.Del(proxy.HeaderToken)
		h.ServeHTTP(w, r)
	})
}
