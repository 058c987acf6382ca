package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/provider"
)

// This file holds what the metering proxy needs: charging calls a provider
// has already served, window by window, and adopting the figures the
// provider states about its own quotas (the provider is the truth).

// CategoryQuotaSync is the event category of an adoption of provider
// figures that disagree noticeably with quotad's own count (the drift), or
// move a window's next reset.
const CategoryQuotaSync = "quota_sync"

// Limits of adoption.
const (
	maxObservations   = 64
	maxAdoptedReset   = 400 * 24 * time.Hour // a provider-stated reset further away is ignored
	syncEventInterval = 15 * time.Minute     // at most one quota_sync event per window per interval
	resetMoveNotable  = time.Minute          // a next reset moved by more is worth an event
)

// Metered is one call a provider has already served: what it cost each
// window, and what the provider said about the windows afterwards.
type Metered struct {
	API string
	// Model and Scope are the call's model (or bucket) and credential
	// scope ("" none, the default): the windows they select are the call's
	// (quotad.API.Selected), and a window the call exhausts pauses the
	// calling channel for quota:API/MODEL.
	Model, Scope string
	// Learn are windows the API gets when it has none with their key
	// (quotad.Window.Key): the windows of an unknown model, learned from
	// its rate-limit headers. They are added before the charges.
	Learn []quotad.Window
	// Channel is the calling channel, "" for none. A channel that does not
	// exist (any more) is ignored: the units still count.
	Channel string
	// Usage is the call's cost in the API's own unit, recorded in the
	// usage history (budgets and forecasts read it).
	Usage int64
	// Cost is what the call cost in millionths of a US dollar (its
	// tokens at the model's price); 0 unknown.
	Cost int64
	// Charges are units per window key (quotad.Window.Key). Windows not
	// named are not charged; naming a window the API does not have (nor
	// learns) is an error.
	Charges map[string]int64
	// Observations are adopted after the charges (the provider's figures
	// already include this call); their Window is a window key.
	// Observations of windows the API does not have are skipped.
	Observations []provider.Observation
	// Calls is how many calls this is, when a caller coalesces several
	// into one operation (usage history and counters count them); 0 means 1.
	Calls int64
	// Kind is the classification of an error the call got, counted like
	// ReportError's; "" for none.
	Kind classify.Kind
	// Detail explains an exhaustion the observations cause, in events
	// (already redacted).
	Detail string
}

// MeterResult is the outcome of Meter and Observe.
type MeterResult struct {
	SpendResult
	Adopted []Adoption `json:"adopted"`
	Skipped []string   `json:"skipped"` // observed windows the API does not have
	// Events is how many events the operation wrote (exhaustion, pauses,
	// resumes, thresholds, quota_sync): callers that cache state refresh
	// it when it is not 0.
	Events int `json:"events"`
}

// Adoption is what one observation changed.
type Adoption struct {
	Window       string     `json:"window"`
	QuotadUsed   int64      `json:"quotad_used"`   // quotad's count, with this call's charge, before adoption
	ProviderUsed int64      `json:"provider_used"` // limit − remaining as the provider states it; -1 when it stated no remaining
	Drift        int64      `json:"drift"`         // ProviderUsed − QuotadUsed; 0 when unknown
	NextReset    *time.Time `json:"next_reset"`    // the provider-stated reset adopted; null when none
	Exhausted    bool       `json:"exhausted"`     // the window is exhausted after it
}

