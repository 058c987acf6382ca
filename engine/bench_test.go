package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// BenchmarkSpendParallel measures concurrent spends through the engine on
// SQLite, each acknowledged once its group-committed transaction has
// committed, with 2 to 128 callers. It reports the process's CPU time per
// spend and the spends per commit: what a transaction costs (BEGIN, the
// writes, COMMIT) is shared by its batch, so the CPU per spend falls as
// batches grow.
//
//	go test ./engine -run '^$' -bench SpendParallel -benchtime 100000x
func BenchmarkSpendParallel(b *testing.B) {
	for _, callers := range []int{2, 8, 32, 128} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, b.TempDir()+"/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e := engine.New(st, engine.Options{Logger: slog.New(slog.DiscardHandler)})
			defer e.Close()
			api := quotad.API{Name: "bench", Unit: "units", AutoResume: true,
				Windows: []quotad.Window{{Name: "daily", Limit: 1 << 60, Rule: "daily 00:00 UTC"}}}
			if _, err := e.Configure(ctx, []quotad.API{api}, []quotad.Channel{{Name: "bench", APIs: []string{"bench"}}}); err != nil {
				b.Fatal(err)
			}
			txs0, ops0, _ := e.Stats()
			cpu0 := processCPU()
			b.SetParallelism(max(callers/runtime.GOMAXPROCS(0), 1))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.Spend(ctx, "bench", 1, "bench"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			cpu := processCPU() - cpu0
			txs, ops, _ := e.Stats()
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/spend")
			if txs > txs0 {
				b.ReportMetric(float64(ops-ops0)/float64(txs-txs0), "spends/commit")
			}
		})
	}
}

// processCPU returns the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
