package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/provider"
)

// billingHold is the blocked_until of an API whose quota no time restores
// (a billing problem): only a person's reset lifts it.
var billingHold = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// normalize splits a target written in Evidence.API into API, Model and
// Scope, and reads the model a provider's text names.
func normalize(r ErrorReport) ErrorReport {
	if strings.ContainsAny(r.API, "/@") {
		tg := quotad.ParseTarget(r.API)
		r.API = tg.API
		if r.Model == "" {
			r.Model = tg.Model
		}
		if r.Scope == "" {
			r.Scope = tg.Scope
		}
	}
	if r.Model == "" {
		r.Model = provider.ModelInText(r.Message)
	}
	return r
}

// Classify classifies evidence against the configured APIs without changing
// anything.
func (e *Engine) Classify(ctx context.Context, r ErrorReport) (classify.Verdict, error) {
	r = normalize(r)
	var v classify.Verdict
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		apis, err := tx.APIs()
		if err != nil {
			return err
		}
		var ch *quotad.Channel
		if r.Channel != "" {
			c, err := tx.Channel(r.Channel)
			if err != nil {
				return err
			}
			ch = &c
		}
		v, err = verdictFor(r, apis, ch, e.clock.Now())
		return err
	})
	return v, err
}

// verdictFor classifies and applies the attribution rules that need the
// configuration: an explicit API must exist; a quota error naming no API from
// a channel that needs exactly one API is attributed to it.
func verdictFor(r ErrorReport, apis []quotad.API, ch *quotad.Channel, now time.Time) (classify.Verdict, error) {
	if r.API != "" && !hasAPI(apis, r.API) {
		return classify.Verdict{}, fmt.Errorf("%w: %q", quotad.ErrUnknownAPI, r.API)
	}
	if len(r.Message) > 1<<20 {
		return classify.Verdict{}, quotad.Invalidf("message is longer than 1 MiB")
	}
	infos := make([]classify.APIInfo, 0, len(apis))
	for _, a := range apis {
		infos = append(infos, classify.APIInfo{Name: a.Name, Keywords: a.Keywords})
	}
	v := classify.Classify(r.Evidence, infos, now)
	if v.Quota && v.API == "" && ch != nil && len(ch.APIs) == 1 {
		v.API = ch.APIs[0]
		v.Evidence += fmt.Sprintf("; attributed to %s, the only API channel %s needs", v.API, ch.Name)
	}
	if v.API != "" && !hasAPI(apis, v.API) { // attributed by shape to an API that is not configured
		v.Evidence += fmt.Sprintf("; %s is not a configured API", v.API)
		v.API = ""
	}
	return v, nil
}

func hasAPI(apis []quotad.API, name string) bool {
	return slices.ContainsFunc(apis, func(a quotad.API) bool { return a.Name == name })
}

// ReportError classifies a failed call and acts on it: a quota error exhausts
// the API until the provider's stated time (else the window's next reset) and
// pauses the channels that need it; a billing error holds the API until a
// person resets it; quotad's own refusal echoed by a job (classify.KindHold)
// changes nothing, since quotad holds what it refused already; a channel limit pauses only that channel; any other error
// counts toward the channel's consecutive-error threshold.
func (e *Engine) ReportError(ctx context.Context, r ErrorReport) (ReportResult, error) {
	r = normalize(r)
	if _, err := checkTarget(quotad.Target{API: "x", Model: r.Model, Scope: r.Scope}.String()); err != nil {
		return ReportResult{}, fmt.Errorf("report error: %w", err)
	}
	v, err := e.doAs(ctx, func(err error) error { return fmt.Errorf("report error: %w", err) },
		func(t *txn) (any, error) { return t.reportError(r) })
	if err != nil {
		return ReportResult{}, err
	}
	res := v.(ReportResult)
	key := res.Verdict.API
	if key == "" {
		key = "-"
	}
	e.counts.add(func(c *Counters) { c.Classified[key+"/"+string(res.Verdict.Kind)]++ })
	return res, nil
}