// Meter charges a call that a provider has already served: each window its
// own units (requests, tokens, cost-table units), then adopts the figures
// the provider stated. It cannot be refused: the call has happened. A
// window that reaches its limit exhausts the API, as a spend does; an
// observed remaining of 0 exhausts its window until the provider's reset.
func (e *Engine) Meter(ctx context.Context, m Metered) (MeterResult, error) {
	if m.API == "" {
		return MeterResult{}, quotad.Invalidf("meter: name an API")
	}
	if err := e.checkUnits(m.Usage, true); err != nil {
		return MeterResult{}, fmt.Errorf("meter %s: %w", m.API, err)
	}
	if err := e.checkUnits(m.Cost, true); err != nil {
		return MeterResult{}, fmt.Errorf("meter %s cost: %w", m.API, err)
	}
	for w, u := range m.Charges {
		if err := e.checkUnits(u, true); err != nil {
			return MeterResult{}, fmt.Errorf("meter %s window %s: %w", m.API, w, err)
		}
	}
	if m.Calls < 0 || m.Calls > e.opts.MaxUnits {
		return MeterResult{}, quotad.Invalidf("meter %s: %d calls", m.API, m.Calls)
	}
	if len(m.Observations) > maxObservations || len(m.Learn) > maxObservations {
		return MeterResult{}, quotad.Invalidf("meter %s: %d observations, %d windows to learn; at most %d", m.API, len(m.Observations), len(m.Learn), maxObservations)
	}
	if _, err := checkTarget(quotad.Target{API: m.API, Model: m.Model, Scope: m.Scope}.String()); err != nil {
		return MeterResult{}, fmt.Errorf("meter %s: %w", m.API, err)
	}
	for _, w := range m.Learn {
		if _, err := e.rule(w.Rule); err != nil || w.Name == "" || w.Limit <= 0 {
			return MeterResult{}, quotad.Invalidf("meter %s: window %s to learn needs a name, a positive limit and a rule", m.API, w.Key())
		}
	}
	ds := e.drifts
	v, err := e.do(ctx, func(t *txn) (any, error) { return t.meter(m, ds) })
	if err != nil {
		return MeterResult{}, fmt.Errorf("meter %s: %w", m.API, err)
	}
	res := v.(meterOut)
	ds.record(m.API, res.drifts, res.evented, e.clock.Now())
	for _, a := range res.Adopted {
		e.log.Debug("provider figures adopted", "api", m.API, "window", a.Window, "quotad_used", a.QuotadUsed,
			"provider_used", a.ProviderUsed, "drift", a.Drift, "exhausted", a.Exhausted)
	}
	var charged bool
	for _, u := range m.Charges {
		charged = charged || u > 0
	}
	if charged {
		calls := uint64(max(m.Calls, 1))
		e.counts.add(func(c *Counters) { c.Spends[m.API] += calls; c.SpendUnits[m.API] += uint64(m.Usage) })
	}
	if m.Kind != "" {
		e.counts.add(func(c *Counters) { c.Classified[m.API+"/"+string(m.Kind)]++ })
	}
	return res.MeterResult, nil
}

// Observe adopts what a provider's response says about an API's windows:
// Used = Limit − Remaining (the provider's limit when it states one; no
// change when Remaining is unknown), NextReset = Reset when the provider
// states one (later than now), and a Remaining of 0 exhausts the window
// until Reset (its next reset when Reset is unknown). A window quotad had
// exhausted by its own count is freed when the provider says units are left
// and quotad's limit agrees. Observations of unknown windows are skipped.
func (e *Engine) Observe(ctx context.Context, api string, obs []provider.Observation) (MeterResult, error) {
	return e.Meter(ctx, Metered{API: api, Observations: obs})
}

// Drift is the last disagreement between a provider's count of a window
// and quotad's, for metrics.
type Drift struct {
	API          string    `json:"api"`
	Window       string    `json:"window"`
	Drift        int64     `json:"drift"` // provider's used − quotad's used, at the last adoption
	ProviderUsed int64     `json:"provider_used"`
	QuotadUsed   int64     `json:"quotad_used"`
	At           time.Time `json:"at"`
}

// Drifts returns the drift of every window whose provider figures this
// engine has adopted, ordered by API and window: the gauge
// quotad_window_drift{api,window}.
func (e *Engine) Drifts() []Drift {
	ds := e.drifts
	ds.mu.Lock()
	defer ds.mu.Unlock()
	out := make([]Drift, 0, len(ds.last))
	for _, d := range ds.last {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].API != out[j].API {
			return out[i].API < out[j].API
		}
		return out[i].Window < out[j].Window
	})
	return out
}

// meterOut is a meter operation's result plus what the engine remembers
// once it is committed.
type meterOut struct {
	MeterResult
	drifts  []Drift
	evented []string // windows that got a quota_sync event
}

