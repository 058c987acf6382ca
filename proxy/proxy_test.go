package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/proxy"
)

const chatBody = `{"model":"llama-3.3-70b-versatile","messages":[{"role":"user","content":"Explain the importance of fast language models"}]}`

// A client changes only its base URL: POST {proxy}/proxy/groq/chat/completions
// with its own key. The call reaches Groq as sent, the answer comes back as
// Groq sent it, and quotad meters it from the response.
func TestGroqCallMeteredFromTheResponse(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["groq"]
	up.set(groqChat(987, 11000))
	resp, body := ev.do("POST", "/proxy/groq/chat/completions", chatBody,
		"Authorization", "Bearer "+groqKey, "Content-Type", "application/json", proxy.HeaderChannel, "RankRiot", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || body != chatCompletion {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if resp.Header.Get("x-ratelimit-remaining-tokens") != "11000" || resp.Header.Get("x-request-id") == "" {
		t.Errorf("provider headers not passed back: %v", resp.Header)
	}
	got := up.last(t)
	if got.Method != "POST" || got.Path != "/openai/v1/chat/completions" || string(got.Body) != chatBody {
		t.Errorf("upstream got %s %s %s", got.Method, got.Path, got.Body)
	}
	if got.Header.Get("Authorization") != "Bearer "+groqKey {
		t.Errorf("credentials not passed through untouched: %q", got.Header.Get("Authorization"))
	}
	for _, h := range []string{proxy.HeaderChannel, proxy.HeaderToken, "X-Forwarded-For"} {
		if got.Header.Get(h) != "" {
			t.Errorf("upstream saw %s: %q", h, got.Header.Get(h))
		}
	}
	// rpm counted by quotad; rpd and tpm adopted from Groq's figures
	// (1000 − 987, 12000 − 11000); tpd counted from usage.total_tokens.
	wantUsed(t, ev.used("groq"), map[string]int64{"rpm": 1, "rpd": 13, "tpm": 1000, "tpd": 42})
	if w := ev.window("groq", "rpd"); !w.NextReset.Equal(t0.Add(2*time.Minute + 59560*time.Millisecond)) {
		t.Errorf("rpd next reset %s, want Groq's x-ratelimit-reset-requests", w.NextReset)
	}
	if w := ev.window("groq", "tpm"); !w.NextReset.Equal(t0.Add(7660 * time.Millisecond)) {
		t.Errorf("tpm next reset %s", w.NextReset)
	}
	// Usage history: the channel spent 42 tokens.
	pts, err := ev.e.Usage(context.Background(), engine.UsageQuery{API: "groq", Channel: "RankRiot", By: engine.ByMinute, Since: t0.Add(-time.Minute), Until: t0.Add(time.Minute)})
	if err != nil || len(pts) != 1 || pts[0].Units != 42 {
		t.Errorf("usage %+v %v", pts, err)
	}
	// The drift between Groq's count and quotad's is an event field and a gauge.
	var sync []quotad.Event
	for _, e := range ev.events() {
		if e.Category == engine.CategoryQuotaSync {
			sync = append(sync, e)
		}
	}
	if len(sync) != 2 {
		t.Fatalf("quota_sync events: %+v", sync)
	}
	drifts := map[string]int64{}
	for _, d := range ev.e.Drifts() {
		drifts[d.API+"/"+d.Window] = d.Drift
	}
	if drifts["groq/llama-3.3-70b-versatile/rpd"] != 12 || drifts["groq/llama-3.3-70b-versatile/tpm"] != 958 {
		t.Errorf("drifts %v", drifts)
	}
	// A second call: the adopted figures are the base again.
	up.set(groqChat(986, 11500))
	ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	wantUsed(t, ev.used("groq"), map[string]int64{"rpm": 2, "rpd": 14, "tpm": 500, "tpd": 84})
	if st := ev.px.Stats(); st.Forwarded != 2 || st.Refused != 0 || st.AccountingErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Streams pass through chunk by chunk: the upstream holds its second chunk
// until the client has the first. Tokens come from the final chunk's
// x_groq.usage.
func TestGroqStreamPassesThroughUnbuffered(t *testing.T) {
	ev := newEnv(t)
	gotFirst := make(chan struct{})
	ev.up["groq"].set(func(w http.ResponseWriter, r *http.Request) {
		groqHeaders(w.Header(), 900, 11900)
		w.Header().Set("Content-Type", "text/event-stream")
		chunks := strings.SplitAfter(groqStreamBody, "\n\n")
		io.WriteString(w, chunks[0])
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-time.After(5 * time.Second):
			t.Error("the client did not get the first chunk while the stream was open: the proxy buffers")
		}
		for _, c := range chunks[1:] {
			io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
	})
	req, _ := http.NewRequest("POST", ev.ts.URL+"/proxy/groq/chat/completions", strings.NewReader(`{"model":"llama-3.3-70b-versatile","stream":true,"messages":[]}`))
	req.Header.Set("Authorization", "Bearer "+groqKey)
	req.Header.Set(proxy.HeaderChannel, "RankRiot")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q %v", line, err)
	}
	close(gotFirst)
	rest, _ := io.ReadAll(rd)
	if line+string(rest) != groqStreamBody {
		t.Fatalf("stream changed:\n%s", line+string(rest))
	}
	resp.Body.Close()
	waitFor(t, func() bool { return ev.used("groq")["tpd"] == 17 })
	wantUsed(t, ev.used("groq"), map[string]int64{"rpm": 1, "rpd": 100, "tpm": 100, "tpd": 17})
}

// OpenAI puts usage in the last chunk when stream_options.include_usage is
// set; the channel is named by a path prefix.
func TestOpenAIStreamWithIncludeUsageAndChannelPrefix(t *testing.T) {
	ev := newEnv(t)
	const stream = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n" +
		"data: [DONE]\n\n"
	ev.up["openai"].set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("x-ratelimit-limit-requests", "500")
		w.Header().Set("x-ratelimit-remaining-requests", "499")
		w.Header().Set("x-ratelimit-reset-requests", "120ms")
		io.WriteString(w, stream)
	})
	resp, body := ev.do("POST", "/proxy/openai/channel/Bot/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`,
		"Authorization", "Bearer "+openaiKey)
	if resp.StatusCode != 200 || body != stream {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if p := ev.up["openai"].last(t).Path; p != "/v1/chat/completions" {
		t.Errorf("forwarded to %s: the channel prefix was not stripped", p)
	}
	wantUsed(t, ev.used("openai"), map[string]int64{"rpm": 1, "rpd": 1, "tpm": 11})
	pts, _ := ev.e.Usage(context.Background(), engine.UsageQuery{API: "openai", Channel: "Bot", Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)})
	if len(pts) != 1 || pts[0].Units != 11 {
		t.Errorf("usage %+v", pts)
	}
}

