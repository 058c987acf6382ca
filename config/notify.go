package config

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/quotad/quotad"
)

// Notifier types.
const (
	NotifierSlack   = "slack"
	NotifierWebhook = "webhook"
	NotifierEmail   = "email"
)

// Event kinds a notifier subscribes to.
const (
	EventExhausted   = "exhausted"    // an API ran out (a window reached its limit or a provider said so)
	EventReset       = "reset"        // a window refilled (by its rule, a provider's retry time, or a person)
	EventResumed     = "resumed"      // a channel resumed by itself after a reset
	EventThreshold   = "threshold"    // a window passed a configured fraction of its limit
	EventForecast    = "forecast"     // a window is projected to run out before its reset
	EventErrorsPause = "errors_pause" // a channel paused after consecutive errors
	EventManual      = "manual"       // a person paused or resumed a channel
)

// EventKinds are every event kind, in the order the documentation lists
// them. A notifier without "events" subscribes to all of them.
var EventKinds = []string{EventExhausted, EventReset, EventResumed, EventThreshold, EventForecast, EventErrorsPause, EventManual}

// Defaults and limits of the notification, usage and forecast settings.
const (
	DefaultNotifyTimeout     = Duration(10 * time.Second)
	DefaultNotifyMaxAttempts = 8
	MinNotifyTimeout         = Duration(time.Second)
	MaxNotifyTimeout         = Duration(5 * time.Minute)
	MaxNotifyAttempts        = 100
	DefaultUsageMinutes      = Duration(48 * time.Hour)
	DefaultUsageHours        = Duration(400 * 24 * time.Hour)
	// MinUsageMinutes is the shortest retention of minute buckets: the
	// forecast reads the last day of them.
	MinUsageMinutes = Duration(24 * time.Hour)
)

// DefaultThresholds are the fractions of a window's limit whose crossing
// emits a "threshold" event: 80% and 95%.
func DefaultThresholds() []float64 { return []float64{0.8, 0.95} }

// NotifierConfig is one notifier of the "notifiers" mapping.
type NotifierConfig struct {
	Name string // the mapping key
	Type string // slack, webhook or email
	// Events are the event kinds sent; nil (no "events" key) means all.
	Events []string

	// URL is the Slack incoming-webhook URL or the webhook endpoint.
	URL string
	// Secret signs webhook bodies (HMAC-SHA256); "" sends them unsigned.
	Secret string

	// Email settings.
	Host     string
	Port     int // default 587 with STARTTLS, else 25; 465 means TLS from the first byte
	Username string
	Password string
	From     string
	To       []string
	StartTLS bool // default true: refuse to send over a connection without STARTTLS

	// Timeout bounds one delivery attempt; default 10s.
	Timeout Duration
	// MaxAttempts is how many times a notification is tried before it is
	// given up ("dead"); default 8.
	MaxAttempts int
}

// AttemptTimeout returns the bound of one delivery attempt: Timeout, or
// DefaultNotifyTimeout when it is unset (a NotifierConfig built in code
// rather than decoded).
func (n NotifierConfig) AttemptTimeout() time.Duration {
	if n.Timeout <= 0 {
		return time.Duration(DefaultNotifyTimeout)
	}
	return time.Duration(n.Timeout)
}

// Subscribes reports whether the notifier sends events of the given kind.
func (n NotifierConfig) Subscribes(kind string) bool {
	return n.Events == nil || slices.Contains(n.Events, kind)
}

// Notifier returns the notifier with the given name and whether it exists.
func (c Config) Notifier(name string) (NotifierConfig, bool) {
	for _, n := range c.Notifiers {
		if n.Name == name {
			return n, true
		}
	}
	return NotifierConfig{}, false
}

// UsageConfig says how long usage history is kept.
type UsageConfig struct {
	// Minutes is how long per-minute buckets are kept before they are
	// rolled up into hours; default 48h, at least 24h.
	Minutes Duration `yaml:"minutes"`
	// Hours is how long hourly buckets are kept; default 400d.
	Hours Duration `yaml:"hours"`
}

// rawExtra holds the top-level keys of notifications, usage history and
// thresholds; rawConfig inlines it after "channels".
type rawExtra struct {
	Thresholds []float64              `yaml:"thresholds"`
	Usage      UsageConfig            `yaml:"usage"`
	Notifiers  map[string]rawNotifier `yaml:"notifiers"`
}

