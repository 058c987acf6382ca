package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// TickResult says what one pass of the time-driven rules changed.
type TickResult struct {
	Resets     []string `json:"resets"`     // "api/window" refilled by their rule
	Unblocked  []string `json:"unblocked"`  // "api/window" whose provider block ended
	Resumed    []string `json:"resumed"`    // channels active again
	Expired    int      `json:"expired"`    // reservations that lapsed
	Reconciled []string `json:"reconciled"` // channels edited by another program
}

// Tick applies everything due at the clock's now: every reset whose
// next_reset has passed (once, however many were missed), the end of
// provider blocks, expired reservations and pauses, edits made to the store
// by other programs, and the resumption of every channel whose pauses are
// all cleared. It is idempotent: a second Tick at the same instant changes
// nothing, and because it runs in a serialized transaction that re-reads
// next_reset, two processes never apply one reset twice.
func (e *Engine) Tick(ctx context.Context) (TickResult, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) { return t.tick() })
	if err != nil {
		return TickResult{}, fmt.Errorf("tick: %w", err)
	}
	return v.(TickResult), nil
}

func (t *txn) tick() (TickResult, error) {
	var res TickResult
	apis, err := t.allAPIList()
	if err != nil {
		return res, err
	}
	for _, a := range apis {
		for i := range a.Windows {
			w := &a.Windows[i]
			r, err := t.e.rule(w.Rule)
			if err != nil {
				t.e.log.Error("stored reset rule does not parse", "api", a.Name, "window", w.Key(), "rule", w.Rule, "err", err)
				continue
			}
			adv := w.Advance(r, t.now)
			if adv.Step == quotad.TimerNone {
				continue
			}
			t.touchWindow(a.Name, w.Key())
			switch adv.Step {
			case quotad.TimerReset:
				res.Resets = append(res.Resets, a.Name+"/"+w.Key())
				if !adv.WasExhausted {
					// A timer reset of a window that was serving is not news
					// (a per-minute window would write 1,440 rows a day):
					// no event, only the counter.
					t.quiet = append(t.quiet, a.Name)
					continue
				}
				msg := fmt.Sprintf("%s quota reset at %s", apiWindow(a, w.Key()), t.e.human(adv.Due))
				if t.now.Sub(adv.Missed) > time.Minute {
					msg += fmt.Sprintf(" (caught up: was due %s)", t.e.human(adv.Missed))
				}
				t.emit(quotad.LevelInfo, "", quotad.CategoryQuotaReset, msg,
					quotad.Refill{API: a.Name, Window: w.Key(), Trigger: quotad.TriggerTimer, NextReset: w.NextReset, WasExhausted: adv.WasExhausted}.Fields())
			case quotad.TimerUnblocked:
				res.Unblocked = append(res.Unblocked, a.Name+"/"+w.Key())
				t.emit(quotad.LevelInfo, "", quotad.CategoryQuotaReset,
					fmt.Sprintf("%s quota available again at %s (provider's retry time reached)", apiWindow(a, w.Key()), t.e.human(t.now)),
					quotad.Refill{API: a.Name, Window: w.Key(), Trigger: quotad.TriggerRetryTime}.Fields())
			}
		}
	}
	n, err := t.expireReservations()
	if err != nil {
		return res, err
	}
	res.Expired = n
	if res.Reconciled, err = t.reconcile(); err != nil {
		return res, err
	}
	if res.Resumed, err = t.resumeCleared(false); err != nil {
		return res, err
	}
	return res, nil
}

// apiWindow names a window for a person: "GROQ" for an API of one window,
// "GROQ rpm" when the API has several.
func apiWindow(a *quotad.API, window string) string {
	if len(a.Windows) > 1 {
		return strings.ToUpper(a.Name) + " " + window
	}
	return strings.ToUpper(a.Name)
}

func (t *txn) expireReservations() (int, error) {
	list, err := t.tx.ExpiredReservations(t.now)
	if err != nil {
		return 0, t.storeErr(err)
	}
	for _, r := range list {
		if _, _, err := t.takeReservation(r.ID); err != nil && t.fatal != nil {
			return 0, t.fatal
		}
	}
	return len(list), nil
}

