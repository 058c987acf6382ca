package proxy_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad/internal/gctune"
	"github.com/quotad/quotad/proxy"
)

// Proxy overhead against a local upstream: the same non-streamed Groq chat
// completion (JSON with usage, Groq's rate-limit headers) sent directly and
// through the proxy, which checks the API's state, forwards, reads the
// usage, and commits the charges and adopted figures to SQLite before the
// caller has the last byte.
//
//	go test -run='^$' -bench=Groq -benchmem ./proxy
//	QUOTAD_PROXY_BENCH=1 go test -run TestProxyOverhead -v ./proxy   (p50/p99 and throughput)

func benchEnv(tb testing.TB) (*env, *http.Client) {
	ev := newEnv(tb, func(s *envSettings) { s.logLevel = slog.LevelWarn; s.huge = true })
	ev.up["groq"].set(groqChat(987, 11000))
	ev.up["groq"].set(func(w http.ResponseWriter, r *http.Request) {
		groqHeaders(w.Header(), 987, 11000)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatCompletion)
	})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return ev, &http.Client{Transport: tr}
}

func post(tb testing.TB, c *http.Client, url string) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer "+groqKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(proxy.HeaderChannel, "RankRiot")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("status %d", resp.StatusCode)
	}
}

func targets(ev *env) (direct, proxied string) {
	return ev.up["groq"].URL + "/openai/v1/chat/completions", ev.ts.URL + "/proxy/groq/chat/completions"
}

func BenchmarkGroqDirect(b *testing.B) {
	ev, c := benchEnv(b)
	direct, _ := targets(ev)
	for b.Loop() {
		post(b, c, direct)
	}
}

func BenchmarkGroqProxied(b *testing.B) {
	ev, c := benchEnv(b)
	_, proxied := targets(ev)
	for b.Loop() {
		post(b, c, proxied)
	}
}

func BenchmarkGroqDirectParallel(b *testing.B) {
	ev, c := benchEnv(b)
	direct, _ := targets(ev)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post(b, c, direct)
		}
	})
}

func BenchmarkGroqProxiedParallel(b *testing.B) {
	ev, c := benchEnv(b)
	_, proxied := targets(ev)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post(b, c, proxied)
		}
	})
}

// TestProxyOverhead measures latency percentiles of direct and proxied
// calls interleaved in the same run, and throughput with 16 concurrent
// callers. It runs only with QUOTAD_PROXY_BENCH=1.
func TestProxyOverhead(t *testing.T) {
	if os.Getenv("QUOTAD_PROXY_BENCH") == "" {
		t.Skip("set QUOTAD_PROXY_BENCH=1 to measure the proxy's overhead")
	}
	// The collector's pace quotad runs with (in this process the caller
	// and the upstream too; both paths are timed with it).
	defer debug.SetGCPercent(debug.SetGCPercent(gctune.Current()))
	gogc := gctune.Apply()
	ev, c := benchEnv(t)
	direct, proxied := targets(ev)
	for i := 0; i < 300; i++ { // warm up connections, caches, the SQLite file
		post(t, c, direct)
		post(t, c, proxied)
	}
	const n = 5000
	d, p := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		s := time.Now()
		post(t, c, direct)
		d = append(d, time.Since(s))
		s = time.Now()
		post(t, c, proxied)
		p = append(p, time.Since(s))
	}
	slices.Sort(d)
	slices.Sort(p)
	pct := func(x []time.Duration, q float64) time.Duration { return x[int(q*float64(len(x)-1))] }
	report := ""
	for _, q := range []float64{0.5, 0.9, 0.99} {
		report += fmt.Sprintf("p%-2.0f direct %8s  proxied %8s  added %8s\n", q*100, pct(d, q).Round(time.Microsecond),
			pct(p, q).Round(time.Microsecond), (pct(p, q) - pct(d, q)).Round(time.Microsecond))
	}
	throughput := func(url string) float64 {
		var count atomic.Int64
		stop := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					post(t, c, url)
					count.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(count.Load()) / 2
	}
	td, tp := throughput(direct), throughput(proxied)
	report += fmt.Sprintf("throughput, 16 callers: direct %.0f calls/s, proxied %.0f calls/s (%.0f%%)\n", td, tp, 100*tp/td)
	b, ops, _ := ev.e.Stats()
	report += fmt.Sprintf("engine: %d operations in %d transactions; GOGC %d\n", ops, b, gogc)
	t.Log("\n" + report)
	if st := ev.px.Stats(); st.AccountingErrors != 0 || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
	if added := pct(p, 0.99) - pct(d, 0.99); os.Getenv("QUOTAD_PROXY_BENCH_STRICT") != "" && added > time.Millisecond {
		t.Errorf("p99 added %s, target under 1ms", added)
	}
}
