package forecast_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"github.com/quotad/quotad/forecast"


)

func dayAmp(seed uint64, amp float64) []int64 {
	r := rand.New(rand.NewPCG(seed, 7))
	u := make([]int64, 24*60)
	for m := range u {
		h := float64(m) / 60
		profile := 1.5 + amp*math.Exp(-(h-13)*(h-13)/(2*3*3))
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

func TestMeasureFalseAlarms(t *testing.T) {
 for _, k := range []float64{0, 2, 3, 4} {
	t.Logf("k=%v", k)
	for _, amp := range []float64{8, 10, 12, 14, 16, 18, 20, 24} {
		for seed := uint64(1); seed <= 2; seed++ {
			// two days: yesterday same profile (different seed), today
			y := dayAmp(seed+100, amp)
			d := dayAmp(seed, amp)
			s := newSeries(midnight.Add(-24*time.Hour), 10000)
			s.period = midnight
			for _, u := range y {
				s.add(u)
			}
			var total int64
			ex := -1
			first := -1
			var firstP time.Time
			for m, u := range d {
				s.add(u)
				total += u
				if total >= 10000 && ex < 0 {
					ex = m + 1
				}
				if first < 0 && ex < 0 {
					if p, ok := s.project(midnight.Add(24 * time.Hour)); ok && (k == 0 || confirm(s, p, k)) {
						first = m + 1
						firstP = p.ExhaustedAt
					}
				}
			}
			t.Logf("amp %v seed %d total %d exhaust %v at %02d:%02d firstForecast at %02d:%02d for %s", amp, seed, total, ex >= 0, ex/60, ex%60, first/60, first%60, firstP.Format("15:04"))
		}
	}
 }
}


func confirm(s *series, p forecast.Projection, k float64) bool {
	h := p.ExhaustedAt.Sub(s.now())
	now := s.now()
	var recent []forecast.Sample
	for _, x := range s.samples {
		if !x.Start.Before(now.Add(-24 * time.Hour)) {
			recent = append(recent, x)
		}
	}
	stable := p.Rate.Lookback
	for _, l := range forecast.DefaultLookbacks {
		if l <= stable { continue }
		r := forecast.Options{Lookbacks: []time.Duration{l}, MinActive: 1}.Estimate(recent, now)
		if math.Abs(r.PerHour-p.Rate.PerHour) > 0.25*p.Rate.PerHour { break }
		stable = l
	}
	return h <= time.Duration(k*float64(stable))
}
