package sdktest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// llmResult is what llm.mjs prints.
type llmResult struct {
	OK      bool              `json:"ok"`
	Tokens  int64             `json:"tokens"`
	Text    string            `json:"text"`
	Status  int               `json:"status"`
	Error   string            `json:"error"`
	Headers map[string]string `json:"headers"`
	MS      int64             `json:"ms"`
}

// ytResult is what youtube.mjs prints.
type ytResult struct {
	OK            bool   `json:"ok"`
	Search        int    `json:"search"`
	Videos        int    `json:"videos"`
	Channels      int    `json:"channels"`
	PlaylistItems int    `json:"playlistItems"`
	Uploaded      string `json:"uploaded"`
	Title         string `json:"title"`
	Code          any    `json:"code"`
	Status        int    `json:"status"`
	Reason        string `json:"reason"`
	Error         string `json:"error"`
}

func (w *world) llm(sdk, baseURL, mode, model string, env ...string) llmResult {
	w.t.Helper()
	var r llmResult
	w.run(&r, env, "node", "llm.mjs", sdk, baseURL, mode, model)
	return r
}

func (w *world) youtube(root, mode string) ytResult {
	w.t.Helper()
	var r ytResult
	w.run(&r, nil, "node", "youtube.mjs", root, mode)
	return r
}

