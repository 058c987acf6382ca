package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCrossOriginTable: a web page elsewhere cannot make a browser change
// quotad (the whole server, the dashboard and the proxy included, sits
// behind net/http's CrossOriginProtection); programs and the dashboard's
// own fetches pass.
func TestCrossOriginTable(t *testing.T) {
	reached := false
	srv := New(stubService{}, Options{Logger: slog.New(slog.DiscardHandler)})
	srv.Handle("/probe", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		w.WriteHeader(http.StatusNoContent)
	}))
	h := srv
	for _, tc := range []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		allowed bool
	}{
		{"GET from anywhere", "GET", "quotad.local:8080", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, true},
		{"HEAD from anywhere", "HEAD", "quotad.local:8080", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"OPTIONS preflight", "OPTIONS", "quotad.local:8080", map[string]string{"Origin": "https://evil.example"}, true},
		{"program: no Origin, no Sec-Fetch-Site", "POST", "127.0.0.1:8080", nil, true},
		{"dashboard fetch: same-origin", "POST", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8080"}, true},
		{"typed address: none", "POST", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"cross-site page", "POST", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"same-site page (another port or subdomain)", "POST", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"}, false},
		{"old browser: same Origin", "POST", "quotad.local:8080", map[string]string{"Origin": "http://quotad.local:8080"}, true},
		// Without Sec-Fetch-Site, Origin must name Host exactly: these
		// old-browser forms are refused (safely).
		{"old browser: same Origin, other case", "POST", "Quotad.Local:8080", map[string]string{"Origin": "http://quotad.local:8080"}, false},
		{"old browser: default port", "POST", "quotad.local", map[string]string{"Origin": "https://quotad.local:443"}, false},
		{"old browser: other host", "POST", "127.0.0.1:8080", map[string]string{"Origin": "https://evil.example"}, false},
		{"old browser: other port", "POST", "127.0.0.1:8080", map[string]string{"Origin": "http://127.0.0.1:8081"}, false},
		{"old browser: null origin (sandboxed frame, file:)", "POST", "127.0.0.1:8080", map[string]string{"Origin": "null"}, false},
		{"old browser: odd scheme", "POST", "127.0.0.1:8080", map[string]string{"Origin": "chrome-extension://abc"}, false},
		{"DELETE cross-site", "DELETE", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"PUT other origin", "PUT", "127.0.0.1:8080", map[string]string{"Origin": "http://evil.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			req := httptest.NewRequest(tc.method, "http://"+tc.host+"/probe", strings.NewReader("{}"))
			req.Host = tc.host
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if reached != tc.allowed {
				t.Fatalf("reached the handler: %v, want %v (status %d %s)", reached, tc.allowed, rec.Code, rec.Body)
			}
			if tc.allowed {
				return
			}
			if rec.Code != http.StatusForbidden {
				t.Errorf("status %d, want 403", rec.Code)
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code != "forbidden" || !strings.Contains(eb.Error.Message, "cross-origin") {
				t.Errorf("body %s (%v)", rec.Body, err)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
