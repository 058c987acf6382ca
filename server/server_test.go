package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
)

func TestReads(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})

	var st quotad.Status
	ev.ok("GET", "/api/v1/status", "", &st)
	if len(st.APIs) != 3 || len(st.Channels) != 2 {
		t.Fatalf("status: %+v", st)
	}
	var apis []quotad.APIStatus
	ev.ok("GET", "/api/v1/apis", "", &apis)
	if len(apis) != 3 || apis[0].Name != "groq" {
		t.Fatalf("apis: %+v", apis)
	}
	var yt quotad.APIStatus
	ev.ok("GET", "/api/v1/apis/youtube", "", &yt)
	if yt.Name != "youtube" || yt.Windows[0].Limit != 10000 || !yt.Available {
		t.Fatalf("youtube: %+v", yt)
	}
	var chans []quotad.ChannelStatus
	ev.ok("GET", "/api/v1/channels", "", &chans)
	if len(chans) != 2 || chans[0].Name != "RankRiot" {
		t.Fatalf("channels: %+v", chans)
	}
	var ch quotad.ChannelStatus
	ev.ok("GET", "/api/v1/channels/Shorts", "", &ch)
	if ch.Name != "Shorts" || !ch.Active || !slices.Equal(ch.APIs, []string{"youtube"}) {
		t.Fatalf("Shorts: %+v", ch)
	}
	r := ev.req("GET", "/api/v1/status", "")
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	var times []time.Time
	ev.ok("GET", "/api/v1/schedule?rule=daily+00:00&from=2026-03-07T00:00:00Z&n=3", "", &times)
	want := []time.Time{ // 00:00 PST, then PDT from March 8
		time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC),
	}
	if !slices.EqualFunc(times, want, time.Time.Equal) {
		t.Fatalf("schedule: %v, want %v", times, want)
	}
	ev.ok("GET", "/api/v1/schedule?rule="+strings.ReplaceAll("every 1h", " ", "%20"), "", &times)
	if len(times) != DefaultScheduleCount || !times[0].Equal(t0.Add(time.Hour)) {
		t.Fatalf("schedule from the engine's now: %v", times)
	}
}

