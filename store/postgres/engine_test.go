package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

// engines opens n Stores on one fresh schema, each with its own engine
// (n daemons' worth), and applies apis and chans through the first.
func engines(t *testing.T, n int, clk clock.Clock, apis []quotad.API, chans []quotad.Channel) []*engine.Engine {
	t.Helper()
	dsn := pgtest.Schema(t)
	var out []*engine.Engine
	for range n {
		s := openDSN(t, dsn)
		e := engine.New(s, engine.Options{Clock: clk, Location: time.UTC, Thresholds: []float64{}})
		t.Cleanup(func() { e.Close(); s.Close() })
		out = append(out, e)
	}
	if _, err := out[0].Configure(t.Context(), apis, chans); err != nil {
		t.Fatal(err)
	}
	return out
}

func window(e *engine.Engine, t *testing.T, api string) quotad.WindowStatus {
	t.Helper()
	a, err := e.API(t.Context(), api)
	if err != nil {
		t.Fatal(err)
	}
	return a.Windows[0]
}

// TestEnginesSpendExactly spends from 3 engines on separate stores, 16
// callers each: the acknowledged units sum to quota_used, and on a capped
// API the spends stop at the limit; reservations never grant past the limit.
func TestEnginesSpendExactly(t *testing.T) {
	apis := []quotad.API{
		{Name: "steady", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1 << 40, Rule: "daily 00:00"}}},
		{Name: "capped", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 5000, Rule: "daily 00:00"}}},
		{Name: "held", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1000, Rule: "daily 00:00"}}},
	}
	chans := []quotad.Channel{{Name: "A", APIs: []string{"capped"}}, {Name: "B", APIs: []string{"steady", "capped"}}}
	es := engines(t, 3, nil, apis, chans)
	const callers, each = 16, 25
	var (
		wg                      sync.WaitGroup
		steady, capped, granted atomic.Int64
		refused                 atomic.Int64
	)
	for i, e := range es {
		for c := range callers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(i), uint64(c)))
				ctx := context.Background()
				for range each {
					u := r.Int64N(9) + 1
					if _, err := e.Spend(ctx, "steady", u, "B"); err != nil {
						t.Errorf("spend steady: %v", err)
						return
					}
					steady.Add(u)
					u = r.Int64N(40) + 1
					if _, err := e.Spend(ctx, "capped", u, "A"); err == nil {
						capped.Add(u)
					} else if !errors.Is(err, quotad.ErrExhausted) {
						t.Errorf("spend capped: %v", err)
						return
					}
					if _, err := e.Reserve(ctx, "held", 7, "", time.Hour); err == nil {
						granted.Add(7)
					} else if errors.Is(err, quotad.ErrExhausted) {
						refused.Add(1)
					} else {
						t.Errorf("reserve: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if got, want := window(es[1], t, "steady").Used, steady.Load(); got != want {
		t.Errorf("steady: quota_used %d, acknowledged %d", got, want)
	}
	w := window(es[2], t, "capped")
	if w.Used != capped.Load() {
		t.Errorf("capped: quota_used %d, acknowledged %d", w.Used, capped.Load())
	}
	if !w.Exhausted || w.Used < w.Limit || w.Used >= w.Limit+40 {
		t.Errorf("capped: used %d of %d, exhausted %v: want exhausted by the spend that reached the limit", w.Used, w.Limit, w.Exhausted)
	}
	h := window(es[0], t, "held")
	if h.Reserved != granted.Load() || h.Reserved > h.Limit || h.Limit-h.Reserved >= 7 {
		t.Errorf("held: reserved %d (granted %d) of %d after %d refusals: want every grant counted, none past the limit, none refused while 7 were free",
			h.Reserved, granted.Load(), h.Limit, refused.Load())
	}
	// Every channel that needs the exhausted API was paused exactly once.
	evs, err := es[0].Events(t.Context(), quotad.EventFilter{Category: quotad.CategoryQuota, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, ev := range evs {
		if ev.Fields["reason"] == "" {
			per["exhausted "+ev.Fields["api"]]++
		} else {
			per["paused "+ev.Channel+" "+ev.Fields["reason"]]++
		}
	}
	if per["exhausted capped"] != 1 || per["paused A quota:capped"] != 1 || per["paused B quota:capped"] != 1 || len(per) != 3 {
		t.Errorf("quota events = %v, want one exhaustion of capped and one pause each of A and B", per)
	}
	t.Logf("steady %d units, capped %d/%d, held %d/%d (%d refused)", steady.Load(), w.Used, w.Limit, h.Reserved, h.Limit, refused.Load())
}

// TestEnginesResetOnce lets 4 engines on separate stores tick concurrently
// through 20 resets of an every-1m window: each reset is applied exactly
// once and each paused channel resumed once per reset.
func TestEnginesResetOnce(t *testing.T) {
	start := time.Date(2026, 1, 11, 18, 30, 30, 0, time.UTC)
	clk := clock.NewFake(start)
	apis := []quotad.API{{Name: "fast", AutoResume: true, Windows: []quotad.Window{{Name: "minute", Limit: 10, Rule: "every 1m"}}}}
	chans := []quotad.Channel{{Name: "A", APIs: []string{"fast"}}, {Name: "B", APIs: []string{"fast"}}}
	es := engines(t, 4, clk, apis, chans)
	const rounds = 20
	for round := range rounds {
		if _, err := es[round%4].Spend(t.Context(), "fast", 10, ""); err != nil { // exhausts: A and B paused
			t.Fatalf("round %d: spend: %v", round, err)
		}
		clk.Advance(time.Minute)
		var wg sync.WaitGroup
		for _, e := range es {
			for range 3 {
				wg.Go(func() {
					if _, err := e.Tick(context.Background()); err != nil {
						t.Errorf("tick: %v", err)
					}
				})
			}
		}
		wg.Wait()
	}
	evs, err := es[0].Events(t.Context(), quotad.EventFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	resets, resumes := map[string]int{}, map[string]int{}
	for _, ev := range evs {
		switch ev.Category {
		case quotad.CategoryQuotaReset:
			resets[ev.Fields["api"]+"/"+ev.Fields["window"]+"@"+ev.Fields["next_reset"]]++
		case quotad.CategoryAutoResume:
			resumes[ev.Channel+"@"+ev.Time.Format(time.RFC3339)]++
		}
	}
	if len(resets) != rounds {
		t.Errorf("%d distinct resets, want %d: %v", len(resets), rounds, resets)
	}
	for k, n := range resets {
		if n != 1 {
			t.Errorf("reset %s applied %d times", k, n)
		}
	}
	if len(resumes) != 2*rounds {
		t.Errorf("%d auto-resumes, want %d (A and B once per reset): %v", len(resumes), 2*rounds, resumes)
	}
	for k, n := range resumes {
		if n != 1 {
			t.Errorf("auto-resume %s happened %d times", k, n)
		}
	}
}
