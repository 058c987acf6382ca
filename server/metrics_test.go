package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 4000, "channel": "Shorts"}`, nil)
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 6000}`, nil) // exhausts youtube
	ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1}`)        // refused
	ev.ok("POST", "/api/v1/apis/groq/reserve", `{"units": 10}`, nil)
	ev.ok("POST", "/api/v1/channels/RankRiot/pause", `{"reason": "x"}`, nil)
	ev.ok("POST", "/api/v1/errors", `{"channel": "RankRiot", "message": "disk full"}`, nil)
	ev.ok("POST", "/api/v1/errors", `{"message": "Groq: rate limit reached, try again in 7s"}`, nil)
	ev.ok("POST", "/api/v1/apis/pexels/reset", "", nil)
	ev.clock.Advance(time.Hour)

	r := ev.req("GET", "/metrics", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	text := r.String()
	for _, want := range []string{
		`quotad_store_up 1`,
		`quotad_window_limit{api="youtube",window="daily"} 10000`,
		`quotad_window_used{api="youtube",window="daily"} 10000`,
		`quotad_window_remaining{api="youtube",window="daily"} 0`,
		`quotad_window_remaining{api="groq",window="daily"} 100000`,
		`quotad_window_reserved{api="groq",window="daily"} 10`,
		`quotad_window_exhausted{api="youtube",window="daily"} 1`,
		`quotad_window_exhausted{api="groq",window="daily"} 1`, // blocked 7 s by the rate limit; no monitor runs here
		`quotad_window_exhausted{api="pexels",window="monthly"} 0`,
		`quotad_window_seconds_to_reset{api="youtube",window="daily"} 46800`, // 13 h to midnight Pacific
		`quotad_window_seconds_to_reset{api="pexels",window="hourly"} 0`,     // due now; the monitor is not running
		`quotad_api_available{api="youtube"} 0`,
		`quotad_api_available{api="pexels"} 1`,
		`quotad_channel_paused{channel="Shorts",reason="quota:youtube"} 1`,
		`quotad_channel_paused{channel="RankRiot",reason="manual"} 1`,
		`quotad_channel_active{channel="Shorts"} 0`,
		`quotad_spends_total{api="youtube"} 2`,
		`quotad_spends_total{api="groq"} 0`,
		`quotad_spent_units_total{api="youtube"} 10000`,
		`quotad_refused_total{api="youtube"} 1`,
		`quotad_reservations_total{api="groq"} 1`,
		`quotad_classified_errors_total{api="",kind="error"} 1`,
		`quotad_classified_errors_total{api="groq",kind="rate_limit"} 1`,
		`quotad_resets_total{api="pexels"} 1`,
		`quotad_exhaustions_total{api="youtube"} 1`,
		`quotad_pauses_total 1`,
		`quotad_resumes_total 0`,
		`quotad_store_failures_total 0`,
		`quotad_http_request_duration_seconds_count{code="200",method="POST",route="/api/v1/apis/{api}/spend"} 2`,
		`quotad_http_request_duration_seconds_count{code="429",method="POST",route="/api/v1/apis/{api}/spend"} 1`,
		`quotad_http_request_duration_seconds_bucket{code="200",method="POST",route="/api/v1/apis/{api}/reserve",le="+Inf"} 1`,
		`# TYPE quotad_spends_total counter`,
		`# TYPE quotad_window_used gauge`,
		`# TYPE quotad_http_request_duration_seconds histogram`,
	} {
		if !strings.Contains(text, want+"\n") { // the whole value: "1" must not match "10"
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(text, "\ngo_goroutines ") {
		t.Error("metrics lack the Go runtime's go_goroutines")
	}
	for _, name := range []string{"quotad_store_transactions_total ", "quotad_store_operations_total "} {
		if !strings.Contains(text, name) || strings.Contains(text, name+"0\n") {
			t.Errorf("%s missing or zero", name)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestMetricsStoreDown(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.store.Close()
	r := ev.req("GET", "/metrics", "")
	if r.status != http.StatusOK || !strings.Contains(r.String(), "quotad_store_up 0\n") {
		t.Fatalf("metrics with the store down: %d\n%s", r.status, r.body)
	}
}
