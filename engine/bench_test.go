package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/quotad/quotad/internal/benchkit"
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
			e := benchkit.Engine(b, nil)
			txs0, ops0, _ := e.Stats()
			cpu0 := benchkit.ProcessCPU()
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
			cpu := benchkit.ProcessCPU() - cpu0
			txs, ops, _ := e.Stats()
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/spend")
			if txs > txs0 {
				b.ReportMetric(float64(ops-ops0)/float64(txs-txs0), "spends/commit")
			}
		})
	}
}
