package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/dashboard"
)

// BenchmarkSpendWithStreams measures spends (64 concurrent callers on the
// engine, each spend writing an event when it crosses a threshold — here
// every spend writes one: a pause and resume pair per op) with 0 and 64
// event streams open and reading. The streams share one read of the log
// per batch of events, so 64 of them should cost under 10% of the
// throughput.
//
//	go test -run='^$' -bench=SpendWithStreams -benchtime=2s ./dashboard
func BenchmarkSpendWithStreams(b *testing.B) {
	for _, n := range []int{0, 64} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			e := newEngine(b)
			apis, _ := config.DefaultConfig().Domain()
			for i := range apis {
				for j := range apis[i].Windows {
					apis[i].Windows[j].Limit = 1e12 // never exhausted
				}
			}
			if _, err := e.Configure(context.Background(), apis, testChannels); err != nil {
				b.Fatal(err)
			}
			h := dashboard.EventStream(e, dashboard.Options{PingInterval: time.Hour, Logger: quietLogger()})
			mux := http.NewServeMux()
			mux.Handle(dashboard.StreamPath, h)
			ts := httptest.NewServer(mux)
			defer ts.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range n {
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+dashboard.StreamPath, nil)
				resp, err := ts.Client().Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("stream: %v", err)
				}
				go func() { _, _ = io.Copy(io.Discard, resp.Body); resp.Body.Close() }()
			}
			chans := []string{"Shorts", "RankRiot", "Footage"}
			b.SetParallelism(32) // 64 callers on 2 CPUs
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					ch := chans[i%len(chans)]
					i++
					// An event per op, as a busy daemon writes: a spend and
					// a pause or resume.
					if _, err := e.Spend(ctx, "groq", 1, ch); err != nil {
						b.Error(err)
						return
					}
					if i%2 == 0 {
						_, _ = e.Pause(ctx, ch, "bench")
					} else {
						_, _ = e.Resume(ctx, ch)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
