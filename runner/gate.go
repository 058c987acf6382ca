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
}

// Held reports whether h keeps the job from starting.
func (h Hold) Held() bool { return h.Reason != "" }

// Gate decides whether a channel's job may start at now. It is pure: the
// channel and the APIs as read from the store, the job's estimated units per
// API, and the time go in; the zero Hold (start) or the reason it is held
// comes out. A job is held while its channel is paused, while an API the
// channel needs (or the job estimates) is missing or exhausted, and while
// any window of an API has fewer free units (limit - used - reserved) than
// the job's estimate for it.
func Gate(ch quotad.Channel, apis map[string]quotad.API, estimate map[string]int64, now time.Time) Hold {
	if !ch.Active() {
		reasons := make([]string, 0, len(ch.Pauses))
		for _, p := range ch.Pauses {
			reasons = append(reasons, p.Reason)
		}
		return Hold{Reason: "channel paused (" + strings.Join(reasons, ", ") + ")", Until: notBefore(quotad.ResumeAt(ch, apis), now)}
	}
	names := append([]string(nil), ch.APIs...)
	extra := make([]string, 0, len(estimate))
	for name := range estimate {
		if !ch.Needs(name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range append(names, extra...) {
		a, ok := apis[name]
		if !ok {
			return Hold{Reason: fmt.Sprintf("API %s is not configured", name)}
		}
		if !a.Available() {
			return Hold{Reason: name + " is exhausted", Until: notBefore(a.AvailableAt(), now)}
		}
		need := estimate[name]
		if need <= 0 {
			continue
		}
		for _, w := range a.Windows {
			switch {
			case need > w.Limit:
				return Hold{Reason: fmt.Sprintf("the job's estimate of %d %s exceeds the limit of %s/%s (%d): it can never start; lower the estimate",
					need, unit(a), name, w.Name, w.Limit)}
			case w.Free() < need:
				return Hold{Reason: fmt.Sprintf("%s/%s has %d %s free, the job needs %d", name, w.Name, w.Free(), unit(a), need),
					Until: notBefore(w.NextReset, now)}
			}
		}
	}
	return Hold{}
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
