package proxy_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/proxy"
)

// Bodies of calls to Groq's two most used models.
const (
	body70b = `{"model":"llama-3.3-70b-versatile","messages":[{"role":"user","content":"a script"}]}`
	body8b  = `{"model":"llama-3.1-8b-instant","messages":[{"role":"user","content":"a title"}]}`
)

// groqModelChat answers as Groq does for a model: its own figures (rpd
// limit, remaining; tpm limit, remaining) and usage.
func groqModelChat(model string, rpd, rpdLeft, tpm, tpmLeft int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("x-ratelimit-limit-requests", itoa(rpd))
		h.Set("x-ratelimit-remaining-requests", itoa(rpdLeft))
		h.Set("x-ratelimit-limit-tokens", itoa(tpm))
		h.Set("x-ratelimit-remaining-tokens", itoa(tpmLeft))
		h.Set("x-ratelimit-reset-requests", "1m26.4s")
		h.Set("x-ratelimit-reset-tokens", "1.2s")
		h.Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"` + model + `","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30}}`))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func (ev *env) modelWindow(api, model, name string) quotad.Window {
	ev.t.Helper()
	a := ev.api(api)
	i := a.WindowByKey(quotad.WindowKey(model, name, ""))
	if i < 0 {
		ev.t.Fatalf("no window %s/%s/%s", api, model, name)
	}
	return a.Windows[i]
}

// When llama-3.3-70b-versatile's tokens per day are out, Groq still serves
// llama-3.1-8b-instant: so does quotad. Only the 70b calls are refused, and
// the channel whose call used the 70b model waits for that model.
func TestGroqModelOutOtherModelServed(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["groq"]
	up.set(groq429("526", 970, 11000, groqTPD)) // names llama-3.3-70b-versatile, TPD
	ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	if w := ev.modelWindow("groq", "llama-3.3-70b-versatile", "tpd"); !w.Exhausted {
		t.Fatalf("70b tpd not exhausted: %+v", w)
	}
	if w := ev.modelWindow("groq", "llama-3.1-8b-instant", "tpd"); w.Exhausted {
		t.Fatalf("8b tpd exhausted by the 70b's refusal")
	}
	c := ev.channel("RankRiot")
	if _, ok := c.Paused(quotad.ReasonOf("quota:groq/llama-3.3-70b-versatile")); !ok || len(c.Pauses) != 1 {
		t.Errorf("RankRiot pauses %+v, want quota:groq/llama-3.3-70b-versatile", c.Pauses)
	}

	n := len(up.calls())
	up.set(groqModelChat("llama-3.1-8b-instant", 14400, 14399, 6000, 5970))
	resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body8b, "Authorization", "Bearer "+groqKey)
	if resp.StatusCode != 200 || len(up.calls()) != n+1 {
		t.Fatalf("an 8b call while the 70b is out: %d, forwarded %v", resp.StatusCode, len(up.calls()) == n+1)
	}
	if w := ev.modelWindow("groq", "llama-3.1-8b-instant", "tpd"); w.Used != 30 {
		t.Errorf("8b tpd used %d, want the call's 30 tokens", w.Used)
	}
	resp, _ = ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey)
	if resp.StatusCode != 429 || resp.Header.Get("X-Quotad-Refused") != "groq/llama-3.3-70b-versatile/tpd" || len(up.calls()) != n+1 {
		t.Fatalf("a 70b call while its tpd is out: %d %q", resp.StatusCode, resp.Header.Get("X-Quotad-Refused"))
	}
	// At the 70b's stated time, its calls go through and RankRiot resumes.
	up.set(groqModelChat("llama-3.3-70b-versatile", 1000, 960, 12000, 11970))
	ev.tick(527 * time.Second)
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey); resp.StatusCode != 200 {
		t.Fatalf("70b after its block: %d", resp.StatusCode)
	}
	if !ev.channel("RankRiot").Active() {
		t.Errorf("RankRiot not resumed at the model's reset: %+v", ev.channel("RankRiot").Pauses)
	}
}

// The x-ratelimit-* headers of an 8b response describe the 8b model: they
// never touch the 70b's windows.
func TestGroqHeadersApplyToTheirModel(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["groq"]
	up.set(groqModelChat("llama-3.3-70b-versatile", 1000, 900, 12000, 11000))
	ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey)
	up.set(groqModelChat("llama-3.1-8b-instant", 14400, 0, 6000, 100))
	ev.do("POST", "/proxy/groq/chat/completions", body8b, "Authorization", "Bearer "+groqKey)

	for _, c := range []struct {
		model, window string
		used          int64
		exhausted     bool
	}{
		{"llama-3.3-70b-versatile", "rpd", 100, false}, // 1000 − 900, Groq's own count
		{"llama-3.3-70b-versatile", "tpm", 1000, false},
		{"llama-3.1-8b-instant", "rpd", 14400, true}, // 0 remaining: out
		{"llama-3.1-8b-instant", "tpm", 5900, false},
	} {
		w := ev.modelWindow("groq", c.model, c.window)
		if w.Used != c.used || w.Exhausted != c.exhausted {
			t.Errorf("%s/%s used %d exhausted %v, want %d %v", c.model, c.window, w.Used, w.Exhausted, c.used, c.exhausted)
		}
	}
	// The 8b's exhaustion refuses 8b calls only.
	n := len(up.calls())
	up.set(groqModelChat("llama-3.3-70b-versatile", 1000, 899, 12000, 11000))
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey); resp.StatusCode != 200 {
		t.Errorf("70b refused by the 8b's rpd: %d", resp.StatusCode)
	}
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body8b, "Authorization", "Bearer "+groqKey); resp.StatusCode != 429 || len(up.calls()) != n+1 {
		t.Errorf("8b served with its rpd out: %d", resp.StatusCode)
	}
}

