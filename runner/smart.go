package runner

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
)

// This file holds quota-aware scheduling: learned costs per run, pacing,
// and the decision that combines them with the gate.

// Defaults of cost learning.
const (
	DefaultCostWeight = 0.3 // weight of the newest run in a channel's average cost
	DefaultCostRuns   = 20  // how many recent runs' events seed the averages at start
)

// Costs learns what each channel's run really spends per API: an
// exponentially weighted average of the units its runs spent, per channel
// and API. It is safe for concurrent use. Until a channel has a run, its
// configured estimate is its cost.
type Costs struct {
	mu     sync.Mutex
	weight float64
	avg    map[string]map[string]float64 // channel → API → average units per run
	runs   map[string]int
}

// NewCosts returns an empty model; weight (0 < weight <= 1) is the share
// of the newest run in the average (DefaultCostWeight when out of range).
func NewCosts(weight float64) *Costs {
	if weight <= 0 || weight > 1 {
		weight = DefaultCostWeight
	}
	return &Costs{weight: weight, avg: map[string]map[string]float64{}, runs: map[string]int{}}
}

// Observe adds one run of a channel that spent the given units per API (an
// API it did not spend on counts as 0).
func (c *Costs) Observe(channel string, spent map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.avg[channel]
	if m == nil {
		m = map[string]float64{}
		c.avg[channel] = m
	}
	first := c.runs[channel] == 0
	for api := range spent {
		if _, ok := m[api]; !ok && !first {
			m[api] = 0
		}
	}
	for api, v := range m {
		m[api] = (1-c.weight)*v + c.weight*float64(spent[api])
	}
	if first {
		for api, u := range spent {
			m[api] = float64(u)
		}
	}
	c.runs[channel]++
}

// Runs returns how many runs of a channel the model has seen.
func (c *Costs) Runs(channel string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[channel]
}

// Cost returns a channel's expected units per API for its next run: the
// learned averages (rounded up) once it has runs, else the estimate. learned
// says which. A job without an estimate is gated by what its recent runs
// spent as soon as it has one; before its first run its cost is empty.
func (c *Costs) Cost(channel string, estimate map[string]int64) (cost map[string]int64, learned bool) {
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.runs[channel] > 0 {
			out := map[string]int64{}
			for api, v := range c.avg[channel] {
				if u := int64(math.Ceil(v - 1e-9)); u > 0 {
					out[api] = u
				}
			}
			return out, true
		}
	}
	out := make(map[string]int64, len(estimate))
	for k, v := range estimate {
		out[k] = v
	}
	return out, false
}

// NeedCosts returns a learned cost with every provider of each of the
// channel's fallback needs charged the need's whole cost: the sum of its
// providers' averages (a run spends on one of them, so their averages split
// what the need takes). Estimates are per provider already: pass them as
// they are.
func NeedCosts(ch quotad.Channel, cost map[string]int64) map[string]int64 {
	if len(ch.Fallbacks) == 0 || len(cost) == 0 {
		return cost
	}
	out := maps.Clone(cost)
	for _, capb := range ch.Fallbacks {
		var sum int64
		for _, p := range capb.Providers {
			sum += cost[p]
		}
		if sum == 0 {
			continue
		}
		for _, p := range capb.Providers {
			out[p] = sum
		}
	}
	return out
}

// LearnCosts seeds a model from the job events of the channels: the "spent"
// field the runner records with each run, the newest n runs per channel
// (DefaultCostRuns when n <= 0), oldest first.
func LearnCosts(ctx context.Context, e *engine.Engine, channels []string, n int, weight float64) (*Costs, error) {
	if n <= 0 {
		n = DefaultCostRuns
	}
	c := NewCosts(weight)
	for _, ch := range channels {
		evs, err := e.Events(ctx, quotad.EventFilter{Category: quotad.CategoryJob, Channel: ch, Limit: 4 * n})
		if err != nil {
			return nil, fmt.Errorf("learning costs of %s: %w", ch, err)
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		var runs []map[string]int64
		for _, ev := range evs {
			if s, ok := ev.Fields["spent"]; ok && ev.Fields["interrupted"] == "" && ev.Fields["kind"] != string(classify.KindHold) {
				runs = append(runs, ParseSpent(s))
			}
		}
		if len(runs) > n {
			runs = runs[len(runs)-n:]
		}
		for _, r := range runs {
			c.Observe(ch, r)
		}
	}
	return c, nil
}

// FormatSpent formats units per API as the "spent" field of a job event:
// "groq=3000,youtube=100", sorted; "" for nothing.
func FormatSpent(spent map[string]int64) string {
	keys := slices.Sorted(maps.Keys(spent))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.FormatInt(spent[k], 10))
	}
	return strings.Join(parts, ",")
}