func (t *txn) reportError(r ErrorReport) (ReportResult, error) {
	var ch *quotad.Channel
	if r.Channel != "" {
		c, err := t.channel(r.Channel)
		if err != nil {
			return ReportResult{}, err
		}
		ch = c
	}
	apiList, err := t.allAPIList()
	if err != nil {
		return ReportResult{}, err
	}
	apis := make([]quotad.API, len(apiList))
	for i, a := range apiList {
		apis[i] = *a
	}
	v, err := verdictFor(r, apis, ch, t.now)
	if err != nil {
		return ReportResult{}, err
	}
	res := ReportResult{Verdict: v, Paused: []string{}}
	mark := len(t.paused)
	detail := truncate(strings.Join(strings.Fields(r.Message), " "), 200)
	switch {
	case v.Kind == classify.KindHold:
		// quotad's own refusal, echoed: quotad already holds what it
		// refused, so nothing is exhausted, paused or counted.
	case v.Kind == classify.KindChannel && ch != nil:
		t.pauseChannel(ch, quotad.ReasonChannelLimit, v.Until, "provider limit of this channel: "+detail)
	case v.Quota && v.API != "" && (len(t.selectedFor(v.API, r)) > 0 || v.Kind == classify.KindBilling && t.hasAPI(v.API)):
		a, _ := t.api(v.API)
		tg := quotad.Target{API: a.Name, Model: r.Model, Scope: r.Scope}
		until := v.Until
		if v.Kind == classify.KindBilling {
			until = billingHold
		}
		sel := a.Selected(tg)
		pick := pickWindows(a, sel, until, r.Message)
		if v.Kind == classify.KindBilling {
			// Billing is the account's: every model of the scope is out.
			pick = scopeWindows(a, tg.Scope)
		}
		t.exhaust(a, pick, until, detail, r.Channel, tg)
		res.APIExhausted = exhaustedErr(a, sel) != nil
	case v.Quota && ch != nil: // a quota error nobody can attribute: hold this channel only
		until := v.Until
		if until.IsZero() {
			until = t.earliestReset(ch)
		}
		t.pauseChannel(ch, quotad.ReasonQuotaUnknown, until, "unattributed quota error: "+detail)
	case v.Quota:
		t.emit(quotad.LevelWarning, "", quotad.CategoryQuota, "Unattributed quota error reported: "+detail, map[string]string{"evidence": v.Evidence})
	case ch != nil:
		ch.ConsecutiveErrors++
		t.touchChannel(ch.Name)
		t.emit(quotad.LevelError, ch.Name, quotad.CategoryError,
			fmt.Sprintf("Error %d/%d: %s", ch.ConsecutiveErrors, t.e.opts.ErrorThreshold, detail), map[string]string{"kind": string(v.Kind)})
		if ch.ConsecutiveErrors >= t.e.opts.ErrorThreshold {
			if _, ok := ch.Paused(quotad.ReasonErrors); !ok {
				t.pauseChannel(ch, quotad.ReasonErrors, time.Time{}, fmt.Sprintf("%d consecutive errors; last: %s", ch.ConsecutiveErrors, detail))
			}
		}
	default:
		t.emit(quotad.LevelError, "", quotad.CategoryError, "Error reported: "+detail, map[string]string{"kind": string(v.Kind)})
	}
	if ch != nil {
		res.ConsecutiveErrors = ch.ConsecutiveErrors
	}
	res.Paused = append(res.Paused, t.paused[mark:]...)
	slices.Sort(res.Paused)
	return res, nil
}

