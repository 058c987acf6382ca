package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// SpendResult is the outcome of a spend or a commit.
type SpendResult struct {
	API       string                `json:"api"`
	Channel   string                `json:"channel,omitempty"`
	Units     int64                 `json:"units"`
	Exhausted bool                  `json:"exhausted"` // the API is exhausted after this operation
	Windows   []quotad.WindowStatus `json:"windows"`
}

// Reservation is a grant of units returned by Reserve.
type Reservation struct {
	ID        string    `json:"id"`
	API       string    `json:"api"`
	Channel   string    `json:"channel,omitempty"`
	Units     int64     `json:"units"`
	ExpiresAt time.Time `json:"expires_at"`
}

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

// Spend records units spent on an API by a channel ("" for none). Every
// window of the API counts them. A spend that does not fit is refused whole
// with an *quotad.ExhaustedError saying whose hold it is (see admit): an
// exhausted API, more units than a window has free, more than the channel's
// budget has left, or units of the reserve kept for higher priorities. A
// spend that reaches a window's limit is recorded and exhausts the API,
// pausing the channels that need it.
func (e *Engine) Spend(ctx context.Context, api string, units int64, channel string) (SpendResult, error) {
	if err := e.checkUnits(units, false); err != nil {
		return SpendResult{}, err
	}
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("spend %s: %w", api, err) },
		func(t *txn) (any, error) { return t.spend(api, units, channel, true) })
	if err != nil {
		e.countRefused(api, err)
		return SpendResult{}, err
	}
	e.countSpend(api, units)
	return v.(SpendResult), nil
}