// reconcile honours edits other programs made to channels.is_active: 1 is a
// person's resume (all pauses cleared), 0 with no pause is a manual pause.
func (t *txn) reconcile() ([]string, error) {
	list, err := t.tx.ChannelsOutOfSync()
	if err != nil {
		return nil, t.storeErr(err)
	}
	var names []string
	for _, stale := range list {
		c, err := t.channel(stale.Name)
		if err != nil {
			continue
		}
		if c.Active() == stale.StoredActive { // already reconciled in this transaction
			continue
		}
		if stale.StoredActive {
			cleared := reasons(c)
			c.Pauses, c.ConsecutiveErrors = nil, 0
			t.emit(quotad.LevelInfo, c.Name, quotad.CategoryResume,
				fmt.Sprintf("Channel reactivated outside quotad (is_active = 1) - cleared %s", cleared), map[string]string{"cleared": cleared, "trigger": "external"})
		} else {
			c.Pauses = append(c.Pauses, quotad.Pause{Reason: quotad.ReasonManual, Since: t.now, Detail: "is_active set to 0 outside quotad"})
			t.emit(quotad.LevelWarning, c.Name, quotad.CategoryPause, "Channel deactivated outside quotad (is_active = 0) - treated as a manual pause", quotad.Paused{Reason: quotad.ReasonManual, Trigger: "external"}.Fields())
		}
		c.StoredActive = c.Active()
		t.touchChannel(c.Name)
		names = append(names, c.Name)
	}
	return names, nil
}

// resumeCleared removes every pause that no longer holds: quota:<api> for
// APIs available again (only with auto_resume unless byPerson), pauses whose
// until has passed, pauses naming APIs that no longer exist. Channels left
// without pauses become active and are returned.
func (t *txn) resumeCleared(byPerson bool) ([]string, error) {
	chans, err := t.allChannels()
	if err != nil {
		return nil, err
	}
	list, err := t.allAPIList()
	if err != nil {
		return nil, err
	}
	apis := make(map[string]quotad.API, len(list))
	for _, a := range list {
		apis[a.Name] = *a
	}
	var resumed []string
	for _, c := range chans {
		if c.Active() {
			continue
		}
		kept := c.Pauses[:0:0]
		var cleared []string
		for _, p := range c.Pauses {
			if p.End(*c, apis, t.now, byPerson).Cleared {
				cleared = append(cleared, p.Reason.String())
				continue
			}
			kept = append(kept, p)
		}
		if len(cleared) == 0 {
			continue
		}
		c.Pauses = kept
		t.touchChannel(c.Name)
		if !c.Active() {
			continue
		}
		resumed = append(resumed, c.Name)
		cat, msg := quotad.CategoryAutoResume, "Channel auto-resumed after quota reset"
		if byPerson {
			cat, msg = quotad.CategoryResume, "Channel resumed: its quota pauses are cleared"
		}
		t.emit(quotad.LevelInfo, c.Name, cat, msg, map[string]string{"cleared": strings.Join(cleared, ",")})
	}
	return resumed, nil
}

func reasons(c *quotad.Channel) string {
	rs := make([]string, 0, len(c.Pauses))
	for _, p := range c.Pauses {
		rs = append(rs, p.Reason.String())
	}
	if len(rs) == 0 {
		return "nothing"
	}
	return strings.Join(rs, ",")
}

// Reset refills every window of the named APIs now, as a person's decision:
// usage to zero, exhaustion and provider blocks cleared; next_reset keeps its
// schedule. Channels whose pauses are then all cleared resume (quota pauses
// of APIs with auto_resume). Unknown names change nothing.
func (e *Engine) Reset(ctx context.Context, apis ...string) (ResetResult, error) {
	if len(apis) == 0 {
		return ResetResult{}, quotad.Invalidf("name at least one API to reset")
	}
	return e.reset(ctx, apis, false)
}

// ResetAll refills every API now (the seed's reset_all_quotas).
func (e *Engine) ResetAll(ctx context.Context) (ResetResult, error) { return e.reset(ctx, nil, true) }

func (e *Engine) reset(ctx context.Context, names []string, all bool) (ResetResult, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) {
		var targets []*quotad.API
		if all {
			list, err := t.allAPIList()
			if err != nil {
				return nil, err
			}
			targets = list
		}
		for _, n := range names {
			a, err := t.api(n)
			if err != nil {
				return nil, err
			}
			targets = append(targets, a)
		}
		res := ResetResult{APIs: []string{}, Resumed: []string{}}
		for _, a := range targets {
			for i := range a.Windows {
				w := &a.Windows[i]
				w.Reset(t.now)
				t.touchWindow(a.Name, w.Key())
			}
			res.APIs = append(res.APIs, a.Name)
			t.emit(quotad.LevelInfo, "", quotad.CategoryQuotaReset,
				fmt.Sprintf("%s quota reset at %s (by a person)", strings.ToUpper(a.Name), t.e.human(t.now)),
				quotad.Refill{API: a.Name, Trigger: quotad.TriggerManual}.Fields())
		}
		resumed, err := t.resumeCleared(false)
		if err != nil {
			return nil, err
		}
		res.Resumed = append(res.Resumed, resumed...)
		return res, nil
	})
	if err != nil {
		return ResetResult{}, fmt.Errorf("reset: %w", err)
	}
	return v.(ResetResult), nil
}

