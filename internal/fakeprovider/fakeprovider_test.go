package fakeprovider_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/internal/fakeprovider"
)

// t0 is 23:59 PST on 14 January 2026 (07:59 UTC on the 15th).
var t0 = time.Date(2026, 1, 15, 7, 59, 0, 0, time.UTC)

func do(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

func chat(model string, stream bool) string {
	b, _ := json.Marshal(map[string]any{"model": model, "stream": stream, "messages": []any{map[string]any{"role": "user", "content": "Write a title"}}})
	return string(b)
}

// Groq's limits are per model: a model out of tokens for the day refuses
// with Groq's 429, the other model serves, and each answer's headers
// describe the model called.
func TestGroqPerModel(t *testing.T) {
	clk := clock.NewFake(t0)
	f := fakeprovider.New(fakeprovider.Options{Clock: clk})
	g := f.Groq()
	rec := do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.3-70b-versatile", false))
	if rec.Code != 200 || rec.Header().Get("x-ratelimit-limit-requests") != "1000" || rec.Header().Get("x-ratelimit-limit-tokens") != "12000" ||
		rec.Header().Get("x-ratelimit-remaining-requests") != "999" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	var resp struct {
		Usage struct {
			TotalTokens int64 `json:"total_tokens"`
		}
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Tokens != resp.Usage.TotalTokens || resp.Usage.TotalTokens == 0 || calls[0].Model != "llama-3.3-70b-versatile" {
		t.Fatalf("recorded %+v, usage %d", calls, resp.Usage.TotalTokens)
	}
	f.Exhaust("groq", "llama-3.3-70b-versatile", "tpd")
	rec = do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.3-70b-versatile", false))
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "on tokens per day (TPD): Limit 100000") ||
		!strings.Contains(rec.Body.String(), "Please try again in") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.1-8b-instant", false))
	if rec.Code != 200 || rec.Header().Get("x-ratelimit-limit-requests") != "14400" || rec.Header().Get("x-ratelimit-limit-tokens") != "6000" {
		t.Fatalf("8b: %d %v", rec.Code, rec.Header())
	}
	// The minute windows refill on the minute; the day at 00:00 UTC.
	for i := 0; i < 29; i++ {
		do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.1-8b-instant", false))
	}
	if rec = do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.1-8b-instant", false)); rec.Code != 429 || !strings.Contains(rec.Body.String(), "(RPM)") {
		t.Fatalf("31st call in a minute: %d %s", rec.Code, rec.Body)
	}
	clk.Advance(time.Minute)
	if rec = do(t, g, "POST", "/openai/v1/chat/completions", chat("llama-3.1-8b-instant", false)); rec.Code != 200 {
		t.Fatalf("next minute: %d %s", rec.Code, rec.Body)
	}
	if rec = do(t, g, "POST", "/openai/v1/chat/completions", chat("nope", false)); rec.Code != 404 {
		t.Fatalf("unknown model: %d", rec.Code)
	}
}

