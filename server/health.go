package server

import (
	"context"
	"io"
	"net/http"
	"time"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// healthz answers 200 "ok" while the process serves HTTP at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeText(w, http.StatusOK, "ok\n")
	return nil
}

// readyz answers 200 "ok" when Options.Ready says the daemon can serve
// (store reachable, monitor running), else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.log.Warn("http: not ready", "err", err)
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
			return nil
		}
	}
	writeText(w, http.StatusOK, "ok\n")
	return nil
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// writeHealth returns the outcome of the service's last store write when
// the service tracks it (as *engine.Engine does), else nil.
func writeHealth(svc any) error {
	if h, ok := svc.(interface{ WriteHealth() error }); ok {
		return h.WriteHealth()
	}
	return nil
}