// Resume clears every pause of the named channels (manual, errors, quota),
// as a person's decision, and zeroes their error counts.
func (e *Engine) Resume(ctx context.Context, channels ...string) (ResumeResult, error) {
	if len(channels) == 0 {
		return ResumeResult{}, quotad.Invalidf("name at least one channel to resume")
	}
	return e.resume(ctx, channels, false)
}

// ResumeAll clears every pause of every channel.
func (e *Engine) ResumeAll(ctx context.Context) (ResumeResult, error) {
	return e.resume(ctx, nil, true)
}

func (e *Engine) resume(ctx context.Context, names []string, all bool) (ResumeResult, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) {
		var targets []*quotad.Channel
		if all {
			list, err := t.allChannels()
			if err != nil {
				return nil, err
			}
			targets = list
		}
		for _, n := range names {
			c, err := t.channel(n)
			if err != nil {
				return nil, err
			}
			targets = append(targets, c)
		}
		res := ResumeResult{Resumed: []string{}, AlreadyActive: []string{}}
		for _, c := range targets {
			if c.Active() && c.ConsecutiveErrors == 0 {
				res.AlreadyActive = append(res.AlreadyActive, c.Name)
				continue
			}
			wasActive, cleared := c.Active(), reasons(c)
			c.Pauses, c.ConsecutiveErrors = nil, 0
			t.touchChannel(c.Name)
			if wasActive {
				res.AlreadyActive = append(res.AlreadyActive, c.Name)
				continue
			}
			res.Resumed = append(res.Resumed, c.Name)
			t.emit(quotad.LevelInfo, c.Name, quotad.CategoryResume,
				fmt.Sprintf("Channel resumed by a person - cleared %s", cleared), map[string]string{"cleared": cleared, "trigger": "manual"})
		}
		return res, nil
	})
	if err != nil {
		return ResumeResult{}, fmt.Errorf("resume: %w", err)
	}
	return v.(ResumeResult), nil
}

// ResumeEligible resumes channels whose quota pauses are cleared (their APIs
// are available again, whatever auto_resume says) and whose timed pauses
// have passed; manual and errors pauses stay. Edits of is_active made by
// other programs are honoured first. It is the seed's
// auto_resume_paused_channels.
func (e *Engine) ResumeEligible(ctx context.Context) (ResumeResult, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) {
		reconciled, err := t.reconcile()
		if err != nil {
			return nil, err
		}
		res := ResumeResult{Resumed: []string{}, AlreadyActive: []string{}}
		for _, name := range reconciled {
			if c := t.chans[name]; c != nil && c.Active() {
				res.Resumed = append(res.Resumed, name)
			}
		}
		resumed, err := t.resumeCleared(true)
		res.Resumed = append(res.Resumed, resumed...)
		return res, err
	})
	if err != nil {
		return ResumeResult{}, fmt.Errorf("resume: %w", err)
	}
	return v.(ResumeResult), nil
}

// Pause pauses a channel as a person's decision ("manual"): it stays paused
// until a person resumes it.
func (e *Engine) Pause(ctx context.Context, channel, reason string) (quotad.ChannelStatus, error) {
	if len(reason) > 1024 {
		return quotad.ChannelStatus{}, quotad.Invalidf("reason is longer than 1024 bytes")
	}
	v, err := e.do(ctx, func(t *txn) (any, error) {
		c, err := t.channel(channel)
		if err != nil {
			return nil, err
		}
		if _, ok := c.Paused(quotad.ReasonManual); !ok {
			c.Pauses = append(c.Pauses, quotad.Pause{Reason: quotad.ReasonManual, Since: t.now, Detail: reason})
			t.touchChannel(c.Name)
			msg := "Channel paused by a person"
			if reason != "" {
				msg += ": " + reason
			}
			t.emit(quotad.LevelWarning, c.Name, quotad.CategoryPause, msg, quotad.Paused{Reason: quotad.ReasonManual, Trigger: "manual"}.Fields())
		}
		return quotad.ChannelStatusOf(*c, nil), nil
	})
	if err != nil {
		return quotad.ChannelStatus{}, fmt.Errorf("pause: %w", err)
	}
	return v.(quotad.ChannelStatus), nil
}

func (e *Engine) human(t time.Time) string {
	return t.In(e.opts.Location).Format("2006-01-02 15:04:05 MST")
}

func (e *Engine) humanOr(t time.Time, none string) string {
	if t.IsZero() || t.Year() >= 9999 {
		return none
	}
	return e.human(t)
}

func fmtRFC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
