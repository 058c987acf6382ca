// Package forecast projects when a quota window runs out at its API's
// recent burn rate. It is pure: samples and times in, a projection out.
//
// # Method
//
// The burn rate is a trailing mean over an adaptive lookback of per-minute
// usage buckets (an API's series: every window of an API counts the same
// units):
//
//  1. The lookback is the shortest of 1h, 2h, 4h, 8h and 24h that holds at
//     least 20 minutes with usage ("active minutes"); when none does, 24h.
//     Continuous usage is measured over the last hour, so the rate follows
//     a daytime ramp; bursty usage (a job every few hours) is measured over
//     enough bursts to average them, so one burst does not look like a
//     run-away rate.
//  2. The rate is the units spent in the lookback divided by its whole
//     length (not just the part with data: a fresh API starts slow rather
//     than alarming).
//  3. Idle: when nothing was spent for longer than max(15m, 3 x the mean gap
//     between active minutes in the lookback), the API is idle and its rate
//     is 0 - a pipeline that stopped is not projected to run anything out.
//
// A window's projected exhaustion is now + free / rate, where free is its
// limit minus used minus reserved units (Project). It is a forecast
// (Forecast) when it falls at least a minute before the window's next reset
// and no further ahead than 3 x the lookback: a rate measured over the last
// hour says little about the evening, and extrapolating a midday peak over
// ten hours warns on days that never run out.
//
// Measured on synthetic daytime-heavy days of a 10,000-unit daily window
// (forecast_test.go): the projection is within 30 minutes of the real
// exhaustion when 50%, 75% and 90% is used; the first forecast comes 2 to 4
// hours ahead; days that end below 85% of the limit get no forecast.
package forecast

import (
	"math"
	"slices"
	"time"
)

// Sample is one per-minute usage bucket: the units spent in the minute that
// starts at Start.
type Sample struct {
	Start time.Time
	Units int64
}

// Options tune the estimator. The zero value takes the defaults.
type Options struct {
	// Lookbacks are the candidate lookbacks, shortest first; default 1h,
	// 2h, 4h, 8h, 24h. The last one is the longest history read.
	Lookbacks []time.Duration
	// MinActive is how many minutes with usage a lookback needs; default 20.
	MinActive int
	// IdleGaps is how many mean gaps without usage make an API idle;
	// default 3.
	IdleGaps float64
	// MinIdle is the shortest silence that makes an API idle; default 15m.
	MinIdle time.Duration
}

// DefaultLookbacks are the candidate lookbacks of the default Options.
var DefaultLookbacks = []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour}

func (o Options) withDefaults() Options {
	if len(o.Lookbacks) == 0 {
		o.Lookbacks = DefaultLookbacks
	}
	if o.MinActive <= 0 {
		o.MinActive = 20
	}
	if o.IdleGaps <= 0 {
		o.IdleGaps = 3
	}
	if o.MinIdle <= 0 {
		o.MinIdle = 15 * time.Minute
	}
	return o
}

// History is how far back the default estimator reads: the longest of
// DefaultLookbacks (24h).
var History = slices.Max(DefaultLookbacks)

// Rate is an estimated burn rate.
type Rate struct {
	PerHour    float64       // units per hour; 0 when idle or without usage
	Lookback   time.Duration // the lookback the rate was measured over
	Units      float64       // units spent in the lookback (a straddling minute counts in part)
	Active     int           // minutes with usage in the lookback
	LastActive time.Time     // end of the last minute with usage; zero if none
	Idle       bool          // usage stopped (see the package doc)
}

// Estimate returns the burn rate at now with the default options.
func Estimate(samples []Sample, now time.Time) Rate { return Options{}.Estimate(samples, now) }