// ParseSpent reads a "spent" field; malformed parts are skipped.
func ParseSpent(s string) map[string]int64 {
	out := map[string]int64{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if n, err := strconv.ParseInt(v, 10, 64); ok && k != "" && err == nil && n >= 0 {
			out[k] = n
		}
	}
	return out
}

// spent returns what a channel spent per API between start and end, at the
// minute resolution of usage history (the minutes of start and end count).
func (r *Runner) spent(ctx context.Context, channel string, start, end time.Time) (map[string]int64, error) {
	pts, err := r.e.Usage(ctx, engine.UsageQuery{
		Channel: channel, By: engine.ByMinute,
		Since: start.Truncate(time.Minute), Until: end.Truncate(time.Minute).Add(time.Minute),
	})
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, p := range pts {
		if p.Channel == channel {
			out[p.API] += p.Units
		}
	}
	return out, nil
}

// Allowance returns what a paced window allows to have been spent by now:
// limit × (now − last_reset) / (next_reset − last_reset), and when the
// allowance reaches units (the zero time when never within the period).
func Allowance(w quotad.Window, now time.Time, units int64) (allowed int64, at time.Time) {
	period := w.NextReset.Sub(w.LastReset)
	if period <= 0 || w.LastReset.IsZero() {
		return w.Limit, time.Time{}
	}
	elapsed := min(max(now.Sub(w.LastReset), 0), period)
	allowed = int64(float64(w.Limit) * float64(elapsed) / float64(period))
	if units <= w.Limit {
		d := time.Duration(math.Ceil(float64(period) * float64(units) / float64(w.Limit)))
		at = w.LastReset.Add(d)
		if at.Before(now) {
			at = now
		}
	}
	return allowed, at
}

// Decide is the full start decision for a run of a channel at now: Gate
// with the run's expected cost, then pacing: for each API in paced that the
// run spends on (an API the channel needs, or an extra in cost), every
// window's used + reserved before the run must be within its allowance (a
// run is paid for by the end of its share of the period: the first run of a
// period starts at once, and the last one, which takes the window to its
// limit, starts one share before the reset, not at it). A paced hold lasts
// until the allowance covers what was spent (or the window's reset).
func Decide(ch quotad.Channel, apis map[string]quotad.API, cost map[string]int64, paced map[string]bool, now time.Time) Hold {
	if h := Gate(ch, apis, cost, now); h.Held() {
		return h
	}
	names := make([]string, 0, len(cost))
	for name, units := range cost {
		if paced[name] && units > 0 && !isProvider(ch, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		a := apis[name]
		for _, w := range a.Windows {
			need := w.Used + w.Reserved
			allowed, at := Allowance(w, now, need)
			if need <= allowed {
				continue
			}
			if at.IsZero() || at.After(w.NextReset) {
				at = w.NextReset
			}
			return Hold{Reason: fmt.Sprintf("paced: %s/%s allows %d of %d %s by now; %d used and %d for this run",
				name, w.Name, allowed, w.Limit, unit(a), w.Used+w.Reserved, cost[name]),
				Until: notBefore(at, now), Kind: HoldPaced}
		}
	}
	return Hold{}
}

// withPending returns a copy of apis whose windows count pending units per
// API as reserved.
func withPending(apis map[string]quotad.API, pending map[string]int64) map[string]quotad.API {
	if len(pending) == 0 {
		return apis
	}
	out := make(map[string]quotad.API, len(apis))
	for name, a := range apis {
		if p := pending[name]; p > 0 {
			ws := make([]quotad.Window, len(a.Windows))
			copy(ws, a.Windows)
			for i := range ws {
				ws[i].Reserved += p
			}
			a.Windows = ws
		}
		out[name] = a
	}
	return out
}

// pauseKind classifies a paused channel's hold.
func pauseKind(ch quotad.Channel) string {
	for _, p := range ch.Pauses {
		switch p.Reason.Kind {
		case quotad.KindBudget:
			return HoldBudget
		case quotad.KindReserve:
			return HoldReserve
		case quotad.KindCapability:
			return HoldCapability
		}
	}
	return HoldPaused
}

// ProviderEnv returns the environment variable that tells a job which
// provider to use for a capability: QUOTAD_PROVIDER_<CAPABILITY>.
func ProviderEnv(capability string) string {
	return "QUOTAD_PROVIDER_" + strings.ToUpper(capability)
}
