package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
)

// withRoot serves the env's proxy as quotad serve does: /proxy/ and the
// native paths at the root.
func withRoot(t *testing.T, ev *env) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/proxy/", ev.px)
	for _, pre := range ev.px.NativePrefixes("/api/", "/proxy/") {
		mux.Handle(pre, ev.px.Native())
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL
}

func send(t *testing.T, method, url, body string, kv ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// Every form of a call the SDKs send reaches the same upstream path and is
// charged to the same window.
func TestSDKPathForms(t *testing.T) {
	for _, c := range []struct {
		name, method, path, api, upstream, window string
	}{
		{"openai-node baseURL /proxy/openai", "POST", "/proxy/openai/chat/completions", "openai", "/v1/chat/completions", "tpm"},
		{"baseURL /proxy/openai/v1", "POST", "/proxy/openai/v1/chat/completions", "openai", "/v1/chat/completions", "tpm"},
		{"openai at the root", "POST", "/v1/chat/completions", "openai", "/v1/chat/completions", "tpm"},
		{"groq-sdk baseURL /proxy/groq", "POST", "/proxy/groq/openai/v1/chat/completions", "groq", "/openai/v1/chat/completions", "tpd"},
		{"openai-node on groq", "POST", "/proxy/groq/chat/completions", "groq", "/openai/v1/chat/completions", "tpd"},
		{"groq with a channel prefix", "POST", "/proxy/groq/channel/RankRiot/openai/v1/chat/completions", "groq", "/openai/v1/chat/completions", "tpd"},
		{"groq at the root", "POST", "/openai/v1/chat/completions", "groq", "/openai/v1/chat/completions", "tpd"},
		{"youtube per-call rootUrl", "GET", "/proxy/youtube/youtube/v3/search?part=snippet&q=x", "youtube", "/youtube/v3/search", "search.list"},
		{"youtube below the base", "GET", "/proxy/youtube/search?part=snippet", "youtube", "/youtube/v3/search", "search.list"},
		{"youtube global rootUrl", "GET", "/youtube/v3/search?part=snippet", "youtube", "/youtube/v3/search", "search.list"},
		{"youtube list at the root", "GET", "/youtube/v3/channels?part=id&mine=true", "youtube", "/youtube/v3/channels", "daily"},
		{"youtube upload via /proxy", "POST", "/proxy/youtube/upload/youtube/v3/videos?uploadType=multipart&part=snippet", "youtube", "/upload/youtube/v3/videos", "videos.insert"},
		{"youtube resumable protocol path", "POST", "/proxy/youtube/resumable/upload/youtube/v3/videos?uploadType=resumable", "youtube", "/resumable/upload/youtube/v3/videos", "videos.insert"},
		{"youtube upload at the root", "POST", "/upload/youtube/v3/videos?uploadType=multipart&part=snippet", "youtube", "/upload/youtube/v3/videos", "videos.insert"},
		{"youtube resumable at the root", "POST", "/resumable/upload/youtube/v3/videos?uploadType=resumable", "youtube", "/resumable/upload/youtube/v3/videos", "videos.insert"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := newEnv(t)
			root := withRoot(t, ev)
			ev.up["groq"].set(groqChat(900, 11000))
			ev.up["openai"].set(jsonOK(chatCompletion))
			ev.up["youtube"].set(jsonOK(youtubeList))
			before := ev.used(c.api)
			model := callModel[c.api] // a model with windows: its windows are charged
			if model == "" {
				model = "m"
			}
			resp, body := send(t, c.method, root+c.path, `{"model":"`+model+`","messages":[]}`, proxy.HeaderChannel, "")
			ev.settle()
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if got := ev.up[c.api].last(t).Path; got != c.upstream {
				t.Errorf("upstream got %s, want %s", got, c.upstream)
			}
			after := ev.used(c.api)
			if after[c.window] <= before[c.window] {
				t.Errorf("window %s not charged: %v → %v", c.window, before, after)
			}
			if c.api == "youtube" {
				for w, n := range after {
					if w != c.window && n != before[w] {
						t.Errorf("window %s charged too: %v → %v", w, before, after)
					}
				}
			}
		})
	}
}

