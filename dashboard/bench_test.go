package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/dashboard"
	"github.com/quotad/quotad/internal/benchkit"
)

// BenchmarkSpendWithStreams measures engine operations (64 concurrent
// callers) with 0 and 64 event streams open and reading, for two loads:
// events=all, where each op is a spend and a pause or resume, so that every
// op writes an event (some 40,000 events a second: the worst case for
// streams), and events=1/64, spends of which one in 64 also pauses or
// resumes its channel (still hundreds of events a second, far more than a
// daemon writes). The streams share one read of the log and one encoding
// per batch of events. It reports ops/s and this process's CPU time per op.
//
// The streams' clients read in this process by default, so their reading
// counts against the throughput; with QUOTAD_BENCH_READER_PROCESS=1 they
// run in a separate process (this test binary again), as browsers would,
// and cpu-µs/op is the daemon's own cost:
//
//	go test -run='^$' -bench=SpendWithStreams -benchtime=2s ./dashboard
//	QUOTAD_BENCH_READER_PROCESS=1 go test -run='^$' -bench=SpendWithStreams -benchtime=2s ./dashboard
func BenchmarkSpendWithStreams(b *testing.B) {
	for _, every := range []int{1, 64} {
		for _, n := range []int{0, 64} {
			benchStreams(b, every, n)
		}
	}
}

func benchStreams(b *testing.B, every, n int) {
	events := "all"
	if every > 1 {
		events = fmt.Sprintf("1/%d", every)
	}
	{
		b.Run(fmt.Sprintf("events=%s/streams=%d", events, n), func(b *testing.B) {
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
			if n > 0 {
				stop := openReaders(b, ctx, ts.URL+dashboard.StreamPath, n)
				defer stop()
			}
			chans := []string{"Shorts", "RankRiot", "Footage"}
			b.SetParallelism(32) // 64 callers on 2 CPUs
			cpu0 := benchkit.ProcessCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					ch := chans[i%len(chans)]
					i++
					if _, err := e.Spend(ctx, "groq", 1, ch); err != nil {
						b.Error(err)
						return
					}
					switch {
					case i%every != 0:
					case (i/every)%2 == 0:
						_, _ = e.Pause(ctx, ch, "bench")
					default:
						_, _ = e.Resume(ctx, ch)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64((benchkit.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// openReaders opens n streams on url, each read to its end by its own
// goroutine (or, with QUOTAD_BENCH_READER_PROCESS=1, by a separate process,
// TestStreamReaders), and returns once all are open; stop ends them.
func openReaders(b *testing.B, ctx context.Context, url string, n int) (stop func()) {
	if os.Getenv("QUOTAD_BENCH_READER_PROCESS") == "" {
		for range n {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("stream: %v", err)
			}
			go func() { _, _ = io.Copy(io.Discard, resp.Body); resp.Body.Close() }() // until ctx ends
		}
		return func() {}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamReaders$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QUOTAD_BENCH_READERS_URL="+url, "QUOTAD_BENCH_READERS_N="+strconv.Itoa(n), "QUOTAD_BENCH_READER_PROCESS=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "READY" {
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

// TestStreamReaders is BenchmarkSpendWithStreams's reader process (see
// openReaders); it does nothing in a normal test run.
func TestStreamReaders(t *testing.T) {
	url := os.Getenv("QUOTAD_BENCH_READERS_URL")
	if url == "" {
		t.Skip("the reader process of BenchmarkSpendWithStreams (QUOTAD_BENCH_READER_PROCESS=1)")
	}
	n, _ := strconv.Atoi(os.Getenv("QUOTAD_BENCH_READERS_N"))
	var wg sync.WaitGroup
	for range n {
		resp, err := http.Get(url)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v", err)
		}
		wg.Go(func() { _, _ = io.Copy(io.Discard, resp.Body); resp.Body.Close() })
	}
	fmt.Println("READY")
	wg.Wait() // until the benchmark kills this process
}