func (t *txn) spend(api string, units int64, channel string, refuseExhausted bool) (SpendResult, error) {
	var a *quotad.API
	var ch *quotad.Channel
	var err error
	if refuseExhausted {
		a, ch, err = t.admit(api, channel, units)
	} else {
		a, ch, err = t.apiAndChannel(api, channel)
	}
	if err != nil {
		return SpendResult{}, err
	}
	var reached []int
	for i := range a.Windows {
		w := &a.Windows[i]
		before := w.Used
		w.Used = addSat(w.Used, units)
		t.touchWindow(a.Name, w.Name)
		if !w.Exhausted && w.Used >= w.Limit {
			reached = append(reached, i)
		}
		t.crossed(a, w, before)
	}
	t.recordUsage(a.Name, channel, units, 1)
	if len(reached) > 0 {
		t.exhaust(a, reached, time.Time{}, "limit reached", channel)
	}
	if err := t.applyChannelLimits(a, ch); err != nil {
		return SpendResult{}, err
	}
	return t.spendResult(a, channel, units), nil
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
// units that do not fit, whole: an exhausted API or a window with fewer
// free units than asked (quotad.HoldWindow), a channel held by or short of
// its own budget (quotad.HoldBudget), a channel below the API's reserve
// whose units would reach into it (quotad.HoldReserve).
func (t *txn) admit(api, channel string, units int64) (*quotad.API, *quotad.Channel, error) {
	a, ch, err := t.apiAndChannel(api, channel)
	if err != nil {
		return nil, nil, err
	}
	if !a.Available() {
		return nil, nil, exhaustedErr(a)
	}
	if ch != nil {
		if err := t.checkChannelLimits(a, ch, units); err != nil {
			return nil, nil, err
		}
	}
	for _, w := range a.Windows {
		if units > w.Free() {
			return nil, nil, &quotad.ExhaustedError{API: a.Name, Window: w.Name, Until: w.NextReset, Kind: quotad.HoldWindow,
				Detail: fmt.Sprintf("%d %s asked, %d free (%d of %d used, %d reserved)", units, unitOf(a), w.Free(), w.Used, w.Limit, w.Reserved)}
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

func (t *txn) spendResult(a *quotad.API, channel string, units int64) SpendResult {
	return SpendResult{API: a.Name, Channel: channel, Units: units, Exhausted: !a.Available(), Windows: quotad.StatusOf(*a).Windows}
}

func exhaustedErr(a *quotad.API) error {
	ee := &quotad.ExhaustedError{API: a.Name}
	for _, w := range a.Windows {
		if w.Exhausted && !w.Until().Before(ee.Until) {
			ee.Window, ee.Until = w.Name, w.Until()
		}
	}
	return ee
}

// exhaust marks windows of a as exhausted (until the provider's stated time
// when known) and, when the API was available, pauses every channel that
// needs it.
func (t *txn) exhaust(a *quotad.API, idx []int, until time.Time, detail, channel string) {
	wasAvailable := a.Available()
	before := a.AvailableAt()
	for _, i := range idx {
		w := &a.Windows[i]
		if !w.Exhausted {
			w.ExhaustedAt = t.now
		}
		w.Exhausted = true
		if !until.IsZero() {
			w.BlockedUntil = until
		}
		t.touchWindow(a.Name, w.Name)
	}
	at := a.AvailableAt()
	fields := map[string]string{"api": a.Name, "until": fmtRFC(at), "detail": detail}
	names := make([]string, 0, len(idx))
	for _, i := range idx {
		names = append(names, a.Windows[i].Name)
	}
	fields["window"] = strings.Join(names, ",")
	switch {
	case wasAvailable:
		t.emit(quotad.LevelWarning, channel, quotad.CategoryQuota,
			fmt.Sprintf("%s quota exhausted at %s - will auto-resume at %s", strings.ToUpper(a.Name), t.e.human(t.now), t.e.humanOr(at, "a person's reset")), fields)
		t.pauseForAPI(a, detail)
	case !at.Equal(before):
		t.emit(quotad.LevelWarning, channel, quotad.CategoryQuota,
			fmt.Sprintf("%s quota still exhausted - now until %s", strings.ToUpper(a.Name), t.e.humanOr(at, "a person's reset")), fields)
	}
}

// pauseForAPI gives quota:<api> to every channel that needs the API and is
// not held by a person (manual or errors pause).
func (t *txn) pauseForAPI(a *quotad.API, detail string) {
	chans, err := t.allChannels()
	if err != nil {
		return
	}
	reason := quotad.QuotaReason(a.Name)
	for _, c := range chans {
		if heldByPerson(c) {
			continue
		}
		if !c.Needs(a.Name) {
			t.pauseForCapabilities(c, a.Name, detail)
			continue
		}
		if t.addPause(c, reason, detail) {
			t.emit(quotad.LevelWarning, c.Name, quotad.CategoryQuota,
				fmt.Sprintf("%s API quota exhausted - channel paused, will auto-resume at %s", titleCase(a.Name), t.e.humanOr(a.AvailableAt(), "a person's reset")),
				map[string]string{"api": a.Name, "reason": reason})
		}
	}
}

// addPause gives c the pause reason (since now, without an end) unless it
// has it already, and reports whether that paused an active channel, which
// it then records in t.paused.
func (t *txn) addPause(c *quotad.Channel, reason, detail string) bool {
	if _, ok := c.Paused(reason); ok {
		return false
	}
	wasActive := c.Active()
	c.Pauses = append(c.Pauses, quotad.Pause{Reason: reason, Since: t.now, Detail: detail})
	t.touchChannel(c.Name)
	if !wasActive {
		return false
	}
	t.paused = append(t.paused, c.Name)
	return true
}

func heldByPerson(c *quotad.Channel) bool {
	for _, p := range c.Pauses {
		if p.Reason == quotad.ReasonManual || p.Reason == quotad.ReasonErrors {
			return true
		}
	}
	return false
}

// Reserve grants units of an API to a channel until committed, released or
// expired (ttl 0 means DefaultReservationTTL). It refuses, with an
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
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("reserve %s: %w", api, err) }, func(t *txn) (any, error) {
		a, _, err := t.admit(api, channel, units)
		if err != nil {
			return nil, err
		}
		r := quotad.Reservation{ID: newID(), API: a.Name, Channel: channel, Units: units, CreatedAt: t.now, ExpiresAt: t.now.Add(ttl)}
		if err := t.tx.SaveReservation(r); err != nil {
			return nil, t.storeErr(err)
		}
		for i := range a.Windows {
			a.Windows[i].Reserved = addSat(a.Windows[i].Reserved, units)
			t.touchWindow(a.Name, a.Windows[i].Name)
		}
		return Reservation{ID: r.ID, API: r.API, Channel: r.Channel, Units: r.Units, ExpiresAt: r.ExpiresAt.UTC()}, nil
	})
	if err != nil {
		e.countRefused(api, err)
		return Reservation{}, err
	}
	e.counts.add(func(c *Counters) { c.Reservations[api]++ })
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
		if units == 0 {
			return t.spendResult(a, r.Channel, 0), nil
		}
		if r.Channel != "" {
			if _, err := t.channel(r.Channel); err != nil {
				r.Channel = "" // the channel was removed meanwhile; the units still count
			}
		}
		return t.spend(a.Name, units, r.Channel, false)
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
	a, err := t.api(r.API)
	if err != nil {
		return r, nil, err
	}
	for i := range a.Windows {
		w := &a.Windows[i]
		w.Reserved = max(0, w.Reserved-r.Units)
		t.touchWindow(a.Name, w.Name)
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
				fmt.Sprintf("%s %s window passed %s%% of its limit (%d/%d %s)", strings.ToUpper(a.Name), w.Name, pct, w.Used, w.Limit, a.Unit),
				map[string]string{"api": a.Name, "window": w.Name, "threshold": pct, "used": strconv.FormatInt(w.Used, 10),
					"limit": strconv.FormatInt(w.Limit, 10), "next_reset": fmtRFC(w.NextReset)})
		}
	}
}
