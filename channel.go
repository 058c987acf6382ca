package quotad

import (
	"slices"
	"strings"
	"time"
)

// Pause reason kinds. A reason string is one of these, or "quota:<api>" /
// "budget:<api>" built with QuotaReason / BudgetReason.
const (
	ReasonManual = "manual" // set and cleared by a person only
	ReasonErrors = "errors" // consecutive failures; cleared by a person
	// ReasonQuotaPrefix starts "quota:<api>": cleared automatically when the
	// API is available again and its auto_resume is on. "quota:" followed by
	// nothing (ReasonQuotaUnknown) marks a quota error that could not be
	// attributed; it carries an Until and clears then.
	ReasonQuotaPrefix  = "quota:"
	ReasonQuotaUnknown = "quota:?"
	// ReasonBudgetPrefix starts "budget:<api>": the channel spent its own
	// budget of that API; cleared at the window's reset.
	ReasonBudgetPrefix = "budget:"
	// ReasonChannelLimit is a provider limit of the channel itself (YouTube's
	// uploadLimitExceeded); it carries an Until.
	ReasonChannelLimit = "channel_limit"
	// ReasonReservePrefix starts "reserve:<api>": the channel's priority is
	// below the API's reserve, which is all that is left; cleared at the
	// window's reset (it carries an Until).
	ReasonReservePrefix = "reserve:"
	// ReasonCapabilityPrefix starts "capability:<name>": every provider of a
	// fallback need is exhausted; cleared when any of them is available.
	ReasonCapabilityPrefix = "capability:"
)

// QuotaReason returns the pause reason "quota:<target>": "quota:groq",
// "quota:groq/llama-3.3-70b-versatile", "quota:youtube/videos.insert".
func QuotaReason(target string) string { return ReasonQuotaPrefix + target }

// BudgetReason returns the pause reason "budget:<api>".
func BudgetReason(api string) string { return ReasonBudgetPrefix + api }

// QuotaAPI returns the API named by a "quota:<target>" reason, or "" for
// any other reason (including "quota:?").
func QuotaAPI(reason string) string { return QuotaTarget(reason).API }

// QuotaTarget returns the target named by a "quota:<target>" reason; its
// API is "" for any other reason (including "quota:?").
func QuotaTarget(reason string) Target {
	if s, ok := strings.CutPrefix(reason, ReasonQuotaPrefix); ok && s != "?" {
		return ParseTarget(s)
	}
	return Target{}
}

// Priority orders channels: high before normal before low.
type Priority string

// Priorities.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
)

// Rank returns 0 for low, 1 for normal, 2 for high, -1 for anything else.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 0
	case PriorityNormal:
		return 1
	case PriorityHigh:
		return 2
	}
	return -1
}

// Channel is one pipeline: a name, a priority, the APIs it needs, and its
// state. A channel is active exactly when it has no pause reason.
type Channel struct {
	Name     string
	Priority Priority
	// APIs are what the channel needs, every one of them: an API ("groq":
	// the models its calls use), a model or a bucket of one
	// ("groq/llama-3.3-70b-versatile", "youtube/search.list").
	APIs []string
	// Fallbacks are needs that any one of several providers satisfies, in
	// order of preference: {llm, [groq, openai]}. Each provider is an API.
	Fallbacks []Capability
	// Budgets cap what this channel may spend of an API per window.
	Budgets []Budget

	Pauses            []Pause // at most one per Reason, in the order they were added
	ConsecutiveErrors int
	// StoredActive is the is_active column as read from the store. It
	// differs from Active() only when another program edited the row (the
	// seed's "UPDATE channels SET is_active = 1"); the engine reconciles it.
	StoredActive bool
}

// Capability is a need that any one of several APIs satisfies.
type Capability struct {
	Name      string   `json:"name"`      // e.g. "llm", "stock"
	Providers []string `json:"providers"` // APIs or models of them (groq/llama-3.1-8b-instant), most preferred first
}