func (t *txn) meter(m Metered, ds *driftSet) (meterOut, error) {
	a, err := t.api(m.API)
	if err != nil {
		return meterOut{}, err
	}
	tg := quotad.Target{API: m.API, Model: m.Model, Scope: m.Scope}
	for w := range m.Charges {
		if a.WindowByKey(w) < 0 && !slices.ContainsFunc(m.Learn, func(l quotad.Window) bool { return l.HasKey(w) }) &&
			!(m.Scope != "" && !a.HasScope(m.Scope)) {
			return meterOut{}, quotad.Invalidf("API %s has no window %q", a.Name, w)
		}
	}
	t.addScope(a, m.Scope)
	for _, w := range m.Learn {
		if a.WindowByKey(w.Key()) >= 0 {
			continue
		}
		r, _ := t.e.rule(w.Rule) // checked by Meter
		w.Start(r, t.now)
		a.Windows = append(a.Windows, w)
		t.touchAPI(a.Name)
		t.emit(quotad.LevelInfo, "", CategoryQuotaSync,
			fmt.Sprintf("%s %s: window learned from the provider's headers (limit %d, %s)", strings.ToUpper(a.Name), w.Key(), w.Limit, w.Rule),
			map[string]string{"api": a.Name, "window": w.Key(), "model": w.Model, "limit": strconv.FormatInt(w.Limit, 10)})
	}
	for w := range m.Charges {
		if a.WindowByKey(w) < 0 {
			return meterOut{}, quotad.Invalidf("API %s has no window %q", a.Name, w)
		}
	}
	channel := m.Channel
	var ch *quotad.Channel
	if channel != "" {
		c, err := t.channel(channel)
		switch {
		case err == nil:
			ch = c
		case t.fatal != nil:
			return meterOut{}, t.fatal
		default:
			channel = "" // removed meanwhile: the units still count
		}
	}
	// The observation and the charge of each window, by its index: keys
	// are matched once here, not built for every window of a model.
	obs := make([]*provider.Observation, len(a.Windows))
	charges := make([]int64, len(a.Windows))
	firstEvent := len(t.events)
	out := meterOut{MeterResult: MeterResult{Adopted: []Adoption{}, Skipped: []string{}}}
	for k := range m.Observations {
		o := &m.Observations[k]
		i := a.WindowByKey(o.Window)
		if i < 0 {
			out.Skipped = append(out.Skipped, o.Window)
			continue
		}
		if obs[i] == nil {
			obs[i] = o
		}
	}
	for key, units := range m.Charges {
		if i := a.WindowByKey(key); i >= 0 {
			charges[i] = units
		}
	}
	type zero struct {
		i     int
		until time.Time
		src   string
	}
	var reached []int
	var zeros []zero
	var freed []string
	charged := false
	for i := range a.Windows {
		w := &a.Windows[i]
		before := w.Used
		used := addSat(before, charges[i])
		charged = charged || used != before
		seen := obs[i] != nil
		var o provider.Observation
		if seen {
			o = *obs[i]
		}
		moved := false
		var ad Adoption
		if seen {
			ad = Adoption{Window: w.Key(), QuotadUsed: used, ProviderUsed: -1}
			provLimit := o.Limit
			if provLimit <= 0 {
				provLimit = w.Limit
			}
			if o.Remaining >= 0 && o.Remaining <= provLimit {
				ad.ProviderUsed = provLimit - o.Remaining
				ad.Drift = ad.ProviderUsed - used
				used = ad.ProviderUsed
			}
			if r := o.Reset; r.After(t.now) && r.Sub(t.now) <= maxAdoptedReset && !r.Equal(w.NextReset) {
				moved = abs(int64(r.Sub(w.NextReset))) > int64(resetMoveNotable)
				w.NextReset = r
				ad.NextReset = quotad.TimePtr(r)
				t.touchWindow(a.Name, w.Key())
			}
		}
		if used != before {
			w.Used = used
			t.touchWindow(a.Name, w.Key())
			if used > before {
				t.crossed(a, w, before)
			}
		}
		switch {
		case seen && o.Remaining == 0:
			zeros = append(zeros, zero{i, o.Reset, o.Source})
		case !w.Exhausted && w.Used >= w.Limit:
			reached = append(reached, i)
		case seen && o.Remaining > 0 && w.Release():
			t.touchWindow(a.Name, w.Key())
			freed = append(freed, w.Key())
			t.emit(quotad.LevelInfo, "", quotad.CategoryQuotaReset,
				fmt.Sprintf("%s window %s available again: %s reports %d remaining (%s)", strings.ToUpper(a.Name), w.Key(), a.Name, o.Remaining, o.Source),
				quotad.Refill{API: a.Name, Window: w.Key(), Trigger: quotad.TriggerProvider, Remaining: o.Remaining}.Fields())
		}
		if seen {
			out.Adopted = append(out.Adopted, ad)
			if ad.ProviderUsed >= 0 {
				out.drifts = append(out.drifts, Drift{API: a.Name, Window: w.Key(), Drift: ad.Drift, ProviderUsed: ad.ProviderUsed, QuotadUsed: ad.QuotadUsed, At: t.now})
			}
			if t.syncEvent(a, w, o, ad, moved, ds) {
				out.evented = append(out.evented, w.Key())
			}
		}
	}
	if charged || m.Usage > 0 || m.Cost > 0 {
		t.recordUsage(a.Name, m.Model, channel, m.Usage, max(m.Calls, 1), m.Cost)
	}
	if len(reached) > 0 {
		t.exhaust(a, reached, time.Time{}, "limit reached", channel, tg)
	}
	for _, z := range zeros {
		detail := m.Detail
		if detail == "" {
			detail = "provider reports 0 remaining"
			if z.src != "" {
				detail += " (" + z.src + ")"
			}
		}
		t.exhaust(a, []int{z.i}, z.until, detail, channel, tg)
	}
	if charged || m.Cost > 0 {
		if err := t.applyChannelLimits(a, ch, a.Selected(tg)); err != nil {
			return meterOut{}, err
		}
	}
	if len(freed) > 0 {
		if _, err := t.resumeCleared(false); err != nil {
			return meterOut{}, err
		}
	}
	for i := range out.Adopted {
		if j := a.WindowByKey(out.Adopted[i].Window); j >= 0 {
			out.Adopted[i].Exhausted = a.Windows[j].Exhausted
		}
	}
	out.SpendResult = t.spendResult(a, tg, channel, m.Usage)
	out.Events = len(t.events) - firstEvent
	return out, nil
}

