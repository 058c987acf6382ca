package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// This file holds what a channel may use: fallback providers for a
// capability, its own budgets, and the part of a window kept for
// higher-priority channels.

// pauseForCapabilities gives capability:<name> to channels for which the
// exhaustion (or a hold) of windows idx of a left no provider of a fallback
// need that can serve them (a provider is an API or a model of one).
func (t *txn) pauseForCapabilities(c *quotad.Channel, a *quotad.API, idx []int, detail string) {
	for _, capb := range c.Fallbacks {
		if slices.ContainsFunc(capb.Providers, func(p string) bool {
			pt := quotad.ParseTarget(p)
			return pt.API == a.Name && len(intersect(a.NeedWindows(pt), idx)) > 0
		}) {
			t.checkCapability(c, capb, a.Name, detail)
		}
	}
}

// checkCapability pauses c with capability:<name> when no provider of the
// need can serve it: each is exhausted, or held for this channel by its
// budget or a reserve. When a hold is among the reasons the pause carries
// the earliest time a provider is expected back (it clears then, once a
// provider is available); a pause of exhausted providers only clears as soon
// as any is available.
func (t *txn) checkCapability(c *quotad.Channel, capb quotad.Capability, api, detail string) {
	var until time.Time
	held := false
	for _, name := range capb.Providers {
		pt := quotad.ParseTarget(name)
		full, err := t.api(pt.API)
		if err != nil {
			continue
		}
		a := viewOf(full, full.NeedWindows(pt)) // the windows of that provider
		h, err := t.providerHold(&a, c)
		if err != nil || h == nil {
			return // it can serve (or nobody can tell): no pause
		}
		held = held || h.ChannelLevel()
		if !h.Until.IsZero() && (until.IsZero() || h.Until.Before(until)) {
			until = h.Until
		}
	}
	reason := quotad.CapabilityReason(capb.Name)
	if held {
		if _, ok := c.Paused(reason); !ok {
			t.pauseChannel(c, reason, until, fmt.Sprintf("no provider of %s (%s) can serve it: %s", capb.Name, strings.Join(capb.Providers, ", "), detail))
		}
		return
	}
	if t.addPause(c, reason, detail) {
		t.emit(quotad.LevelWarning, c.Name, quotad.CategoryQuota,
			fmt.Sprintf("Every provider of %s (%s) is exhausted - channel paused until one is available", capb.Name, strings.Join(capb.Providers, ", ")),
			quotad.Paused{Reason: reason, API: api}.Fields())
	}
}

// providerHold returns why an API cannot serve a channel now (nil when it
// can): the API is exhausted, or the channel is held by its budget of it or
// by its reserve for higher priorities.
func (t *txn) providerHold(a *quotad.API, c *quotad.Channel) (*quotad.ExhaustedError, error) {
	return providerHoldBy(a, c, 0, func(w quotad.Window) (int64, error) { return t.channelUsedSince(c.Name, a.Name, w.LastReset) })
}

// providerHoldBy is providerHold for a spend of units (0: is the API held
// already), with the channel's use of a window told by used.
func providerHoldBy(a *quotad.API, c *quotad.Channel, units int64, used func(quotad.Window) (int64, error)) (*quotad.ExhaustedError, error) {
	if err := exhaustedErr(a, allWindows(a)); err != nil {
		return err.(*quotad.ExhaustedError), nil
	}
	for _, w := range a.Windows {
		if w.Amount(units) > w.Free() {
			return &quotad.ExhaustedError{API: a.Name, Window: w.Key(), Until: w.NextReset, Kind: quotad.HoldWindow,
				Detail: fmt.Sprintf("%d %s needed, %d free", w.Amount(units), a.UnitOf(w), w.Free())}, nil
		}
	}
	for _, p := range c.Pauses {
		switch p.Reason {
		case quotad.BudgetReason(a.Name):
			return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldBudget, Channel: c.Name, Until: p.Until}, nil
		case quotad.ReserveReason(a.Name):
			return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldReserve, Channel: c.Name, Priority: a.Reserve.Priority, Until: p.Until}, nil
		}
	}
	if h, err := budgetHoldBy(a, c, units, used); h != nil || err != nil {
		return h, err
	}
	return reserveHold(a, c, units), nil
}

