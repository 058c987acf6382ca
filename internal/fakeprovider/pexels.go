package fakeprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// PexelsLimits are Pexels' default request limits.
type PexelsLimits struct {
	Hourly, Monthly int64
}

// DefaultPexels are Pexels' published defaults: 200 an hour, 20,000 a
// month.
var DefaultPexels = PexelsLimits{Hourly: 200, Monthly: 20000}

// Pexels returns the fake Pexels API: GET /v1/search, /v1/curated,
// /v1/photos/{id}, /videos/search, /videos/popular. A 2xx answer carries
// X-Ratelimit-Limit, -Remaining (the MONTHLY quota) and -Reset (Unix time
// of the monthly roll-over); a 429 carries no figures and no Retry-After.
func (f *Fake) Pexels() http.Handler { return http.HandlerFunc(f.pexels) }

func (f *Fake) pexels(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c := Call{Provider: "pexels", Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() { c.Status = sw.status; f.record(c) }()
	p := r.URL.Path
	known := p == "/v1/search" || p == "/v1/curated" || strings.HasPrefix(p, "/v1/photos/") || p == "/videos/search" || p == "/videos/popular"
	if r.Method != http.MethodGet || !known {
		http.Error(sw, "Not Found", http.StatusNotFound)
		return
	}
	now := f.now()
	f.mu.Lock()
	hourly, monthly := f.windowLocked("pexels", "", "hourly"), f.windowLocked("pexels", "", "monthly")
	if (hourly != nil && hourly.left(now) < 1) || (monthly != nil && monthly.left(now) < 1) {
		f.mu.Unlock()
		sw.WriteHeader(http.StatusTooManyRequests) // bare: no body, no figures
		return
	}
	for _, x := range []*window{hourly, monthly} {
		if x != nil {
			x.used++
		}
	}
	c.Units = 1
	if monthly != nil {
		h := sw.Header()
		h.Set("X-Ratelimit-Limit", strconv.FormatInt(monthly.limit, 10))
		h.Set("X-Ratelimit-Remaining", strconv.FormatInt(monthly.left(now), 10))
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(monthly.next(now).Unix(), 10))
	}
	f.mu.Unlock()
	sw.Header().Set("Content-Type", "application/json; charset=utf-8")
	var photos []any
	for i := 1; i <= 2; i++ {
		photos = append(photos, map[string]any{"id": 2014422 + i, "width": 3024, "height": 3024, "url": fmt.Sprintf("https://www.pexels.com/photo/%d/", 2014422+i),
			"photographer": "Joey Farina", "src": map[string]any{"original": fmt.Sprintf("https://images.pexels.com/photos/%d/x.jpeg", 2014422+i)}})
	}
	key := "photos"
	if strings.HasPrefix(p, "/videos/") {
		key = "videos"
	}
	_ = json.NewEncoder(sw).Encode(map[string]any{"page": 1, "per_page": len(photos), key: photos, "total_results": 8000})
}
