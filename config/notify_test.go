package config_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

func TestNotifyDefaults(t *testing.T) {
	c := config.DefaultConfig()
	if !reflect.DeepEqual(c.Thresholds, []float64{0.8, 0.95}) || c.Usage.Minutes != config.Duration(48*time.Hour) ||
		c.Usage.Hours != config.Duration(400*24*time.Hour) || c.Notifiers != nil {
		t.Errorf("defaults: thresholds %v usage %+v notifiers %v", c.Thresholds, c.Usage, c.Notifiers)
	}
	for _, doc := range []string{"", "thresholds:\n", "usage:\n"} {
		c, err := config.Parse([]byte(doc), "quotad.yaml")
		if err != nil || !reflect.DeepEqual(c.Thresholds, []float64{0.8, 0.95}) || c.Usage != config.DefaultConfig().Usage {
			t.Errorf("Parse(%q) = thresholds %v usage %+v, %v", doc, c.Thresholds, c.Usage, err)
		}
	}
	c, err := config.Parse([]byte("thresholds: []\nusage: {minutes: 36h, hours: 30d}\n"), "quotad.yaml")
	if err != nil || c.Thresholds == nil || len(c.Thresholds) != 0 ||
		c.Usage != (config.UsageConfig{Minutes: config.Duration(36 * time.Hour), Hours: config.Duration(30 * 24 * time.Hour)}) {
		t.Errorf("thresholds %#v usage %+v, %v; want none and the given retention", c.Thresholds, c.Usage, err)
	}
}

