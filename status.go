package quotad

import (
	"time"
)

// Status is the answer of `quotad status --json` and GET /api/v1/status.
type Status struct {
	APIs     []APIStatus     `json:"apis"`
	Channels []ChannelStatus `json:"channels"`
}

// APIStatus is one API as shown to people and programs.
type APIStatus struct {
	Name        string         `json:"name"`
	Unit        string         `json:"unit"`
	Available   bool           `json:"available"`
	AutoResume  bool           `json:"auto_resume"`
	AvailableAt *time.Time     `json:"available_at"` // when an unavailable API serves again; null when available
	Keywords    []string       `json:"keywords"`
	Windows     []WindowStatus `json:"windows"`
}

// WindowStatus is one quota window as shown to people and programs.
type WindowStatus struct {
	Name         string     `json:"name"`
	Model        string     `json:"model,omitempty"`  // the model it counts; absent for every call of the API
	Scope        string     `json:"scope,omitempty"`  // the credential scope; absent for the default scope
	Key          string     `json:"key"`              // its identity: name, model/name, name@scope
	Unit         string     `json:"unit"`             // what it counts: requests, tokens, or the API's unit
	Bucket       bool       `json:"bucket,omitempty"` // counts only the calls charged to it by name
	Limit        int64      `json:"limit"`
	Used         int64      `json:"used"`
	Remaining    int64      `json:"remaining"`
	Reserved     int64      `json:"reserved"`
	Exhausted    bool       `json:"exhausted"`
	ExhaustedAt  *time.Time `json:"exhausted_at"`
	BlockedUntil *time.Time `json:"blocked_until"`
	LastReset    *time.Time `json:"last_reset"`
	NextReset    *time.Time `json:"next_reset"`
	Rule         string     `json:"rule"`
	// ForecastExhaustedAt is when the window is projected to run out at its
	// recent burn rate, when that is before its next reset; null otherwise.
	ForecastExhaustedAt *time.Time `json:"forecast_exhausted_at"`
}

// ChannelStatus is one channel as shown by `quotad channels --json`.
type ChannelStatus struct {
	Name              string              `json:"name"`
	Active            bool                `json:"active"`
	Priority          Priority            `json:"priority"`
	APIs              []string            `json:"apis"`
	PauseReasons      []PauseStatus       `json:"pause_reasons"`
	ResumeAt          *time.Time          `json:"resume_at"` // when quota pauses are expected to clear; null if never by themselves
	ConsecutiveErrors int                 `json:"consecutive_errors"`
	Fallbacks         map[string][]string `json:"fallbacks,omitempty"` // capability → providers, most preferred first
	Budgets           []BudgetStatus      `json:"budgets,omitempty"`
	Job               *JobStatus          `json:"job,omitempty"` // the channel's job, when it has one
}

// JobStatus is a channel's job as shown to people and programs.
type JobStatus struct {
	Schedule   string     `json:"schedule"`    // canonical rule text; "" = runs only on demand (quotad run)
	NextRun    *time.Time `json:"next_run"`    // when the schedule next makes it due; null without a schedule
	LastStart  *time.Time `json:"last_start"`  // null if it never ran
	LastEnd    *time.Time `json:"last_end"`    // null if it never finished
	LastResult string     `json:"last_result"` // ok, failed, quota, timeout, or "" (never ran)
	LastDetail string     `json:"last_detail"` // exit status and the classified error
	Runs       int64      `json:"runs"`
	Running    bool       `json:"running"` // a live lease says it runs now
}

// BudgetStatus is one per-channel budget as shown to people and programs.
type BudgetStatus struct {
	API     string  `json:"api"`
	Window  string  `json:"window,omitempty"`
	Units   int64   `json:"units,omitempty"`
	Share   float64 `json:"share,omitempty"`
	Dollars float64 `json:"dollars,omitempty"` // a budget in money, per Per
	Per     string  `json:"per,omitempty"`
}

// PauseStatus is one pause reason as shown to people and programs.
type PauseStatus struct {
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since"`
	Detail string     `json:"detail"`
	Until  *time.Time `json:"until"`
}

