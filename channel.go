package quotad

import (
	"time"
)

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
func (c Channel) Paused(reason Reason) (Pause, bool) {
	for _, p := range c.Pauses {
		if p.Reason == reason {
			return p, true
		}
	}
	return Pause{}, false
}

// Pause is one reason a channel is not running.
type Pause struct {
	Reason Reason    // manual, errors, quota:<target>, ...
	Since  time.Time // when it was set
	Detail string    // free text: a person's reason, the error that caused it
	Until  time.Time // for reasons that clear at a known time; zero otherwise
}

// PauseEnd is when a pause ends by itself (see Pause.End).
type PauseEnd struct {
	// Cleared: the pause no longer holds; the engine lifts it at its next
	// pass.
	Cleared bool
	// At is when the pause is expected to end: its Until, when an API
	// or a fallback provider it waits for is back, whichever is later;
	// zero when it holds and nothing but a person will end it. It does not
	// depend on the time asked.
	At time.Time
}

// Never reports whether the pause holds and will not end by itself.
func (e PauseEnd) Never() bool { return !e.Cleared && e.At.IsZero() }

// End is quotad's one rule for when pause p of channel c ends, apis being
// every API by name and now the time asked; byPerson asks for a person's
// resume. The engine lifts pauses by it, the runner's plan foresees them
// by it and the status views show it (ResumeAt). A pause ends:
//   - manual or errors: never by itself (a person resumes the channel);
//   - quota: when its API, model or bucket is available again and the API's
//     auto_resume is on (or a person asks); the unattributed one at its Until;
//   - capability: when a provider of the fallback need is available and
//     its Until (providers held for the channel by a budget or a reserve)
//     has passed;
//   - budget, reserve, channel_limit and reasons quotad did not write: at
//     their Until (never without one);
//   - naming an API or a fallback need that no longer exists: at once.
//
// With apis nil (not known) pauses that wait for an API are not foreseen.
func (p Pause) End(c Channel, apis map[string]API, now time.Time, byPerson bool) PauseEnd {
	r := p.Reason
	switch {
	case r.ByPerson():
		return PauseEnd{}
	case apis == nil && (r.Kind == KindQuota && r.Subject != "?" || r.Kind == KindCapability):
		return PauseEnd{}
	case r.Kind == KindQuota && r.Subject != "?":
		t := r.Target()
		a, ok := apis[t.API]
		switch {
		case !ok:
			return PauseEnd{Cleared: true} // nothing left to wait for
		case !a.AutoResume && !byPerson:
			return PauseEnd{}
		case a.NeedAvailable(t):
			return PauseEnd{Cleared: true}
		}
		return PauseEnd{At: a.NeedAvailableAt(t)}
	case r.Kind == KindCapability:
		for _, f := range c.Fallbacks {
			if f.Name == r.Subject {
				return capabilityEnd(f, p.Until, apis, now)
			}
		}
		return PauseEnd{Cleared: true} // the fallback need is gone
	case r.Kind == KindBudget || r.Kind == KindReserve:
		if _, ok := apis[r.Subject]; !ok && apis != nil {
			return PauseEnd{Cleared: true} // the API is gone
		}
	}
	return PauseEnd{Cleared: !p.Until.IsZero() && !p.Until.After(now), At: p.Until}
}

// capabilityEnd is End for a pause of fallback need f held until until.
func capabilityEnd(f Capability, until time.Time, apis map[string]API, now time.Time) PauseEnd {
	var back time.Time // the earliest a provider out now is back
	available := false
	for _, prov := range f.Providers {
		t := ParseTarget(prov)
		a, ok := apis[t.API]
		if !ok {
			continue
		}
		if a.NeedAvailable(t) {
			available = true
		} else if u := a.NeedAvailableAt(t); !u.IsZero() && (back.IsZero() || u.Before(back)) {
			back = u
		}
	}
	switch {
	case available:
		return PauseEnd{Cleared: !until.After(now), At: until}
	case back.IsZero():
		return PauseEnd{}
	case until.After(back):
		return PauseEnd{At: until}
	}
	return PauseEnd{At: back}
}