func TestNotifiers(t *testing.T) {
	t.Setenv("QUOTAD_TEST_SMTP_PASSWORD", "hunter2")
	const doc = `thresholds: [0.5, 0.9]
notifiers:
  team-slack:
    type: slack
    url: https://hooks.slack.com/services/T0/B0/XYZ
    events: [exhausted, forecast]
  pager:
    type: Webhook
    url: https://hooks.example.com/quotad
    secret: s3cret
    timeout: 3s
    max_attempts: 12
  ops-mail:
    type: email
    host: smtp.example.com
    username: quotad@example.com
    password: ${QUOTAD_TEST_SMTP_PASSWORD}
    from: "quotad <quotad@example.com>"
    to: [ops@example.com]
  local-mail:
    type: email
    host: localhost
    starttls: false
    from: quotad@localhost
    to: [root@localhost]
`
	c, err := config.Parse([]byte(doc), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []config.NotifierConfig{
		{Name: "team-slack", Type: "slack", Events: []string{"exhausted", "forecast"}, URL: "https://hooks.slack.com/services/T0/B0/XYZ",
			StartTLS: true, Timeout: config.Duration(10 * time.Second), MaxAttempts: 8},
		{Name: "pager", Type: "webhook", URL: "https://hooks.example.com/quotad", Secret: "s3cret",
			StartTLS: true, Timeout: config.Duration(3 * time.Second), MaxAttempts: 12},
		{Name: "ops-mail", Type: "email", Host: "smtp.example.com", Port: 587, Username: "quotad@example.com", Password: "hunter2",
			From: "quotad <quotad@example.com>", To: []string{"ops@example.com"}, StartTLS: true, Timeout: config.Duration(10 * time.Second), MaxAttempts: 8},
		{Name: "local-mail", Type: "email", Host: "localhost", Port: 25, From: "quotad@localhost", To: []string{"root@localhost"},
			Timeout: config.Duration(10 * time.Second), MaxAttempts: 8},
	}
	if !reflect.DeepEqual(c.Notifiers, want) {
		t.Errorf("notifiers =\n%+v\nwant\n%+v", c.Notifiers, want)
	}
	if !reflect.DeepEqual(c.Thresholds, []float64{0.5, 0.9}) {
		t.Errorf("thresholds %v", c.Thresholds)
	}
	slack, ok := c.Notifier("team-slack")
	if !ok || !slack.Subscribes("exhausted") || slack.Subscribes("reset") {
		t.Errorf("team-slack subscriptions %v", slack.Events)
	}
	for _, k := range config.EventKinds {
		if !c.Notifiers[1].Subscribes(k) {
			t.Errorf("a notifier without events does not subscribe to %s", k)
		}
	}
	if _, ok := c.Notifier("nobody"); ok {
		t.Error("Notifier(nobody) found")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate after Parse: %v", err)
	}
}

// TestNotifierErrors: each bad notifier document gives one error naming the
// file, the line, the setting and what was expected.
func TestNotifierErrors(t *testing.T) {
	t.Setenv("QUOTAD_TEST_EMPTY", "")
	head := "timezone: UTC\nnotifiers:\n  ops:\n"
	for _, tt := range []struct {
		name, body string
		line       int
		path, msg  string
	}{
		{"unknown type", "    type: teams\n    url: https://x.example/\n", 4, "notifiers.ops.type",
			`unknown notifier type "teams"; expected slack, webhook or email`},
		{"missing type", "    url: https://x.example/\n", 3, "notifiers.ops.type", "missing notifier type"},
		{"missing url", "    type: slack\n    events: [exhausted]\n", 3, "notifiers.ops.url", "missing url; expected an http:// or https:// URL"},
		{"bad url", "    type: webhook\n    url: ftp://x.example/hook\n", 5, "notifiers.ops.url", `invalid url "ftp://x.example/…"`},
		{"bad event kind", "    type: slack\n    url: https://x.example/\n    events:\n      - exhausted\n      - exhaust\n", 8,
			"notifiers.ops.events[1]", `unknown event "exhaust"; expected one of: exhausted, reset, resumed, threshold, forecast, errors_pause, manual`},
		{"no events", "    type: slack\n    url: https://x.example/\n    events: []\n", 6, "notifiers.ops.events", "no events"},
		{"key of another type", "    type: slack\n    url: https://x.example/\n    secret: x\n", 6, "notifiers.ops.secret",
			`"secret" is not a setting of a slack notifier`},
		{"unknown key", "    type: slack\n    url: https://x.example/\n    channel: '#ops'\n", 6, "notifiers.ops",
			`unknown key "channel"; expected one of: type, events, url, secret, host, port`},
		{"email without recipients", "    type: email\n    host: smtp.example.com\n    from: a@example.com\n", 3, "notifiers.ops.to", "no recipients"},
		{"bad recipient", "    type: email\n    host: smtp.example.com\n    from: a@example.com\n    to: [ops]\n", 7,
			"notifiers.ops.to[0]", `invalid recipient "ops"`},
		{"bad sender", "    type: email\n    host: smtp.example.com\n    from: quotad\n    to: [ops@example.com]\n", 6,
			"notifiers.ops.from", `invalid sender "quotad"`},
		{"password without username", "    type: email\n    host: h\n    from: a@b.c\n    to: [d@e.f]\n    password: x\n", 8,
			"notifiers.ops.password", "username and password go together"},
		{"port", "    type: email\n    host: h\n    from: a@b.c\n    to: [d@e.f]\n    port: 70000\n", 8, "notifiers.ops.port", "expected a port from 1 to 65535"},
		{"fractional port", "    type: email\n    host: h\n    from: a@b.c\n    to: [d@e.f]\n    port: 25.5\n", 8, "notifiers.ops.port", "expected an integer"},
		{"starttls", "    type: email\n    host: h\n    from: a@b.c\n    to: [d@e.f]\n    starttls: maybe\n", 8, "notifiers.ops.starttls", "expected true or false"},
		{"timeout", "    type: slack\n    url: https://x.example/\n    timeout: 1h\n", 6, "notifiers.ops.timeout", "expected a duration from 1s to 5m, got 1h"},
		{"max attempts", "    type: slack\n    url: https://x.example/\n    max_attempts: 0\n", 6, "notifiers.ops.max_attempts", "from 1 to 100, got 0"},
		{"unset environment variable", "    type: webhook\n    url: ${QUOTAD_TEST_UNSET_URL}\n", 5, "notifiers.ops.url",
			"environment variable QUOTAD_TEST_UNSET_URL is not set or empty"},
		{"empty environment variable", "    type: webhook\n    url: https://x.example/\n    secret: ${QUOTAD_TEST_EMPTY}\n", 6, "notifiers.ops.secret",
			"environment variable QUOTAD_TEST_EMPTY is not set or empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkOneError(t, head+tt.body, tt.line, tt.path, tt.msg)
		})
	}
	for _, tt := range []struct {
		name, doc string
		line      int
		path, msg string
	}{
		{"bad notifier name", "notifiers:\n  Ops:\n    type: slack\n    url: https://x.example/\n", 2, "notifiers.Ops", `invalid notifier name "Ops"`},
		{"notifiers list", "notifiers:\n  - slack\n", 2, "notifiers", "expected a mapping of notifier names to their settings, got a list"},
		{"threshold percent", "thresholds: [0.8, 95]\n", 1, "thresholds[1]", "expected a fraction of the limit above 0 and at most 1, like 0.8 for 80%, got 95"},
		{"threshold twice", "thresholds:\n  - 0.8\n  - 0.8\n", 3, "thresholds[1]", "duplicate threshold 0.8"},
		{"thresholds scalar", "thresholds: 0.8\n", 1, "thresholds", "expected a list of fractions like [0.8, 0.95], got the number 0.8"},
		{"short minutes", "usage:\n  minutes: 1h\n", 2, "usage.minutes", "expected a duration of at least 24h"},
		{"hours below minutes", "usage:\n  hours: 1d\n", 2, "usage.hours", "expected a duration of at least usage.minutes (48h), got 24h"},
		{"unknown usage key", "usage:\n  days: 30d\n", 2, "usage", `unknown key "days"; expected one of: minutes, hours`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkOneError(t, tt.doc, tt.line, tt.path, tt.msg)
		})
	}
}

