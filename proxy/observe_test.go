package proxy_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/store/sqlite"
)

// Tests of engine.Meter, engine.Observe and engine.Drifts (engine/observe.go).

func newEngine(t *testing.T) (*engine.Engine, *sqlite.Store, *clock.Fake) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	e := engine.New(st, engine.Options{Clock: clk})
	t.Cleanup(func() { e.Close(); st.Close() })
	// Groq's windows without models: the engine's metering is the same
	// for a model's windows (their keys).
	g, _ := provider.Lookup("groq")
	groq := quotad.API{Name: "groq", Unit: "tokens", AutoResume: true, Keywords: g.Keywords}
	for _, w := range g.Windows {
		groq.Windows = append(groq.Windows, quotad.Window{Name: w.Name, Limit: w.Limit, Rule: w.Reset, Meter: g.DomainMeter(w.Name)})
	}
	apis := []quotad.API{groq, {Name: "pexels", Unit: "requests", AutoResume: true, Windows: []quotad.Window{
		{Name: "hourly", Limit: 200, Rule: "every 1h"}, {Name: "monthly", Limit: 20000, Rule: "monthly 1 00:00 UTC"}}}}
	chans := []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq", "pexels"}}, {Name: "Other", APIs: []string{"pexels"}}}
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	return e, st, clk
}

func getAPI(t *testing.T, st quotad.Store, name string) quotad.API {
	t.Helper()
	var a quotad.API
	if err := st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		a, err = tx.API(name)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return a
}

func win(t *testing.T, st quotad.Store, api, name string) quotad.Window {
	t.Helper()
	w, ok := getAPI(t, st, api).Window(name)
	if !ok {
		t.Fatalf("no window %s/%s", api, name)
	}
	return w
}

func TestObserveAdoptsProviderFigures(t *testing.T) {
	e, st, _ := newEngine(t)
	ctx := context.Background()
	reset := time.Date(2026, 7, 3, 9, 12, 0, 0, time.UTC)
	res, err := e.Observe(ctx, "pexels", []provider.Observation{
		{Window: "monthly", Limit: 20000, Remaining: 19684, Reset: reset, Source: "x-ratelimit-remaining 19684"},
		{Window: "daily", Limit: 5, Remaining: 1}, // not a window of pexels
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0] != "daily" || len(res.Adopted) != 1 {
		t.Fatalf("result %+v", res)
	}
	a := res.Adopted[0]
	if a.Window != "monthly" || a.ProviderUsed != 316 || a.QuotadUsed != 0 || a.Drift != 316 || a.NextReset == nil || !a.NextReset.Equal(reset) || a.Exhausted {
		t.Fatalf("adoption %+v", a)
	}
	w := win(t, st, "pexels", "monthly")
	if w.Used != 316 || !w.NextReset.Equal(reset) {
		t.Fatalf("monthly %+v", w)
	}
	// Unknown figures change nothing; a reset in the past is ignored.
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "monthly", Limit: -1, Remaining: -1, Reset: t0.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if w2 := win(t, st, "pexels", "monthly"); w2.Used != 316 || !w2.NextReset.Equal(reset) {
		t.Fatalf("monthly %+v", w2)
	}
	// The provider's limit may differ from the configured one: used is
	// what the provider says was used.
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: 500, Remaining: 450}}); err != nil {
		t.Fatal(err)
	}
	if w := win(t, st, "pexels", "hourly"); w.Used != 50 || w.Exhausted {
		t.Fatalf("hourly %+v", w)
	}
	// Nonsense figures (remaining above the limit) are not adopted.
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: -1, Remaining: 999}}); err != nil {
		t.Fatal(err)
	}
	if w := win(t, st, "pexels", "hourly"); w.Used != 50 {
		t.Fatalf("hourly %+v", w)
	}
	if _, err := e.Observe(ctx, "nope", nil); !errors.Is(err, quotad.ErrUnknownAPI) {
		t.Fatalf("unknown API: %v", err)
	}
}