// A model Groq's table does not list gets the windows its first response's
// headers state, and is refused only by them.
func TestGroqUnknownModelLearnsWindows(t *testing.T) {
	ev := newEnv(t)
	ev.up["groq"].set(groqModelChat("new-model-2027", 2000, 1999, 9000, 8970))
	body := `{"model":"new-model-2027","messages":[]}`
	if resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body, "Authorization", "Bearer "+groqKey); resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	rpd, tpm := ev.modelWindow("groq", "new-model-2027", "rpd"), ev.modelWindow("groq", "new-model-2027", "tpm")
	if rpd.Limit != 2000 || rpd.Used != 1 || tpm.Limit != 9000 || tpm.Used != 30 || rpd.Meter != quotad.MeterRequests || tpm.Meter != quotad.MeterTokens {
		t.Errorf("learned windows rpd %+v tpm %+v", rpd, tpm)
	}
	if w := ev.modelWindow("groq", "llama-3.3-70b-versatile", "rpd"); w.Used != 0 || w.Limit != 1000 {
		t.Errorf("another model's window changed: %+v", w)
	}
}

// YouTube keeps its buckets apart: while videos.insert is out, search.list
// and every other call is served; only uploads are refused.
func TestYouTubeSearchServedWhileUploadsOut(t *testing.T) {
	ev := newEnv(t)
	up := ev.up["youtube"]
	up.set(jsonError(403, youtubeQuota))
	ev.do("POST", "/proxy/youtube/upload/youtube/v3/videos?uploadType=multipart&key="+youtubeKey, "x", proxy.HeaderChannel, "Shorts")
	if w := ev.window("youtube", "videos.insert"); !w.Exhausted {
		t.Fatalf("videos.insert %+v", w)
	}
	up.set(jsonOK(youtubeList))
	n := len(up.calls())
	for _, path := range []string{"/proxy/youtube/search?part=snippet&q=cats&key=" + youtubeKey, "/proxy/youtube/videos?part=snippet&id=x&key=" + youtubeKey} {
		resp, _ := ev.do("GET", path, "")
		if resp.StatusCode != 200 || resp.Header.Get("X-Quotad-Refused") != "" {
			t.Errorf("GET %s while videos.insert is out: %d %s", path, resp.StatusCode, resp.Header.Get("X-Quotad-Refused"))
		}
	}
	resp, _ := ev.do("POST", "/proxy/youtube/upload/youtube/v3/videos?uploadType=multipart&key="+youtubeKey, "x")
	if resp.StatusCode < 400 || resp.Header.Get("X-Quotad-Refused") != "youtube/videos.insert" {
		t.Errorf("an upload while videos.insert is out: %d %q", resp.StatusCode, resp.Header.Get("X-Quotad-Refused"))
	}
	if len(up.calls()) != n+2 {
		t.Errorf("upstream calls %d, want the two reads only", len(up.calls())-n)
	}
	// Shorts needs youtube as a whole (its job uploads): it waits for the
	// bucket, named in its pause.
	if _, ok := ev.channel("Shorts").Paused(quotad.ReasonOf("quota:youtube/videos.insert")); !ok {
		t.Errorf("Shorts pauses %+v", ev.channel("Shorts").Pauses)
	}
	// daily refuses every call.
	up.set(jsonError(403, youtubeQuota))
	ev.do("GET", "/proxy/youtube/videos?part=snippet&id=y&key="+youtubeKey, "")
	if w := ev.window("youtube", "daily"); !w.Exhausted {
		t.Fatalf("daily %+v", w)
	}
	n = len(up.calls())
	if resp, _ := ev.do("GET", "/proxy/youtube/search?part=snippet&q=dogs&key="+youtubeKey, ""); resp.Header.Get("X-Quotad-Refused") != "youtube/daily" || len(up.calls()) != n {
		t.Errorf("search.list while daily is out: %d %q", resp.StatusCode, resp.Header.Get("X-Quotad-Refused"))
	}
}

