package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
	"github.com/quotad/quotad/server"
)

// No credential a caller sends ever appears in quotad's logs, events (the
// logs table), metrics, its own answers, or the store's file — even when
// providers echo keys back in their error bodies and upstream URLs carry
// them in their query. The proxy is mounted on quotad's HTTP server as
// `quotad serve` mounts it.
func TestCredentialsNeverLeak(t *testing.T) {
	ev := newEnv(t, withProxy(func(o *proxy.Options) { o.ResponseHeaderTimeout = 300 * time.Millisecond }))
	srv := server.New(ev.e, server.Options{Logger: ev.log})
	srv.Handle("/proxy/", ev.px)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	oauth := "ya29.a0AfH6SMBLiveOAuthSecretToken0123"
	secrets := []string{groqKey, openaiKey, youtubeKey, pexelsKey, pixabayKey, genericKey, oauth}
	var own []string // quotad's own answers (not the provider's, which the caller already has)
	call := func(method, path string, headers ...string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(`{"model":"m","messages":[]}`))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("X-Quotad-Refused") != "" || resp.Header.Get("X-Quotad-Error") != "" {
			own = append(own, string(b)+" "+strings.Join(resp.Header.Values("Retry-After"), ","))
		}
	}
	echo := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + r.Header.Get("X-Api-Key") + r.URL.Query().Get("key")
			jsonError(status, strings.ReplaceAll(body, "KEY", key))(w, r)
		}
	}

	// Successes: figures adopted, drift events written.
	ev.up["groq"].set(groqChat(900, 100))
	call("POST", "/proxy/groq/chat/completions", "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	// A provider echoing the key in a non-quota error, a request error and
	// a quota error (the last two become events).
	ev.up["groq"].set(echo(401, `{"error":{"message":"Invalid API Key: KEY","type":"invalid_request_error","code":"invalid_api_key"}}`))
	call("POST", "/proxy/groq/chat/completions", "Authorization", "Bearer "+groqKey)
	ev.up["groq"].set(echo(429, `{"error":{"message":"Request too large for key KEY on tokens per minute (TPM): Limit 12000, Requested 99999, please reduce your message size and try again.","type":"tokens","code":"rate_limit_exceeded"}}`))
	call("POST", "/proxy/groq/chat/completions", "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	ev.up["openai"].set(echo(429, `{"error":{"message":"You exceeded your current quota with key KEY, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`))
	call("POST", "/proxy/openai/chat/completions", "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "Bot")
	call("POST", "/proxy/openai/chat/completions", "Authorization", "Bearer "+openaiKey) // refused by quotad
	ev.up["youtube"].set(echo(403, `{"error":{"code":403,"message":"quota exceeded for key=KEY","errors":[{"message":"quota exceeded for key=KEY","domain":"youtube.quota","reason":"quotaExceeded"}]}}`))
	call("GET", "/proxy/youtube/search?part=snippet&q=x&key="+youtubeKey, proxy.HeaderChannel, "Shorts", "Authorization", "Bearer "+oauth)
	call("GET", "/proxy/youtube/videos?part=id&key="+youtubeKey)
	ev.up["generic"].set(echo(429, `{"message":"rate limit exceeded for api key KEY, retry after 30"}`))
	call("GET", "/proxy/gen/items?api_key="+genericKey, "X-Api-Key", genericKey, proxy.HeaderChannel, "Gen")
	ev.up["pexels"].set(jsonOK(`{}`, "X-Ratelimit-Limit", "20000", "X-Ratelimit-Remaining", "100", "X-Ratelimit-Reset", "1783069920"))
	call("GET", "/proxy/pexels/v1/search?query=x", "Authorization", pexelsKey, proxy.HeaderChannel, "RankRiot")
	// Upstream failures: the transport's error text names the URL with its key.
	release := make(chan struct{})
	ev.up["pexels"].set(func(w http.ResponseWriter, r *http.Request) { <-release })
	call("GET", "/proxy/pexels/v1/search?query=x&api_key="+pexelsKey, "Authorization", pexelsKey)
	close(release)
	ev.up["pixabay"].Close()
	call("GET", "/proxy/pixabay/?key="+pixabayKey+"&q=x", proxy.HeaderChannel, "Stock")
	// Bad calls answered by quotad itself.
	call("GET", "/proxy/groq/channel/"+groqKey+"/models", "Authorization", "Bearer "+groqKey)

	// Metrics, scraped after everything happened.
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Model "m" is not in Groq's table: its windows are learned from the headers.
	if !strings.Contains(string(metrics), `quotad_window_used{api="groq",window="m/tpm"} 11900`) {
		t.Errorf("metrics do not show the adopted figures:\n%s", grep(string(metrics), "quotad_window_used"))
	}

	evs := ev.events()
	var eventText strings.Builder
	for _, e := range evs {
		eventText.WriteString(e.Message + " " + e.Channel + " ")
		for k, v := range e.Fields {
			eventText.WriteString(k + "=" + v + " ")
		}
		eventText.WriteString("\n")
	}
	// The scenario did reach every sink.
	for _, want := range []string{"insufficient_quota", "request", "quota_sync", "YOUTUBE"} {
		if !strings.Contains(eventText.String()+kinds(evs), want) {
			t.Errorf("no event mentions %q:\n%s", want, eventText.String())
		}
	}
	logs := ev.logs.String()
	for _, want := range []string{"upstream call failed", "proxy: call", provider.Redacted} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}

	ev.e.Close()
	ev.st.Close()
	var files strings.Builder
	entries, _ := os.ReadDir(filepath.Dir(ev.dbPath))
	for _, de := range entries {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(ev.dbPath), de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files.Write(b)
	}
	if !strings.Contains(files.String(), "RankRiot") {
		t.Fatal("the store files were not read")
	}
	sinks := map[string]string{
		"logs": logs, "events": eventText.String(), "metrics": string(metrics),
		"quotad's answers": strings.Join(own, "\n"), "store files": files.String(),
	}
	for name, text := range sinks {
		for _, s := range secrets {
			for _, frag := range []string{s, s[len(s)/3 : len(s)/3+12]} {
				if strings.Contains(text, frag) {
					i := strings.Index(text, frag)
					t.Errorf("%s contain a credential fragment %q: …%s…", name, frag, text[max(0, i-120):min(len(text), i+80)])
				}
			}
		}
	}
}

// kinds lists the categories and kinds of events.
func kinds(evs []quotad.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Category + " " + e.Fields["kind"] + "\n")
	}
	return b.String()
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
