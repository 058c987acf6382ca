package server

import (
	"net/http"
	"slices"
	"strings"
)

// access is who may call a route.
type access int

const (
	open   access = iota // probes and the API description: anyone
	reader               // reads: open on loopback, the token elsewhere
	writer               // mutations: the token whenever one is configured
)

// handlerFunc handles a request; a returned error is written as the JSON
// error response (see errors.go).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the API: the table below is the single list of what
// the server serves; openapi.json documents exactly these.
type route struct {
	method string
	path   string
	access access
	h      handlerFunc
}

func (s *Server) table() []route {
	return []route{
		{http.MethodGet, "/api/v1/status", reader, s.getStatus},
		{http.MethodGet, "/api/v1/apis", reader, s.listAPIs},
		{http.MethodGet, "/api/v1/apis/{api}", reader, s.getAPI},
		{http.MethodPost, "/api/v1/apis/{api}/spend", writer, s.spend},
		{http.MethodPost, "/api/v1/apis/{api}/reserve", writer, s.reserve},
		{http.MethodPost, "/api/v1/apis/{api}/reset", writer, s.resetAPI},
		{http.MethodPost, "/api/v1/reset", writer, s.reset},
		{http.MethodPost, "/api/v1/reservations/{id}/commit", writer, s.commit},
		{http.MethodPost, "/api/v1/reservations/{id}/release", writer, s.release},
		{http.MethodGet, "/api/v1/channels", reader, s.listChannels},
		{http.MethodGet, "/api/v1/channels/{name}", reader, s.getChannel},
		{http.MethodGet, "/api/v1/channels/{name}/pick/{capability}", reader, s.pick},
		{http.MethodPost, "/api/v1/channels/{name}/pause", writer, s.pause},
		{http.MethodPost, "/api/v1/channels/{name}/resume", writer, s.resumeChannel},
		{http.MethodPost, "/api/v1/channels/{name}/success", writer, s.success},
		{http.MethodPost, "/api/v1/channels/{name}/run", writer, s.runJob},
		{http.MethodPost, "/api/v1/resume", writer, s.resume},
		{http.MethodPost, "/api/v1/errors", writer, s.reportError},
		// classify changes nothing: a read that needs a body.
		{http.MethodPost, "/api/v1/classify", reader, s.classify},
		{http.MethodGet, "/api/v1/logs", reader, s.logs},
		{http.MethodGet, "/api/v1/schedule", reader, s.schedule},
		{http.MethodGet, "/api/v1/openapi.json", open, s.openAPI},
		{http.MethodGet, "/metrics", reader, s.serveMetrics},
		{http.MethodGet, "/healthz", open, s.healthz},
		{http.MethodGet, "/readyz", open, s.readyz},
	}
}

// register puts the routes on the mux, plus JSON answers for a known path
// with the wrong method (405 with Allow) and for anything else (404).
func (s *Server) register() {
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.metrics.instrument(rt.path, s.serve(rt)))
		if _, ok := allowed[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	for _, p := range paths {
		methods := allowed[p]
		slices.Sort(methods)
		allow := strings.Join(methods, ", ")
		s.mux.Handle(p, s.metrics.instrument(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, p, allow))
		})))
	}
	s.mux.Handle("/", s.metrics.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})))
}

// serve checks access, then runs the route's handler and writes its error.
func (s *Server) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.check(rt.access, r); err != nil {
			s.log.Warn("http: request refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "why", err.Error())
			s.writeError(w, r, err)
			return
		}
		if key := r.Header.Get(IdempotencyHeader); key != "" && idempotentRoutes[rt.path] {
			s.serveIdempotent(rt, w, r, key)
			return
		}
		if err := rt.h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}
