// Package notify tells people what quotad did: Slack, webhook and email
// notifiers, subscribed to kinds of events (exhausted, reset, resumed,
// threshold, forecast, errors_pause, manual).
//
// Delivery never slows the quota path. The engine's Outbox hook (Outbox)
// turns each transaction's events into notifications queued in the store in
// that same transaction, so no committed event loses its notification and
// none is queued for a rolled-back one. A Dispatcher sends them, one lane
// per notifier so that a slow receiver delays nobody else, retries failures
// with exponential backoff and jitter, and gives up after the notifier's
// max_attempts, marking the notification "dead" (logged, an event in the
// logs table, and counted in Stats). All delivery state is in the store: a
// restarted daemon, or another one on the same store, carries on.
package notify

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Kinds of notifications: Kinds, plus KindTest for `quotad notify test`.
const (
	KindExhausted   = "exhausted"    // an API ran out (a window reached its limit or a provider said so)
	KindReset       = "reset"        // a window refilled (by its rule, a provider's retry time, or a person)
	KindResumed     = "resumed"      // a channel resumed by itself after a reset
	KindThreshold   = "threshold"    // a window passed a configured fraction of its limit
	KindForecast    = "forecast"     // a window is projected to run out before its reset
	KindErrorsPause = "errors_pause" // a channel paused after consecutive errors
	KindManual      = "manual"       // a person paused or resumed a channel
	KindTest        = "test"
)

// Kinds are the kinds a notifier subscribes to, in the order the
// documentation lists them: the config's event kinds.
var Kinds = []string{KindExhausted, KindReset, KindResumed, KindThreshold, KindForecast, KindErrorsPause, KindManual}

// CategoryNotify is the category of the events the dispatcher writes to the
// logs table (a notification given up).
const CategoryNotify = quotad.CategoryNotify

// Message is one notification as sent: the JSON document a webhook
// receives, and what Slack and email messages are written from.
type Message struct {
	ID       string            `json:"id"`   // stable across retries: the de-duplication key
	Kind     string            `json:"kind"` // exhausted, reset, ...
	Time     time.Time         `json:"time"` // when the event happened
	Level    string            `json:"level"`
	Category string            `json:"category"` // the event's category in the logs table
	API      string            `json:"api"`
	Window   string            `json:"window"`
	Channel  string            `json:"channel"`
	Message  string            `json:"message"` // the event's message, as in the logs table
	Fields   map[string]string `json:"fields"`
}

// KindOf returns the notification kind of an engine event, or "" for an
// event nobody is notified of. The mapping, from the events the engine
// writes:
//
//   - quota with a window and no reason (an API ran out, or its block was
//     extended): exhausted. The per-channel quota pauses that follow it
//     (they carry a reason) are covered by it and notify nobody.
//   - quota_reset: reset - when a person reset it, a provider's retry time
//     passed, or the timer refilled a window that was exhausted (field
//     was_exhausted; a timer reset of a window that was not exhausted, such
//     as every hourly reset, notifies nobody).
//   - auto_resume: resumed.
//   - resume (a person's resume, or is_active set to 1 by hand): manual.
//   - pause with reason errors: errors_pause; with reason manual: manual.
//     Other pauses (budget, channel limit, unattributed quota) notify nobody.
//   - threshold: threshold. forecast: forecast.
func KindOf(ev quotad.Event) string {
	if _, ok := ev.Exhaustion(); ok {
		return KindExhausted
	}
	if r, ok := ev.Refill(); ok {
		if r.Trigger == quotad.TriggerTimer && !r.WasExhausted {
			return ""
		}
		return KindReset
	}
	switch ev.Category {
	case quotad.CategoryAutoResume:
		return KindResumed
	case quotad.CategoryResume:
		return KindManual
	case quotad.CategoryPause:
		p, _ := ev.Paused()
		switch p.Reason {
		case quotad.ReasonErrors:
			return KindErrorsPause
		case quotad.ReasonManual:
			return KindManual
		}
	case quotad.CategoryThreshold:
		return KindThreshold
	case quotad.CategoryForecast:
		return KindForecast
	}
	return ""
}