// A per-minute 429 blocks Groq for seconds, not until midnight; meanwhile
// quotad answers at once with 429, Retry-After and Groq's error shape,
// without spending a request upstream.
func TestGroqRateLimitBlocksUntilStatedTime(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["groq"]
	up.set(groq429("5", 970, 0, groqTPM))
	resp, body := ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 429 || body != groqTPM {
		t.Fatalf("the provider's 429 did not pass through: %d %s", resp.StatusCode, body)
	}
	w := ev.window("groq", "tpm")
	// The latest time Groq states: retry-after 5, "try again in 4.845s",
	// x-ratelimit-reset-tokens 7.66s with 0 tokens remaining.
	if !w.Exhausted || !w.BlockedUntil.Equal(t0.Add(7660*time.Millisecond)) {
		t.Fatalf("tpm %+v: want exhausted until the latest stated time", w)
	}
	if ev.window("groq", "rpm").Exhausted || ev.window("groq", "tpd").Exhausted {
		t.Error("a window other than the one Groq named was exhausted")
	}
	// RankRiot needs groq; its call used llama-3.3-70b-versatile, whose
	// window is out: it waits for that model.
	if _, ok := ev.channel("RankRiot").Paused(quotad.QuotaReason("groq/llama-3.3-70b-versatile")); !ok {
		t.Errorf("RankRiot was not paused for the model: %+v", ev.channel("RankRiot").Pauses)
	}
	if used := ev.used("groq"); used["rpm"] != 0 || used["tpd"] != 0 {
		t.Errorf("a refused call was charged: %v", used)
	}
	n := len(up.calls())
	ev.clk.Advance(2 * time.Second)
	resp, body = ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "6" || resp.Header.Get("X-Quotad-Refused") != "groq/llama-3.3-70b-versatile/tpm" {
		t.Fatalf("refusal %d %v", resp.StatusCode, resp.Header)
	}
	var e struct {
		Error struct{ Message, Type, Code string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "rate_limit_exceeded" || e.Error.Type != "tokens" ||
		!strings.Contains(e.Error.Message, "tokens per minute (TPM)") || !strings.Contains(e.Error.Message, "try again in 5.66s") {
		t.Fatalf("refusal body %s", body)
	}
	if len(up.calls()) != n {
		t.Fatal("a call was sent upstream while the API was exhausted")
	}
	// At the stated time the monitor frees the API and the channel.
	up.set(groqChat(969, 11958))
	ev.tick(5660 * time.Millisecond)
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey); resp.StatusCode != 200 {
		t.Fatalf("after the block: %d", resp.StatusCode)
	}
	if !ev.channel("RankRiot").Active() {
		t.Error("RankRiot did not resume")
	}
}

// A per-day 429 exhausts tpd, the window Groq names, until its time.
func TestGroqDailyTokensExhausted(t *testing.T) {
	ev := newEnv(t)
	ev.up["groq"].set(groq429("526", 970, 11000, groqTPD))
	ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey)
	w := ev.window("groq", "tpd")
	if !w.Exhausted || !w.BlockedUntil.Equal(t0.Add(526*time.Second)) || w.Used != w.Limit {
		t.Fatalf("tpd %+v", w)
	}
	var found bool
	for _, e := range ev.events() {
		if e.Category == quotad.CategoryQuota && e.Fields["window"] == "llama-3.3-70b-versatile/tpd" && e.Fields["model"] == "llama-3.3-70b-versatile" {
			found = true
		}
	}
	if !found {
		t.Error("no quota event names window tpd")
	}
}