// A path quotad cannot tell the API of is refused with the fix named;
// nothing goes upstream.
func TestNativePathAmbiguous(t *testing.T) {
	ev := newEnv(t)
	yt, _ := provider.Lookup("youtube")
	a, _ := yt.WithUpstream(ev.up["youtube"].URL + "/youtube/v3")
	b, _ := yt.WithUpstream(ev.up["youtube"].URL + "/youtube/v3")
	px, err := proxy.New(ev.e, map[string]*provider.Profile{"youtube": a, "shorts": b}, proxy.Options{Logger: ev.log})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close(context.Background())
	rec := httptest.NewRecorder()
	px.Native().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8080/youtube/v3/search?part=snippet", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusMisdirectedRequest || !strings.Contains(body, "shorts and youtube") || !strings.Contains(body, "listen: 127.0.0.1:8091") {
		t.Fatalf("%d %s", rec.Code, body)
	}
	rec = httptest.NewRecorder()
	px.Native().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8080/nothing/here", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "/proxy/{api}/") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if n := len(ev.up["youtube"].calls()); n != 0 {
		t.Fatalf("%d calls went upstream", n)
	}
	if _, err := px.Listener("nope"); err == nil {
		t.Fatal("a listener of an unknown API")
	}
}

// A listener of the API's own serves it at its root, in every form.
func TestListener(t *testing.T) {
	ev := newEnv(t)
	ev.up["youtube"].set(jsonOK(youtubeList))
	h, err := ev.px.Listener("youtube")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	for path, want := range map[string]string{
		"/youtube/v3/search?q=a": "/youtube/v3/search", "/search?q=b": "/youtube/v3/search",
		"/upload/youtube/v3/videos?uploadType=multipart": "/upload/youtube/v3/videos",
		"/channel/Shorts/youtube/v3/videos?id=x":         "/youtube/v3/videos",
	} {
		method := "GET"
		if strings.Contains(path, "upload") {
			method = "POST"
		}
		if resp, body := send(t, method, ts.URL+path, "x"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if got := ev.up["youtube"].last(t).Path; got != want {
			t.Errorf("%s reached the upstream as %s, want %s", path, got, want)
		}
	}
	ev.settle()
	wantUsed(t, ev.used("youtube"), map[string]int64{"search.list": 2, "videos.insert": 1, "daily": 1})
}

// A resumable upload's session URI comes back through quotad, and its
// chunks are charged nothing: the session was charged once, to
// videos.insert.
func TestResumableUploadSession(t *testing.T) {
	ev := newEnv(t)
	root := withRoot(t, ev)
	up := ev.up["youtube"]
	up.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("upload_id") == "" {
			w.Header().Set("Location", up.URL+r.URL.Path+"?"+r.URL.RawQuery+"&upload_id=ADPycdu")
			w.Header().Set("X-GUploader-UploadID", "ADPycdu")
			w.WriteHeader(200)
			return
		}
		jsonOK(`{"kind":"youtube#video","id":"new1"}`)(w, r)
	})
	for _, base := range []string{root + "/proxy/youtube/channel/Shorts", root} {
		resp, body := send(t, "POST", base+"/upload/youtube/v3/videos?uploadType=resumable&part=snippet", `{"snippet":{}}`)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 200 || loc != base+"/upload/youtube/v3/videos?uploadType=resumable&part=snippet&upload_id=ADPycdu" {
			t.Fatalf("%d %s, Location %q", resp.StatusCode, body, loc)
		}
		if resp, body = send(t, "PUT", loc, "video bytes"); resp.StatusCode != 200 || !strings.Contains(body, "new1") {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
		if got := up.last(t); got.Method != "PUT" || got.Path != "/upload/youtube/v3/videos" || string(got.Body) != "video bytes" {
			t.Fatalf("upstream got %+v", got)
		}
	}
	ev.settle()
	wantUsed(t, ev.used("youtube"), map[string]int64{"videos.insert": 2, "daily": 0, "search.list": 0})
}

