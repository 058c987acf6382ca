package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/dashboard"
)

func TestPageAndAssets(t *testing.T) {
	e := newEngine(t)
	ts := httptest.NewServer(dashboard.New(e, dashboard.Options{}))
	defer ts.Close()
	c := ts.Client()

	resp := get(t, c, ts.URL+"/")
	page := body(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(page, `<body data-zone="America/Los_Angeles">`) {
		t.Error("the page does not name the engine's time zone")
	}
	// No CDN, no inline script or style: every reference is an asset we serve.
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page refers to another site")
	}
	if regexp.MustCompile(`<script>|<style|\sstyle="|\son[a-z]+="`).MatchString(page) {
		t.Error("the page has inline script, style or handlers, which the CSP forbids")
	}
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 4 {
		t.Fatalf("asset references: %v", refs)
	}
	types := map[string]string{".js": "text/javascript", ".css": "text/css"}
	for _, m := range refs {
		resp := get(t, c, ts.URL+m[1])
		b := body(t, resp)
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("%s: %d, %d bytes", m[1], resp.StatusCode, len(b))
			continue
		}
		for ext, ct := range types {
			if strings.HasSuffix(m[1], ext) && !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
				t.Errorf("%s: Content-Type %q", m[1], resp.Header.Get("Content-Type"))
			}
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP", m[1])
		}
		// Revalidation answers 304.
		etag := resp.Header.Get("ETag")
		r2 := get(t, c, ts.URL+m[1], "If-None-Match: "+etag)
		body(t, r2)
		if etag == "" || r2.StatusCode != http.StatusNotModified {
			t.Errorf("%s: ETag %q, revalidation %d", m[1], etag, r2.StatusCode)
		}
	}
	// The uPlot licence ships with it.
	if r := get(t, c, ts.URL+"/assets/vendor/uPlot.LICENSE"); !strings.Contains(body(t, r), "MIT License") {
		t.Error("uPlot licence missing")
	}
	for _, p := range []string{"/nope", "/assets/", "/assets/../dashboard.go", "/assets/nope.js", "/assets/index.html"} {
		if r := get(t, c, ts.URL+p); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		} else {
			body(t, r)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", nil)
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, r)
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", r.StatusCode)
	}
}

func TestUsageHandler(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, s := range []struct {
		api, ch string
		units   int64
	}{{"youtube", "Shorts", 100}, {"youtube", "RankRiot", 50}, {"groq", "RankRiot", 2000}, {"youtube", "Shorts", 1}} {
		if _, err := e.Spend(ctx, s.api, s.units, s.ch); err != nil {
			t.Fatal(err)
		}
	}
	ts := mounted(t, e, testToken, false, "GET "+dashboard.UsagePath, dashboard.UsageHandler(e, dashboard.Options{}))
	c := ts.Client()

	var u dashboard.Usage
	resp := get(t, c, ts.URL+dashboard.UsagePath+"?api=youtube&by=hour&since=48h")
	if err := json.Unmarshal([]byte(body(t, resp)), &u); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	var shorts, total int64
	for _, p := range u.Points {
		if p.API != "youtube" {
			t.Errorf("point of %s", p.API)
		}
		if p.Channel == "Shorts" {
			shorts += p.Units
		}
		total += p.Units
	}
	if shorts != 101 || total != 151 || u.By != "hour" || u.Until.Sub(u.Since) != 48*time.Hour {
		t.Errorf("usage %+v", u)
	}

	resp = get(t, c, ts.URL+dashboard.UsagePath+"?channel=RankRiot&by=day&since=7d")
	if err := json.Unmarshal([]byte(body(t, resp)), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Points) != 2 {
		t.Errorf("RankRiot by day: %+v", u.Points)
	}
	resp = get(t, c, ts.URL+dashboard.UsagePath+"?api=pexels")
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, `"points":[]`) {
		t.Errorf("no usage: %d %s", resp.StatusCode, b)
	}

	for _, tc := range []struct {
		query, code string
		status      int
	}{
		{"?by=week", "invalid", 400},
		{"?since=yesterday", "invalid", 400},
		{"?since=-5h", "invalid", 400},
		{"?until=2020-01-01T00:00:00Z&since=2021-01-01T00:00:00Z", "invalid", 400},
		{"?by=minute&since=30d", "invalid", 400},
		{"?by=hour&since=365d", "invalid", 400},
		{"?limit=5", "invalid", 400},
		{"?api=a&api=b", "invalid", 400},
		{"?api=nope", "unknown_api", 404},
		{"?channel=nope", "unknown_channel", 404},
	} {
		resp := get(t, c, ts.URL+dashboard.UsagePath+tc.query)
		var eb struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body(t, resp)), &eb); err != nil || resp.StatusCode != tc.status || eb.Error.Code != tc.code {
			t.Errorf("%s: %d %+v %v, want %d %s", tc.query, resp.StatusCode, eb, err, tc.status, tc.code)
		}
	}

	// Reads follow the API's rules.
	prot := mounted(t, e, testToken, true, "GET "+dashboard.UsagePath, dashboard.UsageHandler(e, dashboard.Options{}))
	if r := get(t, c, prot.URL+dashboard.UsagePath); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", r.StatusCode)
	}
	if r := get(t, c, prot.URL+dashboard.UsagePath, "Authorization: Bearer "+testToken); r.StatusCode != 200 {
		t.Errorf("token: %d %s", r.StatusCode, body(t, r))
	}
}
