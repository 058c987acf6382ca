package server

import (
	"github.com/quotad/quotad"

	"net/http"
	"time"
)

// SpendRequest is the body of POST /api/v1/apis/{api}/spend.
type SpendRequest struct {
	Units   *int64 `json:"units"`
	Channel string `json:"channel,omitempty"`
	// Model is the model (or bucket, youtube's videos.insert) spent on:
	// only the windows a call to it is charged to count the units.
	Model string `json:"model,omitempty"`
	// Scope is the credential scope ("" the default).
	Scope string `json:"scope,omitempty"`
}

// ReserveRequest is the body of POST /api/v1/apis/{api}/reserve. TTL is a
// Go duration such as "5m"; empty means the engine's default.
type ReserveRequest struct {
	Units   *int64 `json:"units"`
	Channel string `json:"channel,omitempty"`
	TTL     string `json:"ttl,omitempty"`
	Model   string `json:"model,omitempty"` // as SpendRequest's
	Scope   string `json:"scope,omitempty"`
}

// target returns the engine's target text of an API and a request's model
// and scope (quotad.Target).
func target(api, model, scope string) string {
	t := quotad.ParseTarget(api)
	if model != "" {
		t.Model = model
	}
	if scope != "" {
		t.Scope = scope
	}
	return t.String()
}

// CommitRequest is the body of POST /api/v1/reservations/{id}/commit.
type CommitRequest struct {
	Units *int64 `json:"units"`
}

// ResetRequest is the body of POST /api/v1/reset. Without APIs (or with an
// empty body) every API is reset; with APIs, those, in one transaction.
type ResetRequest struct {
	APIs *[]string `json:"apis,omitempty"`
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) listAPIs(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st.APIs)
	return nil
}

func (s *Server) getAPI(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.API(r.Context(), r.PathValue("api"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) spend(w http.ResponseWriter, r *http.Request) error {
	var req SpendRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Units == nil {
		return invalidf("request body: \"units\" is required")
	}
	res, err := s.svc.Spend(r.Context(), target(r.PathValue("api"), req.Model, req.Scope), *req.Units, req.Channel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) reserve(w http.ResponseWriter, r *http.Request) error {
	var req ReserveRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Units == nil {
		return invalidf("request body: \"units\" is required")
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil {
			return invalidf("request body: \"ttl\" must be a duration such as \"5m\", got %q", req.TTL)
		}
		ttl = d
	}
	res, err := s.svc.Reserve(r.Context(), target(r.PathValue("api"), req.Model, req.Scope), *req.Units, req.Channel, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) error {
	var req CommitRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Units == nil {
		return invalidf("request body: \"units\" is required (0 gives every reserved unit back)")
	}
	res, err := s.svc.Commit(r.Context(), r.PathValue("id"), *req.Units)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) error {
	if err := s.decode(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := s.svc.Release(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetAPI(w http.ResponseWriter, r *http.Request) error {
	if err := s.decode(w, r, &struct{}{}); err != nil {
		return err
	}
	res, err := s.svc.Reset(r.Context(), r.PathValue("api"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	var req ResetRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	var (
		res any
		err error
	)
	if req.APIs == nil {
		res, err = s.svc.ResetAll(ctx)
	} else {
		res, err = s.svc.Reset(ctx, *req.APIs...)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
