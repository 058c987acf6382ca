package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/quotad/quotad/dashboard"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/server"
)

// HTTP server limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 10 * time.Second // in-flight requests may finish within this after the daemon is told to stop
)

// collectors are the metrics that parts of the daemon add to /metrics,
// besides the engine's: the notifications'.
func (d *daemon) collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	if c := newNotifyCollector(d); c != nil {
		cs = append(cs, c)
	}
	return cs
}

// serveHTTP is the serve hook of the HTTP API: it serves on d.ln until ctx
// is done, then shuts down gracefully.
func serveHTTP(ctx context.Context, d *daemon) error {
	if d.flags.noHTTP {
		close(d.httpAddr)
		return nil
	}
	addr := d.listen
	if addr == "" {
		addr = config.DefaultListen
	}
	ln := d.ln // bound, and its token checked, by serve before anything started (bindListener)
	loopback := isLoopback(ln.Addr())
	if d.token == "" {
		d.log.Warn("HTTP API has no token: programs on this machine may change quotad without one; "+
			"set server.token in the config or QUOTAD_TOKEN (quotad token --new makes one)", "listen", addr)
	}
	srv := server.New(d.views, server.Options{
		Token:        d.token,
		ProtectReads: !loopback,
		AllowedHosts: d.cfg.Server.AllowedHosts,
		Ready:        d.readiness,
		Location:     d.cfg.Location(),
		Logger:       d.log,
		Collectors:   d.collectors(),
		Jobs:         d.jobs,
	})
	specs := d.cfg.ProviderSpecs()
	scopes, missing := d.cfg.Scopes() // credentials named in the config, read from their variables
	for _, m := range missing {
		d.log.Warn(m)
	}
	for i := range specs {
		specs[i].Scopes = scopes[specs[i].API]
	}
	px, stopProxy, err := mountProxy(srv, d, specs, addr, !loopback)
	if err != nil {
		ln.Close()
		close(d.httpAddr)
		return err
	}
	defer stopProxy()
	own, err := openListeners(d, px)
	if err != nil {
		ln.Close()
		close(d.httpAddr)
		return err
	}
	var lg errgroup.Group
	for _, l := range own {
		fmt.Fprintf(d.out, "[OK] Metering proxy of API %s at the root of http://%s/\n", l.api, l.ln.Addr())
		lg.Go(func() error { return serveUntilDone(ctx, l.ln, l.h, d.log, shutdownTimeout) })
	}
	dopts := dashboard.Options{Done: ctx.Done(), Logger: d.log}
	dash := dashboard.New(d.engine, dopts)
	srv.Handle("GET /{$}", dash)
	srv.Handle("GET "+dashboard.AssetsPrefix, dash)
	srv.HandleRead("GET "+dashboard.StreamPath, dashboard.EventStream(d.engine, dopts))
	srv.HandleRead("GET "+dashboard.UsagePath, dashboard.UsageHandler(d.engine, dopts))
	fmt.Fprintf(d.out, "[OK] HTTP API on http://%s/api/v1\n", ln.Addr())
	fmt.Fprintf(d.out, "[OK] Dashboard on http://%s/\n", ln.Addr())
	if len(specs) > 0 {
		native := ""
		if pre := px.NativePrefixes(reservedPrefixes...); len(pre) > 0 {
			native = " and the APIs' own paths at the root (" + strings.Join(pre, ", ") + ")"
		}
		fmt.Fprintf(d.out, "[OK] Metering proxy on http://%s/proxy/{api}/%s\n", ln.Addr(), native)
	}
	d.httpAddr <- ln.Addr().String() // buffered: the listener already accepts connections
	err = serveUntilDone(ctx, ln, srv, d.log, shutdownTimeout)
	return errors.Join(err, lg.Wait())
}

// readiness is the daemon's readiness: its store answers and takes writes
// (after a failed write a small probe write must succeed, so readiness comes
// back by itself once the fault is gone), and its monitor runs.
func (d *daemon) readiness(ctx context.Context) error {
	if err := d.engine.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := d.engine.CheckWrites(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !d.monitor.Running() {
		return errors.New("the monitor is not running")
	}
	return nil
}

// newHTTPServer returns the http.Server for h with quotad's timeouts.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves h on ln until ctx is done, then stops accepting,
// lets in-flight requests finish (at most bound, then their connections are
// closed) and returns. It returns an error only when serving fails before
// ctx is done.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, bound time.Duration) error {
	hs := newHTTPServer(h, log)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http: requests still running after the shutdown bound; closing their connections", "bound", bound, "err", err)
		hs.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}

// isLoopback reports whether a listener's address is reachable only from
// this machine.
func isLoopback(a net.Addr) bool {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