// EventStatus is one event as shown by `quotad logs --json`.
type EventStatus struct {
	ID       int64             `json:"id"`
	Time     time.Time         `json:"timestamp"`
	Level    string            `json:"level"`
	Channel  string            `json:"channel"`
	Category string            `json:"category"`
	Message  string            `json:"message"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// TimePtr returns nil for the zero time and a pointer to t in UTC otherwise.
func TimePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// StatusOf returns the view of an API.
func StatusOf(a API) APIStatus {
	s := APIStatus{
		Name: a.Name, Unit: a.Unit, Available: a.Available(), AutoResume: a.AutoResume,
		AvailableAt: TimePtr(a.AvailableAt()), Keywords: nonNil(a.Keywords),
		Windows: make([]WindowStatus, 0, len(a.Windows)),
	}
	for _, w := range a.Windows {
		s.Windows = append(s.Windows, WindowStatus{
			Name: w.Name, Model: w.Model, Scope: w.Scope, Key: w.Key(), Unit: a.UnitOf(w), Bucket: w.Bucket, Limit: w.Limit, Used: w.Used, Remaining: w.Remaining(), Reserved: w.Reserved,
			Exhausted: w.Exhausted, ExhaustedAt: TimePtr(w.ExhaustedAt), BlockedUntil: TimePtr(w.BlockedUntil),
			LastReset: TimePtr(w.LastReset), NextReset: TimePtr(w.NextReset), Rule: w.Rule,
		})
	}
	return s
}

// ChannelStatusOf returns the view of a channel; apis gives the state of the
// APIs it needs, to compute when its quota pauses clear.
func ChannelStatusOf(c Channel, apis map[string]API) ChannelStatus {
	s := ChannelStatus{
		Name: c.Name, Active: c.Active(), Priority: c.Priority, APIs: nonNil(c.APIs),
		PauseReasons: make([]PauseStatus, 0, len(c.Pauses)), ConsecutiveErrors: c.ConsecutiveErrors,
	}
	for _, p := range c.Pauses {
		s.PauseReasons = append(s.PauseReasons, PauseStatus{Reason: p.Reason.String(), Since: TimePtr(p.Since), Detail: p.Detail, Until: TimePtr(p.Until)})
	}
	s.ResumeAt = TimePtr(ResumeAt(c, apis))
	if len(c.Fallbacks) > 0 {
		s.Fallbacks = map[string][]string{}
		for _, f := range c.Fallbacks {
			s.Fallbacks[f.Name] = nonNil(f.Providers)
		}
	}
	for _, b := range c.Budgets {
		s.Budgets = append(s.Budgets, BudgetStatus{API: b.API, Window: b.Window, Units: b.Units, Share: b.Share, Dollars: float64(b.Micros) / 1e6, Per: b.Per})
	}
	return s
}

// ResumeAt returns when all of a channel's pauses are expected to have
// ended by themselves (Pause.End), or the zero time when that will not
// happen without a person (manual or errors pauses, an API without
// auto_resume) or the channel is active. A pause that has ended already
// counts from its Since: the engine lifts it at its next pass.
func ResumeAt(c Channel, apis map[string]API) time.Time {
	var at time.Time
	for _, p := range c.Pauses {
		e := p.End(c, apis, time.Time{}, false) // At does not depend on now
		if e.Never() {
			return time.Time{}
		}
		u := e.At
		if e.Cleared && u.IsZero() {
			u = p.Since
		}
		if u.After(at) {
			at = u
		}
	}
	return at
}

// EventStatusOf returns the view of an event.
func EventStatusOf(e Event) EventStatus {
	return EventStatus{ID: e.ID, Time: e.Time.UTC(), Level: e.Level, Channel: e.Channel, Category: e.Category, Message: e.Message, Fields: e.Fields}
}

// nonNil returns a copy of s, [] rather than nil: status views never share
// memory with the values they describe.
func nonNil(s []string) []string {
	return append([]string{}, s...)
}
