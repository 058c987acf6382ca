package quotad

import (
	"strconv"
	"strings"
	"time"
)

// Event payloads: the details of the events the engine writes, typed. An
// event carries them as its Fields (the JSON column of the logs table, which
// the seed's queries and sqlite3 show); each payload's Fields method writes
// them and a method of Event reads them back, so that no consumer (metrics,
// notifications, the console) parses field names itself.

// Triggers of a Refill.
const (
	TriggerTimer     = "timer"      // the window's reset rule came
	TriggerManual    = "manual"     // a person reset the API
	TriggerRetryTime = "retry_time" // the provider's stated retry time passed
	TriggerProvider  = "provider"   // the provider reported units left
)

// Exhaustion is the payload of a "quota" event saying that windows of an
// API ran out (or that their end moved).
type Exhaustion struct {
	API     string
	Windows []string  // the keys of the windows
	Model   string    // the model of the windows, when they have one
	Until   time.Time // when they are expected to serve again; zero: a person's reset
	Detail  string    // what said so: "limit reached", the provider's error
}

// Fields returns the payload as an event's fields.
func (x Exhaustion) Fields() map[string]string {
	f := map[string]string{"api": x.API, "window": strings.Join(x.Windows, ","), "until": rfc3339(x.Until), "detail": x.Detail}
	if x.Model != "" {
		f["model"] = x.Model
	}
	return f
}

// Exhaustion returns the payload of an exhaustion event and true, or false
// for any other event.
func (e Event) Exhaustion() (Exhaustion, bool) {
	f := e.Fields
	if e.Category != CategoryQuota || f["window"] == "" || f["reason"] != "" {
		return Exhaustion{}, false
	}
	return Exhaustion{API: f["api"], Windows: strings.Split(f["window"], ","), Model: f["model"], Until: parseRFC3339(f["until"]), Detail: f["detail"]}, true
}

// Refill is the payload of a "quota_reset" event: a window (or, by a
// person, every window of an API) serves again.
type Refill struct {
	API     string
	Window  string // "" when a person reset the whole API
	Trigger string // TriggerTimer, TriggerManual, TriggerRetryTime or TriggerProvider
	// For TriggerTimer: the window's next reset, and whether it was
	// exhausted (a timer reset of a serving window writes no event today;
	// older logs hold them).
	NextReset    time.Time
	WasExhausted bool
	Remaining    int64 // for TriggerProvider: the units the provider reported left
}

// Fields returns the payload as an event's fields.
func (r Refill) Fields() map[string]string {
	f := map[string]string{"api": r.API, "trigger": r.Trigger}
	if r.Window != "" {
		f["window"] = r.Window
	}
	switch r.Trigger {
	case TriggerTimer:
		f["next_reset"], f["was_exhausted"] = rfc3339(r.NextReset), strconv.FormatBool(r.WasExhausted)
	case TriggerProvider:
		f["remaining"] = strconv.FormatInt(r.Remaining, 10)
	}
	return f
}

// Refill returns the payload of a "quota_reset" event and true, or false
// for any other event. An event written before was_exhausted existed counts
// as a reset of an exhausted window.
func (e Event) Refill() (Refill, bool) {
	if e.Category != CategoryQuotaReset {
		return Refill{}, false
	}
	f := e.Fields
	rem, _ := strconv.ParseInt(f["remaining"], 10, 64)
	return Refill{API: f["api"], Window: f["window"], Trigger: f["trigger"], NextReset: parseRFC3339(f["next_reset"]),
		WasExhausted: f["was_exhausted"] != "false", Remaining: rem}, true
}

// Paused is the payload of an event that paused a channel: a "pause"
// event, or a "quota" event naming the reason (the channel needs an API
// that ran out).
type Paused struct {
	Reason  Reason
	API     string    // the API of a quota or capability pause
	Until   time.Time // when it ends, when known
	Trigger string    // for a pause by a person: "manual", or "external" (is_active set to 0 by hand)
}

// Fields returns the payload as an event's fields.
func (p Paused) Fields() map[string]string {
	f := map[string]string{"reason": p.Reason.String()}
	if p.API != "" {
		f["api"] = p.API
	}
	if p.Trigger != "" {
		f["trigger"] = p.Trigger
	}
	if !p.Until.IsZero() {
		f["until"] = rfc3339(p.Until)
	}
	return f
}

// Paused returns the payload of an event that paused a channel and true, or
// false for any other event.
func (e Event) Paused() (Paused, bool) {
	f := e.Fields
	if e.Category != CategoryPause && (e.Category != CategoryQuota || f["reason"] == "") {
		return Paused{}, false
	}
	return Paused{Reason: ReasonOf(f["reason"]), API: f["api"], Until: parseRFC3339(f["until"]), Trigger: f["trigger"]}, true
}

// rfc3339 formats t for a field: "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// parseRFC3339 reads a time field; the zero time when empty or malformed.
func parseRFC3339(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