func TestObserveRemainingZeroExhaustsUntilReset(t *testing.T) {
	e, st, clk := newEngine(t)
	ctx := context.Background()
	reset := t0.Add(37 * time.Second)
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: 200, Remaining: 0, Reset: reset}}); err != nil {
		t.Fatal(err)
	}
	w := win(t, st, "pexels", "hourly")
	if !w.Exhausted || !w.BlockedUntil.Equal(reset) || !w.NextReset.Equal(reset) || w.Used != 200 {
		t.Fatalf("hourly %+v", w)
	}
	var c quotad.Channel
	st.View(ctx, func(tx quotad.Tx) error { c, _ = tx.Channel("Other"); return nil })
	if _, ok := c.Paused(quotad.QuotaReason("pexels")); !ok {
		t.Fatal("Other not paused")
	}
	clk.Advance(37 * time.Second)
	if _, err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if !getAPI(t, st, "pexels").Available() {
		t.Fatal("not available at the provider's reset")
	}
	// Without a stated reset: until the window's own next reset.
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "monthly", Limit: -1, Remaining: 0}}); err != nil {
		t.Fatal(err)
	}
	w = win(t, st, "pexels", "monthly")
	if !w.Exhausted || !w.BlockedUntil.IsZero() || !w.Until().Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("monthly %+v", w)
	}
}

// A window quotad exhausted by its own count is freed when the provider
// says units are left, and the channels waiting for it resume.
func TestObserveFreesAWindowTheProviderSaysIsNotUsedUp(t *testing.T) {
	e, st, _ := newEngine(t)
	ctx := context.Background()
	if _, err := e.Spend(ctx, "pexels", 200, "Other"); err != nil {
		t.Fatal(err)
	}
	if getAPI(t, st, "pexels").Available() {
		t.Fatal("still available after 200 of 200")
	}
	res, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: 200, Remaining: 150}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exhausted || !getAPI(t, st, "pexels").Available() || win(t, st, "pexels", "hourly").Used != 50 {
		t.Fatalf("after the provider's figures: %+v", getAPI(t, st, "pexels"))
	}
	var c quotad.Channel
	st.View(ctx, func(tx quotad.Tx) error { c, _ = tx.Channel("Other"); return nil })
	if !c.Active() {
		t.Fatalf("Other %+v", c.Pauses)
	}
	// A block the provider stated is not lifted by figures.
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: -1, Remaining: 0, Reset: t0.Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "hourly", Limit: -1, Remaining: 10}}); err != nil {
		t.Fatal(err)
	}
	if getAPI(t, st, "pexels").Available() {
		t.Fatal("figures lifted a provider-stated block")
	}
}