// Estimate returns the burn rate at now from per-minute samples (in any
// order; samples at or after now, or with no units, are ignored; several
// samples of the same minute, such as one per channel, add up).
func (o Options) Estimate(samples []Sample, now time.Time) Rate {
	o = o.withDefaults()
	type minute struct{ start, units int64 } // unix minute start, units
	var ms []minute                          // newest first, one per minute
	xs := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if s.Units > 0 && s.Start.Before(now) {
			xs = append(xs, s)
		}
	}
	if !slices.IsSortedFunc(xs, func(a, b Sample) int { return a.Start.Compare(b.Start) }) {
		slices.SortStableFunc(xs, func(a, b Sample) int { return a.Start.Compare(b.Start) })
	}
	for i := len(xs) - 1; i >= 0; i-- {
		m := xs[i].Start.Truncate(time.Minute).Unix()
		if n := len(ms); n > 0 && ms[n-1].start == m {
			ms[n-1].units += xs[i].Units
			continue
		}
		ms = append(ms, minute{m, xs[i].Units})
	}
	var r Rate
	if len(ms) > 0 {
		r.LastActive = time.Unix(ms[0].start, 0).Add(time.Minute)
		if r.LastActive.After(now) {
			r.LastActive = now
		}
	}
	for _, lb := range o.Lookbacks {
		from := now.Add(-lb)
		var units float64
		active := 0
		for _, m := range ms {
			start := time.Unix(m.start, 0)
			if !start.Add(time.Minute).After(from) {
				break
			}
			part := 1.0 // the oldest minute may straddle the lookback's start
			if start.Before(from) {
				part = float64(start.Add(time.Minute).Sub(from)) / float64(time.Minute)
			}
			units += part * float64(m.units)
			active++
		}
		r.Lookback, r.Units, r.Active = lb, units, active
		if active >= o.MinActive {
			break
		}
	}
	if r.Units == 0 {
		return r
	}
	gap := time.Duration(float64(r.Lookback) / float64(r.Active) * o.IdleGaps)
	if now.Sub(r.LastActive) > max(o.MinIdle, gap) {
		r.Idle = true
		return r
	}
	r.PerHour = r.Units / r.Lookback.Hours()
	return r
}

// Projection is when a window is expected to run out.
type Projection struct {
	ExhaustedAt time.Time     // now + free / rate
	NextReset   time.Time     // the window's next reset
	Early       time.Duration // how long before the reset it runs out
	Free        int64         // units left to spend
	Rate        Rate
	Horizon     time.Duration // ExhaustedAt - now
}

// MinEarly is how much earlier than its reset a window must be projected to
// run out to be reported.
const MinEarly = time.Minute

// MaxHorizon is how many lookbacks ahead a forecast may reach.
const MaxHorizon = 3

// Project returns when a window with free units left runs out at rate r,
// and whether that is at least MinEarly before its next reset, however far
// ahead. A window with nothing free (already exhausted), no next reset or
// no rate gives false.
func Project(free int64, nextReset time.Time, r Rate, now time.Time) (Projection, bool) {
	if free <= 0 || nextReset.IsZero() || r.PerHour <= 0 || !nextReset.After(now) {
		return Projection{}, false
	}
	hours := float64(free) / r.PerHour
	if hours >= nextReset.Sub(now).Hours() || math.IsNaN(hours) {
		return Projection{}, false
	}
	at := now.Add(time.Duration(hours * float64(time.Hour))).Truncate(time.Second)
	p := Projection{ExhaustedAt: at, NextReset: nextReset, Early: nextReset.Sub(at), Free: free, Rate: r, Horizon: at.Sub(now)}
	if p.Early < MinEarly {
		return Projection{}, false
	}
	return p, true
}

// Confident reports whether the projection reaches no further ahead than
// MaxHorizon times the lookback its rate was measured over.
func (p Projection) Confident() bool {
	return p.Horizon <= MaxHorizon*p.Rate.Lookback
}

// Forecast is Project restricted to confident projections: what the engine
// reports and warns about.
func Forecast(free int64, nextReset time.Time, r Rate, now time.Time) (Projection, bool) {
	p, ok := Project(free, nextReset, r, now)
	if !ok || !p.Confident() {
		return Projection{}, false
	}
	return p, true
}