// Key returns the de-duplication key of an event of a kind: one
// notification per notifier and key. A threshold notifies once per window,
// fraction and period, a forecast once per window and period; other kinds
// once per event (its kind, category, names and instant).
func Key(ev quotad.Event, kind string) string {
	f := ev.Fields
	switch kind {
	case KindThreshold:
		return strings.Join([]string{kind, f["api"], f["window"], f["threshold"], f["next_reset"]}, "/")
	case KindForecast:
		return strings.Join([]string{kind, f["api"], f["window"], f["next_reset"]}, "/")
	}
	return strings.Join([]string{kind, ev.Category, f["api"], f["window"], ev.Channel, ev.Time.UTC().Format(time.RFC3339Nano)}, "/")
}

// MessageOf returns the message of an event of a kind.
func MessageOf(ev quotad.Event, kind string) Message {
	fields := make(map[string]string, len(ev.Fields))
	for k, v := range ev.Fields {
		fields[k] = v
	}
	return Message{
		ID: Key(ev, kind), Kind: kind, Time: ev.Time.UTC(), Level: ev.Level, Category: ev.Category,
		API: ev.Fields["api"], Window: ev.Fields["window"], Channel: ev.Channel, Message: ev.Message, Fields: fields,
	}
}

// Text is the message as one line in the seed's style:
// "[WARNING] GROQ quota exhausted at ... - will auto-resume at ...", with
// the channel in brackets when there is one.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(tag(m.Level))
	if m.Channel != "" {
		b.WriteString(" [" + m.Channel + "]")
	}
	b.WriteString(" " + m.Message)
	return b.String()
}

// tag is the seed's bracketed word for a level: [OK] for information.
func tag(level string) string {
	switch level {
	case quotad.LevelInfo, "":
		return "[OK]"
	}
	return "[" + level + "]"
}

// Subject is an email subject: "[quotad] GROQ quota exhausted".
func (m Message) Subject() string {
	api, who := strings.ToUpper(m.API), m.Channel
	if who == "" {
		who = "A channel"
	}
	var s string
	switch m.Kind {
	case KindExhausted:
		s = api + " quota exhausted"
	case KindReset:
		s = api + " quota reset"
	case KindResumed:
		s = who + " resumed"
	case KindThreshold:
		s = fmt.Sprintf("%s %s quota passed %s%%", api, m.Window, m.Fields["threshold"])
	case KindForecast:
		s = fmt.Sprintf("%s %s quota projected to run out before its reset", api, m.Window)
	case KindErrorsPause:
		s = who + " paused after errors"
	case KindManual:
		s = who + " paused by a person"
		if m.Category == quotad.CategoryResume {
			s = who + " resumed by a person"
		}
	case KindTest:
		s = "test message"
	default:
		s = m.Kind
	}
	return "[quotad] " + s
}

// Body is a plain-text email body: the line, then every detail.
func (m Message) Body() string {
	var b strings.Builder
	b.WriteString(m.Text() + "\n\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", v)
		}
	}
	row("Kind", m.Kind)
	row("Time", m.Time.UTC().Format(time.RFC3339))
	row("API", m.API)
	row("Window", m.Window)
	row("Channel", m.Channel)
	keys := make([]string, 0, len(m.Fields))
	for k := range m.Fields {
		if k != "api" && k != "window" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		row(k, m.Fields[k])
	}
	b.WriteString("\n-- \nquotad (notification " + m.ID + ")\n")
	return b.String()
}

// encode returns the JSON document of a message.
func (m Message) encode() string {
	if m.Fields == nil {
		m.Fields = map[string]string{}
	}
	b, _ := json.Marshal(m) // a struct of strings and a time: cannot fail
	return string(b)
}

// DecodeMessage reads a stored notification's payload.
func DecodeMessage(payload string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return Message{}, fmt.Errorf("stored payload is not a message: %w", err)
	}
	return m, nil
}
