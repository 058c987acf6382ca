package server

import (
	"net/http"

	"github.com/quotad/quotad"
)

// PauseRequest is the body of POST /api/v1/channels/{name}/pause.
type PauseRequest struct {
	Reason string `json:"reason,omitempty"`
}

// ResumeRequest is the body of POST /api/v1/resume: All resumes every
// channel whatever paused it; Channels resumes those, in one transaction;
// neither (or an empty body) resumes the channels whose quota pauses are
// cleared (manual and errors pauses stay).
type ResumeRequest struct {
	All      bool      `json:"all,omitempty"`
	Channels *[]string `json:"channels,omitempty"`
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st.Channels)
	return nil
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Channel(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// pick answers which provider a channel should use now for a capability.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Pick(r.Context(), r.PathValue("name"), r.PathValue("capability"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) error {
	var req PauseRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.svc.Pause(r.Context(), r.PathValue("name"), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) resumeChannel(w http.ResponseWriter, r *http.Request) error {
	if err := s.decode(w, r, &struct{}{}); err != nil {
		return err
	}
	res, err := s.svc.Resume(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) success(w http.ResponseWriter, r *http.Request) error {
	if err := s.decode(w, r, &struct{}{}); err != nil {
		return err
	}
	c, err := s.svc.ReportSuccess(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) error {
	var req ResumeRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	var (
		res quotad.ResumeResult
		err error
	)
	switch {
	case req.All && req.Channels != nil:
		return invalidf("request body: give \"all\" or \"channels\", not both")
	case req.All:
		res, err = s.svc.ResumeAll(ctx)
	case req.Channels != nil:
		res, err = s.svc.Resume(ctx, *req.Channels...)
	default:
		res, err = s.svc.ResumeEligible(ctx)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