func checkOneError(t *testing.T, doc string, line int, path, msg string) {
	t.Helper()
	_, err := config.Parse([]byte(doc), "quotad.yaml")
	var ve *config.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, quotad.ErrInvalid) {
		t.Fatalf("Parse() = %v, want a *ValidationError", err)
	}
	if len(ve.Errors) != 1 {
		t.Fatalf("got %d problems, want 1:\n%v", len(ve.Errors), err)
	}
	fe := ve.Errors[0]
	if fe.Line != line || fe.Path != path || !strings.Contains(fe.Message, msg) {
		t.Errorf("got line %d path %q message %q\nwant line %d path %q message containing %q", fe.Line, fe.Path, fe.Message, line, path, msg)
	}
	if prefix := "quotad.yaml:" + strconv.Itoa(line) + ": "; !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Error() = %q, want it to start with %q", err, prefix)
	}
}

func TestExampleNotifiers(t *testing.T) {
	// Uncommenting the example's notifiers gives a valid config.
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/X")
	t.Setenv("QUOTAD_WEBHOOK_SECRET", "s3cret")
	t.Setenv("SMTP_PASSWORD", "pw")
	var lines []string
	on := false
	for _, l := range strings.Split(config.Example, "\n") {
		if l == "# notifiers:" {
			on = true
		}
		if on && strings.HasPrefix(l, "#") {
			l = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		} else {
			on = false
		}
		lines = append(lines, l)
	}
	c, err := config.Parse([]byte(strings.Join(lines, "\n")), "quotad.yaml")
	if err != nil {
		t.Fatalf("Parse(Example with notifiers): %v", err)
	}
	if len(c.Notifiers) != 3 || c.Notifiers[0].URL != "https://hooks.slack.com/services/T/B/X" || c.Notifiers[2].Password != "pw" {
		t.Errorf("notifiers %+v", c.Notifiers)
	}
}

func TestAttemptTimeout(t *testing.T) {
	for _, tt := range []struct {
		set  config.Duration
		want time.Duration
	}{{0, time.Duration(config.DefaultNotifyTimeout)}, {-1, time.Duration(config.DefaultNotifyTimeout)}, {config.Duration(3 * time.Second), 3 * time.Second}} {
		if got := (config.NotifierConfig{Timeout: tt.set}).AttemptTimeout(); got != tt.want {
			t.Errorf("AttemptTimeout() with Timeout %s = %s, want %s", tt.set, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXX": "https://hooks.slack.com/…",
		"ftp://x.example/hook":                        "ftp://x.example/…",
		"https://h.example/?token=s3cret":             "https://h.example/…",
		"https://h.example#s3cret":                    "https://h.example/…",
		"https://user:pw@h.example":                   "https://h.example/…",
		"https://h.example":                           "https://h.example",
		"https://h.example/":                          "https://h.example/",
		"hooks.slack.com/services/x":                  "hooks.slack.…",
		"short":                                       "short",
	} {
		if got := config.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