// rawNotifier is one notifier as written. Every type's keys are accepted by
// the decoder; validation refuses keys of another type.
type rawNotifier struct {
	Type        string    `yaml:"type"`
	Events      []string  `yaml:"events"`
	URL         string    `yaml:"url"`
	Secret      string    `yaml:"secret"`
	Host        string    `yaml:"host"`
	Port        int       `yaml:"port"`
	Username    string    `yaml:"username"`
	Password    string    `yaml:"password"`
	From        string    `yaml:"from"`
	To          []string  `yaml:"to"`
	StartTLS    *bool     `yaml:"starttls"`
	Timeout     *Duration `yaml:"timeout"`
	MaxAttempts *int      `yaml:"max_attempts"`
}

func defaultExtra() rawExtra {
	d := DefaultConfig()
	return rawExtra{Thresholds: d.Thresholds, Usage: d.Usage}
}

// envRef is a value that names an environment variable: ${NAME}.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// decodeExtra copies the decoded extra keys into c. Secrets written as
// ${NAME} are read from the environment; an unset variable is an error of
// that value.
func decodeExtra(root *yaml.Node, raw rawExtra, c *Config, d *decoded) {
	c.Thresholds = raw.Thresholds
	if c.Thresholds == nil { // absent or null
		c.Thresholds = DefaultThresholds()
	}
	c.Usage = raw.Usage
	for _, name := range orderedKeys(root, "notifiers", raw.Notifiers) {
		r := raw.Notifiers[name]
		n := NotifierConfig{
			Name: name, Type: strings.ToLower(strings.TrimSpace(r.Type)), Events: r.Events,
			URL: r.URL, Secret: r.Secret, Host: r.Host, Port: r.Port, Username: r.Username, Password: r.Password,
			From: r.From, To: r.To, StartTLS: true, Timeout: DefaultNotifyTimeout, MaxAttempts: DefaultNotifyMaxAttempts,
		}
		if r.StartTLS != nil {
			n.StartTLS = *r.StartTLS
		}
		if r.Timeout != nil {
			n.Timeout = *r.Timeout
		}
		if r.MaxAttempts != nil {
			n.MaxAttempts = *r.MaxAttempts
		}
		if n.Type == NotifierEmail && n.Port == 0 {
			n.Port = 25
			if n.StartTLS {
				n.Port = 587
			}
		}
		for key, v := range map[string]*string{"url": &n.URL, "secret": &n.Secret, "username": &n.Username, "password": &n.Password} {
			m := envRef.FindStringSubmatch(*v)
			if m == nil {
				continue
			}
			val, ok := os.LookupEnv(m[1])
			if !ok || val == "" {
				p := fieldPath{"notifiers", name, key}
				line, _ := lineOf(root, p)
				d.errs = append(d.errs, FieldError{Path: p.String(), Line: line,
					Message: fmt.Sprintf("environment variable %s is not set or empty; expected it to hold the %s", m[1], key)})
				d.fields = append(d.fields, p)
			}
			*v = val
		}
		c.Notifiers = append(c.Notifiers, n)
	}
}

// extraProblems checks thresholds, usage retention and notifiers.
func (c *Config) extraProblems() []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	seen := map[float64]bool{}
	for i, f := range c.Thresholds {
		switch {
		case !(f > 0 && f <= 1):
			add(fieldPath{"thresholds", i}, "expected a fraction of the limit above 0 and at most 1, like 0.8 for 80%%, got %v", f)
		case seen[f]:
			add(fieldPath{"thresholds", i}, "duplicate threshold %v; expected each fraction once", f)
		}
		seen[f] = true
	}
	if c.Usage.Minutes < MinUsageMinutes {
		add(fieldPath{"usage", "minutes"}, "expected a duration of at least %s (the forecast reads the last day of minute buckets), got %s", MinUsageMinutes, c.Usage.Minutes)
	}
	if c.Usage.Hours < c.Usage.Minutes {
		add(fieldPath{"usage", "hours"}, "expected a duration of at least usage.minutes (%s), got %s", c.Usage.Minutes, c.Usage.Hours)
	}
	names := map[string]bool{}
	for _, n := range c.Notifiers {
		ps = append(ps, n.problems(names)...)
		names[n.Name] = true
	}
	return ps
}

