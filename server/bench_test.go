package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/internal/benchkit"
	"github.com/quotad/quotad/internal/gctune"
	"github.com/quotad/quotad/store/sqlite"
)

// benchClients is the number of concurrent keep-alive clients.
const benchClients = 64

// BenchmarkSpend measures POST /api/v1/apis/{api}/spend on a real engine
// over SQLite (each spend acknowledged only once its transaction commits)
// beside a bare net/http handler, with the same load: 64 concurrent
// keep-alive clients over loopback. Between the two, the same server over
// a service that answers at once (layer: routing, auth, JSON, metrics) and
// over one that hands each spend to a batching goroutine like the engine's
// writer but has no store (handoff), so that each step's cost shows. The
// four alternate in rounds, so that a busy machine slows all alike; b.N
// requests go to each. It reports each one's requests per second, its ratio
// to bare, p50/p99 latency, and the CPU time this process spent per request
// on each (with the client in another process,
// QUOTAD_BENCH_CLIENT_PROCESS=1, that is the servers' own cost):
//
//	go test ./server -run '^$' -bench Spend -benchtime 50000x
func BenchmarkSpend(b *testing.B) {
	ctx := context.Background()
	// The collector's pace quotad runs with; a client process keeps Go's.
	defer debug.SetGCPercent(debug.SetGCPercent(gctune.Current()))
	gogc := gctune.Apply()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	}))
	defer bare.Close()
	var ts *timedStore
	e := benchkit.Engine(b, func(st *sqlite.Store) quotad.Store { ts = &timedStore{Store: st}; return ts })
	srv := httptest.NewServer(New(e, Options{Token: testToken, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	// The HTTP layer alone: this server over a service that answers at once.
	res, err := e.Spend(ctx, "bench", 1, "bench")
	if err != nil {
		b.Fatal(err)
	}
	layer := httptest.NewServer(New(stubService{res: res}, Options{Token: testToken, Logger: slog.New(slog.DiscardHandler)}))
	defer layer.Close()

	// The HTTP layer and a hand-off: this server over a service that hands
	// every spend to a batching goroutine, as the engine does, which
	// answers without a store.
	handoff := httptest.NewServer(New(newHandoffService(res), Options{Token: testToken, Logger: slog.New(slog.DiscardHandler)}))
	defer handoff.Close()

	body := []byte(`{"units": 1, "channel": "bench"}`)
	const rounds = 10
	servers := []struct {
		name string
		url  string
		run  run
		cpu  time.Duration // this process's CPU in the server's rounds
	}{{name: "bare", url: bare.URL}, {name: "layer", url: layer.URL}, {name: "handoff", url: handoff.URL}, {name: "spend", url: srv.URL}}
	*ts = timedStore{Store: ts.Store} // count the timed rounds only
	b.ResetTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		for j := range servers {
			c0 := benchkit.ProcessCPU()
			servers[j].run.add(loadFrom(b, servers[j].url+"/api/v1/apis/bench/spend", body, n))
			servers[j].cpu += benchkit.ProcessCPU() - c0
		}
	}
	b.StopTimer()
	if a, err := e.API(ctx, "bench"); err != nil || a.Windows[0].Used != int64(b.N)+1 {
		b.Fatalf("used %d after %d spends (%v)", a.Windows[0].Used, b.N, err)
	}
	b.ReportMetric(float64(gogc), "gogc")
	bareRun, spendRun := &servers[0].run, &servers[3].run
	for _, s := range servers {
		b.ReportMetric(s.run.rate(), s.name+"-req/s")
		b.ReportMetric(float64(s.cpu.Microseconds())/float64(b.N), s.name+"-cpu-µs/req")
		if s.name != "bare" {
			b.ReportMetric(s.run.rate()/bareRun.rate(), s.name+"/bare")
		}
	}
	b.ReportMetric(bareRun.pct(0.50), "bare-p50-µs")
	b.ReportMetric(bareRun.pct(0.99), "bare-p99-µs")
	b.ReportMetric(spendRun.pct(0.50), "spend-p50-µs")
	b.ReportMetric(spendRun.pct(0.99), "spend-p99-µs")
	if txs, ops, _ := e.Stats(); txs > 0 {
		b.ReportMetric(float64(ops)/float64(txs), "spends/commit")
	}
	if n := ts.commits.Load(); n > 0 {
		// The writer's time per commit, and the share of the spend rounds it
		// was busy: well under 1 means the writer waits for requests.
		b.ReportMetric(float64(ts.begin.Load()/n)/1e3, "writer-begin-µs")
		b.ReportMetric(float64(ts.fn.Load()/n)/1e3, "writer-apply-µs")
		b.ReportMetric(float64(ts.commit.Load()/n)/1e3, "writer-commit-µs")
		b.ReportMetric(time.Duration(ts.begin.Load()+ts.fn.Load()+ts.commit.Load()).Seconds()/spendRun.elapsed.Seconds(), "writer-busy")
	}
	b.ReportMetric(0, "ns/op") // per-request wall time means little with 64 clients; see req/s
}

// timedStore adds up the time the engine's writer spends in each part of
// its transactions: BEGIN (waiting for the write lock included), applying
// the batch, and COMMIT.
type timedStore struct {
	*sqlite.Store
	commits, begin, fn, commit atomic.Int64
}

func (s *timedStore) Update(ctx context.Context, fn func(quotad.Tx) error) error {
	start := time.Now()
	var applied time.Time
	err := s.Store.Update(ctx, func(tx quotad.Tx) error {
		began := time.Now()
		s.begin.Add(int64(began.Sub(start)))
		defer func() { applied = time.Now(); s.fn.Add(int64(applied.Sub(began))) }()
		return fn(tx)
	})
	if !applied.IsZero() {
		s.commit.Add(int64(time.Since(applied)))
		s.commits.Add(1)
	}
	return err
}

// handoffService answers spends the way the engine does without its
// store: each caller queues its spend and waits; one goroutine takes what
// is queued (after yielding once, as the engine's writer does) and answers
// it. What it costs beyond stubService is the hand-off alone: parking and
// waking the callers, the writer and net/http's background read.
type handoffService struct {
	quotad.Service
	res quotad.SpendResult
	ops chan chan quotad.SpendResult
}

func newHandoffService(res quotad.SpendResult) *handoffService {
	h := &handoffService{res: res, ops: make(chan chan quotad.SpendResult, 2048)}
	go func() {
		for o := range h.ops {
			batch := []chan quotad.SpendResult{o}
			runtime.Gosched()
			for len(h.ops) > 0 {
				batch = append(batch, <-h.ops)
			}
			for _, c := range batch {
				c <- h.res
			}
		}
	}()
	return h
}

func (h *handoffService) Spend(ctx context.Context, _ string, _ int64, _ string) (quotad.SpendResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // the engine bounds every wait too
	defer cancel()
	c := make(chan quotad.SpendResult, 1)
	h.ops <- c
	select {
	case r := <-c:
		return r, nil
	case <-ctx.Done():
		return quotad.SpendResult{}, ctx.Err()
	}
}

// stubService answers every spend with a fixed result: it measures the
// server's own cost (routing, auth, JSON, metrics) without the engine.
type stubService struct {
	quotad.Service
	res quotad.SpendResult
}

func (s stubService) Spend(context.Context, string, int64, string) (quotad.SpendResult, error) {
	return s.res, nil
}

// run accumulates the latencies and busy time of load rounds.
type run struct {
	lat     []time.Duration
	elapsed time.Duration
}

func (r *run) add(lat []time.Duration, elapsed time.Duration) {
	r.lat = append(r.lat, lat...)
	r.elapsed += elapsed
}

func (r *run) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *run) pct(p float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return float64(r.lat[int(p*float64(len(r.lat)-1))].Microseconds())
}