// The providers' own SDKs work through quotad with nothing changed but
// their documented endpoint setting, and quotad charges exactly what the
// provider reported.
func TestSDKs(t *testing.T) {
	needNode(t)
	w := newWorld(t)

	t.Run("openai-node baseURL, both forms, streamed and not", func(t *testing.T) {
		w.t = t
		for _, base := range []string{w.url + "/proxy/openai", w.url + "/proxy/openai/v1"} {
			for _, mode := range []string{"chat", "stream"} {
				r := w.llm("openai", base, mode, "gpt-4o-mini")
				if !r.OK || r.Tokens == 0 || r.Text == "" {
					t.Fatalf("%s %s: %+v", base, mode, r)
				}
			}
		}
		if got := w.paths("openai", 0); len(got) != 1 || got["POST /v1/chat/completions"] != 4 {
			t.Fatalf("the fake OpenAI received %v", got)
		}
		tokens, calls := w.fakeTokens("openai")
		w.waitUsed("openai", map[string]int64{"tpd": tokens, "rpd": calls})
	})

	t.Run("groq-sdk baseURL, and openai-node on Groq, per model", func(t *testing.T) {
		w.t = t
		for _, c := range []struct{ sdk, base, model string }{
			{"groq", w.url + "/proxy/groq", "llama-3.3-70b-versatile"},
			{"groq", w.url + "/proxy/groq", "llama-3.1-8b-instant"},
			{"openai", w.url + "/proxy/groq", "llama-3.1-8b-instant"},
			{"openai", w.url + "/proxy/groq/openai/v1", "llama-3.3-70b-versatile"},
		} {
			for _, mode := range []string{"chat", "stream"} {
				r := w.llm(c.sdk, c.base, mode, c.model)
				if !r.OK || r.Tokens == 0 {
					t.Fatalf("%s %s %s %s: %+v", c.sdk, c.base, c.model, mode, r)
				}
			}
		}
		if got := w.paths("groq", 0); len(got) != 1 || got["POST /openai/v1/chat/completions"] != 8 {
			t.Fatalf("the fake Groq received %v", got)
		}
		// Each model's tokens count in its own windows.
		want := map[string]int64{}
		for model, tokens := range w.fakeModelTokens("groq") {
			want[model+"/tpd"] = tokens
		}
		if len(want) != 2 {
			t.Fatalf("the fake Groq served %v", want)
		}
		w.waitUsed("groq", want)
	})

	t.Run("@googleapis/youtube rootUrl, global and per call, lists and an upload", func(t *testing.T) {
		w.t = t
		r := w.youtube(w.url+"/", "global")
		if !r.OK || r.Search != 2 || r.Videos != 2 || r.Channels != 2 || r.PlaylistItems != 2 {
			t.Fatalf("global rootUrl: %+v", r)
		}
		r = w.youtube(w.url+"/proxy/youtube/", "percall")
		if !r.OK || r.Search != 2 || r.Uploaded == "" || r.Title != "Fast models, explained" {
			t.Fatalf("per-call rootUrl: %+v", r)
		}
		want := map[string]int{"GET /youtube/v3/search": 2, "GET /youtube/v3/videos": 2, "GET /youtube/v3/channels": 2,
			"GET /youtube/v3/playlistItems": 2, "POST /upload/youtube/v3/videos": 1}
		if got := w.paths("youtube", 0); !sameCounts(got, want) {
			t.Fatalf("the fake YouTube received %v, want %v", got, want)
		}
		units := w.fakeUnits()
		if units["search.list"] != 2 || units["videos.insert"] != 1 || units["daily"] != 6 {
			t.Fatalf("the fake charged %v", units)
		}
		w.waitUsed("youtube", units)
	})

	t.Run("google-api-python-client from a discovery document, multipart and resumable uploads", func(t *testing.T) {
		w.t = t
		py := python(t, "googleapiclient", "httplib2")
		video := filepath.Join(t.TempDir(), "clip.mp4")
		if err := os.WriteFile(video, []byte(strings.Repeat("fake mp4 bytes ", 4000)), 0o644); err != nil {
			t.Fatal(err)
		}
		from := len(w.fake.CallsTo("youtube"))
		var r struct {
			OK                          bool
			Search, Videos              int
			Multipart, Resumable, Error string
			Status                      int
		}
		w.run(&r, nil, py, "youtube.py", w.url+"/proxy/youtube/", "youtube-v3-discovery.json", video)
		if !r.OK || r.Search != 2 || r.Videos != 2 || r.Multipart == "" || r.Resumable == "" {
			t.Fatalf("%+v", r)
		}
		want := map[string]int{"GET /youtube/v3/search": 1, "GET /youtube/v3/videos": 1, "POST /upload/youtube/v3/videos": 2, "PUT /upload/youtube/v3/videos": 1}
		if got := w.paths("youtube", from); !sameCounts(got, want) {
			t.Fatalf("the fake YouTube received %v, want %v", got, want)
		}
		w.waitUsed("youtube", w.fakeUnits())
	})

	t.Run("requests on Pexels", func(t *testing.T) {
		w.t = t
		py := python(t, "requests")
		var r struct {
			Search, Videos, Photos int
			Remaining              string
		}
		w.run(&r, nil, py, "pexels.py", w.url+"/proxy/pexels")
		if r.Search != 200 || r.Videos != 200 || r.Photos != 2 || r.Remaining != "19998" {
			t.Fatalf("%+v", r)
		}
		if got := w.paths("pexels", 0); !sameCounts(got, map[string]int{"GET /v1/search": 1, "GET /videos/search": 1}) {
			t.Fatalf("the fake Pexels received %v", got)
		}
		w.waitUsed("pexels", map[string]int64{"hourly": 2, "monthly": 2})
	})

	// Refusals, after the metering checks: a refused window stays refused.

	t.Run("a paused channel's calls are refused at once", func(t *testing.T) {
		w.t = t
		out, err := exec.Command(bin, "--server", w.url, "pause", "RankRiot", "--reason", "re-shooting the intro").CombinedOutput()
		if err != nil {
			t.Fatalf("quotad pause: %v\n%s", err, out)
		}
		n := len(w.fake.CallsTo("groq"))
		r := w.llm("groq", w.url+"/proxy/groq/channel/RankRiot", "chat", "llama-3.3-70b-versatile")
		if r.OK || r.Status != 429 || !strings.Contains(r.Error, "channel RankRiot is paused (manual) by a person since") ||
			!strings.Contains(r.Error, "re-shooting the intro") || r.MS > 5000 {
			t.Fatalf("%+v", r)
		}
		if len(w.fake.CallsTo("groq")) != n {
			t.Fatal("a paused channel's call reached Groq")
		}
		if out, err := exec.Command(bin, "--server", w.url, "resume", "RankRiot").CombinedOutput(); err != nil {
			t.Fatalf("quotad resume: %v\n%s", err, out)
		}
	})

	t.Run("a short block: the SDK retries after Retry-After and succeeds", func(t *testing.T) {
		w.t = t
		// Put the fake's clock 1.5 s before the end of a minute and use up
		// the model's requests for that minute.
		now := w.clock.Now()
		w.clock.off.Add(int64(time.Minute - time.Duration(now.Second())*time.Second - time.Duration(now.Nanosecond()) - 1500*time.Millisecond))
		w.fake.Exhaust("groq", "llama-3.1-8b-instant", "rpm")
		r := w.llm("groq", w.url+"/proxy/groq", "chat", "llama-3.1-8b-instant", "MAX_RETRIES=0")
		if r.OK || r.Status != 429 || !strings.Contains(r.Error, "requests per minute (RPM)") {
			t.Fatalf("the provider's own 429: %+v", r)
		}
		n := len(w.fake.CallsTo("groq"))
		r = w.llm("groq", w.url+"/proxy/groq", "chat", "llama-3.1-8b-instant")
		if !r.OK || r.MS < 500 {
			t.Fatalf("after quotad's short refusal: %+v", r)
		}
		if got := len(w.fake.CallsTo("groq")) - n; got != 1 {
			t.Fatalf("Groq got %d calls; want 1: quotad answers the first try itself, the SDK's retry goes through", got)
		}
	})

	t.Run("a long block: openai-node fails at once, no 731 s sleep", func(t *testing.T) {
		w.t = t
		w.fake.Exhaust("openai", "gpt-4o-mini", "rpd")
		n0 := len(w.fake.CallsTo("openai"))
		// The provider's own 429 (Retry-After: hours) passes through with
		// x-should-retry: false: the SDK does not sleep through it either.
		r := w.llm("openai", w.url+"/proxy/openai", "chat", "gpt-4o-mini") // default: 2 retries
		if r.OK || r.Status != 429 || !strings.Contains(r.Error, "requests per day (RPD)") || r.Headers["x-should-retry"] != "false" || r.MS > 5000 {
			t.Fatalf("the provider's own 429: %+v", r)
		}
		if calls := w.fake.CallsTo("openai")[n0:]; len(calls) != 1 || calls[0].Status != 429 {
			t.Fatalf("OpenAI got %+v; want the one call it refused, not retried", calls)
		}
		n := len(w.fake.CallsTo("openai"))
		r = w.llm("openai", w.url+"/proxy/openai", "chat", "gpt-4o-mini") // default: 2 retries
		if r.OK || r.Status != 429 || r.Headers["x-should-retry"] != "false" || r.MS > 5000 {
			t.Fatalf("quotad's refusal of a long block: %+v", r)
		}
		if len(w.fake.CallsTo("openai")) != n {
			t.Fatal("a call went to OpenAI while its day was out")
		}
	})

	t.Run("YouTube refusals are Google's 403 quotaExceeded", func(t *testing.T) {
		w.t = t
		w.fake.Exhaust("youtube", "", "search.list")
		r := w.youtube(w.url+"/", "refused") // Google's own refusal
		if r.OK || r.Status != 403 || r.Reason != "quotaExceeded" {
			t.Fatalf("the provider's refusal: %+v", r)
		}
		n := len(w.fake.CallsTo("youtube"))
		r = w.youtube(w.url+"/proxy/youtube/", "refused") // quotad's
		if r.OK || r.Status != 403 || r.Reason != "quotaExceeded" || !strings.Contains(r.Error, "quotad") {
			t.Fatalf("quotad's refusal: %+v", r)
		}
		if code, ok := r.Code.(float64); !ok || code != 403 {
			t.Errorf("the SDK's error code is %v; YouTube's samples check e.code === 403", r.Code)
		}
		if len(w.fake.CallsTo("youtube")) != n {
			t.Fatal("a call went to YouTube while search.list was out")
		}
	})

	// Per-model windows and independent buckets (issue 13 items 2 and 3).

	t.Run("per model: the 8b model is served while the 70b model's day is out", func(t *testing.T) {
		w.t = t
		w.fake.Exhaust("groq", "llama-3.3-70b-versatile", "tpd")
		r := w.llm("groq", w.url+"/proxy/groq", "chat", "llama-3.3-70b-versatile", "MAX_RETRIES=0")
		if r.OK || r.Status != 429 || !strings.Contains(r.Error, "tokens per day (TPD)") {
			t.Fatalf("the 70b model's own 429: %+v", r)
		}
		r = w.llm("groq", w.url+"/proxy/groq", "chat", "llama-3.1-8b-instant", "MAX_RETRIES=0")
		if !r.OK {
			t.Fatalf("the 8b model, which Groq would serve: %+v", r)
		}
	})

	t.Run("buckets: list calls are served while search.list is out", func(t *testing.T) {
		w.t = t
		r := w.youtube(w.url+"/", "lists")
		if !r.OK || r.Videos != 2 || r.Channels != 2 {
			t.Fatalf("videos.list and channels.list, which YouTube would serve: %+v", r)
		}
	})
}

func sameCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
