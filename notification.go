package quotad

import "time"

// Notification states.
const (
	NotifyPending = "pending"
	NotifySent    = "sent"
	NotifyDead    = "dead" // gave up after the last retry
)

// Notification is one message queued durably for one notifier.
type Notification struct {
	ID          int64
	Notifier    string // the notifier's name in the config
	Key         string // de-duplication key: one notification per (Notifier, Key)
	Kind        string // exhausted, reset, resumed, threshold, forecast, errors_pause, manual
	Payload     string // JSON document describing the event
	State       string // NotifyPending, NotifySent, NotifyDead
	Attempts    int
	NextAttempt time.Time
	CreatedAt   time.Time
	LastError   string
}

// NotificationCount is how many stored notifications one notifier has in
// one state.
type NotificationCount struct {
	Notifier string
	State    string
	Count    int
}
