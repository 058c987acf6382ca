package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/quotad/quotad"
)

// TestServeMeteringProxy runs `quotad serve` with an API naming a provider
// and calls it through /proxy/: the call reaches the upstream with the
// caller's key, is metered from the response (the provider's remaining
// count is adopted; the drift is a gauge), and once the provider refuses,
// the next call is answered 429 by quotad without reaching the upstream.
func TestServeMeteringProxy(t *testing.T) {
	var calls atomic.Int32
	var refuse atomic.Bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Api-Key") != "k-123" || r.URL.Path != "/v2/items" || r.Header.Get("X-Quotad-Channel") != "" {
			http.Error(w, fmt.Sprintf("bad call %s %v", r.URL.Path, r.Header), 400)
			return
		}
		if refuse.Load() {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, `{"message":"Too Many Requests"}`, http.StatusTooManyRequests)
			return
		}
		w.Header().Set("RateLimit-Policy", `"default";q=100;w=3600`)
		w.Header().Set("RateLimit", `"default";r=60;t=1800`)
		io.WriteString(w, `{"items":[]}`)
	}))
	defer up.Close()
	cfg, db := isolate(t, "")
	// isolate's config has groq and youtube; add a provider-backed API.
	extra := fmt.Sprintf(`  stock:
    provider: generic
    upstream: %s/v2
    windows: [{name: requests, limit: 100, reset: "every 1h"}]
`, up.URL)
	doc := strings.Replace(testConfig, "channels:\n", extra+"channels:\n", 1) + "  Stocky:\n    apis: [stock]\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db)
	if !strings.Contains(d.out.String(), "[OK] Metering proxy on "+d.url+"/proxy/{api}/") {
		t.Errorf("serve did not print the proxy's address:\n%s", d.out)
	}

	call := func(headers ...string) (int, string) {
		req, _ := http.NewRequest("GET", d.url+"/proxy/stock/items", nil)
		req.Header.Set("X-Api-Key", "k-123")
		req.Header.Set("X-Quotad-Channel", "Stocky")
		for i := 0; i+1 < len(headers); i += 2 {
			if headers[i] == "Host" {
				req.Host = headers[i+1]
			} else {
				req.Header.Set(headers[i], headers[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Web pages cannot drive the proxy: a cross-site <img src>, a page
	// rebinding its DNS name to 127.0.0.1. Nothing reaches the upstream.
	if code, body := call("Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image"); code != 403 {
		t.Fatalf("cross-site call: %d %s", code, body)
	}
	if code, body := call("Host", "evil.example:8080"); code != 403 || !strings.Contains(body, "allowed_hosts") {
		t.Fatalf("rebinding call: %d %s", code, body)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d refused calls reached the upstream", n)
	}
	if code, body := call(); code != 200 || body != `{"items":[]}` {
		t.Fatalf("proxied call: %d %s", code, body)
	}
	// The proxy commits a call's accounting before the caller has the end
	// of the answer: the drift gauge is there as soon as the call returns.
	const driftLine = `quotad_window_drift{api="stock",window="requests"} 39`
	if _, body := get(t, d.url+"/metrics", ""); !strings.Contains(body, driftLine) {
		t.Fatalf("no drift gauge of 39 (provider 40, quotad 1) in /metrics right after the call:\n%s", grepLines(body, "drift"))
	}
	var st quotad.Status
	out, errOut, code := runCLI("status", "--json", "--config", cfg, "--db", db)
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: %d %s %s", code, out, errOut)
	}
	used := int64(-1)
	for _, a := range st.APIs {
		if a.Name == "stock" {
			used = a.Windows[0].Used
		}
	}
	if used != 40 { // the provider's figure: 100 − 60
		t.Errorf("stock used %d after one call, want the provider's 40", used)
	}

	refuse.Store(true)
	if code, _ := call(); code != http.StatusTooManyRequests {
		t.Fatalf("refused upstream: %d", code)
	}
	before := calls.Load()
	if code, body := call(); code != http.StatusTooManyRequests || !strings.Contains(body, "exhausted") {
		t.Fatalf("call while exhausted: %d %s", code, body)
	}
	if calls.Load() != before {
		t.Errorf("the upstream was called while the API was exhausted")
	}
	out, _, _ = runCLI("channels", "--config", cfg, "--db", db)
	if !strings.Contains(out, "Stocky") || !strings.Contains(out, "stock") {
		t.Errorf("channels:\n%s", out)
	}
	st = quotad.Status{}
	out, _, _ = runCLI("status", "--json", "--config", cfg, "--db", db)
	json.Unmarshal([]byte(out), &st)
	for _, ch := range st.Channels {
		if ch.Name == "Stocky" && ch.Active {
			t.Errorf("Stocky still active after its only API was refused")
		}
		if ch.Name == "Shorts" && !ch.Active {
			t.Errorf("Shorts paused though it does not need stock")
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
