package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/forecast"
)

// Forecast is a window projected to run out before its next reset at its
// API's recent burn rate (see package forecast for the method).
type Forecast struct {
	API         string        `json:"api"`
	Window      string        `json:"window"`
	ExhaustedAt time.Time     `json:"exhausted_at"` // projected
	NextReset   time.Time     `json:"next_reset"`
	Early       time.Duration `json:"early"` // how long before the reset
	Free        int64         `json:"free"`  // units left: limit - used - reserved
	RatePerHour float64       `json:"rate_per_hour"`
	Lookback    time.Duration `json:"lookback"` // what the rate was measured over
	// Warned is true when this check emitted the window's forecast event
	// (once per window per period).
	Warned bool `json:"warned"`
}

// CheckForecasts projects every window's exhaustion and emits a "forecast"
// event for each window projected to run out before its next reset, once
// per window per period (across processes: the store's Once key
// "forecast/<api>/<window>/<next_reset RFC3339>"). It runs in the engine's
// group-commit path and returns every current forecast.
func (e *Engine) CheckForecasts(ctx context.Context) ([]Forecast, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) { return t.checkForecasts() })
	if err != nil {
		return nil, fmt.Errorf("check forecasts: %w", err)
	}
	return v.([]Forecast), nil
}

func (t *txn) checkForecasts() ([]Forecast, error) {
	apis, err := t.allAPIList()
	if err != nil {
		return nil, err
	}
	out := []Forecast{}
	for _, a := range apis {
		fs, err := forecastsOf(t.tx, *a, t.now)
		if err != nil {
			return nil, t.storeErr(err)
		}
		for _, f := range fs {
			key := "forecast/" + f.API + "/" + f.Window + "/" + fmtRFC(f.NextReset)
			first, err := t.tx.Once(key, t.now)
			if err != nil {
				return nil, t.storeErr(err)
			}
			if first {
				f.Warned = true
				t.emitForecast(a, f)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func (t *txn) emitForecast(a *quotad.API, f Forecast) {
	unit := a.Unit
	if unit == "" {
		unit = "units"
	}
	t.emit(quotad.LevelWarning, "", quotad.CategoryForecast,
		fmt.Sprintf("%s %s quota projected to run out at %s - %s before its reset at %s (burning %s %s/h)",
			strings.ToUpper(f.API), f.Window, t.e.human(f.ExhaustedAt), shortDuration(f.Early), t.e.human(f.NextReset),
			strconv.FormatFloat(f.RatePerHour, 'f', 0, 64), unit),
		map[string]string{
			"api": f.API, "window": f.Window, "exhausted_at": fmtRFC(f.ExhaustedAt), "next_reset": fmtRFC(f.NextReset),
			"early": shortDuration(f.Early), "early_seconds": strconv.FormatInt(int64(f.Early/time.Second), 10),
			"free": strconv.FormatInt(f.Free, 10), "rate_per_hour": strconv.FormatFloat(f.RatePerHour, 'f', 1, 64),
			"lookback": shortDuration(f.Lookback),
		})
}

// forecastsOf returns the forecasts of an API's windows at now.
func forecastsOf(tx quotad.Tx, a quotad.API, now time.Time) ([]Forecast, error) {
	if !a.Available() {
		return nil, nil // spends are refused until it is available again
	}
	rate, err := burnRate(tx, a.Name, now)
	if err != nil || rate.PerHour <= 0 {
		return nil, err
	}
	var out []Forecast
	for _, w := range a.Windows {
		// The burn rate is the API's usage in its unit, of every call: it
		// forecasts the windows that count exactly that.
		if w.Exhausted || w.Model != "" || w.Scope != "" || w.Bucket || (w.Meter != "" && w.Meter != a.Unit) {
			continue
		}
		p, ok := forecast.Forecast(w.Free(), w.NextReset, rate, now)
		if !ok {
			continue
		}
		out = append(out, Forecast{
			API: a.Name, Window: w.Name, ExhaustedAt: p.ExhaustedAt.UTC(), NextReset: w.NextReset.UTC(), Early: p.Early,
			Free: p.Free, RatePerHour: rate.PerHour, Lookback: rate.Lookback,
		})
	}
	return out, nil
}

// burnRate estimates an API's burn rate from its minute buckets of the last
// forecast.History.
func burnRate(tx quotad.Tx, api string, now time.Time) (forecast.Rate, error) {
	buckets, err := tx.Usage(quotad.UsageFilter{API: api, Since: now.Add(-forecast.History), Until: now, Resolution: quotad.Minute})
	if err != nil {
		return forecast.Rate{}, err
	}
	samples := make([]forecast.Sample, len(buckets))
	for i, b := range buckets {
		samples[i] = forecast.Sample{Start: b.Start, Units: b.Units}
	}
	return forecast.Estimate(samples, now), nil
}

// annotateForecasts fills ForecastExhaustedAt of every window in st, the
// status of apis (in the same order). The Status method calls it inside its
// read transaction.
func annotateForecasts(tx quotad.Tx, apis []quotad.API, st *quotad.Status, now time.Time) error {
	for i := range st.APIs {
		if err := annotateAPIForecast(tx, apis[i], &st.APIs[i], now); err != nil {
			return err
		}
	}
	return nil
}

// annotateAPIForecast fills ForecastExhaustedAt of the windows of s, the
// status of a, from forecastsOf. The API method calls it inside its read
// transaction.
func annotateAPIForecast(tx quotad.Tx, a quotad.API, s *quotad.APIStatus, now time.Time) error {
	fs, err := forecastsOf(tx, a, now)
	if err != nil {
		return err
	}
	for _, f := range fs {
		for i := range s.Windows {
			if s.Windows[i].Key == f.Window {
				s.Windows[i].ForecastExhaustedAt = quotad.TimePtr(f.ExhaustedAt)
			}
		}
	}
	return nil
}

// shortDuration formats a duration to the minute: "8h30m", "8h", "45m".
func shortDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case d < time.Minute:
		return "under a minute"
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}