func TestSpendReserveCommitRelease(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})

	var sr quotad.SpendResult
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 100, "channel": "Shorts"}`, &sr)
	if sr.API != "youtube" || sr.Channel != "Shorts" || sr.Units != 100 || sr.Windows[0].Used != 100 || sr.Exhausted {
		t.Fatalf("spend: %+v", sr)
	}
	var res quotad.ReserveResult
	ev.ok("POST", "/api/v1/apis/youtube/reserve", `{"units": 500, "channel": "Shorts", "ttl": "10m"}`, &res)
	if res.ID == "" || res.Units != 500 || !res.ExpiresAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("reserve: %+v", res)
	}
	var yt quotad.APIStatus
	ev.ok("GET", "/api/v1/apis/youtube", "", &yt)
	if yt.Windows[0].Reserved != 500 {
		t.Fatalf("reserved: %+v", yt.Windows[0])
	}
	ev.ok("POST", "/api/v1/reservations/"+res.ID+"/commit", `{"units": 300}`, &sr)
	if sr.Units != 300 || sr.Windows[0].Used != 400 || sr.Windows[0].Reserved != 0 {
		t.Fatalf("commit: %+v", sr)
	}

	ev.ok("POST", "/api/v1/apis/youtube/reserve", `{"units": 50}`, &res)
	if !res.ExpiresAt.Equal(t0.Add(engine.DefaultReservationTTL)) {
		t.Fatalf("default ttl: %+v", res)
	}
	r := ev.req("POST", "/api/v1/reservations/"+res.ID+"/release", "")
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("release: %d %q", r.status, r.body)
	}
	ev.ok("GET", "/api/v1/apis/youtube", "", &yt)
	if yt.Windows[0].Reserved != 0 || yt.Windows[0].Used != 400 {
		t.Fatalf("after release: %+v", yt.Windows[0])
	}
}

func TestResetsAndResumes(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	ev.ok("POST", "/api/v1/apis/youtube/spend", `{"units": 10000}`, nil)
	var ch quotad.ChannelStatus
	ev.ok("GET", "/api/v1/channels/Shorts", "", &ch)
	if ch.Active || ch.PauseReasons[0].Reason != "quota:youtube" {
		t.Fatalf("Shorts after exhausting youtube: %+v", ch)
	}

	var rr quotad.ResetResult
	ev.ok("POST", "/api/v1/apis/youtube/reset", "", &rr)
	if !slices.Equal(rr.APIs, []string{"youtube"}) || !slices.Equal(rr.Resumed, []string{"RankRiot", "Shorts"}) {
		t.Fatalf("reset youtube: %+v", rr)
	}
	ev.ok("POST", "/api/v1/reset", `{"apis": ["groq", "pexels"]}`, &rr)
	if !slices.Equal(rr.APIs, []string{"groq", "pexels"}) {
		t.Fatalf("reset two: %+v", rr)
	}
	ev.ok("POST", "/api/v1/reset", "", &rr)
	if len(rr.APIs) != 3 {
		t.Fatalf("reset all: %+v", rr)
	}

	ev.ok("POST", "/api/v1/channels/Shorts/pause", `{"reason": "maintenance"}`, &ch)
	if ch.Active || ch.PauseReasons[0].Reason != quotad.ReasonManual.String() || ch.PauseReasons[0].Detail != "maintenance" {
		t.Fatalf("pause: %+v", ch)
	}
	var res quotad.ResumeResult
	ev.ok("POST", "/api/v1/resume", `{"all": false}`, &res)
	if len(res.Resumed) != 0 {
		t.Fatalf("resume eligible lifted a manual pause: %+v", res)
	}
	ev.ok("POST", "/api/v1/resume", "{}", &res)
	if len(res.Resumed) != 0 {
		t.Fatalf("resume eligible (empty body): %+v", res)
	}
	ev.ok("POST", "/api/v1/channels/Shorts/resume", "", &res)
	if !slices.Equal(res.Resumed, []string{"Shorts"}) {
		t.Fatalf("resume Shorts: %+v", res)
	}
	ev.ok("POST", "/api/v1/channels/Shorts/pause", "", nil)
	ev.ok("POST", "/api/v1/channels/RankRiot/pause", "", nil)
	ev.ok("POST", "/api/v1/resume", `{"channels": ["Shorts"]}`, &res)
	if !slices.Equal(res.Resumed, []string{"Shorts"}) {
		t.Fatalf("resume channels: %+v", res)
	}
	ev.ok("POST", "/api/v1/resume", `{"all": true}`, &res)
	if !slices.Equal(res.Resumed, []string{"RankRiot"}) || !slices.Equal(res.AlreadyActive, []string{"Shorts"}) {
		t.Fatalf("resume all: %+v", res)
	}
}

func TestReportErrorClassifySuccess(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})

	var v classify.Verdict
	ev.ok("POST", "/api/v1/classify", `{"status": 429, "headers": {"retry-after": "120"}, "message": "Groq rate limit reached"}`, &v)
	if !v.Quota || v.API != "groq" || !v.Until.Equal(t0.Add(120*time.Second)) {
		t.Fatalf("classify: %+v", v)
	}
	var ch quotad.ChannelStatus
	ev.ok("GET", "/api/v1/channels/RankRiot", "", &ch)
	if !ch.Active {
		t.Fatal("classify changed something")
	}

	var rr quotad.ReportResult
	ev.ok("POST", "/api/v1/errors", `{"channel": "Shorts", "message": "connection reset by peer"}`, &rr)
	if rr.Verdict.Quota || rr.ConsecutiveErrors != 1 || len(rr.Paused) != 0 {
		t.Fatalf("plain error: %+v", rr)
	}
	ev.ok("POST", "/api/v1/channels/Shorts/success", "", &ch)
	if ch.ConsecutiveErrors != 0 {
		t.Fatalf("success: %+v", ch)
	}
	ev.ok("POST", "/api/v1/errors", `{"channel": "RankRiot", "api": "youtube", "status": 403,
		"headers": {"Content-Type": ["application/json"]},
		"message": "{\"error\":{\"code\":403,\"errors\":[{\"reason\":\"quotaExceeded\"}]}}"}`, &rr)
	if !rr.Verdict.Quota || rr.Verdict.API != "youtube" || !rr.APIExhausted {
		t.Fatalf("quota error: %+v", rr)
	}
	ev.ok("GET", "/api/v1/channels/RankRiot", "", &ch)
	if ch.Active {
		t.Fatalf("RankRiot not paused: %+v", ch)
	}
}

func TestLogsPaging(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	for range 3 {
		ev.ok("POST", "/api/v1/channels/Shorts/pause", "", nil)
		ev.ok("POST", "/api/v1/channels/Shorts/resume", "", nil)
	}
	var all LogsPage
	ev.ok("GET", "/api/v1/logs?channel=Shorts", "", &all)
	if len(all.Events) != 6 || all.NextBefore != nil {
		t.Fatalf("logs: %d events, next %v", len(all.Events), all.NextBefore)
	}
	var page LogsPage
	ev.ok("GET", "/api/v1/logs?channel=Shorts&limit=4", "", &page)
	if len(page.Events) != 4 || page.NextBefore == nil || *page.NextBefore != page.Events[3].ID {
		t.Fatalf("page 1: %+v", page)
	}
	var page2 LogsPage
	ev.ok("GET", "/api/v1/logs?channel=Shorts&limit=4&before="+itoa(*page.NextBefore), "", &page2)
	if len(page2.Events) != 2 || page2.NextBefore != nil || page2.Events[0].ID >= *page.NextBefore {
		t.Fatalf("page 2: %+v", page2)
	}
	var pauses LogsPage
	ev.ok("GET", "/api/v1/logs?category=pause&level=WARNING", "", &pauses)
	if len(pauses.Events) != 3 {
		t.Fatalf("pause events: %+v", pauses)
	}
	var after LogsPage
	ev.ok("GET", "/api/v1/logs?channel=Shorts&after="+itoa(page.Events[1].ID), "", &after)
	if len(after.Events) != 1 || after.Events[0].ID != page.Events[0].ID {
		t.Fatalf("after: %+v", after)
	}
	var none LogsPage
	r := ev.req("GET", "/api/v1/logs?channel=nobody", "")
	if err := json.Unmarshal(r.body, &none); err != nil || !strings.Contains(string(r.body), `"events":[]`) {
		t.Fatalf("empty page: %s", r.body)
	}
}

func TestProbes(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken, ProtectReads: true})
	for _, p := range []string{"/healthz", "/readyz"} {
		r := ev.req("GET", p, "", "Authorization: -")
		if r.status != http.StatusOK || string(r.body) != "ok\n" {
			t.Fatalf("%s: %d %q", p, r.status, r.body)
		}
	}
	ev.store.Close()
	r := ev.req("GET", "/readyz", "")
	if r.status != http.StatusServiceUnavailable || !strings.HasPrefix(string(r.body), "not ready: ") {
		t.Fatalf("readyz with the store closed: %d %q", r.status, r.body)
	}
	if r := ev.req("GET", "/healthz", ""); r.status != http.StatusOK {
		t.Fatalf("healthz with the store closed: %d", r.status)
	}
}

func TestOpenAPIServed(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken, ProtectReads: true})
	r := ev.req("GET", "/api/v1/openapi.json", "", "Authorization: -")
	var doc map[string]any
	if r.status != http.StatusOK || json.Unmarshal(r.body, &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %.100s", r.status, r.body)
	}
}

func itoa(n int64) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPickRoute(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	r := ev.req(http.MethodGet, "/api/v1/channels/Shorts/pick/youtube", "")
	if r.status != http.StatusOK || !strings.Contains(r.String(), `"provider":"youtube"`) {
		t.Fatalf("pick: %d %s", r.status, r)
	}
	if r := ev.req(http.MethodGet, "/api/v1/channels/Shorts/pick/llm", ""); r.status != http.StatusBadRequest {
		t.Fatalf("pick of an unknown capability: %d %s", r.status, r)
	}
	if r := ev.req(http.MethodGet, "/api/v1/channels/Nobody/pick/llm", ""); r.status != http.StatusNotFound {
		t.Fatalf("pick for an unknown channel: %d %s", r.status, r)
	}
}
