package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/notify"
)

func TestKindOf(t *testing.T) {
	ev := func(cat string, fields map[string]string) quotad.Event {
		return quotad.Event{Category: cat, Fields: fields}
	}
	for _, tt := range []struct {
		name string
		ev   quotad.Event
		want string
	}{
		{"exhausted", ev(quotad.CategoryQuota, map[string]string{"api": "groq", "window": "daily", "until": "x"}), notify.KindExhausted},
		{"quota pause of a channel", ev(quotad.CategoryQuota, map[string]string{"api": "groq", "reason": "quota:groq"}), ""},
		{"unattributed quota error", ev(quotad.CategoryQuota, map[string]string{"evidence": "x"}), ""},
		{"timer reset of an exhausted window", ev(quotad.CategoryQuotaReset, map[string]string{"api": "groq", "trigger": "timer", "was_exhausted": "true"}), notify.KindReset},
		{"timer reset of a window with quota left", ev(quotad.CategoryQuotaReset, map[string]string{"trigger": "timer", "was_exhausted": "false"}), ""},
		{"timer reset, engine without was_exhausted", ev(quotad.CategoryQuotaReset, map[string]string{"trigger": "timer"}), notify.KindReset},
		{"retry time reached", ev(quotad.CategoryQuotaReset, map[string]string{"trigger": "retry_time"}), notify.KindReset},
		{"reset by a person", ev(quotad.CategoryQuotaReset, map[string]string{"trigger": "manual"}), notify.KindReset},
		{"auto resume", ev(quotad.CategoryAutoResume, map[string]string{"cleared": "quota:groq"}), notify.KindResumed},
		{"resume by a person", ev(quotad.CategoryResume, map[string]string{"trigger": "manual"}), notify.KindManual},
		{"is_active = 1 by hand", ev(quotad.CategoryResume, map[string]string{"trigger": "external"}), notify.KindManual},
		{"errors pause", ev(quotad.CategoryPause, map[string]string{"reason": "errors"}), notify.KindErrorsPause},
		{"manual pause", ev(quotad.CategoryPause, map[string]string{"reason": "manual", "trigger": "manual"}), notify.KindManual},
		{"channel limit pause", ev(quotad.CategoryPause, map[string]string{"reason": "channel_limit"}), ""},
		{"threshold", ev(quotad.CategoryThreshold, map[string]string{"threshold": "80"}), notify.KindThreshold},
		{"forecast", ev(quotad.CategoryForecast, map[string]string{"api": "groq"}), notify.KindForecast},
		{"error", ev(quotad.CategoryError, nil), ""},
		{"config", ev(quotad.CategoryConfig, nil), ""},
		{"job", ev(quotad.CategoryJob, nil), ""},
		{"notify", ev(notify.CategoryNotify, nil), ""},
	} {
		if got := notify.KindOf(tt.ev); got != tt.want {
			t.Errorf("%s: KindOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestOutboxThroughEngine runs the engine with the Outbox hook and checks
// which notifications each operation queues, in the same transaction.
func TestOutboxThroughEngine(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := parseConfig(t, `
apis:
  groq:
    windows: [{name: daily, limit: 1000, reset: "daily 00:00"}]
channels:
  RankRiot: {apis: [groq]}
notifiers:
  all:
    type: webhook
    url: http://127.0.0.1:1/all
  quota-only:
    type: slack
    url: https://hooks.slack.com/services/T/B/X
    events: [exhausted, reset]
`)
	la := cfg.Location()
	fc := clock.NewFake(time.Date(2026, 1, 11, 10, 0, 0, 0, la))
	e := engine.New(st, engine.Options{Clock: fc, Location: la, ErrorThreshold: 2, Outbox: notify.Outbox(notifiers(cfg)), Thresholds: cfg.Thresholds})
	defer e.Close()
	apis, chans := cfg.Domain()
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	step := func(name string, op func() error, want ...string) {
		t.Helper()
		before := len(stored(t, st))
		if err := op(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, n := range stored(t, st)[before:] {
			got = append(got, n.Notifier+":"+n.Kind)
			if n.State != quotad.NotifyPending || n.Attempts != 0 || !n.NextAttempt.Equal(fc.Now()) || n.Payload == "" {
				t.Errorf("%s: queued %+v", name, n)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: queued %v, want %v", name, got, want)
		}
		fc.Advance(time.Minute)
	}
	spend := func(units int64) func() error {
		return func() error { _, err := e.Spend(ctx, "groq", units, "RankRiot"); return err }
	}
	step("spend below the thresholds", spend(100))
	step("spend past 80%", spend(750), "all:threshold")
	step("spend past 95% to the limit", spend(150), "all:exhausted", "quota-only:exhausted") // the exhaustion says it all
	fc.Set(time.Date(2026, 1, 12, 0, 0, 0, 0, la))
	step("midnight reset", func() error { _, err := e.Tick(ctx); return err },
		"all:reset", "quota-only:reset", "all:resumed")
	step("pause by a person", func() error { _, err := e.Pause(ctx, "RankRiot", "holiday"); return err }, "all:manual")
	step("resume by a person", func() error { _, err := e.Resume(ctx, "RankRiot"); return err }, "all:manual")
	report := func() error {
		_, err := e.ReportError(ctx, engine.ErrorReport{Channel: "RankRiot", Evidence: classify.Evidence{Message: "boom: disk full"}})
		return err
	}
	step("one error", report)
	step("errors pause", report, "all:errors_pause")
	step("reset by a person", func() error { _, err := e.Reset(ctx, "groq"); return err }, "all:reset", "quota-only:reset")

	// The payload is the webhook document.
	ns := stored(t, st)
	var m notify.Message
	decodeJSON(t, []byte(ns[2].Payload), &m)
	if m.Kind != notify.KindExhausted || m.API != "groq" || m.Window != "daily" || m.Channel != "RankRiot" || m.ID != ns[2].Key ||
		!strings.HasPrefix(m.Message, "GROQ quota exhausted at 2026-01-11 10:02:00 PST - will auto-resume at 2026-01-12 00:00:00 PST") ||
		m.Fields["until"] != "2026-01-12T08:00:00Z" || m.Level != quotad.LevelWarning {
		t.Errorf("exhausted message %+v", m)
	}
}

func TestSlack(t *testing.T) {
	r := newReceiver(t)
	s := &notify.Slack{URL: r.URL + "/services/T000/B000/XXXX"}
	m := notify.MessageOf(exhaustedEvent(t0), notify.KindExhausted)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	reqs := r.requests()
	if len(reqs) != 1 || reqs[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Type, Text string
			} `json:"text"`
			Elements []struct{ Type, Text string } `json:"elements"`
		} `json:"blocks"`
	}
	decodeJSON(t, reqs[0].body, &body)
	wantText := "[WARNING] [RankRiot] GROQ quota exhausted at 2026-01-11 10:30:00 PST - will auto-resume at 2026-01-12 00:00:00 PST"
	if body.Text != wantText {
		t.Errorf("text = %q, want %q", body.Text, wantText)
	}
	if len(body.Blocks) != 2 || body.Blocks[0].Type != "section" || body.Blocks[0].Text.Type != "mrkdwn" ||
		!strings.HasPrefix(body.Blocks[0].Text.Text, "*[WARNING]* [RankRiot] GROQ quota exhausted") ||
		body.Blocks[1].Type != "context" || len(body.Blocks[1].Elements) != 1 ||
		!strings.Contains(body.Blocks[1].Elements[0].Text, "api: *groq*") || !strings.Contains(body.Blocks[1].Elements[0].Text, "window: *daily*") {
		t.Errorf("blocks %s", reqs[0].body)
	}
	// Slack's reserved characters are escaped.
	m.Message = "a <b> & c"
	if p := string(notify.SlackPayload(m)); !strings.Contains(p, `a \u0026lt;b\u0026gt; \u0026amp; c`) {
		t.Errorf("payload %s", p)
	}
	// An answer other than 2xx is an error that names the status.
	bad := newReceiver(t, http.StatusNotFound)
	err := (&notify.Slack{URL: bad.URL + "/services/secret"}).Send(context.Background(), m)
	var he *notify.HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !he.Permanent() || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("Send to a 404 = %v", err)
	}
}

func TestWebhookSignature(t *testing.T) {
	r := newReceiver(t)
	now := time.Unix(1768156200, 0)
	w := &notify.Webhook{URL: r.URL, Secret: "s3cret", Now: func() time.Time { return now }}
	m := notify.MessageOf(exhaustedEvent(t0), notify.KindExhausted)
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	req := r.requests()[0]
	ts, sig := req.header.Get(notify.HeaderTimestamp), req.header.Get(notify.HeaderSignature)
	if ts != "1768156200" || !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 ||
		req.header.Get(notify.HeaderEvent) != "exhausted" || req.header.Get(notify.HeaderDelivery) != m.ID {
		t.Fatalf("headers %v", req.header)
	}
	if err := notify.VerifySignature("s3cret", ts, req.body, sig); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
	if err := notify.CheckTimestamp(ts, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("CheckTimestamp: %v", err)
	}
	for name, tamper := range map[string]func() error{
		"wrong secret":   func() error { return notify.VerifySignature("guess", ts, req.body, sig) },
		"other body":     func() error { return notify.VerifySignature("s3cret", ts, append([]byte(" "), req.body...), sig) },
		"replayed later": func() error { return notify.VerifySignature("s3cret", "1768159800", req.body, sig) },
		"no prefix": func() error {
			return notify.VerifySignature("s3cret", ts, req.body, strings.TrimPrefix(sig, "sha256="))
		},
		"not hex": func() error { return notify.VerifySignature("s3cret", ts, req.body, "sha256=zz") },
	} {
		if err := tamper(); !errors.Is(err, notify.ErrBadSignature) {
			t.Errorf("%s: VerifySignature = %v, want ErrBadSignature", name, err)
		}
	}
	if err := notify.CheckTimestamp(ts, now.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("CheckTimestamp accepted an hour-old request")
	}
	// The body is the documented document.
	var doc map[string]any
	decodeJSON(t, req.body, &doc)
	for _, k := range []string{"id", "kind", "time", "api", "window", "channel", "message", "fields"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("body has no %q: %s", k, req.body)
		}
	}
	if doc["time"] != "2026-01-11T18:30:00Z" || doc["kind"] != "exhausted" || doc["api"] != "groq" || doc["channel"] != "RankRiot" {
		t.Errorf("body %s", req.body)
	}
	// Without a secret the request is not signed.
	w.Secret = ""
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if h := r.requests()[1].header; h.Get(notify.HeaderSignature) != "" || h.Get(notify.HeaderTimestamp) == "" {
		t.Errorf("unsigned request headers %v", h)
	}
}

func emailConfig(t *testing.T, s *smtpServer) config.Config {
	return parseConfig(t, `
notifiers:
  ops-mail:
    type: email
    host: 127.0.0.1
    port: `+itoa(s.port())+`
    username: quotad
    password: hunter2
    from: "quotad <quotad@example.com>"
    to: [ops@example.com, oncall@example.com]
    starttls: false
    timeout: 5s
    max_attempts: 3
`)
}

func TestEmail(t *testing.T) {
	s := newSMTPServer(t)
	cfg := emailConfig(t, s)
	n := notifiers(cfg)[0]
	sender, err := notify.NewSender(n)
	if err != nil {
		t.Fatal(err)
	}
	m := notify.MessageOf(exhaustedEvent(t0), notify.KindExhausted)
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mails := s.mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	got := mails[0]
	if got.auth != "\x00quotad\x00hunter2" || got.from != "quotad@example.com" || !slices.Equal(got.to, []string{"ops@example.com", "oncall@example.com"}) {
		t.Errorf("envelope: auth %q from %q to %v", got.auth, got.from, got.to)
	}
	h, body := parsed(t, got)
	if h.Get("Subject") != "[quotad] GROQ quota exhausted" || !strings.Contains(h.Get("Content-Type"), "text/plain") ||
		h.Get("X-Quotad-Event") != "exhausted" || !strings.HasSuffix(h.Get("Message-Id"), "@quotad>") {
		t.Errorf("headers %v", h)
	}
	for _, want := range []string{
		"[WARNING] [RankRiot] GROQ quota exhausted at 2026-01-11 10:30:00 PST - will auto-resume at 2026-01-12 00:00:00 PST\n",
		"Kind:          exhausted\n", "API:           groq\n", "Channel:       RankRiot\n", "until:         2026-01-12T08:00:00Z\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	// The subjects of the other kinds.
	for kind, want := range map[string]string{
		notify.KindReset: "[quotad] GROQ quota reset", notify.KindResumed: "[quotad] RankRiot resumed",
		notify.KindErrorsPause: "[quotad] RankRiot paused after errors", notify.KindManual: "[quotad] RankRiot paused by a person",
	} {
		m.Kind = kind
		if got := m.Subject(); got != want {
			t.Errorf("%s subject %q, want %q", kind, got, want)
		}
	}
}

// TestRetryThenDelivered: the receiver fails once, the retry after the
// first backoff (10s) is delivered, for each type of notifier.
func TestRetryThenDelivered(t *testing.T) {
	for _, typ := range []string{"slack", "webhook", "email"} {
		t.Run(typ, func(t *testing.T) {
			st := openStore(t)
			var cfg config.Config
			var delivered func() int
			switch typ {
			case "email":
				s := newSMTPServer(t)
				s.failData = 1
				cfg = emailConfig(t, s)
				delivered = func() int { return len(s.mails()) }
			default:
				r := newReceiver(t, 500, 200)
				cfg = parseConfig(t, "notifiers:\n  n:\n    type: "+typ+"\n    url: "+r.URL+"/hook\n")
				delivered = r.count
			}
			name := cfg.Notifiers[0].Name
			enqueue(t, st, cfg, exhaustedEvent(t0))
			fc := clock.NewFake(t0)
			h := start(t, st, cfg, fc, nil)
			r := h.result()
			if r.Err == nil || r.Notification.State != quotad.NotifyPending || r.Notification.Attempts != 1 ||
				r.Notification.NextAttempt.Sub(t0) != 10*time.Second || r.Notification.LastError == "" {
				t.Fatalf("first attempt %+v", r)
			}
			h.advance(9 * time.Second)
			h.quiet()
			h.advance(time.Second)
			r = h.result()
			if r.Err != nil || r.Notification.State != quotad.NotifySent || r.Notification.Attempts != 2 || r.Notification.LastError != "" {
				t.Fatalf("second attempt %+v", r)
			}
			if n := stored(t, st)[0]; n.State != quotad.NotifySent || n.Notifier != name {
				t.Errorf("stored %+v", n)
			}
			if typ != "email" && delivered() != 2 || typ == "email" && delivered() != 1 {
				t.Errorf("receiver saw %d", delivered())
			}
			h.advance(time.Hour)
			h.quiet()
		})
	}
}

// TestDeadAfterMaxAttempts: a receiver that always fails gets max_attempts
// attempts on the backoff schedule, then the notification is dead: an
// event, the counters and the stats say so.
func TestDeadAfterMaxAttempts(t *testing.T) {
	st := openStore(t)
	r := newReceiver(t, 500)
	cfg := parseConfig(t, "notifiers:\n  hook:\n    type: webhook\n    url: "+r.URL+"\n")
	enqueue(t, st, cfg, exhaustedEvent(t0))
	fc := clock.NewFake(t0)
	h := start(t, st, cfg, fc, nil)
	want := []time.Duration{10 * time.Second, 30 * time.Second, 90 * time.Second, 270 * time.Second, 810 * time.Second, 2430 * time.Second, time.Hour}
	for i, wait := range want {
		res := h.result()
		n := res.Notification
		if n.State != quotad.NotifyPending || n.Attempts != i+1 || n.NextAttempt.Sub(fc.Now()) != wait || !strings.Contains(n.LastError, "HTTP 500") {
			t.Fatalf("attempt %d: %+v, want a retry in %s", i+1, n, wait)
		}
		h.advance(wait - time.Second)
		h.quiet()
		h.advance(time.Second)
	}
	res := h.result()
	if n := res.Notification; n.State != quotad.NotifyDead || n.Attempts != 8 || res.Err == nil {
		t.Fatalf("last attempt %+v", res)
	}
	h.advance(24 * time.Hour)
	h.quiet()
	if r.count() != 8 {
		t.Errorf("receiver saw %d requests, want 8", r.count())
	}
	evs := events(t, st, notify.CategoryNotify)
	if len(evs) != 1 || evs[0].Level != quotad.LevelError || evs[0].Fields["notifier"] != "hook" || evs[0].Fields["attempts"] != "8" ||
		!strings.Contains(evs[0].Message, "hook could not deliver a exhausted notification after 8 attempt(s): HTTP 500") {
		t.Errorf("dead events %+v", evs)
	}
	wantCounters := []notify.Stat{{Notifier: "hook", State: "dead", Count: 1}, {Notifier: "hook", State: "retry", Count: 7}}
	if got := h.d.Counters(); !slices.Equal(got, wantCounters) {
		t.Errorf("Counters() = %+v, want %+v", got, wantCounters)
	}
	stats, err := notify.Stats(context.Background(), quotad.ReadStore(st))
	if err != nil || !slices.Equal(stats, []notify.Stat{{Notifier: "hook", State: "dead", Count: 1}}) {
		t.Errorf("Stats() = %+v, %v", stats, err)
	}
	if evs := h.published(); len(evs) != 1 || evs[0].Fields["attempts"] != "8" {
		t.Errorf("events published to the engine's subscribers %+v, want the one giving up", evs)
	}
}

func TestPermanentFailureAndRetryAfter(t *testing.T) {
	st := openStore(t)
	gone := newReceiver(t, http.StatusNotFound)
	busy := newReceiver(t, http.StatusServiceUnavailable, http.StatusOK)
	cfg := parseConfig(t, "notifiers:\n  gone:\n    type: slack\n    url: "+gone.URL+"/services/x\n  busy:\n    type: webhook\n    url: "+busy.URL+"\n")
	enqueue(t, st, cfg, exhaustedEvent(t0))
	fc := clock.NewFake(t0)
	h := start(t, st, cfg, fc, nil)
	byName := map[string]notify.Result{}
	for range 2 {
		r := h.result()
		byName[r.Notification.Notifier] = r
	}
	if n := byName["gone"].Notification; n.State != quotad.NotifyDead || n.Attempts != 1 || !strings.Contains(n.LastError, "HTTP 404") {
		t.Errorf("404: %+v (a wrong URL is not retried)", n)
	}
	if n := byName["busy"].Notification; n.State != quotad.NotifyPending || n.NextAttempt.Sub(t0) != 2*time.Minute {
		t.Errorf("503 with Retry-After: 120: %+v", n)
	}
	h.advance(time.Minute)
	h.quiet()
	h.advance(time.Minute)
	if r := h.result(); r.Notification.State != quotad.NotifySent {
		t.Errorf("after Retry-After: %+v", r)
	}
}

// TestRestartDeliversOnce: notifications queued while no dispatcher runs,
// or claimed by one that stops in the middle of a send, are delivered
// exactly once by the next dispatcher on the same store.
func TestRestartDeliversOnce(t *testing.T) {
	st := openStore(t)
	r := newReceiver(t)
	cfg := parseConfig(t, "notifiers:\n  hook:\n    type: webhook\n    url: "+r.URL+"\n")
	enqueue(t, st, cfg, exhaustedEvent(t0), exhaustedEvent(t0.Add(time.Second)))
	fc := clock.NewFake(t0.Add(time.Minute))

	// The first dispatcher's receiver hangs; it stops in the middle.
	r.mu.Lock()
	r.block = make(chan struct{})
	r.mu.Unlock()
	h1 := start(t, st, cfg, fc, nil)
	deadline := time.Now().Add(10 * time.Second)
	for len(stored(t, st)) == 0 || stored(t, st)[1].NextAttempt.Equal(t0.Add(time.Second)) {
		if time.Now().After(deadline) {
			t.Fatal("the first dispatcher claimed nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h1.stop()
	if len(h1.results) != 0 || r.count() != 0 {
		t.Fatalf("the first dispatcher delivered: %d results, %d requests", len(h1.results), r.count())
	}
	for _, n := range stored(t, st) {
		if n.State != quotad.NotifyPending || n.Attempts != 0 || n.NextAttempt.After(fc.Now()) {
			t.Errorf("after the stop: %+v (want it handed back, due now)", n)
		}
	}
	r.mu.Lock()
	r.block = nil
	r.mu.Unlock()

	h2 := start(t, st, cfg, fc, nil)
	for range 2 {
		if res := h2.result(); res.Notification.State != quotad.NotifySent || res.Notification.Attempts != 1 {
			t.Errorf("second dispatcher: %+v", res)
		}
	}
	h2.stop()
	h3 := start(t, st, cfg, fc, nil)
	h3.advance(time.Hour)
	h3.quiet()
	if r.count() != 2 {
		t.Errorf("receiver saw %d requests, want 2 (each notification once)", r.count())
	}
	ids := map[string]bool{}
	for _, req := range r.requests() {
		ids[req.header.Get(notify.HeaderDelivery)] = true
	}
	if len(ids) != 2 {
		t.Errorf("deliveries %v", ids)
	}
}

// hang is a sender that never answers before its context ends.
type hang struct{}

func (hang) Send(ctx context.Context, _ notify.Message) error { <-ctx.Done(); return ctx.Err() }

// TestSlowReceiverDoesNotStallOthers: a receiver that never answers delays
// only its own notifications; each of its attempts ends at the timeout.
func TestSlowReceiverDoesNotStallOthers(t *testing.T) {
	st := openStore(t)
	fast := newReceiver(t)
	cfg := parseConfig(t, "notifiers:\n  slow:\n    type: webhook\n    url: http://127.0.0.1:1/\n    timeout: 1s\n  fast:\n    type: webhook\n    url: "+fast.URL+"\n")
	for i := range 3 {
		enqueue(t, st, cfg, exhaustedEvent(t0.Add(time.Duration(i)*time.Second)))
	}
	fc := clock.NewFake(t0.Add(time.Minute))
	began := time.Now()
	h := start(t, st, cfg, fc, map[string]notify.Sender{"slow": hang{}})
	sent := 0
	for sent < 3 {
		r := h.result()
		if r.Notification.Notifier == "fast" {
			if r.Notification.State != quotad.NotifySent {
				t.Fatalf("fast: %+v", r)
			}
			sent++
		}
	}
	if d := time.Since(began); d > 900*time.Millisecond {
		t.Errorf("the fast notifier took %s: the slow one held it up", d)
	}
	r := h.result()
	if r.Notification.Notifier != "slow" || r.Notification.State != quotad.NotifyPending || !strings.Contains(r.Notification.LastError, "no answer within 1s") {
		t.Errorf("slow: %+v", r)
	}
}

func TestUnconfiguredNotifier(t *testing.T) {
	st := openStore(t)
	old := parseConfig(t, "notifiers:\n  gone:\n    type: webhook\n    url: http://127.0.0.1:1/\n")
	enqueue(t, st, old, exhaustedEvent(t0))
	h := start(t, st, config.DefaultConfig(), clock.NewFake(t0), nil)
	r := h.result()
	if r.Notification.State != quotad.NotifyDead || !strings.Contains(r.Notification.LastError, `notifier "gone" is not in the configuration`) {
		t.Errorf("%+v", r)
	}
	if evs := events(t, st, notify.CategoryNotify); len(evs) != 1 {
		t.Errorf("events %+v", evs)
	}
	if evs := h.published(); len(evs) != 1 || evs[0].Fields["notifier"] != "gone" {
		t.Errorf("events published to the engine's subscribers %+v, want the one giving up", evs)
	}
}

func TestNotifyTest(t *testing.T) {
	r := newReceiver(t)
	cfg := parseConfig(t, "notifiers:\n  team:\n    type: slack\n    url: "+r.URL+"/services/x\n")
	m, err := notify.Test(context.Background(), notifiers(cfg)[0], t0)
	if err != nil || m.Kind != notify.KindTest {
		t.Fatalf("Test = %+v, %v", m, err)
	}
	var body struct{ Text string }
	decodeJSON(t, r.requests()[0].body, &body)
	if body.Text != "[OK] Test message from quotad: notifier team (slack) works" {
		t.Errorf("text %q", body.Text)
	}
	bad := parseConfig(t, "notifiers:\n  team:\n    type: webhook\n    url: http://127.0.0.1:1/x\n    timeout: 1s\n")
	if _, err := notify.Test(context.Background(), notifiers(bad)[0], t0); err == nil {
		t.Error("Test to a closed port succeeded")
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 30 * time.Second, 3: 90 * time.Second, 7: time.Hour, 20: time.Hour} {
		if got := notify.Backoff(n, 0.5); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
	if lo, hi := notify.Backoff(1, 0), notify.Backoff(1, 0.9999999); lo != 8*time.Second || hi < 11900*time.Millisecond || hi > 12*time.Second {
		t.Errorf("jitter range %s..%s, want 8s..12s", lo, hi)
	}
}

func TestSendErrorHidesURLAndHonoursContext(t *testing.T) {
	m := notify.MessageOf(exhaustedEvent(t0), notify.KindExhausted)
	// A transport error names the receiver without the hook's secret path.
	err := (&notify.Slack{URL: "http://127.0.0.1:1/services/T0/B0/s3cret"}).Send(context.Background(), m)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "http://127.0.0.1:1/…") {
		t.Errorf("Send to a closed port = %v", err)
	}
	// The sender's client has no timeout of its own: ctx bounds the attempt.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	s, err := notify.NewSender(notify.Notifier{Name: "hook", Type: notify.TypeWebhook, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, m); err == nil || !strings.Contains(err.Error(), "deadline exceeded") || time.Since(start) > 5*time.Second {
		t.Errorf("Send past its deadline = %v after %s", err, time.Since(start))
	}
}