// A channel a person paused gets its calls refused at the proxy, with the
// reason, who and since when; other channels' calls go on.
func TestPausedChannelRefused(t *testing.T) {
	ev := newEnv(t)
	ev.up["groq"].set(groqChat(900, 11000))
	if _, err := ev.e.Pause(context.Background(), "RankRiot", "re-shooting the intro"); err != nil {
		t.Fatal(err)
	}
	resp, body := ev.do("POST", "/proxy/groq/openai/v1/chat/completions", `{"model":"llama-3.3-70b-versatile"}`, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 429 || resp.Header.Get("X-Should-Retry") != "false" || resp.Header.Get("Retry-After") != "" ||
		!strings.Contains(body, "channel RankRiot is paused (manual) by a person since 2026-06-15T18:00:00Z: re-shooting the intro") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if n := len(ev.up["groq"].calls()); n != 0 {
		t.Fatalf("a paused channel's call reached the upstream (%d calls)", n)
	}
	ev.up["youtube"].set(jsonOK(youtubeList))
	resp, body = ev.do("GET", "/proxy/youtube/channel/RankRiot/videos?id=x", "")
	if resp.StatusCode != 403 || !strings.Contains(body, "paused (manual)") {
		t.Fatalf("youtube: %d %s", resp.StatusCode, body)
	}
	if resp, body = ev.do("GET", "/proxy/youtube/videos?id=x", "", proxy.HeaderChannel, "Shorts"); resp.StatusCode != 200 {
		t.Fatalf("another channel: %d %s", resp.StatusCode, body)
	}
	if _, err := ev.e.Resume(context.Background(), "RankRiot"); err != nil {
		t.Fatal(err)
	}
	ev.px.Invalidate()
	if resp, body = ev.do("POST", "/proxy/groq/chat/completions", `{}`, proxy.HeaderChannel, "RankRiot"); resp.StatusCode != 200 {
		t.Fatalf("after resume: %d %s", resp.StatusCode, body)
	}
	// Paused by quotad after consecutive failed runs: refused too, saying so.
	for i := 0; i < engine.DefaultErrorThreshold; i++ {
		if _, err := ev.e.ReportError(context.Background(), engine.ErrorReport{Channel: "RankRiot",
			Evidence: classify.Evidence{Message: "ffmpeg exited with status 1"}}); err != nil {
			t.Fatal(err)
		}
	}
	n := len(ev.up["groq"].calls())
	resp, body = ev.do("POST", "/proxy/groq/chat/completions", `{}`, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 429 || !strings.Contains(body, "channel RankRiot is paused (errors) by quotad after consecutive failed runs since") ||
		!strings.Contains(body, "ffmpeg exited with status 1") {
		t.Fatalf("errors pause: %d %s", resp.StatusCode, body)
	}
	if len(ev.up["groq"].calls()) != n {
		t.Fatal("an errors-paused channel's call reached the upstream")
	}
}

// An upstream that answers (a stream's headers) before it has read the
// whole request body still gets all of it, and the caller the whole
// stream: the server must not close the caller's body under the transport.
func TestAnswerBeforeBodyRead(t *testing.T) {
	ev := newEnv(t)
	got := make(chan int, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		n, _ := io.Copy(io.Discard, r.Body)
		got <- int(n)
		io.WriteString(w, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n")
	}))
	defer up.Close()
	prof, _ := provider.Lookup("groq")
	prof, _ = prof.WithUpstream(up.URL + "/openai/v1")
	px, err := proxy.New(ev.e, map[string]*provider.Profile{"groq": prof}, proxy.Options{Logger: ev.log})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close(context.Background())
	ts := httptest.NewServer(px)
	defer ts.Close()
	body := strings.Repeat("x", 200<<10)
	for i := 0; i < 20; i++ {
		resp, b := send(t, "POST", ts.URL+"/proxy/groq/chat/completions", body)
		if resp.StatusCode != 200 || !strings.HasSuffix(b, "data: [DONE]\n\n") {
			t.Fatalf("call %d: %d %q", i, resp.StatusCode, b)
		}
		if n := <-got; n != len(body) {
			t.Fatalf("call %d: the upstream read %d of %d bytes", i, n, len(body))
		}
	}
}

// The provider's own 429 of a long block says "do not retry" too, so that
// an SDK does not sleep through its Retry-After; a short one does not.
func TestProviderLongRefusalSaysDoNotRetry(t *testing.T) {
	for _, c := range []struct {
		retryAfter, want string
	}{{"731", "false"}, {"5", ""}, {"60", ""}, {"", ""}, {t0.Add(2 * time.Hour).Format(http.TimeFormat), "false"}} {
		ev := newEnv(t)
		ev.up["openai"].set(func(w http.ResponseWriter, r *http.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			jsonError(429, `{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-x on requests per day (RPD): Limit 10000, Used 10000, Requested 1. Please try again in 12m11s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)(w, r)
		})
		resp, _ := ev.do("POST", "/proxy/openai/chat/completions", `{}`)
		if resp.StatusCode != 429 || resp.Header.Get("X-Should-Retry") != c.want {
			t.Errorf("Retry-After %q: %d, x-should-retry %q, want %q", c.retryAfter, resp.StatusCode, resp.Header.Get("X-Should-Retry"), c.want)
		}
	}
}