// insufficient_quota is not reset by time: the API is held until a person
// resets it, and quotad's refusal carries no Retry-After.
func TestBillingErrorHoldsUntilAPersonActs(t *testing.T) {
	ev := newEnv(t)
	ev.up["openai"].set(jsonError(429, openaiBilling))
	ev.do("POST", "/proxy/openai/chat/completions", chatBody, "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "Bot")
	a := ev.api("openai")
	if a.Available() || a.AvailableAt().Year() != 9999 {
		t.Fatalf("openai available at %s", a.AvailableAt())
	}
	resp, body := ev.do("POST", "/proxy/openai/chat/completions", chatBody, "Authorization", "Bearer "+openaiKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" || !strings.Contains(body, `"code":"insufficient_quota"`) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	ev.tick(48 * time.Hour)
	if ev.api("openai").Available() {
		t.Fatal("time restored a billing hold")
	}
	if _, err := ev.e.Reset(context.Background(), "openai"); err != nil {
		t.Fatal(err)
	}
	ev.px.Invalidate() // the engine's event reaches the proxy a moment after Reset returns
	ev.up["openai"].set(jsonOK(`{"usage":{"total_tokens":3}}`))
	if resp, _ := ev.do("POST", "/proxy/openai/chat/completions", chatBody, "Authorization", "Bearer "+openaiKey); resp.StatusCode != 200 {
		t.Fatalf("after a person's reset: %d", resp.StatusCode)
	}
}

// "Request too large … must be reduced" is an error of that request: no
// waiting fixes it, the API is not paused.
func TestRequestTooLargeDoesNotPause(t *testing.T) {
	for _, c := range []struct{ api, body string }{{"groq", groqTooLarge}, {"openai", openaiTooLarge}} {
		ev := newEnv(t)
		ev.up[c.api].set(jsonError(429, c.body))
		resp, body := ev.do("POST", "/proxy/"+c.api+"/chat/completions", chatBody, "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "RankRiot")
		if resp.StatusCode != 429 || body != c.body {
			t.Fatalf("%s: %d %s", c.api, resp.StatusCode, body)
		}
		if !ev.api(c.api).Available() || !ev.channel("RankRiot").Active() || ev.channel("RankRiot").ConsecutiveErrors != 0 {
			t.Fatalf("%s: a too-large request paused something", c.api)
		}
		var kinds []string
		for _, e := range ev.events() {
			if e.Category == quotad.CategoryError {
				kinds = append(kinds, e.Fields["kind"])
			}
		}
		if len(kinds) != 1 || kinds[0] != "request" {
			t.Errorf("%s: error events %v", c.api, kinds)
		}
		ev.up[c.api].set(jsonOK(`{"usage":{"total_tokens":3}}`))
		if resp, _ := ev.do("POST", "/proxy/"+c.api+"/chat/completions", "{}", "Authorization", "Bearer "+openaiKey); resp.StatusCode != 200 {
			t.Fatalf("%s: next call %d", c.api, resp.StatusCode)
		}
	}
}

// YouTube: every call to its bucket by method and path, at least 1 even
// when invalid; quotaExceeded exhausts the call's bucket until midnight
// Pacific; then quotad answers in Google's shape.
func TestYouTubeBucketsAndQuotaExceeded(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["youtube"]
	up.set(jsonOK(youtubeList))
	q := "?part=snippet&key=" + youtubeKey
	for _, c := range []struct{ method, path string }{
		{"GET", "/proxy/youtube/search" + q + "&q=cats"},
		{"GET", "/proxy/youtube/videos" + q + "&id=dQw4w9WgXcQ"},
		{"GET", "/proxy/youtube/channels" + q},
		{"POST", "/proxy/youtube/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"},
		{"POST", "/proxy/youtube/playlistItems?part=snippet"},
	} {
		if resp, _ := ev.do(c.method, c.path, "{}", proxy.HeaderChannel, "Shorts", "Authorization", "Bearer ya29.a0AfH6SMBSecretOAuthToken"); resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d", c.method, c.path, resp.StatusCode)
		}
	}
	paths := []string{}
	for _, s := range up.calls() {
		paths = append(paths, s.Path)
	}
	if strings.Join(paths, " ") != "/youtube/v3/search /youtube/v3/videos /youtube/v3/channels /upload/youtube/v3/videos /youtube/v3/playlistItems" {
		t.Errorf("forwarded to %v", paths)
	}
	if up.calls()[0].RawQuery != "part=snippet&key="+youtubeKey+"&q=cats" {
		t.Errorf("query %q not passed untouched", up.calls()[0].RawQuery)
	}
	wantUsed(t, ev.used("youtube"), map[string]int64{"search.list": 1, "videos.insert": 1, "daily": 1 + 1 + 50})
	up.set(jsonError(400, youtubeBadReq))
	ev.do("POST", "/proxy/youtube/playlistItems", "{}", proxy.HeaderChannel, "Shorts")
	wantUsed(t, ev.used("youtube"), map[string]int64{"daily": 53})

	up.set(jsonError(403, youtubeQuota))
	resp, body := ev.do("GET", "/proxy/youtube/search"+q, "", proxy.HeaderChannel, "Shorts")
	if resp.StatusCode != 403 || body != youtubeQuota {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	midnightPT := time.Date(2026, 6, 16, 7, 0, 0, 0, time.UTC)
	w := ev.window("youtube", "search.list")
	if !w.Exhausted || w.Until() != midnightPT || ev.window("youtube", "daily").Exhausted {
		t.Fatalf("search.list %+v", w)
	}
	// The channels need youtube as a whole: they wait for the bucket.
	for _, ch := range []string{"Shorts", "RankRiot"} {
		if _, ok := ev.channel(ch).Paused(quotad.ReasonOf("quota:youtube/search.list")); !ok {
			t.Errorf("%s not paused for the bucket: %+v", ch, ev.channel(ch).Pauses)
		}
	}
	// Buckets are independent: a videos.list call is served, a search.list
	// call is refused.
	up.set(jsonOK(youtubeList))
	n := len(up.calls())
	if resp, _ := ev.do("GET", "/proxy/youtube/videos"+q, ""); resp.StatusCode != 200 || len(up.calls()) != n+1 {
		t.Fatalf("videos.list while search.list is out: %d", resp.StatusCode)
	}
	n++
	resp, body = ev.do("GET", "/proxy/youtube/search"+q, "")
	if resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "46800" || resp.Header.Get("X-Should-Retry") != "false" {
		t.Fatalf("refusal %d %v", resp.StatusCode, resp.Header)
	}
	var g struct {
		Error struct {
			Code   int
			Errors []struct{ Domain, Reason string }
		}
	}
	if err := json.Unmarshal([]byte(body), &g); err != nil || g.Error.Code != 403 || len(g.Error.Errors) != 1 ||
		g.Error.Errors[0].Reason != "quotaExceeded" || g.Error.Errors[0].Domain != "youtube.quota" {
		t.Fatalf("refusal body %s", body)
	}
	if len(up.calls()) != n {
		t.Fatal("a call went upstream while YouTube was exhausted")
	}
	// dailyLimitExceeded (older shape) on an upload exhausts videos.insert.
	ev2 := newEnv(t)
	ev2.up["youtube"].set(jsonError(403, youtubeDaily))
	ev2.do("POST", "/proxy/youtube/upload/youtube/v3/videos?uploadType=multipart", "x")
	if w := ev2.window("youtube", "videos.insert"); !w.Exhausted || w.Until() != midnightPT {
		t.Fatalf("videos.insert %+v", w)
	}
}

// rateLimitExceeded is short: the API is blocked for 60 s.
func TestYouTubeRateLimit(t *testing.T) {
	ev := newEnv(t)
	ev.up["youtube"].set(jsonError(403, youtubeRate))
	ev.do("GET", "/proxy/youtube/videos", "")
	a := ev.api("youtube")
	if a.Available() || !a.AvailableAt().Equal(t0.Add(60*time.Second)) {
		t.Fatalf("youtube available at %s", a.AvailableAt())
	}
	resp, body := ev.do("GET", "/proxy/youtube/videos", "")
	if resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "60" || resp.Header.Get("X-Should-Retry") != "" || !strings.Contains(body, `"reason":"rateLimitExceeded"`) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// uploadLimitExceeded pauses the calling channel, not the API.
func TestYouTubeUploadLimitPausesTheChannel(t *testing.T) {
	ev := newEnv(t)
	ev.up["youtube"].set(jsonError(400, youtubeUpload))
	ev.do("POST", "/proxy/youtube/channel/Shorts/upload/youtube/v3/videos?uploadType=resumable", "x")
	p, ok := ev.channel("Shorts").Paused(quotad.ReasonChannelLimit)
	if !ok || !p.Until.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("Shorts pauses %+v", ev.channel("Shorts").Pauses)
	}
	if !ev.api("youtube").Available() || !ev.channel("RankRiot").Active() {
		t.Fatal("a channel's upload limit paused the API")
	}
	// Without a channel there is nobody to pause: nothing changes.
	ev.do("POST", "/proxy/youtube/upload/youtube/v3/videos", "x")
	if !ev.api("youtube").Available() {
		t.Fatal("an unattributed upload limit exhausted the API")
	}
}

// Pexels states its monthly quota on 2xx responses only; quotad keeps the
// last stated roll-over and counts the hourly window itself. A 429 carries
// nothing: the hourly window is exhausted until the top of the hour.
func TestPexels(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["pexels"]
	rollover := time.Date(2026, 7, 3, 9, 12, 0, 0, time.UTC)
	up.set(jsonOK(`{"page":1,"per_page":15,"photos":[],"total_results":0}`,
		"X-Ratelimit-Limit", "20000", "X-Ratelimit-Remaining", "19684", "X-Ratelimit-Reset", "1783069920"))
	resp, _ := ev.do("GET", "/proxy/pexels/v1/search?query=nature&per_page=15", "", "Authorization", pexelsKey, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 200 || up.last(t).Path != "/v1/search" || up.last(t).Header.Get("Authorization") != pexelsKey {
		t.Fatalf("%d %+v", resp.StatusCode, up.last(t))
	}
	wantUsed(t, ev.used("pexels"), map[string]int64{"hourly": 1, "monthly": 316})
	if w := ev.window("pexels", "monthly"); !w.NextReset.Equal(rollover) {
		t.Fatalf("monthly next reset %s, want Pexels' roll-over %s", w.NextReset, rollover)
	}
	up.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Too Many Requests", 429) })
	ev.do("GET", "/proxy/pexels/v1/curated", "", "Authorization", pexelsKey)
	w := ev.window("pexels", "hourly")
	if !w.Exhausted || w.Until() != time.Date(2026, 6, 15, 19, 0, 0, 0, time.UTC) || ev.window("pexels", "monthly").Exhausted {
		t.Fatalf("hourly %+v", w)
	}
	resp, body := ev.do("GET", "/proxy/pexels/v1/curated", "", "Authorization", pexelsKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3600" || !json.Valid([]byte(body)) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	// The hour passes; the stated roll-over is still the monthly reset.
	ev.tick(time.Hour)
	if !ev.api("pexels").Available() || !ev.window("pexels", "monthly").NextReset.Equal(rollover) {
		t.Fatalf("after the hour: %+v", ev.api("pexels"))
	}
}

// Pixabay's X-RateLimit-Reset is seconds remaining; its 429 is plain text.
func TestPixabay(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["pixabay"]
	up.set(jsonOK(`{"total":1,"totalHits":1,"hits":[]}`, "X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "98", "X-RateLimit-Reset", "37"))
	resp, _ := ev.do("GET", "/proxy/pixabay/?key="+pixabayKey+"&q=yellow+flowers&image_type=photo", "", proxy.HeaderChannel, "Stock")
	if resp.StatusCode != 200 || up.last(t).Path != "/api/" || !strings.Contains(up.last(t).RawQuery, "key="+pixabayKey) {
		t.Fatalf("%d %+v", resp.StatusCode, up.last(t))
	}
	if w := ev.window("pixabay", "minute"); w.Used != 2 || !w.NextReset.Equal(t0.Add(37*time.Second)) {
		t.Fatalf("minute %+v", w)
	}
	up.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "21")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(429)
		io.WriteString(w, "[ERROR 429] API rate limit exceeded")
	})
	ev.do("GET", "/proxy/pixabay/?key="+pixabayKey+"&q=x", "")
	if w := ev.window("pixabay", "minute"); !w.Exhausted || w.Until() != t0.Add(21*time.Second) {
		t.Fatalf("minute %+v", w)
	}
	resp, body := ev.do("GET", "/proxy/pixabay/?key="+pixabayKey+"&q=x", "")
	if resp.StatusCode != 429 || !strings.HasPrefix(body, "API rate limit exceeded") || resp.Header.Get("Retry-After") != "21" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
}

// Generic: IETF RateLimit fields are adopted; Retry-After as an HTTP-date
// blocks until then, and a date in the past means now.
func TestGeneric(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["generic"]
	up.set(jsonOK(`{}`, "RateLimit-Policy", `"default";q=100;w=60`, "RateLimit", `"default";r=60;t=30`))
	ev.do("GET", "/proxy/gen/items", "", "X-Api-Key", genericKey, proxy.HeaderChannel, "Gen")
	if w := ev.window("gen", "requests"); w.Used != 40 || !w.NextReset.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("requests %+v", w)
	}
	if up.last(t).Header.Get("X-Api-Key") != genericKey || up.last(t).Path != "/v2/items" {
		t.Fatalf("%+v", up.last(t))
	}
	until := t0.Add(2 * time.Minute)
	up.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", until.Format(http.TimeFormat))
		http.Error(w, `{"message":"Too Many Requests"}`, 429)
	})
	ev.do("GET", "/proxy/gen/items", "")
	if a := ev.api("gen"); a.Available() || !a.AvailableAt().Equal(until) {
		t.Fatalf("gen available at %s", a.AvailableAt())
	}
	resp, body := ev.do("GET", "/proxy/gen/items", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "120" || !strings.Contains(body, `"code":"exhausted"`) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	// A date in the past means now: nothing stays blocked.
	ev2 := newEnv(t)
	ev2.up["generic"].set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", t0.Add(-time.Hour).Format(http.TimeFormat))
		http.Error(w, "slow down", 429)
	})
	ev2.do("GET", "/proxy/gen/items", "")
	ev2.up["generic"].set(jsonOK(`{}`))
	if resp, _ := ev2.do("GET", "/proxy/gen/items", ""); resp.StatusCode != 200 {
		t.Fatalf("after a past Retry-After: %d", resp.StatusCode)
	}
}

