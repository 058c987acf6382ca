// Package server is quotad's HTTP API: a JSON API under /api/v1 for every
// operation of quotad.Service, Prometheus metrics at /metrics, liveness and
// readiness probes at /healthz and /readyz, and an OpenAPI 3 description of
// itself at /api/v1/openapi.json.
//
// Reads are GET and mutations POST; bodies are JSON objects of at most 1 MiB
// with no unknown fields. Errors are {"error":{"code":…,"message":…}} with a
// status that says what went wrong (see errors.go). Mutations need
// "Authorization: Bearer TOKEN" when a token is configured; reads need it too
// when Options.ProtectReads is set (any address that is not loopback).
//
// A Server is an http.Handler; the caller owns the http.Server, its
// listener, timeouts and shutdown (cmd/quotad does that for `quotad serve`).
package server

import (
	"context"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
)

// DefaultMaxBodyBytes caps request bodies: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Token is the bearer token that mutations (and protected reads) need.
	// Empty means no request needs one: only for a loopback listener. Then
	// requests must name the host as an IP address or localhost, which keeps
	// web pages that rebind a DNS name to 127.0.0.1 out.
	Token string
	// ProtectReads makes read endpoints (and /metrics) need the token too.
	// Set it whenever the listener is not a loopback address.
	ProtectReads bool
	// AllowedHosts are host names, besides localhost and IP addresses, that
	// requests may carry in their Host header when no token is configured
	// (a reverse proxy's public name).
	AllowedHosts []string
	// Ready reports whether the daemon can serve (store reachable, monitor
	// running); /readyz answers 503 with its error. Nil means always ready.
	Ready func(ctx context.Context) error
	// Counters gives the engine's cumulative counters for /metrics. Nil
	// takes svc.Counters when svc has that method (as *engine.Engine has).
	Counters func() engine.Counters
	// Location is the zone of zone-less rules in /api/v1/schedule. Nil takes
	// svc.Location() when svc has that method, else UTC.
	Location *time.Location
	// Clock gives "now" for Retry-After, schedule previews and metrics. Nil
	// takes svc.Clock() when svc has that method, else the system clock.
	Clock clock.Clock
	// Logger receives failures (with details the client is not shown) and
	// refused authentications (never the token). Default slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Collectors are more metrics for /metrics (notification delivery, proxy
	// drift), registered beside the server's own.
	Collectors []prometheus.Collector
	// Jobs starts channels' jobs for POST /api/v1/channels/{name}/run; nil
	// answers 503 (ErrNoJobs).
	Jobs JobStarter
}

// Server serves quotad's HTTP API over a quotad.Service. It is safe for
// concurrent use.
type Server struct {
	svc     quotad.Service
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	routes  []route
	auth    authenticator
	metrics *metrics
}

// New returns a Server for svc, usually an *engine.Engine.
func New(svc quotad.Service, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Counters == nil {
		if c, ok := svc.(interface{ Counters() engine.Counters }); ok {
			opts.Counters = c.Counters
		}
	}
	if opts.Location == nil {
		opts.Location = time.UTC
		if l, ok := svc.(interface{ Location() *time.Location }); ok {
			opts.Location = l.Location()
		}
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
		if c, ok := svc.(interface{ Clock() clock.Clock }); ok {
			opts.Clock = c.Clock()
		}
	}
	s := &Server{svc: svc, opts: opts, log: opts.Logger, mux: http.NewServeMux(), auth: newAuthenticator(opts.Token, opts.ProtectReads, opts.AllowedHosts)}
	s.metrics = newMetrics(svc, opts.Counters, opts.Clock, opts.Logger, opts.Collectors...)
	s.routes = s.table()
	s.register()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusForbidden, codeForbidden, "forbidden: cross-origin requests from web pages may not change quotad"))
	}))
	s.handler = cop.Handler(s.mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Handle mounts another handler on the server's mux, with a net/http pattern
// such as "GET /{$}", as it is: no access check, no request metrics.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// HandleRead mounts a handler that only reads (a dashboard, say) with the
// access rule of the read endpoints (open on loopback, the token when
// Options.ProtectReads is set) and request metrics under its pattern.
func (s *Server) HandleRead(pattern string, h http.Handler) {
	route := pattern
	if _, path, ok := strings.Cut(pattern, " "); ok {
		route = path
	}
	s.mux.Handle(pattern, s.metrics.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.check(reader, r); err != nil {
			s.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})))
}

// Routes returns the pattern of every API route, such as
// "POST /api/v1/apis/{api}/spend", in registration order.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

func (s *Server) now() time.Time { return s.opts.Clock.Now() }
