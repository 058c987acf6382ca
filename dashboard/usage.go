package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// Usage is the answer of GET /api/v1/usage: the units spent per API and
// channel in each minute, hour or day of [since, until), ordered by start,
// API and channel. Points with no spend are left out.
type Usage struct {
	By     string              `json:"by"`
	Since  time.Time           `json:"since"`
	Until  time.Time           `json:"until"`
	Points []quotad.UsagePoint `json:"points"`
}

// Largest range of one usage request, per granularity.
var maxUsageRange = map[string]time.Duration{
	quotad.ByMinute: 2 * 24 * time.Hour,
	quotad.ByHour:   93 * 24 * time.Hour,
	quotad.ByDay:    3 * 366 * 24 * time.Hour,
}

// UsageHandler returns the handler of GET /api/v1/usage (see UsagePath), the
// usage history behind the dashboard's charts (engine.Usage, through Source). Query:
//
//   - api, channel: only these ("" = all; channel "" in a point is spend
//     attributed to no channel);
//   - by: minute, hour (default) or day (calendar days of the daemon's zone);
//   - since: an RFC 3339 time, or a span back from until such as 48h or 7d
//     (default 24h);
//   - until: an RFC 3339 time (default now).
//
// A range longer than 2 days by minute, 93 days by hour or 3 years by day
// is refused. Errors are the API's JSON error bodies (400 invalid, 404
// unknown_api / unknown_channel). Mount it with server.HandleRead, so that
// it needs the token exactly where the API's reads do.
func UsageHandler(e Source, opts Options) http.Handler {
	opts = opts.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path+"; use GET")
			return
		}
		q, err := parseUsageQuery(r, e.Clock().Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		points, err := e.Usage(r.Context(), q)
		switch {
		case errors.Is(err, quotad.ErrUnknownAPI):
			writeError(w, http.StatusNotFound, "unknown_api", err.Error())
			return
		case errors.Is(err, quotad.ErrUnknownChannel):
			writeError(w, http.StatusNotFound, "unknown_channel", err.Error())
			return
		case errors.Is(err, quotad.ErrInvalid):
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		case r.Context().Err() != nil || errors.Is(err, context.Canceled):
			return // the client left
		case err != nil:
			opts.Logger.Error("dashboard: usage", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "internal error: the store did not answer; see the daemon's log")
			return
		}
		if points == nil {
			points = []quotad.UsagePoint{}
		}
		for i := range points {
			points[i].Start = points[i].Start.UTC()
		}
		writeJSON(w, http.StatusOK, Usage{By: q.By, Since: q.Since.UTC(), Until: q.Until.UTC(), Points: points})
	})
}

// parseUsageQuery reads the query of GET /api/v1/usage at now.
func parseUsageQuery(r *http.Request, now time.Time) (quotad.UsageQuery, error) {
	q := r.URL.Query()
	known := []string{"api", "channel", "by", "since", "until"}
	for name, vs := range q {
		if !slices.Contains(known, name) {
			return quotad.UsageQuery{}, quotad.Invalidf("unknown query parameter %q; expected %s", name, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return quotad.UsageQuery{}, quotad.Invalidf("query parameter %q given %d times", name, len(vs))
		}
	}
	uq := quotad.UsageQuery{API: q.Get("api"), Channel: q.Get("channel"), By: q.Get("by"), Until: now}
	if uq.By == "" {
		uq.By = quotad.ByHour
	}
	limit, ok := maxUsageRange[uq.By]
	if !ok {
		return quotad.UsageQuery{}, quotad.Invalidf("query parameter \"by\" must be minute, hour or day, got %q", uq.By)
	}
	if v := q.Get("until"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return quotad.UsageQuery{}, quotad.Invalidf("query parameter \"until\" must be an RFC 3339 time such as 2026-03-07T00:00:00Z, got %q", v)
		}
		uq.Until = t
	}
	uq.Since = uq.Until.Add(-quotad.DefaultUsageSince)
	if v := q.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			uq.Since = t
		} else if d, ok := span(v); ok {
			uq.Since = uq.Until.Add(-d)
		} else {
			return quotad.UsageQuery{}, quotad.Invalidf("query parameter \"since\" must be an RFC 3339 time or a span such as 48h or 7d, got %q", v)
		}
	}
	if !uq.Since.Before(uq.Until) {
		return quotad.UsageQuery{}, quotad.Invalidf("since %s is not before until %s", uq.Since.UTC().Format(time.RFC3339), uq.Until.UTC().Format(time.RFC3339))
	}
	if uq.Until.Sub(uq.Since) > limit {
		return quotad.UsageQuery{}, quotad.Invalidf("a usage range by %s may span at most %s, got %s", uq.By, days(limit), days(uq.Until.Sub(uq.Since)))
	}
	return uq, nil
}

// span parses a positive duration as the CLI does (rule.ParseDuration:
// "48h", "90m", "7d", "1d12h").
func span(v string) (time.Duration, bool) {
	d, err := rule.ParseDuration(v)
	return d, err == nil && d > 0
}

func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	}
	return d.Round(time.Minute).String()
}
