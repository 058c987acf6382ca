package forecast_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/quotad/quotad/forecast"
)

var midnight = time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)

// series feeds per-minute units and answers projections minute by minute,
// as the engine does: samples are the buckets of the last 24 hours.
type series struct {
	start   time.Time
	units   []int64 // units[i] is the minute starting at start + i minutes
	limit   int64
	used    int64     // units since the window's last reset, period
	period  time.Time // the window's last reset
	samples []forecast.Sample
}

// newSeries starts a series at start for a window of limit units that last
// reset at start.
func newSeries(start time.Time, limit int64) *series {
	return &series{start: start, limit: limit, period: start}
}

// add records the units of the next minute.
func (s *series) add(u int64) {
	at := s.start.Add(time.Duration(len(s.units)) * time.Minute)
	s.units = append(s.units, u)
	if !at.Before(s.period) {
		s.used += u
	}
	if u > 0 {
		s.samples = append(s.samples, forecast.Sample{Start: at, Units: u})
	}
}

// now is the end of the last minute added.
func (s *series) now() time.Time { return s.start.Add(time.Duration(len(s.units)) * time.Minute) }

// rate is the burn rate now, from the last day of samples.
func (s *series) rate() forecast.Rate {
	now := s.now()
	from := sort.Search(len(s.samples), func(i int) bool { return !s.samples[i].Start.Before(now.Add(-forecast.History)) })
	return forecast.Estimate(s.samples[from:], now)
}

// project is the forecast the engine would report now.
func (s *series) project(reset time.Time) (forecast.Projection, bool) {
	return forecast.Forecast(s.limit-s.used, reset, s.rate(), s.now())
}

// raw is the projection however far ahead it reaches.
func (s *series) raw(reset time.Time) (forecast.Projection, bool) {
	return forecast.Project(s.limit-s.used, reset, s.rate(), s.now())
}

func TestSteady(t *testing.T) {
	s := newSeries(midnight, 10000)
	reset := midnight.Add(24 * time.Hour)
	for range 6 * 60 { // 10 units a minute from midnight: 3600 used by 06:00
		s.add(10)
	}
	want := midnight.Add(16*time.Hour + 40*time.Minute) // 6400 left at 600/h: 10h40m
	p, ok := s.raw(reset)
	if !ok || p.ExhaustedAt.Sub(want).Abs() > time.Second || p.Rate.PerHour != 600 || p.Rate.Lookback != time.Hour || p.Free != 6400 {
		t.Fatalf("projection %+v %v, want exhaustion at %s", p, ok, want)
	}
	// 10h40m ahead is more than 3 lookbacks of 1h: not yet a forecast.
	if p, ok := s.project(reset); ok {
		t.Fatalf("forecast 10h40m ahead from a 1h rate: %+v", p)
	}
	for s.now().Before(want.Add(-3 * time.Hour)) {
		s.add(10)
	}
	p, ok = s.project(reset)
	if !ok || p.ExhaustedAt.Sub(want).Abs() > time.Second || p.Early != reset.Sub(want) || p.Horizon != 3*time.Hour {
		t.Fatalf("3h ahead: forecast %+v %v, want exhaustion at %s", p, ok, want)
	}
	// A steady rate that lasts to the reset is no forecast.
	s = newSeries(midnight, 10000)
	for range 20 * 60 {
		s.add(6) // 8640 a day
		if p, ok := s.project(reset); ok {
			t.Fatalf("6/min on 10000/day: forecast %+v", p)
		}
	}
}

func TestStraddlingMinute(t *testing.T) {
	// 60 units in each minute 10:00..11:59; at 12:00:30 the last hour
	// starts half-way through the 11:00 minute, which counts half.
	var samples []forecast.Sample
	for m := range 120 {
		samples = append(samples, forecast.Sample{Start: midnight.Add(10*time.Hour + time.Duration(m)*time.Minute), Units: 60})
	}
	r := forecast.Estimate(samples, midnight.Add(12*time.Hour+30*time.Second))
	if r.Lookback != time.Hour || r.Units != 59.5*60 || r.PerHour != 3570 || r.Active != 60 {
		t.Errorf("rate %+v, want 3570/h over 1h", r)
	}
}

func TestSparseSteady(t *testing.T) {
	// One spend of 50 every 5 minutes: 12 active minutes an hour, so the
	// estimator widens to 2h and still finds 600/h.
	s := newSeries(midnight, 10000)
	for i := range 6 * 60 {
		if i%5 == 0 {
			s.add(50)
		} else {
			s.add(0)
		}
	}
	p, ok := s.raw(midnight.Add(24 * time.Hour))
	if !ok || p.Rate.Lookback != 2*time.Hour || math.Abs(p.Rate.PerHour-600) > 1e-9 {
		t.Fatalf("projection %+v %v", p, ok)
	}
}

