package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/monitor"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/runner"
)

// daemon is what `quotad serve` runs: the engine, its monitor, and the
// parts daemonParts lists (HTTP server, housekeeping, notifications, job
// runner).
type daemon struct {
	cfg     config.Config
	cfgPath string
	dsn     string
	listen  string
	token   string
	engine  *engine.Engine
	views   *runner.Views // the engine with the channels' job views: what the HTTP API serves
	monitor *monitor.Monitor
	log     *slog.Logger
	flags   *serveFlags
	out     io.Writer // where the daemon prints its human lines
	// ln is the HTTP listener, bound before anything else starts (nil with
	// --no-http); the HTTP hook serves on it.
	ln net.Listener
	// httpAddr receives the HTTP server's bound address once it listens
	// (buffered, closed when HTTP is off), for parts that tell jobs the URL.
	httpAddr chan string
	// jobs starts jobs on request once the job runner runs (runner.go).
	jobs *jobStarter
	// drain, when closed, asks a reloadable hook to finish its running work
	// and return (reload.go); nil at start-up.
	drain <-chan struct{}
}

type serveFlags struct {
	listen string
	noHTTP bool
	noJobs bool
	quiet  bool
}

// daemonParts are the parts of the daemon that run beside the monitor until
// ctx is done, each returning nil on a clean stop: fixed ones run once;
// reloadable ones are restarted with a reloaded config when the part of it
// they read changes (reload.go).
func daemonParts() (fixed []func(ctx context.Context, d *daemon) error, reloadable []reloadHook) {
	fixed = []func(ctx context.Context, d *daemon) error{
		serveHTTP,         // the HTTP API, dashboard, /metrics and metering proxy (http.go)
		serveHousekeeping, // usage retention and forecasts (usage.go)
	}
	reloadable = []reloadHook{
		{name: "notifications", run: serveNotifications, changes: notifierChanges}, // notify.go
		{name: "job runner", run: serveJobs, changes: jobChanges, drain: true},     // runner.go
	}
	return fixed, reloadable
}

func newServeCmd(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: resets on time, pauses and resumes channels",
		Long: `Run the daemon on the store (default ./quotad.db, created if needed).

It binds its HTTP address first (a start that cannot serve changes nothing),
applies the config to the store (limits and rules updated; usage and pause
state kept), catches up on resets missed while it was down, then applies each
reset at its instant and resumes the channels that were waiting for it.

SIGHUP reloads the config file and prints what changed (an invalid file is
refused and the running config stays in force). SIGINT or SIGTERM stop it
cleanly. Under systemd (Type=notify) it reports READY, RELOADING and
STOPPING over $NOTIFY_SOCKET.`,
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

// serve checks everything that can refuse a start (the config, the listen
// address and its token, binding it) before it touches the store, then
// applies the config, starts the monitor and the other parts, and runs until
// ctx is done.
func (g *globals) serve(ctx context.Context, cmd *cobra.Command, f *serveFlags) error {
	hup := catchHangup() // from the start: a SIGHUP while starting waits for the reloader instead of killing the daemon
	defer signal.Stop(hup)
	cfg, path, err := g.loadConfig()
	if err != nil {
		return err
	}
	token := g.tokenValue(cfg)
	listen := serveListen(f, cfg)
	ln, err := bindListener(f.noHTTP, listen, token)
	if err != nil {
		return err
	}
	if ln != nil {
		defer ln.Close() // served and closed by the HTTP hook; this covers a failed start
	}
	log := g.logger()
	st, dsn, err := g.openConfigured(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	live := &liveOptions{}
	opts := live.install(g.engineOptions(cfg))
	opts.Logger = log
	e := engine.New(st, opts)
	defer e.Close()
	out := cmd.OutOrStdout()
	if !f.quiet {
		// Printed from the log: what the CLI or another daemon does shows
		// too, not only this process's own operations.
		p := &printer{w: out, loc: cfg.Location()}
		poll := time.Duration(cfg.PollInterval)
		if poll <= 0 {
			poll = time.Second
		}
		stop, err := p.follow(e, poll)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := checkParts(cfg, e, f); err != nil {
		return err
	}
	apis, chans := cfg.Domain()
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		return err
	}
	printStarting(out, dsn, path, cfg)
	ready := make(chan struct{})
	var readyOnce sync.Once
	m := monitor.New(e, monitor.Options{SafetyTick: time.Duration(cfg.SafetyTick), PollInterval: time.Duration(cfg.PollInterval), Logger: log,
		OnPass: func(engine.TickResult, error) { readyOnce.Do(func() { close(ready) }) }})
	d := &daemon{cfg: cfg, cfgPath: path, dsn: dsn, engine: e, views: jobViews(e, cfg), monitor: m, log: log, flags: f, token: token,
		out: out, httpAddr: make(chan string, 1), listen: listen, ln: ln, jobs: &jobStarter{}}
	fixed, reloadable := daemonParts()
	r := newReloader(g, d, live, hup, reloadable)
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() error { return m.Run(gctx) })
	for _, h := range fixed {
		grp.Go(func() error { return h(gctx, d) })
	}
	for _, h := range reloadable {
		grp.Go(func() error { return r.supervise(gctx, h) })
	}
	grp.Go(func() error { return r.run(gctx, ready) })
	fmt.Fprintln(out, "[OK] Quota monitor active")
	err = grp.Wait()
	fmt.Fprintln(out, "[OK] quotad stopped")
	return err
}

// serveListen returns the HTTP address serve listens on: --listen, else
// the config's server.listen, else the default.
func serveListen(f *serveFlags, cfg config.Config) string {
	switch {
	case f.listen != "":
		return f.listen
	case cfg.Server.Listen != "":
		return cfg.Server.Listen
	}
	return config.DefaultListen
}

// bindListener binds the HTTP address (nil, nil with --no-http) and refuses
// an address reachable from other machines when there is no token. It runs
// before serve touches the store, so that a start that cannot serve changes
// nothing and says why.
func bindListener(noHTTP bool, addr, token string) (net.Listener, error) {
	if noHTTP {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("http: %w: another program (perhaps another quotad serve) listens on %s; stop it, or choose another address with --listen or server.listen", err, addr)
		}
		return nil, fmt.Errorf("http: %w", err)
	}
	if !isLoopback(ln.Addr()) && token == "" {
		ln.Close()
		return nil, fmt.Errorf("refusing to serve HTTP on %s without a token: that address is reachable from other machines; "+
			"set server.token in the config or QUOTAD_TOKEN (quotad token --new makes one), or listen on 127.0.0.1", addr)
	}
	return ln, nil
}

// checkParts refuses a config that a part of the daemon would refuse once
// started (a job, a provider profile), before the config is applied: at
// start-up and on a reload.
func checkParts(cfg config.Config, e *engine.Engine, f *serveFlags) error {
	if !f.noJobs {
		if _, err := runner.New(e, runnerJobs(cfg.Channels), runner.Options{Location: cfg.Location()}); err != nil {
			return fmt.Errorf("job runner: %w", err)
		}
	}
	if !f.noHTTP {
		if _, err := provider.Build(cfg.ProviderSpecs()); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	return nil
}

// printStarting prints the start-up lines.
func printStarting(out io.Writer, dsn, path string, cfg config.Config) {
	src := "built-in defaults"
	if path != "" {
		src = path
	}
	apis, chans := cfg.Domain()
	fmt.Fprintf(out, " Starting Quota Monitor...\n   → store %s, config %s\n   → %d API(s), %d channel(s); resets applied on time (safety tick %s)\n",
		redactDSN(dsn), src, len(apis), len(chans), time.Duration(cfg.SafetyTick))
}
