package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// ErrorRequest is the body of POST /api/v1/errors and POST /api/v1/classify:
// the evidence of a failed call. Each header is a string or an array of
// strings; names are matched in any case.
type ErrorRequest struct {
	Channel string                  `json:"channel,omitempty"`
	API     string                  `json:"api,omitempty"`
	Model   string                  `json:"model,omitempty"` // the model (or bucket) the failed call used
	Scope   string                  `json:"scope,omitempty"` // its credential scope
	Status  int                     `json:"status,omitempty"`
	Headers map[string]HeaderValues `json:"headers,omitempty"`
	Message string                  `json:"message,omitempty"`
}

// HeaderValues are the values of one header: JSON "v" or ["v1", "v2"].
type HeaderValues []string

// UnmarshalJSON accepts a string or an array of strings.
func (h *HeaderValues) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*h = HeaderValues{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("a header value must be a string or an array of strings")
	}
	*h = list
	return nil
}

// report validates the request and returns the engine's form of it.
func (req ErrorRequest) report() (quotad.ErrorReport, error) {
	rep := quotad.ErrorReport{Channel: req.Channel, Model: req.Model, Scope: req.Scope, Evidence: classify.Evidence{API: req.API, Status: req.Status, Message: req.Message}}
	if req.Status != 0 && (req.Status < 100 || req.Status > 599) {
		return rep, invalidf("\"status\" must be an HTTP status 100..599, got %d", req.Status)
	}
	if req.Status == 0 && len(req.Headers) == 0 && strings.TrimSpace(req.Message) == "" {
		return rep, invalidf("give the error's \"message\", \"status\" or \"headers\"")
	}
	if len(req.Headers) > 0 {
		rep.Headers = make(http.Header, len(req.Headers))
		for name, values := range req.Headers {
			if strings.TrimSpace(name) == "" {
				return rep, invalidf("a header name is empty")
			}
			for _, v := range values {
				rep.Headers.Add(strings.TrimSpace(name), strings.TrimSpace(v))
			}
		}
	}
	return rep, nil
}

func (s *Server) reportError(w http.ResponseWriter, r *http.Request) error {
	var req ErrorRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	rep, err := req.report()
	if err != nil {
		return err
	}
	res, err := s.svc.ReportError(r.Context(), rep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) error {
	var req ErrorRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	rep, err := req.report()
	if err != nil {
		return err
	}
	v, err := s.svc.Classify(r.Context(), rep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