// syncEvent emits a quota_sync event when an adoption disagrees noticeably
// with quotad's count (by 1% of the limit, at least 2 units), or moves the
// next reset by more than a minute for the first time, at most once per
// window per syncEventInterval. It reports whether it emitted one.
func (t *txn) syncEvent(a *quotad.API, w *quotad.Window, o provider.Observation, ad Adoption, moved bool, ds *driftSet) bool {
	notable := ad.ProviderUsed >= 0 && abs(ad.Drift) >= max(2, w.Limit/100)
	last, evented := ds.lastEvent(a.Name, w.Key())
	switch {
	case !notable && !(moved && !evented):
		return false
	case evented && t.now.Sub(last) < syncEventInterval:
		return false
	}
	fields := map[string]string{"api": a.Name, "window": w.Key(), "source": o.Source,
		"quotad_used": strconv.FormatInt(ad.QuotadUsed, 10), "limit": strconv.FormatInt(w.Limit, 10), "next_reset": fmtRFC(w.NextReset)}
	var parts []string
	if ad.ProviderUsed >= 0 {
		fields["provider_used"] = strconv.FormatInt(ad.ProviderUsed, 10)
		fields["drift"] = strconv.FormatInt(ad.Drift, 10)
		fields["remaining"] = strconv.FormatInt(o.Remaining, 10)
		if o.Limit > 0 {
			fields["provider_limit"] = strconv.FormatInt(o.Limit, 10)
		}
		parts = append(parts, fmt.Sprintf("provider reports %d used (%d remaining), quotad had counted %d: drift %+d %s adopted",
			ad.ProviderUsed, o.Remaining, ad.QuotadUsed, ad.Drift, a.UnitOf(*w)))
	}
	if ad.NextReset != nil {
		fields["provider_reset"] = fmtRFC(*ad.NextReset)
		parts = append(parts, "next reset "+t.e.human(*ad.NextReset)+" as the provider states")
	}
	if len(parts) == 0 {
		return false
	}
	t.emit(quotad.LevelInfo, "", CategoryQuotaSync, fmt.Sprintf("%s %s: %s", strings.ToUpper(a.Name), w.Key(), strings.Join(parts, "; ")), fields)
	return true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// driftSet is an engine's memory of adoptions: the drift gauge and when
// each window last got a quota_sync event.
type driftSet struct {
	mu     sync.Mutex
	last   map[[2]string]Drift
	events map[[2]string]time.Time
}

func newDriftSet() *driftSet {
	return &driftSet{last: map[[2]string]Drift{}, events: map[[2]string]time.Time{}}
}

func (ds *driftSet) lastEvent(api, window string) (time.Time, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	t, ok := ds.events[[2]string{api, window}]
	return t, ok
}

func (ds *driftSet) record(api string, drifts []Drift, evented []string, now time.Time) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, d := range drifts {
		ds.last[[2]string{d.API, d.Window}] = d
	}
	for _, w := range evented {
		ds.events[[2]string{api, w}] = now
	}
}