// Pick returns the provider a channel should use for a capability: the first
// of its fallback list that is available and not held for the channel by its
// own budget (spent) or the API's reserve (reached). A channel may also name
// an API it needs directly as the capability.
func (e *Engine) Pick(ctx context.Context, channel, capability string) (Pick, error) {
	return e.PickFor(ctx, channel, capability, Expected{})
}

// Expected is what a run is expected to spend, for PickFor and CheckCost.
type Expected struct {
	// Cost is the run's units per API; a provider of a fallback need
	// without a cost of its own is charged the largest of the need's.
	Cost map[string]int64
	// Pending are units per API that other runs in flight are expected to
	// spend still: counted as reserved.
	Pending map[string]int64
	// APIs, if set, are the APIs' states to check against (the caller's
	// snapshot, taken before the pending runs spent anything), by name;
	// an API not in it is read from the store.
	APIs map[string]quotad.API
}

// PickFor is Pick for a run expected to spend cost (units per API): a
// provider is held as well when the units it would take (its own cost, else
// the largest cost of the need's providers) do not fit what is left of it
// for the channel: a window, the channel's budget, the reserve.
func (e *Engine) PickFor(ctx context.Context, channel, capability string, x Expected) (Pick, error) {
	var p Pick
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		c, err := tx.Channel(channel)
		if err != nil {
			return err
		}
		p, _, err = pickIn(tx, c, capability, x)
		if err == nil && p.Provider == "" && len(x.Pending) > 0 {
			// The runs in flight may have spent part of what they are
			// counted for: without them, a provider that can serve wins
			// over none.
			p, _, err = pickIn(tx, c, capability, Expected{Cost: x.Cost, APIs: x.APIs})
		}
		return err
	})
	if err != nil {
		return Pick{}, fmt.Errorf("pick %s for %s: %w", capability, channel, err)
	}
	return p, nil
}

// pickIn picks a provider of a capability for c in tx; with none, it also
// returns the first provider's hold.
func pickIn(tx quotad.Tx, c quotad.Channel, capability string, x Expected) (Pick, *quotad.ExhaustedError, error) {
	providers := []string(nil)
	for _, capb := range c.Fallbacks {
		if capb.Name == capability {
			providers = capb.Providers
		}
	}
	if providers == nil && c.Needs(capability) {
		providers = []string{capability}
	}
	if providers == nil {
		return Pick{}, nil, quotad.Invalidf("channel %s has no fallback list named %q", c.Name, capability)
	}
	var need int64 // what a provider without a cost of its own is expected to take
	for _, name := range providers {
		need = max(need, x.Cost[name])
	}
	p := Pick{Channel: c.Name, Capability: capability, Providers: providers, Available: []string{}}
	var earliest time.Time
	var first *quotad.ExhaustedError
	for _, name := range providers {
		pt := quotad.ParseTarget(name) // an API, or a model of one
		full, err := apiPending(tx, pt.API, x)
		if err != nil {
			return Pick{}, nil, err
		}
		a := viewOf(&full, full.NeedWindows(pt))
		units, ok := x.Cost[name]
		if !ok {
			units = need
		}
		h, err := providerHoldBy(&a, &c, units, func(w quotad.Window) (int64, error) { return usedSince(tx, c.Name, a.Name, w.LastReset) })
		if err != nil {
			return Pick{}, nil, err
		}
		if h == nil {
			p.Available = append(p.Available, name)
			if p.Provider == "" {
				p.Provider = name
			}
			continue
		}
		if first == nil {
			first = h
		}
		if at := h.Until; !at.IsZero() && (earliest.IsZero() || at.Before(earliest)) {
			earliest = at
		}
	}
	if p.Provider == "" {
		p.Until = quotad.TimePtr(earliest)
		return p, first, nil
	}
	return p, nil, nil
}

