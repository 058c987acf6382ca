package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// DefaultReservationTTL is how long an uncommitted reservation holds its units.
const DefaultReservationTTL = 5 * time.Minute

// MaxReservationTTL bounds the TTL a caller may ask for.
const MaxReservationTTL = 24 * time.Hour

func (e *Engine) checkUnits(units int64, zeroOK bool) error {
	if units < 0 || (units == 0 && !zeroOK) {
		return quotad.Invalidf("units must be positive, got %d", units)
	}
	if units > e.opts.MaxUnits {
		return quotad.Invalidf("units %d exceed the maximum of %d per operation", units, e.opts.MaxUnits)
	}
	return nil
}

// Spend records units spent on an API by a channel ("" for none). api is a
// target, API[/MODEL][@SCOPE] (quotad.ParseTarget): the windows a call to
// that model or bucket in that scope is charged to (quotad.API.Selected)
// count the spend, each by its meter: a requests window 1, a tokens or
// units window the units. A spend that does not fit is refused whole with
// an *quotad.ExhaustedError saying whose hold it is (see admit): an
// exhausted window of those, more units than one has free, more than the
// channel's budget has left, or units of the reserve kept for higher
// priorities. A spend that reaches a window's limit is recorded and
// exhausts that window, pausing the channels that need it.
func (e *Engine) Spend(ctx context.Context, api string, units int64, channel string) (SpendResult, error) {
	if err := e.checkUnits(units, false); err != nil {
		return SpendResult{}, err
	}
	tg, err := checkTarget(api)
	if err != nil {
		return SpendResult{}, err
	}
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("spend %s: %w", api, err) },
		func(t *txn) (any, error) { return t.spend(tg, units, channel, true) })
	if err != nil {
		e.countRefused(tg.API, err)
		return SpendResult{}, err
	}
	e.countSpend(tg.API, units)
	return v.(SpendResult), nil
}

// checkTarget parses and checks a target's text.
func checkTarget(s string) (quotad.Target, error) {
	tg := quotad.ParseTarget(s)
	switch {
	case tg.API == "":
		return tg, quotad.Invalidf("name an API")
	case len(tg.Model) > 200 || strings.ContainsAny(tg.Model, " \t\r\n@"):
		return tg, quotad.Invalidf("model %q: expected a model name without spaces, at most 200 bytes", tg.Model)
	case strings.HasSuffix(s, "@") || len(tg.Scope) > 64 || strings.ContainsAny(tg.Scope, " \t\r\n/@"):
		return tg, quotad.Invalidf("scope %q: expected a scope name", tg.Scope)
	}
	return tg, nil
}

func (t *txn) spend(tg quotad.Target, units int64, channel string, refuseExhausted bool) (SpendResult, error) {
	var a *quotad.API
	var ch *quotad.Channel
	var err error
	if refuseExhausted {
		a, ch, err = t.admit(tg, channel, units)
	} else {
		a, ch, err = t.apiAndChannel(tg.API, channel)
	}
	if err != nil {
		return SpendResult{}, err
	}
	t.addScope(a, tg.Scope)
	sel := a.Selected(tg)
	if refuseExhausted {
		if err := needModel(a, tg, sel); err != nil {
			return SpendResult{}, err
		}
	}
	var reached []int
	for _, i := range sel {
		w := &a.Windows[i]
		before := w.Used
		w.Used = addSat(w.Used, w.Amount(units))
		t.touchWindow(a.Name, w.Key())
		if !w.Exhausted && w.Used >= w.Limit {
			reached = append(reached, i)
		}
		t.crossed(a, w, before)
	}
	var cost int64
	if p, ok := a.PriceOf(tg.Model); ok {
		cost = p.Micros(units, 0) // a spend does not split its tokens: priced as input
	}
	t.recordUsage(a.Name, tg.Model, channel, units, 1, cost)
	if len(reached) > 0 {
		t.exhaust(a, reached, time.Time{}, "limit reached", channel, tg)
	}
	if err := t.applyChannelLimits(a, ch, sel); err != nil {
		return SpendResult{}, err
	}
	return t.spendResult(a, tg, channel, units), nil
}

