package server

import (
	"bytes"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestNoGoroutineLeak serves requests of every kind, concurrently, then
// stops everything and waits (bounded) for the goroutine count to return to
// where it was.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("serve", func(t *testing.T) {
		ev := newEnv(t, Options{Token: testToken})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 5 {
					for _, r := range []struct{ method, path, body string }{
						{"POST", "/api/v1/apis/groq/spend", `{"units": 1, "channel": "RankRiot"}`},
						{"POST", "/api/v1/apis/nope/spend", `{"units": 1}`},
						{"POST", "/api/v1/apis/groq/spend", `{"units": 1, "bad": 1}`},
						{"GET", "/api/v1/status", ""},
						{"GET", "/api/v1/logs?limit=5", ""},
						{"GET", "/metrics", ""},
						{"GET", "/readyz", ""},
					} {
						req, _ := http.NewRequest(r.method, ev.ts.URL+r.path, bytes.NewBufferString(r.body))
						req.Header.Set("Authorization", "Bearer "+testToken)
						resp, err := ev.ts.Client().Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