// Upstream timeouts and connection errors come back as 504 and 502 and are
// not quota: nothing is charged, nothing paused.
func TestUpstreamFailuresAreNotQuota(t *testing.T) {
	ev := newEnv(t, withProxy(func(o *proxy.Options) { o.ResponseHeaderTimeout = 200 * time.Millisecond }))
	release := make(chan struct{})
	defer close(release)
	ev.up["groq"].set(func(w http.ResponseWriter, r *http.Request) { <-release })
	resp, body := ev.do("POST", "/proxy/groq/chat/completions", chatBody, "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "upstream_timeout") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	ev.up["pexels"].Close()
	resp, body = ev.do("GET", "/proxy/pexels/v1/search?query=x", "", "Authorization", pexelsKey, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "upstream_unreachable") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, api := range []string{"groq", "pexels"} {
		if !ev.api(api).Available() {
			t.Errorf("%s exhausted by an upstream failure", api)
		}
		for w, u := range ev.used(api) {
			if u != 0 {
				t.Errorf("%s/%s charged %d", api, w, u)
			}
		}
	}
	if c := ev.channel("RankRiot"); !c.Active() || c.ConsecutiveErrors != 0 {
		t.Errorf("RankRiot %+v", c)
	}
	if st := ev.px.Stats(); st.UpstreamErrors != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestBadCalls(t *testing.T) {
	ev := newEnv(t, withProxy(func(o *proxy.Options) { o.Token = "quotad-token-123" }))
	tok := []string{proxy.HeaderToken, "quotad-token-123"}
	cases := []struct {
		path    string
		headers []string
		status  int
		code    string
	}{
		{"/proxy/groq/models", nil, 401, "unauthorized"},
		{"/proxy/groq/models", []string{proxy.HeaderToken, "wrong"}, 401, "unauthorized"},
		{"/proxy/nope/x", tok, 404, "unknown_api"},
		{"/proxy/", tok, 404, "not_found"},
		{"/proxy/groq/models", append([]string{proxy.HeaderChannel, "Nobody"}, tok...), 404, "unknown_channel"},
		{"/proxy/groq/channel/Bot/models", append([]string{proxy.HeaderChannel, "RankRiot"}, tok...), 400, "invalid"},
		{"/proxy/groq/channel/", tok, 400, "invalid"},
		{"/proxy/groq/a/%2e%2e/b", tok, 400, "invalid"},
	}
	for _, c := range cases {
		resp, body := ev.do("GET", c.path, "", c.headers...)
		if resp.StatusCode != c.status || resp.Header.Get("X-Quotad-Error") != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.path, resp.StatusCode, body, c.status, c.code)
		}
	}
	if n := len(ev.up["groq"].calls()); n != 0 {
		t.Fatalf("%d bad calls went upstream", n)
	}
	ev.up["groq"].set(jsonOK(`{"data":[]}`))
	resp, _ := ev.do("GET", "/proxy/groq/models", "", tok...)
	if resp.StatusCode != 200 || ev.up["groq"].last(t).Header.Get(proxy.HeaderToken) != "" {
		t.Fatalf("%d, token forwarded: %q", resp.StatusCode, ev.up["groq"].last(t).Header.Get(proxy.HeaderToken))
	}
}