// needModel refuses a spend or reservation that no window would count
// because the API limits each model apart and it names none.
func needModel(a *quotad.API, tg quotad.Target, sel []int) error {
	if len(sel) > 0 || tg.Model != "" {
		return nil
	}
	var models []string
	for _, w := range a.Windows {
		if w.Model != "" && !slices.Contains(models, w.Model) {
			models = append(models, w.Model)
		}
	}
	if len(models) == 0 {
		return nil
	}
	if len(models) > 3 {
		models = append(models[:3], "…")
	}
	return quotad.Invalidf("%s limits each model apart: name the model (--model, JSON \"model\"), one of %s", a.Name, strings.Join(models, ", "))
}

// addScope gives the API the windows of a credential scope it has not met
// yet: fresh copies of the default scope's (two keys, two sets of windows).
func (t *txn) addScope(a *quotad.API, scope string) {
	if a.HasScope(scope) {
		return
	}
	for _, w := range a.ScopeWindows(scope) {
		if r, err := t.e.rule(w.Rule); err == nil {
			w.LastReset, w.NextReset = r.Prev(t.now), r.Next(t.now)
		}
		a.Windows = append(a.Windows, w)
	}
	t.touchAPI(a.Name)
}

// apiAndChannel loads an API and the channel named (nil when channel is "").
func (t *txn) apiAndChannel(api, channel string) (*quotad.API, *quotad.Channel, error) {
	a, err := t.api(api)
	if err != nil {
		return nil, nil, err
	}
	var ch *quotad.Channel
	if channel != "" {
		if ch, err = t.channel(channel); err != nil {
			return nil, nil, err
		}
	}
	return a, ch, nil
}

// admit loads an API and the channel named, as apiAndChannel, and refuses
// units that do not fit the windows the target is charged to, whole (only
// those: another model's or bucket's exhausted window never refuses it): an
// exhausted window or one with fewer free units than asked
// (quotad.HoldWindow), a channel held by or short of its own budget
// (quotad.HoldBudget), a channel below the API's reserve whose units would
// reach into it (quotad.HoldReserve).
func (t *txn) admit(tg quotad.Target, channel string, units int64) (*quotad.API, *quotad.Channel, error) {
	a, ch, err := t.apiAndChannel(tg.API, channel)
	if err != nil {
		return nil, nil, err
	}
	sel := a.Selected(tg)
	if err := exhaustedErr(a, sel); err != nil {
		return nil, nil, err
	}
	if ch != nil {
		v := viewOf(a, sel) // budgets and the reserve of the call's windows
		if err := t.checkChannelLimits(&v, ch, units); err != nil {
			return nil, nil, err
		}
	}
	for _, i := range sel {
		if w := a.Windows[i]; w.Amount(units) > w.Free() {
			return nil, nil, &quotad.ExhaustedError{API: a.Name, Window: w.Key(), Until: w.NextReset, Kind: quotad.HoldWindow,
				Detail: fmt.Sprintf("%d %s asked, %d free (%d of %d used, %d reserved)", w.Amount(units), a.UnitOf(w), w.Free(), w.Used, w.Limit, w.Reserved)}
		}
	}
	return a, ch, nil
}

func unitOf(a *quotad.API) string {
	if a.Unit == "" {
		return "units"
	}
	return a.Unit
}

func (t *txn) spendResult(a *quotad.API, tg quotad.Target, channel string, units int64) SpendResult {
	sel := a.Selected(tg)
	view := *a
	view.Windows = make([]quotad.Window, 0, len(sel))
	for _, i := range sel {
		view.Windows = append(view.Windows, a.Windows[i])
	}
	return SpendResult{API: a.Name, Model: tg.Model, Scope: tg.Scope, Channel: channel, Units: units,
		Exhausted: !view.Available(), Windows: quotad.StatusOf(view).Windows}
}

