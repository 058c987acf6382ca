package notify

import (
	"slices"
	"time"
)

// Types of notifiers.
const (
	TypeSlack   = "slack"
	TypeWebhook = "webhook"
	TypeEmail   = "email"
)

// Defaults of a Notifier.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 8
)

// Notifier is one receiver of notifications: its name, type, the kinds it
// subscribes to and how to reach it. The program that reads the config
// translates each configured notifier into one.
type Notifier struct {
	Name string
	Type string // TypeSlack, TypeWebhook or TypeEmail
	// Events are the kinds sent (Kinds); nil means all.
	Events []string

	// URL is the Slack incoming-webhook URL or the webhook endpoint.
	URL string
	// Secret signs webhook bodies (HMAC-SHA256); "" sends them unsigned.
	Secret string

	// Email settings.
	Host     string
	Port     int // 465 means TLS from the first byte
	Username string
	Password string
	From     string
	To       []string
	StartTLS bool // refuse to send over a connection without STARTTLS

	// Timeout bounds one delivery attempt; DefaultTimeout when 0.
	Timeout time.Duration
	// MaxAttempts is how many times a notification is tried before it is
	// given up ("dead"); DefaultMaxAttempts when 0.
	MaxAttempts int
}

// AttemptTimeout returns the bound of one delivery attempt: Timeout, or
// DefaultTimeout when it is unset.
func (n Notifier) AttemptTimeout() time.Duration {
	if n.Timeout <= 0 {
		return DefaultTimeout
	}
	return n.Timeout
}

// Subscribes reports whether the notifier sends notifications of the given
// kind.
func (n Notifier) Subscribes(kind string) bool {
	return n.Events == nil || slices.Contains(n.Events, kind)
}