// Budget caps the units a channel may spend of one API in each period of a
// window: Units, or Share of the window's limit when Units is 0.
type Budget struct {
	API    string  `json:"api"`
	Window string  `json:"window,omitempty"` // "" = every window of the API
	Units  int64   `json:"units,omitempty"`
	Share  float64 `json:"share,omitempty"` // 0 < Share <= 1
	// Micros is a budget in money: millionths of a US dollar the channel
	// may spend on the API (at its models' prices) per Per.
	Micros int64  `json:"micros,omitempty"`
	Per    string `json:"per,omitempty"` // hour, day, week or month (in the config's zone)
}

// Money reports whether the budget is in money.
func (b Budget) Money() bool { return b.Micros > 0 }

// PeriodRule returns the reset rule of a money budget's period: "every
// 1h", "daily 00:00", "weekly mon 00:00", "monthly 1 00:00".
func (b Budget) PeriodRule() string {
	switch b.Per {
	case "hour":
		return "every 1h"
	case "week":
		return "weekly mon 00:00"
	case "month":
		return "monthly 1 00:00"
	}
	return "daily 00:00"
}

// Limit returns the budget's units for a window with the given limit.
func (b Budget) Limit(windowLimit int64) int64 {
	if b.Units > 0 {
		return b.Units
	}
	return int64(b.Share * float64(windowLimit))
}

// Active reports whether the channel has no pause reason.
func (c Channel) Active() bool { return len(c.Pauses) == 0 }

// Needs reports whether the channel needs the API, as a whole or one of
// its models or buckets ("groq/llama-3.3-70b-versatile").
func (c Channel) Needs(api string) bool {
	for _, a := range c.APIs {
		if a == api || ParseTarget(a).API == api {
			return true
		}
	}
	return false
}

// Paused returns the pause with the given reason and whether it exists.
func (c Channel) Paused(reason string) (Pause, bool) {
	for _, p := range c.Pauses {
		if p.Reason == reason {
			return p, true
		}
	}
	return Pause{}, false
}

// Pause is one reason a channel is not running.
type Pause struct {
	Reason string    // "manual", "errors", "quota:<api>", ...
	Since  time.Time // when it was set
	Detail string    // free text: a person's reason, the error that caused it
	Until  time.Time // for reasons that clear at a known time; zero otherwise
}

// PauseCleared reports whether pause p of channel c no longer holds at now,
// apis being every API by name: a quota pause once its API is available
// (and resumes automatically, unless byPerson), a capability pause once a
// provider of its fallback need is available (and its Until, set when
// providers were held for the channel by a budget or a reserve, has passed), a pause naming an API or need
// that no longer exists at once, and any other automatic pause once its
// Until has passed. Manual and errors pauses never clear by themselves. The
// engine resumes channels by it and the runner's plan foresees them by it.
func PauseCleared(c Channel, p Pause, apis map[string]API, now time.Time, byPerson bool) bool {
	if name, ok := strings.CutPrefix(p.Reason, ReasonCapabilityPrefix); ok {
		for _, f := range c.Fallbacks {
			if f.Name == name {
				if !p.Until.IsZero() && p.Until.After(now) {
					return false // a provider held for the channel (budget, reserve) is back at Until
				}
				return slices.ContainsFunc(f.Providers, func(prov string) bool {
					t := ParseTarget(prov)
					a, ok := apis[t.API]
					return ok && a.NeedAvailable(t)
				})
			}
		}
		return true // the fallback need is gone: nothing left to wait for
	}
	if t := QuotaTarget(p.Reason); t.API != "" {
		a, ok := apis[t.API]
		return !ok || a.NeedAvailable(t) && (a.AutoResume || byPerson) // a gone API: nothing left to wait for
	}
	if p.Reason == ReasonManual || p.Reason == ReasonErrors {
		return false
	}
	return !p.Until.IsZero() && !p.Until.After(now)
}
