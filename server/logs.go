package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// Limits of the read endpoints.
const (
	DefaultLogLimit      = 100   // events per page when limit= is not given
	MaxLogLimit          = 10000 // largest limit=
	DefaultScheduleCount = 5     // instants when n= is not given
	MaxScheduleCount     = 1000  // largest n=
)

// LogsPage is the answer of GET /api/v1/logs: events newest first, and the
// before= value that gives the next (older) page, null when this page was
// not full.
type LogsPage struct {
	Events     []quotad.EventStatus `json:"events"`
	NextBefore *int64               `json:"next_before"`
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "category", "channel", "level", "limit", "before", "after")
	if err != nil {
		return err
	}
	f := quotad.EventFilter{Category: q.Get("category"), Channel: q.Get("channel"), Level: q.Get("level"), Limit: DefaultLogLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLogLimit {
			return invalidf("query parameter \"limit\" must be a whole number 1..%d, got %q", MaxLogLimit, v)
		}
		f.Limit = n
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"before", &f.Before}, {"after", &f.After}} {
		if v := q.Get(p.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 1 {
				return invalidf("query parameter %q must be a positive event id, got %q", p.name, v)
			}
			*p.dst = id
		}
	}
	evs, err := s.svc.Logs(r.Context(), f)
	if err != nil {
		return err
	}
	page := LogsPage{Events: evs}
	if page.Events == nil {
		page.Events = []quotad.EventStatus{}
	}
	if len(evs) > 0 && len(evs) >= f.Limit {
		id := evs[len(evs)-1].ID
		page.NextBefore = &id
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) schedule(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "rule", "from", "n")
	if err != nil {
		return err
	}
	text := q.Get("rule")
	if strings.TrimSpace(text) == "" {
		return invalidf("query parameter \"rule\" is required, such as rule=daily%%2000:00")
	}
	n := DefaultScheduleCount
	if v := q.Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > MaxScheduleCount {
			return invalidf("query parameter \"n\" must be a whole number 1..%d, got %q", MaxScheduleCount, v)
		}
	}
	t := s.now()
	if v := q.Get("from"); v != "" {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return invalidf("query parameter \"from\" must be an RFC 3339 time such as 2026-03-07T00:00:00Z, got %q", v)
		}
	}
	ru, err := rule.Parse(text, s.opts.Location) // its errors wrap quotad.ErrInvalid
	if err != nil {
		return err
	}
	out := make([]time.Time, 0, n)
	for range n {
		if t = ru.Next(t); t.IsZero() || t.Year() > 9999 {
			break // no more, or past what RFC 3339 can write
		}
		out = append(out, t.UTC())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
