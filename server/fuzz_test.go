package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzJSONBodies sends arbitrary bytes as the JSON body of every mutation
// that takes one: the server never panics, never answers 5xx for bad input,
// and answers every refusal with a JSON error.
func FuzzJSONBodies(f *testing.F) {
	for _, s := range []string{
		`{"units":5,"channel":"RankRiot"}`, `{"units":-1}`, `{"units":1e30}`, `{"units":"5"}`, `{}`, ``, `null`, `[]`,
		`{"units":5,"channel":"RankRiot","bogus":1}`, `{"units":5}{"units":6}`, `{"units":100,"ttl":"5m"}`, `{"ttl":"-1s","units":1}`,
		`{"channel":"RankRiot","status":429,"headers":{"Retry-After":"30"},"message":"rate limit"}`,
		`{"headers":{"X":["a","b"]},"message":"quota"}`, `{"status":99999}`, `{"reason":"x"}`, `{"all":true}`, "\xff\xfe",
	} {
		f.Add(s)
	}
	ev := newEnv(f, Options{Token: testToken})
	paths := []string{
		"/api/v1/apis/groq/spend", "/api/v1/apis/youtube/reserve", "/api/v1/errors", "/api/v1/classify",
		"/api/v1/channels/RankRiot/pause", "/api/v1/resume", "/api/v1/reservations/none/commit",
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodPost, p, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			ev.srv.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("POST %s %q: %d %s", p, body, w.Code, w.Body)
			}
			if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("POST %s %q: %d without a JSON error: %s", p, body, w.Code, w.Body)
			}
		}
	})
}
