package notify

import (
	"github.com/quotad/quotad"
)

// Outbox returns the engine's Outbox hook for the notifiers (nil when
// there are none): it turns one transaction's events into the
// notifications each subscribed notifier is owed, queued pending and due at
// once. The engine stores them in the same transaction as the events.
func Outbox(notifiers []Notifier) func([]quotad.Event) []quotad.Notification {
	if len(notifiers) == 0 {
		return nil
	}
	notifiers = append([]Notifier(nil), notifiers...)
	return func(events []quotad.Event) []quotad.Notification {
		var out []quotad.Notification
		for _, ev := range events {
			kind := KindOf(ev)
			if kind == "" {
				continue
			}
			var payload string
			m := MessageOf(ev, kind)
			for _, n := range notifiers {
				if !n.Subscribes(kind) {
					continue
				}
				if payload == "" {
					payload = m.encode()
				}
				out = append(out, quotad.Notification{
					Notifier: n.Name, Key: m.ID, Kind: kind, Payload: payload, State: quotad.NotifyPending,
					NextAttempt: ev.Time, CreatedAt: ev.Time,
				})
			}
		}
		return out
	}
}