func (t *txn) pauseChannel(c *quotad.Channel, reason quotad.Reason, until time.Time, detail string) {
	if p, ok := c.Paused(reason); ok {
		if until.After(p.Until) {
			for i := range c.Pauses {
				if c.Pauses[i].Reason == reason {
					c.Pauses[i].Until = until
				}
			}
			t.touchChannel(c.Name)
		}
		return
	}
	if c.Active() {
		t.paused = append(t.paused, c.Name)
	}
	c.Pauses = append(c.Pauses, quotad.Pause{Reason: reason, Since: t.now, Detail: detail, Until: until})
	t.touchChannel(c.Name)
	msg := fmt.Sprintf("Channel paused (%s): %s", reason, detail)
	if !until.IsZero() {
		msg += " - will auto-resume at " + t.e.human(until)
	} else {
		msg += " - waits for a person"
	}
	t.emit(quotad.LevelWarning, c.Name, quotad.CategoryPause, msg, quotad.Paused{Reason: reason, Until: until}.Fields())
}

// earliestReset returns the earliest next reset among a channel's APIs.
func (t *txn) earliestReset(c *quotad.Channel) time.Time {
	var at time.Time
	for _, name := range c.APIs {
		a, err := t.api(quotad.ParseTarget(name).API)
		if err != nil {
			continue
		}
		for _, w := range a.Windows {
			if u := w.Until(); !u.IsZero() && (at.IsZero() || u.Before(at)) {
				at = u
			}
		}
	}
	if at.IsZero() {
		at = t.now.Add(time.Hour)
	}
	return at
}

// scopeWindows returns the indices of every window of a scope.
func scopeWindows(a *quotad.API, scope string) []int {
	var out []int
	for i, w := range a.Windows {
		if w.Scope == scope {
			out = append(out, i)
		}
	}
	return out
}

func (t *txn) hasAPI(name string) bool {
	_, err := t.api(name)
	return err == nil
}

// selectedFor returns the windows of API api a call of report r is charged
// to (none when the API does not exist).
func (t *txn) selectedFor(api string, r ErrorReport) []int {
	a, err := t.api(api)
	if err != nil {
		return nil
	}
	return a.Selected(quotad.Target{API: api, Model: r.Model, Scope: r.Scope})
}

// pickWindows chooses which of the windows sel a quota error exhausts. A
// window the text names ("tokens per day (TPD)") when sel has it. With a
// stated retry time: the window with the earliest next reset at or after
// it (the quota that can explain such a wait), else the one resetting
// last. Without: the window closest to its limit, ties to the earliest
// reset (a wrong guess then costs one short pause, not a long one).
func pickWindows(a *quotad.API, sel []int, until time.Time, text string) []int {
	if name := provider.WindowInText(text); name != "" {
		for _, i := range sel {
			if a.Windows[i].Name == name {
				return []int{i}
			}
		}
	}
	best := -1
	if !until.IsZero() {
		for _, i := range sel {
			w := a.Windows[i]
			if !w.NextReset.Before(until) && (best < 0 || w.NextReset.Before(a.Windows[best].NextReset)) {
				best = i
			}
		}
		if best < 0 {
			for _, i := range sel {
				w := a.Windows[i]
				if best < 0 || w.NextReset.After(a.Windows[best].NextReset) {
					best = i
				}
			}
		}
		return []int{best}
	}
	bestRatio := -1.0
	for _, i := range sel {
		w := a.Windows[i]
		ratio := float64(w.Used) / float64(max(w.Limit, 1))
		if ratio > bestRatio || (ratio == bestRatio && w.NextReset.Before(a.Windows[best].NextReset)) {
			best, bestRatio = i, ratio
		}
	}
	return []int{best}
}

// ReportSuccess records that a channel's call or run succeeded: its
// consecutive-error count goes back to zero.
func (e *Engine) ReportSuccess(ctx context.Context, channel string) (quotad.ChannelStatus, error) {
	v, err := e.do(ctx, func(t *txn) (any, error) {
		c, err := t.channel(channel)
		if err != nil {
			return nil, err
		}
		if c.ConsecutiveErrors != 0 {
			c.ConsecutiveErrors = 0
			t.touchChannel(c.Name)
		}
		return quotad.ChannelStatusOf(*c, nil), nil
	})
	if err != nil {
		return quotad.ChannelStatus{}, fmt.Errorf("report success: %w", err)
	}
	return v.(quotad.ChannelStatus), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
