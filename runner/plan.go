package runner

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// DefaultHorizon is how far ahead a plan looks.
const DefaultHorizon = 24 * time.Hour

// PlanInput is what Plan needs: the store's state, the configured jobs, the
// cost model and the time.
type PlanInput struct {
	Channels map[string]quotad.Channel  // as read from the store
	APIs     map[string]quotad.API      // as read from the store
	States   map[string]quotad.JobState // the jobs' records, by channel
	Jobs     []Job                      // configured jobs; those without a schedule are skipped
	Costs    *Costs                     // nil: every cost is the estimate
	Paced    []string                   // APIs with pace: even
	Location *time.Location             // zone of schedules that name none; default UTC
	Now      time.Time
	Horizon  time.Duration // default DefaultHorizon
	// Check, if set, is asked about a run that Decide lets start when it is
	// due: the hold the engine's admission would put on its cost as things
	// are now (CostHold: the channel's budgets, reserves, fallback
	// providers), with pending the costs of the runs planned before it.
	Check func(channel string, cost, pending map[string]int64) Hold
}

// PlanEntry is the next run of one channel's job.
type PlanEntry struct {
	Channel  string          `json:"channel"`
	Priority quotad.Priority `json:"priority"`
	Schedule string          `json:"schedule"`
	// Due is when the schedule makes the run due (it may have passed: the
	// run is waiting).
	Due time.Time `json:"due"`
	// Start is when the run is expected to start; nil when not within the
	// horizon or only a person can let it.
	Start      *time.Time       `json:"start"`
	Cost       map[string]int64 `json:"cost"`        // expected units per API
	CostSource string           `json:"cost_source"` // "learned" or "estimate"
	Running    bool             `json:"running,omitempty"`
	// Held is the kind of hold at the due time (HoldPaused, HoldExhausted,
	// HoldInsufficient, HoldReserve, HoldPaced, HoldBudget, HoldCapability,
	// HoldConfig), "" when the run can start when due.
	Held   string     `json:"held,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Until  *time.Time `json:"until,omitempty"` // when the hold is expected to lift
}

// Plan returns the next run of every channel with a scheduled job, in the
// order the runner would consider them: by due time (a passed one counts as
// now), then priority, then due time. It is pure. Each run is decided as
// the runner would (Decide) at its due time, against the quotas as they
// will be: windows whose reset has come are refilled, and the costs of the
// runs planned before it in the same window period are counted as spent. A held run is expected to
// start when its hold lifts, if that is within the horizon.
func Plan(in PlanInput) []PlanEntry {
	if in.Horizon <= 0 {
		in.Horizon = DefaultHorizon
	}
	if in.Location == nil {
		in.Location = time.UTC
	}
	end := in.Now.Add(in.Horizon)
	paced := map[string]bool{}
	for _, p := range in.Paced {
		paced[p] = true
	}
	var out []PlanEntry
	for _, jc := range in.Jobs {
		if jc.Schedule == "" {
			continue
		}
		sched, err := rule.Parse(jc.Schedule, in.Location)
		if err != nil {
			continue
		}
		st := in.States[jc.Channel]
		due := nextDue(st.NextRun, sched, in.Now)
		cost, learned := in.Costs.Cost(jc.Channel, jc.Estimate)
		if learned {
			cost = NeedCosts(in.Channels[jc.Channel], cost)
		}
		e := PlanEntry{Channel: jc.Channel, Priority: in.Channels[jc.Channel].Priority, Schedule: jc.Schedule, Due: due,
			Cost: cost, CostSource: "estimate", Running: st.Running(in.Now)}
		if e.Priority == "" {
			e.Priority = jc.Priority
		}
		if learned {
			e.CostSource = "learned"
		}
		out = append(out, e)
	}
	at := func(e PlanEntry) time.Time {
		if e.Due.Before(in.Now) {
			return in.Now
		}
		return e.Due
	}
	sort.SliceStable(out, func(a, b int) bool {
		ta, tb := at(out[a]), at(out[b])
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if pa, pb := out[a].Priority.Rank(), out[b].Priority.Rank(); pa != pb {
			return pa > pb
		}
		return out[a].Due.Before(out[b].Due)
	})
	virt := copyAPIs(in.APIs)
	pending := map[string]int64{} // the costs of the runs planned so far
	for i := range out {
		e := &out[i]
		ch, ok := in.Channels[e.Channel]
		if !ok {
			e.Held, e.Reason = HoldConfig, "the channel is not in the store"
			continue
		}
		t := at(*e)
		first := true
		for step := 0; step < 8 && !t.After(end); step++ {
			then := copyAPIs(virt)
			advanceAPIs(then, t, in.Location)
			h := Decide(clearedPauses(ch, then, t), then, e.Cost, paced, t)
			if !h.Held() && in.Check != nil && first {
				// Budgets are read as they are now: a hold that ends
				// by t does not hold the run.
				if c := in.Check(e.Channel, e.Cost, pending); c.Held() && (c.Until.IsZero() || c.Until.After(t)) {
					h = c
				}
			}
			if first && h.Held() {
				e.Held, e.Reason, e.Until = h.Kind, h.Reason, quotad.TimePtr(h.Until)
			}
			first = false
			if !h.Held() {
				e.Start = quotad.TimePtr(t)
				spend(virt, e.Cost, t)
				for api, u := range e.Cost {
					pending[api] += u
				}
				break
			}
			if h.Until.IsZero() || !h.Until.After(t) {
				break
			}
			t = h.Until
		}
	}
	return out
}

// Describe returns a short account of an entry's hold: "paused",
// "API exhausted until T", "insufficient quota until reset T", ...
func (e PlanEntry) Describe(loc *time.Location) string {
	until := ""
	if e.Until != nil {
		until = e.Until.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	with := func(s string) string {
		if until == "" {
			return s
		}
		return s + " until " + until
	}
	switch e.Held {
	case "":
		return ""
	case HoldPaused:
		return with("paused: " + strings.TrimPrefix(e.Reason, "channel paused "))
	case HoldExhausted:
		return with("API exhausted")
	case HoldInsufficient:
		return with("insufficient quota (reset)")
	case HoldReserve:
		return with("reserve for higher priority")
	case HoldPaced:
		return with("paced")
	case HoldBudget:
		return with("budget spent")
	case HoldCapability:
		return with("no provider available")
	}
	return e.Reason
}

func copyAPIs(apis map[string]quotad.API) map[string]quotad.API {
	out := make(map[string]quotad.API, len(apis))
	for k, a := range apis {
		a.Windows = append([]quotad.Window(nil), a.Windows...)
		out[k] = a
	}
	return out
}

// advanceAPIs applies, in the copy, the resets and provider blocks that
// have come by t.
func advanceAPIs(apis map[string]quotad.API, t time.Time, loc *time.Location) {
	for _, a := range apis {
		for i := range a.Windows {
			w := &a.Windows[i]
			if !w.BlockedUntil.IsZero() && !w.BlockedUntil.After(t) && (w.NextReset.IsZero() || w.NextReset.After(t)) {
				w.BlockedUntil, w.Exhausted = time.Time{}, w.Used >= w.Limit
			}
			if w.NextReset.IsZero() || w.NextReset.After(t) {
				continue
			}
			r, err := rule.Parse(w.Rule, loc)
			if err != nil {
				continue
			}
			w.LastReset = r.Prev(t)
			w.NextReset = r.Next(t)
			w.Used, w.Reserved, w.Exhausted, w.BlockedUntil = 0, 0, false, time.Time{}
		}
	}
}

// clearedPauses returns the channel without the pauses that will have
// cleared by t by themselves, as the engine clears them
// (quotad.Pause.End) with the APIs as they will be then.
func clearedPauses(ch quotad.Channel, apis map[string]quotad.API, t time.Time) quotad.Channel {
	ch.Pauses = slices.DeleteFunc(slices.Clone(ch.Pauses), func(p quotad.Pause) bool {
		return p.End(ch, apis, t, false).Cleared
	})
	return ch
}

// spend counts a planned run's cost, starting at t, in the windows of the
// copy whose current period t is in (a run planned after a window's reset
// is not counted against the period before it).
func spend(apis map[string]quotad.API, cost map[string]int64, t time.Time) {
	for name, u := range cost {
		a, ok := apis[name]
		if !ok {
			continue
		}
		for i := range a.Windows {
			if w := &a.Windows[i]; w.NextReset.IsZero() || w.NextReset.After(t) {
				w.Used += u
			}
		}
	}
}