func TestMeterChargesWindowByWindow(t *testing.T) {
	e, st, _ := newEngine(t)
	ctx := context.Background()
	res, err := e.Meter(ctx, engine.Metered{API: "groq", Channel: "RankRiot", Usage: 500,
		Charges: map[string]int64{"rpm": 1, "rpd": 1, "tpm": 500, "tpd": 500}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Units != 500 || res.Channel != "RankRiot" || res.Exhausted {
		t.Fatalf("result %+v", res)
	}
	for name, want := range map[string]int64{"rpm": 1, "rpd": 1, "tpm": 500, "tpd": 500} {
		if w := win(t, st, "groq", name); w.Used != want {
			t.Errorf("%s used %d, want %d", name, w.Used, want)
		}
	}
	// Unrefusable: a call past the limit is charged and exhausts.
	if _, err := e.Meter(ctx, engine.Metered{API: "groq", Charges: map[string]int64{"rpm": 40}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Meter(ctx, engine.Metered{API: "groq", Charges: map[string]int64{"rpm": 1}}); err != nil {
		t.Fatalf("a charge on an exhausted API was refused: %v", err)
	}
	if w := win(t, st, "groq", "rpm"); !w.Exhausted || w.Used != 42 {
		t.Fatalf("rpm %+v", w)
	}
	// Bad input changes nothing.
	for _, m := range []engine.Metered{
		{API: "groq", Charges: map[string]int64{"nope": 1}},
		{API: "groq", Charges: map[string]int64{"rpm": -1}},
		{API: "groq", Usage: -5},
		{API: ""},
	} {
		if _, err := e.Meter(ctx, m); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("Meter(%+v) = %v, want ErrInvalid", m, err)
		}
	}
	// A channel that does not exist is ignored; the units count.
	if _, err := e.Meter(ctx, engine.Metered{API: "groq", Channel: "Gone", Usage: 7, Charges: map[string]int64{"tpd": 7}}); err != nil {
		t.Fatal(err)
	}
	if w := win(t, st, "groq", "tpd"); w.Used != 507 {
		t.Fatalf("tpd %+v", w)
	}
	c := e.Counters()
	if c.Spends["groq"] != 4 || c.SpendUnits["groq"] != 507 {
		t.Errorf("counters %v %v", c.Spends, c.SpendUnits)
	}
	if _, err := e.Meter(ctx, engine.Metered{API: "groq", Kind: classify.KindRateLimit, Observations: []provider.Observation{{Window: "tpm", Limit: -1, Remaining: 0}}}); err != nil {
		t.Fatal(err)
	}
	if e.Counters().Classified["groq/rate_limit"] != 1 {
		t.Errorf("classified %v", e.Counters().Classified)
	}
}

// Observations are adopted after the charges: the provider's figures
// already include the call.
func TestMeterAdoptsAfterCharging(t *testing.T) {
	e, st, _ := newEngine(t)
	ctx := context.Background()
	res, err := e.Meter(ctx, engine.Metered{API: "groq", Usage: 42, Charges: map[string]int64{"rpd": 1, "tpm": 42},
		Observations: []provider.Observation{{Window: "rpd", Limit: 1000, Remaining: 990}, {Window: "tpm", Limit: 12000, Remaining: 11958}}})
	if err != nil {
		t.Fatal(err)
	}
	if w := win(t, st, "groq", "rpd"); w.Used != 10 {
		t.Fatalf("rpd %+v", w)
	}
	if w := win(t, st, "groq", "tpm"); w.Used != 42 {
		t.Fatalf("tpm %+v", w)
	}
	for _, a := range res.Adopted {
		want := map[string]int64{"rpd": 9, "tpm": 0}[a.Window]
		if a.Drift != want {
			t.Errorf("%s drift %d, want %d", a.Window, a.Drift, want)
		}
	}
}

// The drift is an event field, at most once per window per 15 minutes,
// and a gauge value per API and window.
func TestDriftEventsAndGauge(t *testing.T) {
	e, _, clk := newEngine(t)
	ctx := context.Background()
	observe := func(remaining int64) {
		t.Helper()
		if _, err := e.Observe(ctx, "pexels", []provider.Observation{{Window: "monthly", Limit: 20000, Remaining: remaining, Source: "x-ratelimit-remaining"}}); err != nil {
			t.Fatal(err)
		}
	}
	syncEvents := func() []quotad.Event {
		evs, err := e.Events(ctx, quotad.EventFilter{Category: engine.CategoryQuotaSync})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	observe(19000) // drift +1000: notable (1% of 20000 is 200)
	observe(18000) // +1000 again, too soon for another event
	observe(17990) // +10: not notable
	evs := syncEvents()
	if len(evs) != 1 || evs[0].Fields["drift"] != "1000" || evs[0].Fields["provider_used"] != "1000" || evs[0].Fields["quotad_used"] != "0" {
		t.Fatalf("events %+v", evs)
	}
	clk.Advance(16 * time.Minute)
	observe(10000)
	if evs := syncEvents(); len(evs) != 2 || evs[0].Fields["drift"] != "7990" {
		t.Fatalf("events %+v", evs)
	}
	d := e.Drifts()
	if len(d) != 1 || d[0].API != "pexels" || d[0].Window != "monthly" || d[0].Drift != 7990 || d[0].ProviderUsed != 10000 || d[0].QuotadUsed != 2010 {
		t.Fatalf("drifts %+v", d)
	}
}

// Concurrent meters from many calls all count (group commit).
func TestMeterConcurrent(t *testing.T) {
	e, st, _ := newEngine(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Meter(ctx, engine.Metered{API: "groq", Channel: "RankRiot", Usage: 10, Charges: map[string]int64{"tpd": 10, "rpd": 1}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if w := win(t, st, "groq", "tpd"); w.Used != 500 {
		t.Fatalf("tpd %+v", w)
	}
	if w := win(t, st, "groq", "rpd"); w.Used != 50 {
		t.Fatalf("rpd %+v", w)
	}
}