// A channel held by its own budget of an API is refused by the proxy, as a
// spend would be.
func TestChannelBudgetHold(t *testing.T) {
	ev := newEnv(t)
	chans := append([]quotad.Channel(nil), testChannels...)
	chans[0].Budgets = []quotad.Budget{{API: "groq", Units: 10}}
	var apis []quotad.API
	st, _ := ev.e.Status(context.Background())
	for _, a := range st.APIs {
		apis = append(apis, ev.api(a.Name))
	}
	if _, err := ev.e.Configure(context.Background(), apis, chans); err != nil {
		t.Fatal(err)
	}
	ev.up["groq"].set(groqChat(990, 11900))
	ev.do("POST", "/proxy/groq/chat/completions", chatBody, proxy.HeaderChannel, "RankRiot")
	if _, ok := ev.channel("RankRiot").Paused(quotad.BudgetReason("groq")); !ok {
		t.Fatalf("RankRiot pauses %+v", ev.channel("RankRiot").Pauses)
	}
	resp, body := ev.do("POST", "/proxy/groq/chat/completions", chatBody, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 429 || resp.Header.Get("X-Quotad-Refused") != "groq/budget:groq" || !strings.Contains(body, "budget:groq") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	// Other callers are not held.
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", chatBody); resp.StatusCode != 200 {
		t.Fatalf("a call without the channel: %d", resp.StatusCode)
	}
}

