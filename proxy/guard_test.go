package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/quotad/quotad/proxy"
)

// A web page the operator opens cannot drive the proxy: a cross-site GET
// (an <img src>), a cross-origin fetch, a sandboxed page (Origin null) and
// a page that rebinds its DNS name to 127.0.0.1 (a foreign Host) are refused
// before anything is forwarded, read or charged. Programs (SDKs send
// neither Origin nor Sec-Fetch-*) and the listener's own pages pass.
func TestCrossSiteCallsRefused(t *testing.T) {
	ev := newEnv(t, withProxy(func(o *proxy.Options) {
		o.Listen = "127.0.0.1:8080"
		o.AllowedHosts = []string{"quotad.internal:443"}
	}))
	ev.up["groq"].set(jsonOK(`{"data":[]}`))
	own := strings.TrimPrefix(ev.ts.URL, "http://")
	send := func(method, host string, headers ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ev.ts.URL+"/proxy/groq/models", nil)
		if host != "" {
			req.Host = host
		}
		req.Header.Set(proxy.HeaderChannel, "RankRiot")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ev.settle()
		return resp.StatusCode, resp.Header.Get("X-Quotad-Error") + " " + string(b)
	}
	refused := []struct {
		name, method, host string
		headers            []string
		code               string
	}{
		{"img src from another site", "GET", "", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image"}, "cross_site"},
		{"a sibling subdomain", "GET", "", []string{"Sec-Fetch-Site", "same-site"}, "cross_site"},
		{"fetch from another origin", "POST", "", []string{"Origin", "https://evil.example"}, "cross_site"},
		{"GET with another origin", "GET", "", []string{"Origin", "http://evil.example"}, "cross_site"},
		{"sandboxed page", "POST", "", []string{"Origin", "null"}, "cross_site"},
		{"same host, other port", "GET", "", []string{"Origin", "http://127.0.0.1:1"}, "cross_site"},
		{"DNS rebinding", "GET", "evil.example:" + strings.Split(own, ":")[1], nil, "forbidden_host"},
		{"DNS rebinding, browser same-origin", "POST", "evil.example", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://evil.example"}, "forbidden_host"},
		{"a LAN address on a loopback listener", "GET", "192.168.1.20:8080", nil, "forbidden_host"},
	}
	before := ev.used("groq")
	for _, c := range refused {
		status, body := send(c.method, c.host, c.headers...)
		if status != http.StatusForbidden || !strings.HasPrefix(body, c.code+" ") {
			t.Errorf("%s: %d %s, want 403 %s", c.name, status, body, c.code)
		}
	}
	if n := len(ev.up["groq"].calls()); n != 0 {
		t.Fatalf("%d refused calls went upstream", n)
	}
	if after := ev.used("groq"); !mapsEqual(before, after) {
		t.Fatalf("refused calls were charged: %v → %v", before, after)
	}
	if st := ev.px.Stats(); st.Forbidden != uint64(len(refused)) || st.Forwarded != 0 {
		t.Fatalf("stats %+v", st)
	}

	passed := []struct {
		name, host string
		headers    []string
	}{
		{"an SDK", "", nil},
		{"an SDK naming localhost", "localhost:" + strings.Split(own, ":")[1], nil},
		{"the listen host", "127.0.0.1:8080", nil},
		{"an allowed reverse-proxy name", "Quotad.Internal", nil},
		{"a page of the listener itself", "", []string{"Sec-Fetch-Site", "same-origin", "Origin", ev.ts.URL}},
		{"a typed URL", "", []string{"Sec-Fetch-Site", "none"}},
	}
	for _, c := range passed {
		if status, body := send("GET", c.host, c.headers...); status != 200 {
			t.Errorf("%s: %d %s, want 200", c.name, status, body)
		}
	}
	if n := len(ev.up["groq"].calls()); n != len(passed) {
		t.Fatalf("%d calls went upstream, want %d", n, len(passed))
	}
}

// With a token the token is the guard: any Host passes unless an allow-list
// is configured, and a wrong token is refused.
func TestTokenListenerHosts(t *testing.T) {
	ev := newEnv(t, withProxy(func(o *proxy.Options) { o.Token = "quotad-token-123"; o.Listen = "0.0.0.0:8080" }))
	ev.up["groq"].set(jsonOK(`{"data":[]}`))
	for _, c := range []struct {
		token  string
		status int
	}{{"quotad-token-123", 200}, {"quotad-token-12", 401}, {"quotad-token-1234", 401}, {"", 401}} {
		req, _ := http.NewRequest("GET", ev.ts.URL+"/proxy/groq/models", nil)
		req.Host = "quotad.example.com"
		req.Header.Set(proxy.HeaderToken, c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("token %q: %d, want %d", c.token, resp.StatusCode, c.status)
		}
	}
	ev.settle()
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
