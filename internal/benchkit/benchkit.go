// Package benchkit holds what quotad's benchmarks share: an engine on a
// fresh SQLite file with one API that never runs out, and the process's
// CPU time.
package benchkit

import (
	"context"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// API and Channel are the benchmark's API ("bench", one daily window that
// never runs out) and its channel ("bench").
var (
	API     = quotad.API{Name: "bench", Unit: "units", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1 << 60, Rule: "daily 00:00 UTC"}}}
	Channel = quotad.Channel{Name: "bench", APIs: []string{"bench"}}
)

// Engine returns an engine over a SQLite store in tb's temporary directory,
// configured with API and Channel and closed with tb. wrap, when not nil,
// wraps the store the engine writes through (to time its transactions).
func Engine(tb testing.TB, wrap func(*sqlite.Store) quotad.Store) *engine.Engine {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tb.TempDir()+"/bench.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	var s quotad.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	e := engine.New(s, engine.Options{Logger: slog.New(slog.DiscardHandler)})
	tb.Cleanup(func() { e.Close() }) // before the store closes (cleanups run last first)
	if _, err := e.Configure(ctx, []quotad.API{API}, []quotad.Channel{Channel}); err != nil {
		tb.Fatal(err)
	}
	return e
}

// ProcessCPU returns the CPU time this process has used (user and system):
// beside a load generator in another process, it tells what the servers in
// this one cost.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