// Streams end with the usage: Groq's in x_groq.usage, OpenAI's only with
// stream_options.include_usage.
func TestStreams(t *testing.T) {
	f := fakeprovider.New(fakeprovider.Options{Clock: clock.NewFake(t0)})
	rec := do(t, f.Groq(), "POST", "/openai/v1/chat/completions", chat("llama-3.3-70b-versatile", true))
	if rec.Header().Get("Content-Type") != "text/event-stream" || !strings.Contains(rec.Body.String(), `"x_groq":{"id":"req_fake","usage":{`) ||
		!strings.HasSuffix(rec.Body.String(), "data: [DONE]\n\n") {
		t.Fatalf("groq stream %v %s", rec.Header(), rec.Body)
	}
	rec = do(t, f.OpenAI(), "POST", "/v1/chat/completions", chat("gpt-4o-mini", true))
	if strings.Contains(rec.Body.String(), `"usage"`) {
		t.Fatalf("openai stream without include_usage has usage: %s", rec.Body)
	}
	rec = do(t, f.OpenAI(), "POST", "/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`)
	if !strings.Contains(rec.Body.String(), `"choices":[],`) || !strings.Contains(rec.Body.String(), `"total_tokens":32`) {
		t.Fatalf("openai stream with include_usage: %s", rec.Body)
	}
	calls := f.CallsTo("openai")
	if len(calls) != 2 || calls[0].Tokens != 0 || calls[1].Tokens != 32 {
		t.Fatalf("openai calls %+v", calls)
	}
}

// YouTube's buckets: search.list and videos.insert beside the daily units,
// each refusing with Google's 403 quotaExceeded, all refilled at midnight
// Pacific.
func TestYouTubeBuckets(t *testing.T) {
	clk := clock.NewFake(t0)
	f := fakeprovider.New(fakeprovider.Options{Clock: clk, YouTube: fakeprovider.YouTubeLimits{Daily: 100, Search: 2, Insert: 1}})
	y := f.YouTube()
	for i := 0; i < 2; i++ {
		if rec := do(t, y, "GET", "/youtube/v3/search?part=snippet&q=x", ""); rec.Code != 200 {
			t.Fatalf("search %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := do(t, y, "GET", "/youtube/v3/search?part=snippet&q=x", "")
	var g struct {
		Error struct {
			Code   int
			Errors []struct{ Reason string }
		}
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &g)
	if rec.Code != 403 || g.Error.Code != 403 || g.Error.Errors[0].Reason != "quotaExceeded" {
		t.Fatalf("search 3: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, y, "GET", "/youtube/v3/videos?part=id&id=a", ""); rec.Code != 200 {
		t.Fatalf("videos.list with search.list out: %d", rec.Code)
	}
	// A resumable upload is charged once, when its session opens.
	rec = do(t, y, "POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet", `{"snippet":{"title":"t"}}`)
	loc := rec.Header().Get("Location")
	if rec.Code != 200 || !strings.Contains(loc, "/upload/youtube/v3/videos?uploadType=resumable&part=snippet&upload_id=") {
		t.Fatalf("resumable: %d %v", rec.Code, rec.Header())
	}
	if rec = do(t, y, "PUT", strings.TrimPrefix(loc, "http://example.com"), "bytes"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"kind":"youtube#video"`) {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	if f.Used("youtube", "", "videos.insert") != 1 || f.Used("youtube", "", "search.list") != 2 || f.Used("youtube", "", "daily") != 1 {
		t.Fatalf("used %d %d %d", f.Used("youtube", "", "videos.insert"), f.Used("youtube", "", "search.list"), f.Used("youtube", "", "daily"))
	}
	// A multipart upload after videos.insert ran out is refused.
	var body bytes.Buffer
	body.WriteString("--b\r\nContent-Type: application/json\r\n\r\n{\"snippet\":{\"title\":\"t\"}}\r\n--b\r\nContent-Type: video/mp4\r\n\r\nxx\r\n--b--\r\n")
	req := httptest.NewRequest("POST", "/upload/youtube/v3/videos?uploadType=multipart&part=snippet", &body)
	req.Header.Set("Content-Type", "multipart/related; boundary=b")
	w := httptest.NewRecorder()
	y.ServeHTTP(w, req)
	if w.Code != 403 {
		t.Fatalf("upload with videos.insert out: %d", w.Code)
	}
	// Midnight in Los Angeles (08:00 UTC in January) refills every bucket.
	clk.Advance(time.Minute)
	w = httptest.NewRecorder()
	body.Reset()
	body.WriteString("--b\r\nContent-Type: application/json\r\n\r\n{\"snippet\":{\"title\":\"t\"}}\r\n--b\r\nContent-Type: video/mp4\r\n\r\nxx\r\n--b--\r\n")
	req = httptest.NewRequest("POST", "/upload/youtube/v3/videos?uploadType=multipart&part=snippet", &body)
	req.Header.Set("Content-Type", "multipart/related; boundary=b")
	y.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"title":"t"`) {
		t.Fatalf("upload after midnight PT: %d %s", w.Code, w.Body)
	}
	// A call without part is answered 400 and costs 1.
	if rec := do(t, y, "GET", "/youtube/v3/channels", ""); rec.Code != 400 || f.Used("youtube", "", "daily") != 1 {
		t.Fatalf("no part: %d, daily %d", rec.Code, f.Used("youtube", "", "daily"))
	}
}

// Pexels states its monthly figures on 2xx only; a 429 is bare.
func TestPexels(t *testing.T) {
	clk := clock.NewFake(t0)
	f := fakeprovider.New(fakeprovider.Options{Clock: clk, Pexels: fakeprovider.PexelsLimits{Hourly: 1, Monthly: 5}})
	p := f.Pexels()
	rec := do(t, p, "GET", "/v1/search?query=cats", "")
	if rec.Code != 200 || rec.Header().Get("X-Ratelimit-Limit") != "5" || rec.Header().Get("X-Ratelimit-Remaining") != "4" ||
		rec.Header().Get("X-Ratelimit-Reset") != "1769904000" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	rec = do(t, p, "GET", "/videos/search?query=cats", "")
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 429 || len(b) != 0 || rec.Header().Get("X-Ratelimit-Remaining") != "" || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("hourly out: %d %v %q", rec.Code, rec.Header(), b)
	}
	clk.Advance(time.Hour)
	if rec = do(t, p, "GET", "/videos/search?query=cats", ""); rec.Code != 200 || rec.Header().Get("X-Ratelimit-Remaining") != "3" {
		t.Fatalf("next hour: %d %v", rec.Code, rec.Header())
	}
}