// loadFrom is load, run in a separate client process (this test binary
// again, as TestBenchClient) when QUOTAD_BENCH_CLIENT_PROCESS=1, so that the
// clients' work is not the server's process's:
//
//	QUOTAD_BENCH_CLIENT_PROCESS=1 go test ./server -run '^$' -bench 'Spend$' -benchtime 30000x
func loadFrom(b *testing.B, url string, body []byte, n int) ([]time.Duration, time.Duration) {
	if os.Getenv("QUOTAD_BENCH_CLIENT_PROCESS") == "" {
		return load(b, url, body, n)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QUOTAD_BENCH_CLIENT_URL="+url, "QUOTAD_BENCH_CLIENT_N="+strconv.Itoa(n),
		"QUOTAD_BENCH_CLIENT_BODY="+string(body), "QUOTAD_BENCH_CLIENT_PROCESS=")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("client process: %v\n%s", err, out)
	}
	var res struct {
		Latencies []time.Duration
		Elapsed   time.Duration
	}
	line := out[bytes.LastIndex(out, []byte("BENCHRESULT "))+len("BENCHRESULT "):]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if err := json.Unmarshal(line, &res); err != nil {
		b.Fatalf("client process output: %v\n%s", err, out)
	}
	return res.Latencies, res.Elapsed
}

// TestBenchClient is BenchmarkSpend's client process (see loadFrom); it
// does nothing in a normal test run.
func TestBenchClient(t *testing.T) {
	url := os.Getenv("QUOTAD_BENCH_CLIENT_URL")
	if url == "" {
		t.Skip("the client process of BenchmarkSpend (QUOTAD_BENCH_CLIENT_PROCESS=1)")
	}
	n, _ := strconv.Atoi(os.Getenv("QUOTAD_BENCH_CLIENT_N"))
	lat, elapsed := load(t, url, []byte(os.Getenv("QUOTAD_BENCH_CLIENT_BODY")), n)
	b, _ := json.Marshal(map[string]any{"Latencies": lat, "Elapsed": elapsed})
	fmt.Printf("BENCHRESULT %s\n", b)
}

// load sends n POST requests to url from benchClients goroutines, each with
// its own keep-alive connection, and returns every latency and the time
// the whole took.
func load(b testing.TB, url string, body []byte, n int) ([]time.Duration, time.Duration) {
	tr := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	lat := make([][]time.Duration, benchClients)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				t := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testToken)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	return slices.Concat(lat...), time.Since(start)
}