// problems checks one notifier; names holds the names seen before it.
func (n NotifierConfig) problems(names map[string]bool) []problem {
	var ps []problem
	p := fieldPath{"notifiers", n.Name}
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	switch {
	case !nameRE.MatchString(n.Name):
		add(p, "invalid notifier name %q; %s", n.Name, nameRule)
	case names[n.Name]:
		add(p, "duplicate notifier %q", n.Name)
	}
	if n.Events != nil && len(n.Events) == 0 {
		add(p.to("events"), "no events; expected a list of %s, or no \"events\" key for all of them", strings.Join(EventKinds, ", "))
	}
	for i, e := range n.Events {
		if !slices.Contains(EventKinds, e) {
			add(p.to("events", i), "unknown event %q; expected one of: %s", e, strings.Join(EventKinds, ", "))
		}
	}
	if n.Timeout < MinNotifyTimeout || n.Timeout > MaxNotifyTimeout {
		add(p.to("timeout"), "expected a duration from %s to %s, got %s", MinNotifyTimeout, MaxNotifyTimeout, n.Timeout)
	}
	if n.MaxAttempts < 1 || n.MaxAttempts > MaxNotifyAttempts {
		add(p.to("max_attempts"), "expected a number of attempts from 1 to %d, got %d", MaxNotifyAttempts, n.MaxAttempts)
	}
	// notFor reports keys that belong to another type of notifier.
	notFor := func(keys map[string]bool) {
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if keys[k] {
				add(p.to(k), "%q is not a setting of a %s notifier", k, n.Type)
			}
		}
	}
	emailKeys := map[string]bool{"host": n.Host != "", "username": n.Username != "", "password": n.Password != "",
		"from": n.From != "", "to": n.To != nil}
	switch n.Type {
	case NotifierSlack, NotifierWebhook:
		if msg := checkURL(n.URL); msg != "" {
			add(p.to("url"), "%s", msg)
		}
		if n.Type == NotifierSlack {
			emailKeys["secret"] = n.Secret != ""
		}
		notFor(emailKeys)
	case NotifierEmail:
		notFor(map[string]bool{"url": n.URL != "", "secret": n.Secret != ""})
		if strings.TrimSpace(n.Host) == "" || strings.ContainsAny(n.Host, " /") {
			add(p.to("host"), "missing or invalid SMTP host %q; expected a host name like smtp.example.com", n.Host)
		}
		if n.Port < 1 || n.Port > 65535 {
			add(p.to("port"), "expected a port from 1 to 65535, got %d", n.Port)
		}
		if (n.Username == "") != (n.Password == "") {
			add(p.to("password"), "username and password go together; expected both or neither")
		}
		if a, err := mail.ParseAddress(n.From); n.From == "" || err != nil || a.Address == "" {
			add(p.to("from"), "invalid sender %q; expected an address like quotad@example.com", n.From)
		}
		if len(n.To) == 0 {
			add(p.to("to"), "no recipients; expected a list like [ops@example.com]")
		}
		for i, to := range n.To {
			if _, err := mail.ParseAddress(to); err != nil {
				add(p.to("to", i), "invalid recipient %q; expected an address like ops@example.com", to)
			}
		}
	case "":
		add(p.to("type"), "missing notifier type; expected slack, webhook or email")
	default:
		add(p.to("type"), "unknown notifier type %q; expected slack, webhook or email", n.Type)
	}
	return ps
}

func checkURL(s string) string {
	if strings.TrimSpace(s) == "" {
		return "missing url; expected an http:// or https:// URL"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("invalid url %q; expected an http:// or https:// URL", RedactURL(s))
	}
	return ""
}

// RedactURL hides what follows the host of a URL - a Slack webhook's path
// is its secret, and a query or user info may hold a token - for texts bound
// for logs, the store and error messages. A URL with nothing after its host
// is returned as is; a text that is not a URL with a host is cut short.
// It is quotad.RedactURL, which notify uses too.
func RedactURL(s string) string { return quotad.RedactURL(s) }