func TestBursty(t *testing.T) {
	reset := midnight.Add(24 * time.Hour)
	// A job that spends 1000 units in one minute every 3 hours uses 8000 a
	// day of 10000: right after any burst, no forecast.
	s := newSeries(midnight.Add(-24*time.Hour), 10000)
	s.period = midnight
	for i := range 48 * 60 {
		if i%180 == 0 {
			s.add(1000)
		} else {
			s.add(0)
		}
		if s.now().After(reset) {
			s.period, s.used, reset = reset, 0, reset.Add(24*time.Hour)
		}
		if p, ok := s.project(reset); ok {
			t.Fatalf("%s: bursts of 1000 every 3h on 10000/day forecast %+v", s.now().Format("15:04"), p)
		}
	}
	// Bursts of 2000 every 3 hours (and so the day before) run out at the
	// burst of 12:00: after the bursts at 00:00, 03:00 and 06:00 (4000 left
	// at a rate of 16000/24h) the forecast says so.
	s = newSeries(midnight.Add(-24*time.Hour), 10000)
	s.period = midnight
	for i := range 30*60 + 1 {
		if i%180 == 0 {
			s.add(2000)
		} else {
			s.add(0)
		}
	}
	p, ok := s.project(reset)
	actual := midnight.Add(12 * time.Hour)
	if !ok || p.ExhaustedAt.Sub(actual).Abs() > 5*time.Minute {
		t.Fatalf("bursts of 2000 every 3h: projection %+v %v, want about %s", p, ok, actual)
	}
	if p.Rate.Lookback != 24*time.Hour {
		t.Errorf("lookback %s, want 24h (bursts are averaged over the whole history)", p.Rate.Lookback)
	}
	t.Logf("bursty: projected %s, actual %s (error %s)", p.ExhaustedAt.Format("15:04"), actual.Format("15:04"), p.ExhaustedAt.Sub(actual))
}

func TestIdle(t *testing.T) {
	reset := midnight.Add(24 * time.Hour)
	s := newSeries(midnight, 10000)
	for range 6 * 60 {
		s.add(0)
	}
	if p, ok := s.project(reset); ok || p.Rate.PerHour != 0 {
		t.Fatalf("no usage: %+v %v", p, ok)
	}
	// Two busy hours project exhaustion; 15 quiet minutes later the API is
	// idle and the forecast is gone.
	s = newSeries(midnight.Add(6*time.Hour), 10000)
	for range 120 {
		s.add(40)
	}
	if _, ok := s.project(reset); !ok {
		t.Fatal("busy: no forecast")
	}
	for i := range 16 {
		s.add(0)
		p, ok := s.project(reset)
		if i < 15 && !ok {
			t.Fatalf("forecast gone after %d quiet minutes", i+1)
		}
		if i == 15 && (ok || !p.Rate.Idle && p.Rate.PerHour != 0) {
			t.Fatalf("after 16 quiet minutes: %+v %v", p, ok)
		}
	}
	r := forecast.Estimate(s.samples, s.now())
	if !r.Idle || r.PerHour != 0 || !r.LastActive.Equal(midnight.Add(8*time.Hour)) {
		t.Errorf("rate %+v", r)
	}
}

