package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/postgres/pgtest"
	"github.com/quotad/quotad/store/sqlite"
)

// benchAPI is one API whose window never runs out during the benchmark.
var benchAPI = quotad.API{Name: "steady", Unit: "units", AutoResume: true,
	Windows: []quotad.Window{{Name: "daily", Limit: 1 << 50, Rule: "daily 00:00"}}}

const benchCallers = 32

// hammer runs callers goroutines calling op until d has passed and returns
// the completed calls per second.
func hammer(t *testing.T, callers int, d time.Duration, op func(ctx context.Context) error) float64 {
	t.Helper()
	ctx := context.Background()
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		stop atomic.Bool
	)
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for !stop.Load() {
				if err := op(ctx); err != nil {
					t.Errorf("op: %v", err)
					return
				}
				n.Add(1)
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// TestSpendThroughput measures spends per second through the engine with
// 1, 2 and 4 engines (each on its own Store, as separate daemons would be)
// and 32 concurrent callers per engine, beside the raw rate of the same
// single-row conditional UPDATE issued by pgx with 32 concurrent
// connections, on the same server in the same run. The configurations are
// measured in turn, round after round (3 rounds of 3s by default;
// QUOTAD_BENCH_ROUNDS, QUOTAD_BENCH_SECONDS), and the median of each is
// reported, so that a burst of other load on the machine skews one sample,
// not the comparison. It is a measurement, not a check, so it runs only when
// asked:
//
//	QUOTAD_BENCH=1 QUOTAD_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	    go test -run TestSpendThroughput -v ./store/postgres/
func TestSpendThroughput(t *testing.T) {
	if os.Getenv("QUOTAD_BENCH") == "" {
		t.Skip("set QUOTAD_BENCH=1 to measure spend throughput")
	}
	pgtest.URL(t)
	rounds, secs := envInt("QUOTAD_BENCH_ROUNDS", 3), envInt("QUOTAD_BENCH_SECONDS", 3)
	d := time.Duration(secs) * time.Second

	type config struct {
		name    string
		callers int
		op      func(ctx context.Context) error
		stats   func() (batches, ops uint64)
	}
	var configs []config

	// Raw: the conditional UPDATE a spend boils down to, autocommitted.
	{
		s := openT(t)
		defer s.Close()
		if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(benchAPI) }); err != nil {
			t.Fatal(err)
		}
		cfg := s.Pool().Config()
		cfg.MaxConns, cfg.MinConns = benchCallers, benchCallers
		pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		const q = `UPDATE api_quotas SET quota_used = quota_used + $1,
			quota_remaining = greatest(quota_limit - quota_used - $1, 0)
			WHERE api_name = $2 AND window_name = $3 AND NOT is_exhausted`
		configs = append(configs, config{name: "raw UPDATE, 32 connections", callers: benchCallers, op: func(ctx context.Context) error {
			_, err := pool.Exec(ctx, q, 1, "steady", "daily")
			return err
		}})
	}

	// The engine: n engines on n Stores on one schema, 32 callers each.
	for _, n := range []int{1, 2, 4} {
		dsn := pgtest.Schema(t)
		var engines []*engine.Engine
		for i := range n {
			s := openDSN(t, dsn)
			if i == 0 {
				if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(benchAPI) }); err != nil {
					t.Fatal(err)
				}
			}
			e := engine.New(s, engine.Options{Location: time.UTC})
			engines = append(engines, e)
			defer s.Close()
			defer e.Close()
		}
		var next atomic.Int64
		configs = append(configs, config{
			name:    fmt.Sprintf("engine x%d, %d callers", n, n*benchCallers),
			callers: n * benchCallers,
			op: func(ctx context.Context) error {
				_, err := engines[next.Add(1)%int64(n)].Spend(ctx, "steady", 1, "")
				return err
			},
			stats: func() (batches, ops uint64) {
				for _, e := range engines {
					b, o, _ := e.Stats()
					batches, ops = batches+b, ops+o
				}
				return batches, ops
			},
		})
	}

	// For reference: one engine on SQLite on this machine's disk.
	{
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "bench.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(benchAPI) }); err != nil {
			t.Fatal(err)
		}
		e := engine.New(s, engine.Options{Location: time.UTC})
		defer e.Close()
		configs = append(configs, config{name: "engine x1 on SQLite, 32 callers", callers: benchCallers, op: func(ctx context.Context) error {
			_, err := e.Spend(ctx, "steady", 1, "")
			return err
		}})
	}

	samples := make([][]float64, len(configs))
	for r := range rounds {
		for i, c := range configs {
			rate := hammer(t, c.callers, d, c.op)
			samples[i] = append(samples[i], rate)
			t.Logf("round %d: %-32s %8.0f spends/s", r+1, c.name, rate)
		}
	}
	med := make([]float64, len(configs))
	for i := range configs {
		sort.Float64s(samples[i])
		med[i] = samples[i][len(samples[i])/2]
	}
	t.Logf("medians of %d rounds of %v:", rounds, d)
	for i, c := range configs {
		line := fmt.Sprintf("%-32s %8.0f spends/s  (%.1f x raw)", c.name, med[i], med[i]/med[0])
		if c.stats != nil {
			b, o := c.stats()
			line += fmt.Sprintf("  %.1f spends per transaction", float64(o)/float64(max(b, 1)))
		}
		t.Log(line)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