// viewOf returns a copy of a with only the windows sel (each call's view:
// the hold checks read it).
func viewOf(a *quotad.API, sel []int) quotad.API {
	v := *a
	v.Windows = make([]quotad.Window, 0, len(sel))
	for _, i := range sel {
		v.Windows = append(v.Windows, a.Windows[i])
	}
	return v
}

// allWindows returns the indices of every window of a.
func allWindows(a *quotad.API) []int {
	out := make([]int, len(a.Windows))
	for i := range out {
		out[i] = i
	}
	return out
}

// exhaustedErr returns the refusal of the windows sel of a when one is
// exhausted (naming the one serving again last), else nil.
func exhaustedErr(a *quotad.API, sel []int) error {
	var ee *quotad.ExhaustedError
	for _, i := range sel {
		w := a.Windows[i]
		if !w.Exhausted {
			continue
		}
		if ee == nil {
			ee = &quotad.ExhaustedError{API: a.Name}
		}
		if !w.Until().Before(ee.Until) {
			ee.Window, ee.Until = w.Key(), w.Until()
		}
	}
	if ee == nil {
		return nil
	}
	return ee
}

// Reserve grants units of a target (API[/MODEL][@SCOPE], as Spend) to a
// channel until committed, released or expired (ttl 0 means
// DefaultReservationTTL). Each window the target is charged to holds its
// meter's amount (a requests window 1). It refuses, with an
// *quotad.ExhaustedError, what Spend would refuse: units that do not fit a
// window, the channel's budget or what its priority may use.
func (e *Engine) Reserve(ctx context.Context, api string, units int64, channel string, ttl time.Duration) (Reservation, error) {
	if err := e.checkUnits(units, false); err != nil {
		return Reservation{}, err
	}
	if ttl == 0 {
		ttl = DefaultReservationTTL
	}
	if ttl < time.Second || ttl > MaxReservationTTL {
		return Reservation{}, quotad.Invalidf("ttl must be between 1s and %s, got %s", MaxReservationTTL, ttl)
	}
	tg, err := checkTarget(api)
	if err != nil {
		return Reservation{}, err
	}
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("reserve %s: %w", api, err) }, func(t *txn) (any, error) {
		a, _, err := t.admit(tg, channel, units)
		if err != nil {
			return nil, err
		}
		t.addScope(a, tg.Scope)
		sel := a.Selected(tg)
		if err := needModel(a, tg, sel); err != nil {
			return nil, err
		}
		r := quotad.Reservation{ID: newID(), API: tg.String(), Channel: channel, Units: units, CreatedAt: t.now, ExpiresAt: t.now.Add(ttl)}
		if err := t.tx.SaveReservation(r); err != nil {
			return nil, t.storeErr(err)
		}
		for _, i := range sel {
			w := &a.Windows[i]
			w.Reserved = addSat(w.Reserved, w.Amount(units))
			t.touchWindow(a.Name, w.Key())
		}
		return Reservation{ID: r.ID, API: tg.API, Model: tg.Model, Scope: tg.Scope, Channel: r.Channel, Units: r.Units, ExpiresAt: r.ExpiresAt.UTC()}, nil
	})
	if err != nil {
		e.countRefused(tg.API, err)
		return Reservation{}, err
	}
	e.counts.add(func(c *Counters) { c.Reservations[tg.API]++ })
	return v.(Reservation), nil
}

// Commit turns a reservation into a spend of the units actually used (which
// may be more or less than reserved, or zero).
func (e *Engine) Commit(ctx context.Context, id string, units int64) (SpendResult, error) {
	if err := e.checkUnits(units, true); err != nil {
		return SpendResult{}, err
	}
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("commit reservation %s: %w", id, err) }, func(t *txn) (any, error) {
		r, a, err := t.takeReservation(id)
		if err != nil {
			return nil, err
		}
		tg := quotad.ParseTarget(r.API)
		if units == 0 {
			return t.spendResult(a, tg, r.Channel, 0), nil
		}
		if r.Channel != "" {
			if _, err := t.channel(r.Channel); err != nil {
				r.Channel = "" // the channel was removed meanwhile; the units still count
			}
		}
		return t.spend(tg, units, r.Channel, false)
	})
	if err != nil {
		return SpendResult{}, err
	}
	res := v.(SpendResult)
	e.countSpend(res.API, units)
	return res, nil
}

