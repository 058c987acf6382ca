package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
)

// benchStore opens a store with nAPIs two-window APIs, like a real config.
func benchStore(b *testing.B, nAPIs int) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	err = s.Update(context.Background(), func(tx quotad.Tx) error {
		for i := range nAPIs {
			a := quotad.API{Name: fmt.Sprintf("api%02d", i), Unit: "tokens", Keywords: []string{"k1", "k2"}, AutoResume: true,
				Windows: []quotad.Window{
					{Name: "minute", Limit: 1 << 40, Rule: "every 1m", LastReset: now, NextReset: now.Add(time.Minute)},
					{Name: "daily", Limit: 1 << 40, Rule: "daily 00:00", LastReset: now, NextReset: now.Add(24 * time.Hour)},
				}}
			if err := tx.SaveAPI(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// spend is what the engine does per operation: read an API, change a window.
func spend(tx quotad.Tx, api string) error {
	a, err := tx.API(api)
	if err != nil {
		return err
	}
	w := a.Windows[1]
	w.Used++
	return tx.SaveWindow(api, w)
}

// BenchmarkUpdateSaveWindow measures API()+SaveWindow, one per Update and
// 100 per Update (group commit); ns/op is per Update, ops/s per spend.
func BenchmarkUpdateSaveWindow(b *testing.B) {
	for _, perTx := range []int{1, 100} {
		b.Run(fmt.Sprintf("perUpdate=%d", perTx), func(b *testing.B) {
			s := benchStore(b, 10)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				err := s.Update(ctx, func(tx quotad.Tx) error {
					for range perTx {
						if err := spend(tx, fmt.Sprintf("api%02d", i%10)); err != nil {
							return err
						}
						i++
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*perTx)/b.Elapsed().Seconds(), "spends/s")
		})
	}
}

// BenchmarkSaveWindowOnly isolates the write path inside one Update.
func BenchmarkSaveWindowOnly(b *testing.B) {
	s := benchStore(b, 1)
	var w quotad.Window
	_ = s.View(context.Background(), func(tx quotad.Tx) error {
		a, err := tx.API("api00")
		w = a.Windows[1]
		return err
	})
	b.ReportAllocs()
	err := s.Update(context.Background(), func(tx quotad.Tx) error {
		for b.Loop() {
			w.Used++
			if err := tx.SaveWindow("api00", w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPIOnly isolates the read path inside one View.
func BenchmarkAPIOnly(b *testing.B) {
	s := benchStore(b, 10)
	b.ReportAllocs()
	err := s.View(context.Background(), func(tx quotad.Tx) error {
		for b.Loop() {
			if _, err := tx.API("api03"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSaveChannel measures SaveChannel with two pauses inside one Update.
func BenchmarkSaveChannel(b *testing.B) {
	s := benchStore(b, 1)
	now := time.Now()
	c := quotad.Channel{Name: "RankRiot", Priority: quotad.PriorityHigh, APIs: []string{"groq", "youtube"},
		Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("quota:groq"), Since: now, Until: now.Add(time.Hour)}, {Reason: quotad.ReasonOf("manual"), Since: now}}}
	b.ReportAllocs()
	err := s.Update(context.Background(), func(tx quotad.Tx) error {
		for b.Loop() {
			c.ConsecutiveErrors++
			if err := tx.SaveChannel(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpdateEngineBatch is one group-commit batch as the engine writes
// it: each API touched is read once and each changed window written once,
// however many spends the batch holds (here 3 APIs, 6 windows, 2 events).
func BenchmarkUpdateEngineBatch(b *testing.B) {
	s := benchStore(b, 10)
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		err := s.Update(ctx, func(tx quotad.Tx) error {
			for _, name := range []string{"api01", "api02", "api03"} {
				a, err := tx.API(name)
				if err != nil {
					return err
				}
				for _, w := range a.Windows {
					w.Used += 512
					if err := tx.SaveWindow(name, w); err != nil {
						return err
					}
				}
			}
			return tx.AppendEvents(
				quotad.Event{Time: now, Level: quotad.LevelInfo, Category: quotad.CategoryQuota, Message: "a"},
				quotad.Event{Time: now, Level: quotad.LevelInfo, Category: quotad.CategoryPause, Channel: "c", Message: "b"})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