func TestProjectEdges(t *testing.T) {
	now := midnight.Add(12 * time.Hour)
	r := forecast.Rate{PerHour: 100}
	for _, tt := range []struct {
		name  string
		free  int64
		reset time.Time
		rate  forecast.Rate
	}{
		{"exhausted", 0, now.Add(time.Hour), r},
		{"no reset", 10, time.Time{}, r},
		{"reset passed", 10, now, r},
		{"no rate", 10, now.Add(time.Hour), forecast.Rate{}},
		{"lasts to the reset", 1000, now.Add(10 * time.Hour), r},
		{"less than a minute early", 100, now.Add(time.Hour + 30*time.Second), r},
	} {
		if p, ok := forecast.Project(tt.free, tt.reset, tt.rate, now); ok {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	p, ok := forecast.Project(100, now.Add(2*time.Hour), r, now)
	if !ok || !p.ExhaustedAt.Equal(now.Add(time.Hour)) || p.Early != time.Hour {
		t.Errorf("projection %+v %v", p, ok)
	}
}

// syntheticDay is a recorded-looking day of one API's minute usage: a quiet
// night, a daytime hump peaking at 13:00 (peak is its height in units a
// minute), noisy minutes (a fifth of them without calls, the rest
// log-normal around the profile) and three job runs of 300 units. The seed
// makes it the same day every time.
func syntheticDay(seed uint64, peak float64) []int64 {
	r := rand.New(rand.NewPCG(seed, 7))
	u := make([]int64, 24*60)
	for m := range u {
		h := float64(m) / 60
		profile := 1.5 + peak*math.Exp(-(h-13)*(h-13)/(2*3*3)) // units a minute
		if r.Float64() < 0.2 {
			continue
		}
		u[m] = int64(math.Round(profile / 0.8 * math.Exp(r.NormFloat64()*0.5-0.125)))
	}
	for _, job := range []int{9 * 60, 12*60 + 30, 15 * 60} {
		u[job] += 300
	}
	return u
}

// replay feeds yesterday and today (two synthetic days) minute by minute
// against a 10,000-unit window that resets at midnight, calling at with
// today's minutes.
func replay(seed uint64, peak float64, at func(s *series, reset time.Time)) {
	s := newSeries(midnight.Add(-24*time.Hour), 10000)
	s.period = midnight
	for _, u := range syntheticDay(seed+100, peak) {
		s.add(u)
	}
	reset := midnight.Add(24 * time.Hour)
	for _, u := range syntheticDay(seed, peak) {
		s.add(u)
		at(s, reset)
	}
}

// TestAccuracyOnARecordedDay replays synthetic days minute by minute
// against a 10,000-unit daily window and compares the projected exhaustion,
// when 50%, 75% and 90% of the window is used, with the real one. It also
// reports how long before the exhaustion the first forecast (the event)
// comes.
func TestAccuracyOnARecordedDay(t *testing.T) {
	const limit, peak = 10000, 20
	const tolerance = 35 * time.Minute
	for _, seed := range []uint64{1, 2, 3} {
		day := syntheticDay(seed, peak)
		var total, used int64
		exhausted := -1
		for m, u := range day {
			total += u
			if used += u; used >= limit && exhausted < 0 {
				exhausted = m + 1
			}
		}
		if exhausted < 0 {
			t.Fatalf("seed %d: the day uses %d units and never exhausts the window", seed, total)
		}
		actual := midnight.Add(time.Duration(exhausted) * time.Minute)
		marks := []int{50, 75, 90}
		var first forecast.Projection
		var firstAt time.Time
		replay(seed, peak, func(s *series, reset time.Time) {
			if p, ok := s.project(reset); ok && firstAt.IsZero() && s.used < limit {
				first, firstAt = p, s.now()
			}
			if len(marks) == 0 || s.used*100 < int64(marks[0])*limit {
				return
			}
			pct := marks[0]
			marks = marks[1:]
			p, ok := s.raw(reset)
			if !ok {
				t.Errorf("seed %d, %d%% used at %s: no projection", seed, pct, s.now().Format("15:04"))
				return
			}
			err := p.ExhaustedAt.Sub(actual)
			t.Logf("seed %d (%d units, runs out at %s): %d%% used at %s, projected %s, error %+4.0f min (%2.0f%% of the %s left), rate %.0f/h over %s",
				seed, total, actual.Format("15:04"), pct, s.now().Format("15:04"), p.ExhaustedAt.Format("15:04"), err.Minutes(),
				100*err.Abs().Hours()/actual.Sub(s.now()).Hours(), actual.Sub(s.now()).Round(time.Minute), p.Rate.PerHour, p.Rate.Lookback)
			if err.Abs() > tolerance {
				t.Errorf("seed %d, %d%% used: projection off by %s, tolerance %s", seed, pct, err, tolerance)
			}
		})
		if firstAt.IsZero() {
			t.Errorf("seed %d: no forecast before the window ran out at %s", seed, actual.Format("15:04"))
			continue
		}
		lead := actual.Sub(firstAt)
		t.Logf("seed %d: first forecast at %s (%s ahead), projecting %s (error %+.0f min)", seed, firstAt.Format("15:04"),
			lead, first.ExhaustedAt.Format("15:04"), first.ExhaustedAt.Sub(actual).Minutes())
		if lead < 90*time.Minute {
			t.Errorf("seed %d: first forecast only %s before the exhaustion", seed, lead)
		}
	}
}

// TestNoForecastOnQuietDays replays days of the same shape that end below
// 85% of the limit: no forecast may fire.
func TestNoForecastOnQuietDays(t *testing.T) {
	for _, peak := range []float64{6, 8, 10} {
		for _, seed := range []uint64{1, 2, 3} {
			fired := false
			var used int64
			replay(seed, peak, func(s *series, reset time.Time) {
				used = s.used
				if p, ok := s.project(reset); ok && !fired {
					fired = true
					t.Errorf("peak %v seed %d: forecast at %s (%d used): %+v", peak, seed, s.now().Format("15:04"), s.used, p)
				}
			})
			if used >= 8500 {
				t.Fatalf("peak %v seed %d: the day uses %d, not a quiet day", peak, seed, used)
			}
		}
	}
}