// A Python client (urllib, the standard library) with only its base URL
// changed, streaming and not.
func TestPythonClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ev := newEnv(t)
	ev.up["groq"].set(groqChat(980, 11000))
	script := `
import json, os, sys, urllib.request, urllib.error
base = os.environ["GROQ_BASE_URL"]
def call(stream):
    body = {"model": "llama-3.3-70b-versatile", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    req = urllib.request.Request(base + "/chat/completions", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + os.environ["GROQ_API_KEY"], "Content-Type": "application/json", "X-Quotad-Channel": "RankRiot"})
    try:
        with urllib.request.urlopen(req) as resp:
            if stream:
                text = ""
                for line in resp:
                    line = line.decode().strip()
                    if line.startswith("data: ") and line != "data: [DONE]":
                        for c in json.loads(line[6:])["choices"]:
                            text += c["delta"].get("content", "")
                return text
            return json.load(resp)["choices"][0]["message"]["content"]
    except urllib.error.HTTPError as e:
        return "%d %s %s" % (e.code, e.headers.get("Retry-After"), json.load(e)["error"]["code"])
print(call(False))
print(call(True))
`
	run := func() []string {
		cmd := exec.Command(py, "-c", script)
		cmd.Env = append(os.Environ(), "GROQ_BASE_URL="+ev.ts.URL+"/proxy/groq", "GROQ_API_KEY="+groqKey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	if got := run(); len(got) != 2 || got[0] != "Fast language models matter because..." || got[1] != "Hello" {
		t.Fatalf("python printed %q", got)
	}
	wantUsed(t, ev.used("groq"), map[string]int64{"rpm": 2, "tpd": 42 + 17})
	// Groq's own 429, then quotad's answer in Groq's shape.
	ev.up["groq"].set(groq429("5", 970, 0, groqTPM))
	if got := run(); len(got) != 2 || got[0] != "429 5 rate_limit_exceeded" || got[1] != "429 8 rate_limit_exceeded" {
		t.Fatalf("python printed %q", got)
	}
	if n := len(ev.up["groq"].calls()); n != 3 {
		t.Fatalf("upstream got %d calls, want 3", n)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// `quotad serve` has a 60 s write timeout; a stream may last longer. The
// proxy lifts the server's deadlines for proxied calls (to MaxDuration).
func TestStreamOutlivesServerWriteTimeout(t *testing.T) {
	ev := newEnv(t)
	ev.up["groq"].set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 6; i++ {
			io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
		}
		io.WriteString(w, "data: {\"choices\":[],\"usage\":{\"total_tokens\":6}}\n\ndata: [DONE]\n\n")
	})
	mux := http.NewServeMux()
	mux.Handle("/proxy/", ev.px)
	hs := &http.Server{Handler: mux, WriteTimeout: 150 * time.Millisecond, ReadTimeout: 150 * time.Millisecond}
	ts := httptest.NewUnstartedServer(mux)
	ts.Config = hs
	ts.Start()
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/proxy/groq/chat/completions", "application/json", strings.NewReader(`{"model":"llama-3.3-70b-versatile","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Fatalf("stream cut: %v %q", err, b)
	}
	ev.settle()
	if got := ev.used("groq")["tpd"]; got != 6 {
		t.Fatalf("tpd %d", got)
	}
}

