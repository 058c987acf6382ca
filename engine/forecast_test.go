package engine

import (
	"context"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/store/sqlite"
)

// forecastFixture is an engine on a fresh SQLite store with the default
// APIs (youtube: 10,000 units daily at midnight in Los Angeles) and channel
// RankRiot, on a fake clock.
type forecastFixture struct {
	t     *testing.T
	ctx   context.Context
	e     *Engine
	clock *clock.Fake
}

func newForecastFixture(t *testing.T, start time.Time) *forecastFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.DefaultConfig()
	fc := clock.NewFake(start)
	e := New(st, Options{Clock: fc, Location: cfg.Location()})
	t.Cleanup(func() { e.Close(); st.Close() })
	apis, _ := cfg.Domain()
	if _, err := e.Configure(ctx, apis, []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq", "youtube"}}}); err != nil {
		t.Fatal(err)
	}
	return &forecastFixture{t: t, ctx: ctx, e: e, clock: fc}
}

// minute spends units on youtube (0 = nothing), lets a minute pass, applies
// due resets and checks forecasts.
func (f *forecastFixture) minute(units int64) []Forecast {
	f.t.Helper()
	f.step(units)
	return f.check()
}

// step is minute without the forecast check.
func (f *forecastFixture) step(units int64) {
	f.t.Helper()
	if units > 0 {
		if _, err := f.e.Spend(f.ctx, "youtube", units, "RankRiot"); err != nil {
			f.t.Fatalf("%s: spend: %v", f.clock.Now(), err)
		}
	}
	before := f.clock.Now()
	f.clock.Advance(time.Minute)
	if f.clock.Now().In(before.Location()).Day() != before.Day() { // the daily reset is due
		if _, err := f.e.Tick(f.ctx); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *forecastFixture) check() []Forecast {
	f.t.Helper()
	fs, err := f.e.CheckForecasts(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return fs
}

func (f *forecastFixture) events() []quotad.Event {
	f.t.Helper()
	evs, err := f.e.Events(f.ctx, quotad.EventFilter{Category: quotad.CategoryForecast})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

// status returns youtube's status with forecasts filled in, as Status and
// API do.
func (f *forecastFixture) status() quotad.APIStatus {
	f.t.Helper()
	st, err := f.e.Status(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	one, err := f.e.API(f.ctx, "youtube")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range st.APIs {
		if a.Name == "youtube" {
			if (a.Windows[0].ForecastExhaustedAt == nil) != (one.Windows[0].ForecastExhaustedAt == nil) {
				f.t.Errorf("Status and API disagree: %v, %v", a.Windows[0].ForecastExhaustedAt, one.Windows[0].ForecastExhaustedAt)
			}
			return a
		}
	}
	f.t.Fatal("no youtube")
	return quotad.APIStatus{}
}

func TestForecastSteadyOncePerPeriod(t *testing.T) {
	la := config.DefaultConfig().Location()
	start := time.Date(2026, 1, 11, 6, 0, 0, 0, la)
	f := newForecastFixture(t, start)
	// 30 units a minute runs the 10,000 out at 11:33:20. The forecast comes
	// once the projection is at most 3h ahead (3 x the 1h lookback): when
	// 4620 are used, at 08:34.
	want := start.Add(10000 * time.Minute / 30)
	var first []Forecast
	for f.clock.Now().Before(start.Add(3 * time.Hour)) {
		fs := f.minute(30)
		isFirst := first == nil && len(fs) > 0
		if isFirst {
			first = fs
			if now := f.clock.Now(); !now.Equal(start.Add(154 * time.Minute)) {
				t.Errorf("first forecast at %s, want 08:34", now.Format("15:04"))
			}
			if f.status().Windows[0].ForecastExhaustedAt == nil {
				t.Error("no ForecastExhaustedAt")
			}
		}
		if first == nil && f.clock.Now().Minute()%10 == 0 && f.status().Windows[0].ForecastExhaustedAt != nil {
			t.Fatalf("%s: ForecastExhaustedAt without a forecast", f.clock.Now().Format("15:04"))
		}
		for _, fc := range fs {
			if fc.Warned != isFirst {
				t.Errorf("%s: Warned = %v", f.clock.Now().Format("15:04"), fc.Warned)
			}
		}
	}
	if len(first) != 1 {
		t.Fatalf("forecasts = %+v", first)
	}
	fc := first[0]
	nextReset := time.Date(2026, 1, 12, 0, 0, 0, 0, la)
	if fc.API != "youtube" || fc.Window != "daily" || fc.ExhaustedAt.Sub(want).Abs() > time.Second || !fc.NextReset.Equal(nextReset) ||
		fc.RatePerHour != 1800 || fc.Lookback != time.Hour || fc.Free != 10000-154*30 || !fc.Warned {
		t.Errorf("forecast %+v, want exhaustion at %s", fc, want)
	}
	if at := f.status().Windows[0].ForecastExhaustedAt; at == nil || at.Sub(want).Abs() > time.Minute {
		t.Errorf("ForecastExhaustedAt = %v, want about %s", at, want)
	}
	evs := f.events()
	if len(evs) != 1 {
		t.Fatalf("%d forecast events, want 1: %+v", len(evs), evs)
	}
	ev := evs[0]
	wantMsg := "YOUTUBE daily quota projected to run out at 2026-01-11 11:33:20 PST - 12h27m before its reset at 2026-01-12 00:00:00 PST (burning 1800 units/h)"
	if ev.Level != quotad.LevelWarning || ev.Message != wantMsg || ev.Fields["api"] != "youtube" || ev.Fields["window"] != "daily" ||
		ev.Fields["exhausted_at"] != "2026-01-11T19:33:20Z" || ev.Fields["next_reset"] != "2026-01-12T08:00:00Z" || ev.Fields["early"] != "12h27m" {
		t.Errorf("event %+v\nwant message %q", ev, wantMsg)
	}

	// Exhausted: no forecast. After the reset, a new period warns again.
	for exhausted := false; !exhausted; f.clock.Advance(time.Minute) {
		res, err := f.e.Spend(f.ctx, "youtube", min(30, f.status().Windows[0].Remaining), "RankRiot")
		if err != nil {
			t.Fatal(err)
		}
		exhausted = res.Exhausted
	}
	if st := f.status(); st.Available || st.Windows[0].ForecastExhaustedAt != nil {
		t.Fatalf("exhausted: %+v", st.Windows[0])
	}
	f.clock.Set(nextReset.Add(-time.Minute))
	for range 60 { // the API is exhausted until midnight; then 20 quiet minutes
		f.step(0)
	}
	var second []Forecast
	for i := 0; second == nil; i++ {
		f.step(30)
		if i%5 == 0 {
			if fs := f.check(); len(fs) > 0 {
				second = fs
			}
		}
	}
	if !second[0].Warned || !second[0].NextReset.Equal(nextReset.Add(24*time.Hour)) {
		t.Errorf("second period: %+v", second)
	}
	if n := len(f.events()); n != 2 {
		t.Errorf("%d forecast events, want 2", n)
	}
}

func TestForecastIdle(t *testing.T) {
	la := config.DefaultConfig().Location()
	start := time.Date(2026, 1, 11, 6, 0, 0, 0, la)
	f := newForecastFixture(t, start)
	for range 120 {
		if fs := f.minute(0); len(fs) > 0 {
			t.Fatalf("no usage: %+v", fs)
		}
	}
	// A busy spell that would run out, then silence: once idle (15 quiet
	// minutes), no forecast, and the status shows none.
	for range 150 {
		f.minute(35)
	}
	if fs := f.minute(35); len(fs) != 1 || f.status().Windows[0].ForecastExhaustedAt == nil {
		t.Fatalf("busy: forecasts %+v", fs)
	}
	for i := range 16 {
		fs := f.minute(0)
		if i == 15 && (len(fs) > 0 || f.status().Windows[0].ForecastExhaustedAt != nil) {
			t.Errorf("idle: forecasts %+v", fs)
		}
	}
	if n := len(f.events()); n != 1 {
		t.Errorf("%d forecast events, want 1", n)
	}
}

func TestForecastBursty(t *testing.T) {
	la := config.DefaultConfig().Location()
	day1 := time.Date(2026, 1, 10, 0, 0, 0, 0, la)
	f := newForecastFixture(t, day1)
	burst := func(units int64) []Forecast {
		var fs []Forecast
		for i := range 180 { // one burst, then 3 quiet hours; checked after the burst and every 20 minutes
			u := int64(0)
			if i == 0 {
				u = units
			}
			f.step(u)
			if i%20 == 0 {
				if got := f.check(); len(got) > 0 {
					fs = got
				}
			}
		}
		return fs
	}
	// A job spends 1000 every 3 hours: 8000 a day of 10,000. Right after
	// each burst the last hour looks busy, but bursts are averaged over
	// the day: no forecast.
	for range 8 {
		if fs := burst(1000); fs != nil {
			t.Fatalf("%s: bursts of 1000 every 3h: %+v", f.clock.Now().Format("Jan 2 15:04"), fs)
		}
	}
	// The next day the job spends 2500 a run: 4 runs exhaust the window.
	// The forecast comes after the first runs, projecting a time before
	// midnight.
	var fs []Forecast
	for i := 0; fs == nil && i < 3; i++ {
		fs = burst(2500)
	}
	if len(fs) != 1 || !fs[0].ExhaustedAt.Before(day1.Add(48*time.Hour)) || fs[0].Lookback != 24*time.Hour {
		t.Fatalf("bursts of 2500: %+v", fs)
	}
	evs := f.events()
	if len(evs) != 1 || evs[0].Time.Before(day1.Add(24*time.Hour)) {
		t.Fatalf("events %+v", evs)
	}
	t.Logf("bursty: %s at %s", evs[0].Message, evs[0].Time.In(la).Format("Jan 2 15:04"))
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "under a minute", 90 * time.Second: "2m", 45 * time.Minute: "45m", 8 * time.Hour: "8h",
		8*time.Hour + 30*time.Minute + 10*time.Second: "8h30m", 50 * time.Hour: "50h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
