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
// limit minus used minus reserved units. It is reported only when it falls
// at least a minute before the window's next reset.
//
// On a synthetic daytime-heavy day (see forecast_test.go) the projection is
// within about 30 minutes of the real exhaustion when 90% is used, and
// within about an hour and a half when 50% is used.
package forecast

import (
	"math"
	"sort"
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

// History returns how far back Estimate reads: the longest lookback.
func (o Options) History() time.Duration {
	o = o.withDefaults()
	return o.Lookbacks[len(o.Lookbacks)-1]
}

// History is how far back the default estimator reads (24h).
const History = 24 * time.Hour

// Rate is an estimated burn rate.
type Rate struct {
	PerHour    float64       // units per hour; 0 when idle or without usage
	Lookback   time.Duration // the lookback the rate was measured over
	Units      int64         // units spent in the lookback
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
	minutes := map[int64]int64{} // minute start (unix) → units
	for _, s := range samples {
		if s.Units <= 0 || !s.Start.Before(now) {
			continue
		}
		minutes[s.Start.Unix()] += s.Units
	}
	starts := make([]int64, 0, len(minutes))
	for m := range minutes {
		starts = append(starts, m)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] > starts[j] }) // newest first
	var r Rate
	if len(starts) > 0 {
		r.LastActive = time.Unix(starts[0], 0).Add(time.Minute)
		if r.LastActive.After(now) {
			r.LastActive = now
		}
	}
	for _, lb := range o.Lookbacks {
		from := now.Add(-lb).Unix()
		var units int64
		active := 0
		for _, m := range starts {
			if m < from {
				break
			}
			units += minutes[m]
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
	r.PerHour = float64(r.Units) / r.Lookback.Hours()
	return r
}

// Projection is when a window is expected to run out.
type Projection struct {
	ExhaustedAt time.Time     // now + free / rate
	NextReset   time.Time     // the window's next reset
	Early       time.Duration // how long before the reset it runs out
	Free        int64         // units left to spend
	Rate        Rate
}

// MinEarly is how much earlier than its reset a window must be projected to
// run out for Project to report it.
const MinEarly = time.Minute

// Project returns when a window with free units left runs out at rate r,
// and whether that is at least MinEarly before its next reset. A window
// with nothing free (already exhausted), no next reset or no rate gives
// false.
func Project(free int64, nextReset time.Time, r Rate, now time.Time) (Projection, bool) {
	if free <= 0 || nextReset.IsZero() || r.PerHour <= 0 || !nextReset.After(now) {
		return Projection{}, false
	}
	hours := float64(free) / r.PerHour
	limit := nextReset.Sub(now).Hours()
	if hours >= limit || math.IsNaN(hours) {
		return Projection{}, false
	}
	at := now.Add(time.Duration(hours * float64(time.Hour))).Truncate(time.Second)
	p := Projection{ExhaustedAt: at, NextReset: nextReset, Early: nextReset.Sub(at), Free: free, Rate: r}
	if p.Early < MinEarly {
		return Projection{}, false
	}
	return p, true
}