// Any path and channel a caller sends is answered without a server error,
// and nothing that escapes the API's base path reaches the upstream.
func FuzzProxyPath(f *testing.F) {
	for _, s := range [][2]string{
		{"/proxy/groq/chat/completions", ""}, {"/proxy/groq/channel/RankRiot/models", ""}, {"/proxy/youtube/upload/youtube/v3/videos", "Shorts"},
		{"/proxy/groq/a/%2e%2e/b", ""}, {"/proxy/%67roq/x", "Nobody"}, {"/proxy//x", ""}, {"/proxy/groq/channel/%2F/x", ""}, {"/proxy/pixabay", "Stock"},
		{"/youtube/v3/search?q=x", "Shorts"}, {"/upload/youtube/v3/videos", ""}, {"/openai/v1/../../x", ""}, {"/v1/models", "Bot"}, {"/nothing", ""},
	} {
		f.Add(s[0], s[1])
	}
	ev := newEnv(f)
	for _, up := range ev.up {
		up.set(jsonOK(`{}`))
	}
	f.Fuzz(func(t *testing.T, path, channel string) {
		req, err := http.NewRequest("GET", "http://quotad"+path, nil)
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			return
		}
		if channel != "" {
			req.Header.Set(proxy.HeaderChannel, channel)
		}
		rec := httptest.NewRecorder()
		if strings.HasPrefix(req.URL.Path, "/proxy/") {
			ev.px.ServeHTTP(rec, req)
		} else {
			ev.px.Native().ServeHTTP(rec, req) // a native path at quotad's root
		}
		if rec.Code >= 500 {
			t.Fatalf("%s (channel %q): %d %s", path, channel, rec.Code, rec.Body)
		}
		for name, up := range ev.up {
			for _, s := range up.calls() {
				if strings.Contains("/"+s.Path+"/", "/../") || !strings.HasPrefix(s.Path, basePaths[name]) && !strings.HasPrefix(s.Path, "/upload/") && !strings.HasPrefix(s.Path, "/resumable/upload/") {
					t.Fatalf("%s reached %s upstream as %q", path, name, s.Path)
				}
			}
		}
	})
}
