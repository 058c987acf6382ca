package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/monitor"
)

// daemon is what `quotad serve` runs: the engine, its monitor, and whatever
// other parts (HTTP server, job runner) register a serveHook.
type daemon struct {
	cfg     config.Config
	cfgPath string
	dsn     string
	listen  string
	token   string
	engine  *engine.Engine
	monitor *monitor.Monitor
	log     *slog.Logger
	flags   *serveFlags
	out     io.Writer // where the daemon prints its human lines
	// httpAddr receives the HTTP server's bound address once it listens
	// (buffered, closed when HTTP is off), for parts that tell jobs the URL.
	httpAddr chan string
	// jobs starts jobs on request once the job runner runs (runner.go).
	jobs jobStarter
}

type serveFlags struct {
	listen string
	noHTTP bool
	noJobs bool
	quiet  bool
}

// serveHooks are the parts of the daemon that run beside the monitor until
// ctx is done; each returns nil on a clean stop.
var serveHooks []func(ctx context.Context, d *daemon) error

func newServeCmd(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: resets on time, pauses and resumes channels",
		Long: `Run the daemon on the store (default ./quotad.db, created if needed).

It applies the config to the store (limits and rules updated; usage and pause
state kept), catches up on resets missed while it was down, then applies each
reset at its instant and resumes the channels that were waiting for it. It
stops cleanly on SIGINT or SIGTERM.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return g.serve(ctx, cmd, f)
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", "", "HTTP address (default the config's server.listen, 127.0.0.1:8080)")
	cmd.Flags().BoolVar(&f.noHTTP, "no-http", false, "do not serve HTTP")
	cmd.Flags().BoolVar(&f.noJobs, "no-jobs", false, "do not run channels' jobs")
	cmd.Flags().BoolVar(&f.quiet, "quiet", false, "do not print event lines")
	return cmd
}

func (g *globals) serve(ctx context.Context, cmd *cobra.Command, f *serveFlags) error {
	cfg, path, err := g.loadConfig()
	if err != nil {
		return err
	}
	log := g.logger()
	st, dsn, err := g.openConfigured(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := g.engineOptions(cfg)
	opts.Logger = log
	e := engine.New(st, opts)
	defer e.Close()
	out := cmd.OutOrStdout()
	if !f.quiet {
		p := &printer{w: out, loc: cfg.Location()}
		defer e.Subscribe(p.print)()
	}
	apis, chans := cfg.Domain()
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		return err
	}
	src := "built-in defaults"
	if path != "" {
		src = path
	}
	fmt.Fprintf(out, " Starting Quota Monitor...\n   → store %s, config %s\n   → %d API(s), %d channel(s); resets applied on time (safety tick %s)\n",
		redactDSN(dsn), src, len(apis), len(chans), time.Duration(cfg.SafetyTick))
	m := monitor.New(e, monitor.Options{SafetyTick: time.Duration(cfg.SafetyTick), PollInterval: time.Duration(cfg.PollInterval), Logger: log})
	d := &daemon{cfg: cfg, cfgPath: path, dsn: dsn, engine: e, monitor: m, log: log, flags: f, token: g.tokenValue(cfg),
		out: out, httpAddr: make(chan string, 1)}
	d.listen = f.listen
	if d.listen == "" {
		d.listen = cfg.Server.Listen
	}
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() error { return m.Run(gctx) })
	for _, h := range serveHooks {
		grp.Go(func() error { return h(gctx, d) })
	}
	fmt.Fprintln(out, "[OK] Quota monitor active")
	err = grp.Wait()
	fmt.Fprintln(out, "[OK] quotad stopped")
	return err
}