// Release gives a reservation's units back unspent.
func (e *Engine) Release(ctx context.Context, id string) error {
	_, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("release reservation %s: %w", id, err) }, func(t *txn) (any, error) {
		_, _, err := t.takeReservation(id)
		return nil, err
	})
	return err
}

// takeReservation deletes a reservation and returns its units to its API.
func (t *txn) takeReservation(id string) (quotad.Reservation, *quotad.API, error) {
	r, err := t.tx.Reservation(id)
	if err != nil {
		return r, nil, t.storeErr(err)
	}
	if err := t.tx.DeleteReservation(id); err != nil {
		return r, nil, t.storeErr(err)
	}
	tg := quotad.ParseTarget(r.API) // API[/MODEL][@SCOPE]
	a, err := t.api(tg.API)
	if err != nil {
		return r, nil, err
	}
	for _, i := range a.Selected(tg) {
		w := &a.Windows[i]
		w.Reserved = max(0, w.Reserved-w.Amount(r.Units))
		t.touchWindow(a.Name, w.Key())
	}
	return r, a, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (e *Engine) countSpend(api string, units int64) {
	e.counts.add(func(c *Counters) { c.Spends[api]++; c.SpendUnits[api] += uint64(units) })
}

func (e *Engine) countRefused(api string, err error) {
	if errors.Is(err, quotad.ErrExhausted) {
		e.counts.add(func(c *Counters) { c.Refused[api]++ })
	}
}

// crossed emits a threshold event for each configured fraction of the limit
// that this spend carried the window across — none when it carried the
// window to its limit: the exhaustion event says it all.
func (t *txn) crossed(a *quotad.API, w *quotad.Window, before int64) {
	if w.Used >= w.Limit {
		return
	}
	for _, f := range t.e.opts.Thresholds {
		mark := int64(math.Ceil(f * float64(w.Limit)))
		if before < mark && w.Used >= mark {
			pct := strconv.FormatFloat(f*100, 'f', -1, 64)
			t.emit(quotad.LevelWarning, "", quotad.CategoryThreshold,
				fmt.Sprintf("%s %s window passed %s%% of its limit (%d/%d %s)", strings.ToUpper(a.Name), w.Key(), pct, w.Used, w.Limit, a.UnitOf(*w)),
				map[string]string{"api": a.Name, "window": w.Key(), "threshold": pct, "used": strconv.FormatInt(w.Used, 10),
					"limit": strconv.FormatInt(w.Limit, 10), "next_reset": fmtRFC(w.NextReset)})
		}
	}
}

// CallRefused records that a channel's call to target (API/MODEL[@SCOPE])
// was refused because a window it is charged to is out: a channel that
// needs the API as a whole uses that model, so it waits for it
// (quota:API/MODEL) like the channel whose call ran it out. Nothing
// changes when the target is available, the channel does not need the API,
// a person holds it, or it waits already.
func (e *Engine) CallRefused(ctx context.Context, channel, target string) error {
	tg, err := checkTarget(target)
	if err != nil {
		return err
	}
	if tg.Model == "" && tg.Scope == "" {
		return nil // the API's own windows pause every channel that needs it already
	}
	_, err = e.do(ctx, func(t *txn) (any, error) {
		a, c, err := t.apiAndChannel(tg.API, channel)
		if err != nil || c == nil {
			return nil, err
		}
		if exhaustedErr(a, a.Selected(tg)) == nil || !c.Needs(a.Name) || heldByPerson(c) {
			return nil, nil
		}
		t.pauseFor(c, a, tg, "its call to "+tg.String()+" was refused: that quota is exhausted")
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("call refused %s: %w", target, err)
	}
	return nil
}