// CheckCost reports, as quotad would refuse the spends, whether a run of a
// channel expected to spend x (units per API) fits what is left for the
// channel: for each API it needs, its windows, its budget and the reserve
// for its priority; for each fallback need, any one provider. It returns nil
// or the *quotad.ExhaustedError of the first API (or the first provider of
// the first need) that cannot take its part. The runner gates jobs by it.
func (e *Engine) CheckCost(ctx context.Context, channel string, x Expected) error {
	return e.store.View(ctx, func(tx quotad.Tx) error {
		c, err := tx.Channel(channel)
		if err != nil {
			return err
		}
		for _, name := range c.APIs {
			units := x.Cost[name]
			if units <= 0 {
				continue
			}
			pt := quotad.ParseTarget(name) // an API, or a model of one
			full, err := apiPending(tx, pt.API, x)
			if err != nil {
				return err
			}
			a := viewOf(&full, full.NeedWindows(pt))
			h, err := providerHoldBy(&a, &c, units, func(w quotad.Window) (int64, error) { return usedSince(tx, c.Name, a.Name, w.LastReset) })
			if err != nil || h != nil {
				if h != nil {
					return h
				}
				return err
			}
		}
		for _, capb := range c.Fallbacks {
			if _, h, err := pickIn(tx, c, capb.Name, x); err != nil || h != nil {
				if h != nil {
					return h
				}
				return err
			}
		}
		return nil
	})
}

// checkChannelLimits refuses a spend by a channel held by its own budget or
// by the API's reserve for higher priorities, or whose units do not fit what
// is left of its budget or above the reserve.
func (t *txn) checkChannelLimits(a *quotad.API, c *quotad.Channel, units int64) error {
	for _, p := range c.Pauses {
		switch p.Reason {
		case quotad.BudgetReason(a.Name):
			return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldBudget, Channel: c.Name, Until: p.Until, Detail: p.Detail}
		case quotad.ReserveReason(a.Name):
			return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldReserve, Channel: c.Name, Priority: a.Reserve.Priority, Until: p.Until, Detail: p.Detail}
		}
	}
	if h, err := t.budgetHold(a, c, units); h != nil || err != nil {
		if err != nil {
			return err
		}
		return h
	}
	if h := reserveHold(a, c, units); h != nil {
		return h
	}
	return nil
}

// budgetHold returns the refusal of units by the channel's budgets of the
// API (units 0: is the budget spent already), or nil.
func (t *txn) budgetHold(a *quotad.API, c *quotad.Channel, units int64) (*quotad.ExhaustedError, error) {
	return budgetHoldBy(a, c, units, func(w quotad.Window) (int64, error) { return t.channelUsedSince(c.Name, a.Name, w.LastReset) })
}

// budgetHoldBy is budgetHold with the channel's use of a window told by used.
func budgetHoldBy(a *quotad.API, c *quotad.Channel, units int64, used func(quotad.Window) (int64, error)) (*quotad.ExhaustedError, error) {
	for _, b := range c.Budgets {
		if b.API != a.Name || b.Money() { // a money budget holds by its pause (applyMoneyBudget)
			continue
		}
		for _, w := range a.Windows {
			if b.Window != "" && b.Window != w.Name || b.Window == "" && a.UnitOf(w) != a.Unit {
				continue // a budget in the API's unit holds the windows that count it
			}
			u, err := used(w)
			if err != nil {
				return nil, err
			}
			limit := b.Limit(w.Limit)
			if u+max(units, 1) > limit {
				d := fmt.Sprintf("%d of its budget of %d %s spent", u, limit, unitOf(a))
				if units > 0 {
					d += fmt.Sprintf(", %d asked", units)
				}
				return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldBudget, Channel: c.Name, Window: w.Key(), Until: w.NextReset, Detail: d}, nil
			}
		}
	}
	return nil, nil
}

// reserveHold returns the refusal of units by the API's reserve for a
// channel below its priority (units 0: is the window into its reserve
// already), or nil.
func reserveHold(a *quotad.API, c *quotad.Channel, units int64) *quotad.ExhaustedError {
	if !belowReserve(a, c) {
		return nil
	}
	kept := a.Reserve.Units
	for _, w := range a.Windows {
		if w.Used+w.Reserved+max(w.Amount(units), 1) > w.Limit-kept {
			d := fmt.Sprintf("%d of %d %s left, %d kept", w.Free(), w.Limit, unitOf(a), kept)
			if units > 0 {
				d += fmt.Sprintf(", %d asked", units)
			}
			return &quotad.ExhaustedError{API: a.Name, Kind: quotad.HoldReserve, Channel: c.Name, Priority: a.Reserve.Priority, Window: w.Key(), Until: w.NextReset, Detail: d}
		}
	}
	return nil
}

// belowReserve reports whether the API keeps a reserve that the channel's
// priority does not reach.
func belowReserve(a *quotad.API, c *quotad.Channel) bool {
	return c != nil && a.Reserve.Units > 0 && c.Priority.Rank() < a.Reserve.Priority.Rank()
}

