package runner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Hold says why a job may not start now. The zero Hold lets it start.
type Hold struct {
	// Reason is a short sentence fragment for people, e.g. "channel paused
	// (quota:groq)" or "groq/minute has 2000 tokens free, the job needs 3000".
	Reason string
	// Until is when the hold is expected to lift by itself: a reset, the
	// end of a provider block, a pause's end. It is zero when only a person
	// can lift the hold or nobody knows.
	Until time.Time
	// Kind classifies the hold: HoldPaused, HoldBudget, HoldReserve,
	// HoldExhausted, HoldInsufficient, HoldCapability, HoldPaced or
	// HoldConfig.
	Kind string
}

// Kinds of Hold.
const (
	HoldPaused       = "paused"       // the channel has a pause reason
	HoldBudget       = "budget"       // the channel spent its own budget of an API
	HoldReserve      = "reserve"      // what is left of an API is kept for higher priorities
	HoldExhausted    = "exhausted"    // an API is exhausted until a reset or a provider's time
	HoldInsufficient = "insufficient" // an API has fewer free units than the run's cost until its reset
	HoldCapability   = "capability"   // no provider of a fallback need can serve
	HoldPaced        = "paced"        // a paced API's allowance does not cover the run yet
	HoldConfig       = "config"       // only a config change can lift it
)

// Held reports whether h keeps the job from starting.
func (h Hold) Held() bool { return h.Reason != "" }

// Gate decides whether a channel's job may start at now. It is pure: the
// channel and the APIs as read from the store, the job's estimated units per
// API, and the time go in; the zero Hold (start) or the reason it is held
// comes out.
//
// A job is held while its channel is paused (for any reason: quota, errors,
// a person, its budget, a priority reserve); while an API the channel needs
// is missing or exhausted; while a window of such an API has fewer free
// units (limit - used - reserved, less the API's reserve when the channel's
// priority is below it) than the job's estimate for that API; and while no
// provider of one of the channel's fallback needs can serve the same way.
// An estimate for an API the channel neither needs nor has as a fallback
// provider is checked like a need.
func Gate(ch quotad.Channel, apis map[string]quotad.API, estimate map[string]int64, now time.Time) Hold {
	if !ch.Active() {
		reasons := make([]string, 0, len(ch.Pauses))
		for _, p := range ch.Pauses {
			reasons = append(reasons, p.Reason.String())
		}
		return Hold{Reason: "channel paused (" + strings.Join(reasons, ", ") + ")", Until: notBefore(quotad.ResumeAt(ch, apis), now), Kind: pauseKind(ch)}
	}
	required := append([]string(nil), ch.APIs...)
	var extra []string
	for name := range estimate {
		if !ch.Needs(name) && !isProvider(ch, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range append(required, extra...) {
		if h := canServe(ch, apis, name, estimate[name], now); h.Held() {
			return h
		}
	}
	for _, capb := range ch.Fallbacks {
		var first Hold
		served := false
		for _, name := range capb.Providers {
			h := canServe(ch, apis, name, estimate[name], now)
			if !h.Held() {
				served = true
				break
			}
			if !first.Held() || (!h.Until.IsZero() && (first.Until.IsZero() || h.Until.Before(first.Until))) {
				first = h
			}
		}
		if !served && len(capb.Providers) > 0 {
			return Hold{Reason: fmt.Sprintf("no provider of %s can serve (%s): %s", capb.Name, strings.Join(capb.Providers, ", "), first.Reason), Until: first.Until, Kind: HoldCapability}
		}
	}
	return Hold{}
}

// canServe decides whether one API can serve the job: it exists, it is
// available, and every window has need units free for the channel.
// name is an API or a model or bucket of one (quotad.Target): only the
// windows of that need count (quotad.API.NeedWindows).
func canServe(ch quotad.Channel, apis map[string]quotad.API, name string, need int64, now time.Time) Hold {
	tg := quotad.ParseTarget(name)
	a, ok := apis[tg.API]
	if !ok {
		return Hold{Reason: fmt.Sprintf("API %s is not configured", tg.API), Kind: HoldConfig}
	}
	if !a.NeedAvailable(tg) {
		return Hold{Reason: name + " is exhausted", Until: notBefore(a.NeedAvailableAt(tg), now), Kind: HoldExhausted}
	}
	kept := int64(0)
	if a.Reserve.Units > 0 && ch.Priority.Rank() < a.Reserve.Priority.Rank() {
		kept = a.Reserve.Units
	}
	for _, i := range a.NeedWindows(tg) {
		w := a.Windows[i]
		if a.UnitOf(w) != a.Unit {
			continue // an estimate is in the API's unit
		}
		free := max(w.Free()-kept, 0)
		switch {
		case need > w.Limit-kept:
			return Hold{Reason: fmt.Sprintf("the job's estimate of %d %s exceeds what %s/%s can give this channel (%d): it can never start; lower the estimate",
				need, unit(a), name, w.Key(), w.Limit-kept), Kind: HoldConfig}
		case kept > 0 && w.Used >= w.Limit-kept:
			return Hold{Reason: fmt.Sprintf("%s/%s is down to the %d %s kept for %s priority", name, w.Key(), kept, unit(a), a.Reserve.Priority),
				Until: notBefore(w.NextReset, now), Kind: HoldReserve}
		case need > 0 && free < need:
			kind := HoldInsufficient
			if kept > 0 && w.Free() >= need {
				kind = HoldReserve // it would fit but for the reserve
			}
			return Hold{Reason: fmt.Sprintf("%s/%s has %d %s free, the job needs %d", name, w.Key(), free, unit(a), need),
				Until: notBefore(w.NextReset, now), Kind: kind}
		}
	}
	return Hold{}
}

// isProvider reports whether an API is a provider of one of the channel's
// fallback needs.
func isProvider(ch quotad.Channel, name string) bool {
	for _, capb := range ch.Fallbacks {
		for _, p := range capb.Providers {
			if p == name {
				return true
			}
		}
	}
	return false
}

func unit(a quotad.API) string {
	if a.Unit == "" {
		return "units"
	}
	return a.Unit
}

// notBefore returns t, moved up to now when it has passed already (the
// monitor has not applied it yet), or zero when t is zero or a billing hold.
func notBefore(t, now time.Time) time.Time {
	switch {
	case t.IsZero() || t.Year() >= 9999:
		return time.Time{}
	case t.Before(now):
		return now
	}
	return t
}