// Two keys of two Google Cloud projects mean two sets of windows: the
// shorts project's exhausted daily does not refuse the main key's calls.
func TestCredentialScopes(t *testing.T) {
	const shortsKey = "AIzaSyShortsProjectKey0123456789abcd"
	ev := newEnv(t, withScope("youtube", "shorts", shortsKey))
	up := ev.up["youtube"]
	up.set(jsonError(403, youtubeQuota))
	ev.do("GET", "/proxy/youtube/videos?part=snippet&id=y&key="+shortsKey, "")
	a := ev.api("youtube")
	i := a.WindowByKey("daily@shorts")
	if i < 0 || !a.Windows[i].Exhausted {
		t.Fatalf("the shorts scope's daily: %+v", a.Windows)
	}
	if w := ev.window("youtube", "daily"); w.Exhausted {
		t.Fatal("the default scope's daily was exhausted by the shorts key's refusal")
	}
	up.set(jsonOK(youtubeList))
	if resp, _ := ev.do("GET", "/proxy/youtube/videos?part=snippet&id=y&key="+youtubeKey, ""); resp.StatusCode != 200 {
		t.Errorf("the main key refused: %d", resp.StatusCode)
	}
	if resp, _ := ev.do("GET", "/proxy/youtube/videos?part=snippet&id=y&key="+shortsKey, ""); resp.StatusCode != 403 || resp.Header.Get("X-Quotad-Refused") != "youtube/daily@shorts" {
		t.Errorf("the shorts key served: %d %q", resp.StatusCode, resp.Header.Get("X-Quotad-Refused"))
	}
	if w := ev.window("youtube", "daily"); w.Used != 1 {
		t.Errorf("default daily used %d, want the main key's 1", w.Used)
	}
	// Neither the credential nor its hash is stored: only the scope's name.
	for _, w := range ev.api("youtube").Windows {
		if strings.Contains(w.Key(), "AIza") {
			t.Errorf("a window key carries the credential: %s", w.Key())
		}
	}
}

// A budget in money holds: at gpt-4o-mini's price ($0.15 in, $0.60 out per
// million tokens) two calls of 1,000 + 1,000 tokens cost $0.0015, past a
// $0.001/day budget; the channel is paused until midnight and its next
// call is refused without reaching OpenAI. Another channel is not held.
func TestMoneyBudgetHolds(t *testing.T) {
	ev := newEnv(t)
	chans := append([]quotad.Channel(nil), testChannels...)
	for i := range chans {
		if chans[i].Name == "Bot" {
			chans[i].Budgets = []quotad.Budget{{API: "openai", Micros: 1000, Per: "day"}}
		}
	}
	chans = append(chans, quotad.Channel{Name: "Free", APIs: []string{"openai"}})
	apis := ev.apisNow()
	if _, err := ev.e.Configure(context.Background(), apis, chans); err != nil {
		t.Fatal(err)
	}
	up := ev.up["openai"]
	up.set(jsonOK(`{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":1000,"total_tokens":2000}}`))
	body := `{"model":"gpt-4o-mini","messages":[]}`
	for i := range 2 {
		if resp, _ := ev.do("POST", "/proxy/openai/chat/completions", body, "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "Bot"); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	pts, err := ev.e.Usage(context.Background(), engine.UsageQuery{API: "openai", Channel: "Bot", By: engine.ByDay, Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)})
	if err != nil || len(pts) != 1 || pts[0].Model != "gpt-4o-mini" || pts[0].Cost != 0.0015 {
		t.Fatalf("usage %+v %v", pts, err)
	}
	c := ev.channel("Bot")
	p, ok := c.Paused(quotad.BudgetReason("openai"))
	if !ok || !p.Until.Equal(time.Date(2026, 6, 16, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("Bot pauses %+v, want budget:openai until midnight in Los Angeles", c.Pauses)
	}
	n := len(up.calls())
	if resp, _ := ev.do("POST", "/proxy/openai/chat/completions", body, "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "Bot"); resp.StatusCode != 429 || len(up.calls()) != n {
		t.Errorf("Bot past its budget: %d, forwarded %v", resp.StatusCode, len(up.calls()) != n)
	}
	if resp, _ := ev.do("POST", "/proxy/openai/chat/completions", body, "Authorization", "Bearer "+openaiKey, proxy.HeaderChannel, "Free"); resp.StatusCode != 200 {
		t.Errorf("a channel without a budget: %d", resp.StatusCode)
	}
}

// Another channel that needs groq keeps running while the 70b is out,
// until its own call meets the exhausted model: that call is refused and
// the channel then waits for the model too.
func TestRefusedCallPausesItsChannelForTheModel(t *testing.T) {
	ev := newEnv(t)
	ev.up["groq"].set(groq429("526", 970, 11000, groqTPD))
	ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey)
	if !ev.channel("RankRiot").Active() {
		t.Fatal("RankRiot paused by a call it did not make")
	}
	resp, _ := ev.do("POST", "/proxy/groq/chat/completions", body70b, "Authorization", "Bearer "+groqKey, proxy.HeaderChannel, "RankRiot")
	if resp.StatusCode != 429 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if _, ok := ev.channel("RankRiot").Paused(quotad.ReasonOf("quota:groq/llama-3.3-70b-versatile")); !ok {
		t.Errorf("RankRiot pauses %+v", ev.channel("RankRiot").Pauses)
	}
	ev.tick(527 * time.Second)
	if !ev.channel("RankRiot").Active() {
		t.Errorf("RankRiot not resumed at the model's time: %+v", ev.channel("RankRiot").Pauses)
	}
}