// applyChannelLimits runs after a spend charged to windows sel of a: a
// channel past its budget for one of them is paused until that window's
// reset (a budget in money until its period ends), and once one is into its
// reserve every channel below the reserve's priority that needs the API is
// paused until the reset. A budget in the API's unit is held against the
// windows that count that unit (a requests window only when the budget
// names it).
func (t *txn) applyChannelLimits(a *quotad.API, c *quotad.Channel, sel []int) error {
	if c != nil {
		for _, b := range c.Budgets {
			if b.API != a.Name {
				continue
			}
			if b.Money() {
				if err := t.applyMoneyBudget(a, c, b, sel); err != nil {
					return err
				}
				continue
			}
			for _, i := range sel {
				w := a.Windows[i]
				if b.Window != "" && b.Window != w.Name || b.Window == "" && a.UnitOf(w) != a.Unit {
					continue
				}
				used, err := t.channelUsedSince(c.Name, a.Name, w.LastReset)
				if err != nil {
					return err
				}
				if limit := b.Limit(w.Limit); used >= limit {
					detail := fmt.Sprintf("spent %d of its budget of %d %s of %s in window %s", used, limit, a.Unit, a.Name, w.Key())
					if c.Needs(a.Name) {
						t.pauseChannel(c, quotad.BudgetReason(a.Name), w.NextReset, detail)
					} else { // a fallback provider: the channel moves to the next one
						t.pauseForCapabilities(c, a, sel, detail)
					}
				}
			}
		}
	}
	if a.Reserve.Units <= 0 {
		return nil
	}
	for _, i := range sel {
		w := a.Windows[i]
		if w.Used < w.Limit-a.Reserve.Units {
			continue
		}
		chans, err := t.allChannels()
		if err != nil {
			return err
		}
		for _, ch := range chans {
			if !belowReserve(a, ch) || heldByPerson(ch) {
				continue
			}
			detail := fmt.Sprintf("%s window %s is down to the %d %s kept for %s priority", a.Name, w.Key(), a.Reserve.Units, a.UnitOf(w), a.Reserve.Priority)
			if ch.Needs(a.Name) {
				t.pauseChannel(ch, quotad.ReserveReason(a.Name), w.NextReset, detail)
			} else { // a fallback provider: the channel moves to the next one
				t.pauseForCapabilities(ch, a, []int{i}, detail)
			}
		}
	}
	return nil
}

// applyMoneyBudget pauses a channel that has spent its money budget of an
// API in the budget's current period (a day, from midnight in the engine's
// zone) until the period ends (for a fallback provider the channel moves
// to the next one).
func (t *txn) applyMoneyBudget(a *quotad.API, c *quotad.Channel, b quotad.Budget, sel []int) error {
	r, err := t.e.rule(b.PeriodRule())
	if err != nil {
		return err
	}
	start, end := r.Prev(t.now), r.Next(t.now)
	spent, err := t.channelCostSince(c.Name, a.Name, start)
	if err != nil {
		return err
	}
	if spent >= b.Micros {
		detail := fmt.Sprintf("spent %s of its budget of %s/%s on %s", dollars(spent), dollars(b.Micros), b.Per, a.Name)
		if c.Needs(a.Name) {
			t.pauseChannel(c, quotad.BudgetReason(a.Name), end, detail)
		} else {
			t.pauseForCapabilities(c, a, sel, detail)
		}
	}
	return nil
}

// dollars formats millionths of a dollar: $4.2371.
func dollars(micros int64) string {
	return "$" + strconv.FormatFloat(float64(micros)/1e6, 'f', -1, 64)
}

// apiPending reads an API (from x.APIs, else the store) with x.Pending
// counted as reserved in every window.
func apiPending(tx quotad.Tx, name string, x Expected) (quotad.API, error) {
	a, ok := x.APIs[name]
	if !ok {
		var err error
		if a, err = tx.API(name); err != nil {
			return a, err
		}
	}
	a.Windows = append([]quotad.Window(nil), a.Windows...)
	if p := x.Pending[name]; p > 0 {
		for i := range a.Windows {
			a.Windows[i].Reserved = addSat(a.Windows[i].Reserved, p)
		}
	}
	return a, nil
}
