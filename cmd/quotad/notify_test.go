package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/notify"
	"github.com/quotad/quotad/store/sqlite"
)

// hookServer is a webhook receiver that checks signatures.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []notify.Message
	bad    []string
}

func newHookServer(t *testing.T, secret string) *hookServer {
	h := &hookServer{status: http.StatusOK}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := notify.VerifySignature(secret, r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)); err != nil {
			h.bad = append(h.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.got = append(h.got, m)
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) messages() []notify.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.Message(nil), h.got...)
}

func notifyConfig(url string) string {
	return testConfig + `notifiers:
  hook:
    type: webhook
    url: ` + url + `
    secret: s3cret
    timeout: 2s
`
}

func TestCLINotifyTest(t *testing.T) {
	h := newHookServer(t, "s3cret")
	c := newCLI(t, notifyConfig(h.URL))
	out := c.ok("notify", "test", "hook")
	if !strings.Contains(out, "[OK] Test message sent to hook (webhook)") {
		t.Errorf("output %q", out)
	}
	if got := h.messages(); len(got) != 1 || got[0].Kind != "test" || len(h.bad) != 0 {
		t.Errorf("received %+v, bad %v", got, h.bad)
	}
	h.mu.Lock()
	h.status = http.StatusInternalServerError
	h.mu.Unlock()
	if _, errs, code := c.run("notify", "test", "hook"); code != 1 || !strings.Contains(errs, "test message to hook (webhook) failed") || !strings.Contains(errs, "HTTP 500") {
		t.Errorf("failing receiver: exit %d, stderr %q", code, errs)
	}
	if _, errs, code := c.run("notify", "test", "slack"); code != 1 || !strings.Contains(errs, `no notifier "slack" in the config; expected one of: hook`) {
		t.Errorf("unknown notifier: exit %d, stderr %q", code, errs)
	}
	if _, _, code := c.run("notify", "test"); code != 2 {
		t.Errorf("no name: exit %d, want 2", code)
	}
	// Nothing was queued: a test message goes out directly.
	if out := c.ok("notify", "list"); !strings.Contains(out, "no notifications yet") {
		t.Errorf("notify list: %q", out)
	}
}

func TestCLINotifierConfigErrors(t *testing.T) {
	at := func(line int) string {
		return "quotad.yaml:" + strconv.Itoa(strings.Count(testConfig, "\n")+line) + ": "
	}
	for _, tc := range []struct{ notifiers, want string }{
		{"notifiers:\n  ops:\n    type: teams\n    url: https://x.example/\n", at(3) + `notifiers.ops.type: unknown notifier type "teams"; expected slack, webhook or email`},
		{"notifiers:\n  ops:\n    type: slack\n", at(2) + `notifiers.ops.url: missing url; expected an http:// or https:// URL`},
		{"notifiers:\n  ops:\n    type: slack\n    url: https://x.example/\n    events: [exhausted, paused]\n",
			at(5) + `notifiers.ops.events[1]: unknown event "paused"; expected one of: exhausted, reset, resumed, threshold, forecast, errors_pause, manual`},
	} {
		c := newCLI(t, testConfig+tc.notifiers)
		if _, errs, code := c.run("status"); code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("exit %d, stderr %q; want %q", code, errs, tc.want)
		}
	}
}

// TestCLIChangesQueueNotifications: a person's pause through the CLI
// queues its notification in the store, for the daemon to send.
func TestCLIChangesQueueNotifications(t *testing.T) {
	c := newCLI(t, notifyConfig("http://127.0.0.1:1/hook"))
	c.ok("pause", "RankRiot", "--reason", "holiday")
	c.ok("spend", "youtube", "8500", "--channel", "Shorts")
	var list []notificationStatus
	if err := json.Unmarshal([]byte(c.ok("notify", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Kind != "threshold" || list[1].Kind != "manual" || list[1].State != "pending" ||
		list[1].Notifier != "hook" || !strings.Contains(list[1].Message, "[WARNING] [RankRiot] Channel paused by a person: holiday") {
		t.Errorf("notify list: %+v", list)
	}
	out := c.ok("notify", "list")
	if !strings.Contains(out, "NOTIFIER") || !strings.Contains(out, "threshold") || !strings.Contains(out, "pending") {
		t.Errorf("notify list:\n%s", out)
	}
	var stats []notify.Stat
	if err := json.Unmarshal([]byte(c.ok("notify", "stats", "--json")), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0] != (notify.Stat{Notifier: "hook", State: "pending", Count: 2}) {
		t.Errorf("stats %+v", stats)
	}
}

// TestServeNotifications runs the daemon's notification hook with the
// engine options its config gives: an exhaustion is delivered, signed.
func TestServeNotifications(t *testing.T) {
	h := newHookServer(t, "s3cret")
	cfg, err := config.Parse([]byte(notifyConfig(h.URL)), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	opts := engine.Options{Location: cfg.Location()}
	notifyEngineOptions(cfg, &opts)
	if opts.Outbox == nil || len(opts.Thresholds) != 2 {
		t.Fatalf("engine options %+v", opts)
	}
	e := engine.New(st, opts)
	defer e.Close()
	apis, chans := cfg.Domain()
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	d := &daemon{cfg: cfg, engine: e, log: slog.New(slog.NewTextHandler(io.Discard, nil)), flags: &serveFlags{}, out: &out}
	done := make(chan error, 1)
	go func() { done <- serveNotifications(ctx, d) }()
	// Past both thresholds, then to the limit (a spend that goes straight
	// to the limit sends the exhaustion alone).
	for _, units := range []int64{9600, 400} {
		if _, err := e.Spend(ctx, "youtube", units, "Shorts"); err != nil {
			t.Fatal(err)
		}
	}
	// The hook has a message before the dispatcher records it as sent:
	// wait for the store to say all three were.
	sent := func() bool {
		stats, err := notify.Stats(context.Background(), quotad.ReadStore(st))
		return err == nil && len(stats) == 1 && stats[0] == (notify.Stat{Notifier: "hook", State: "sent", Count: 3})
	}
	for deadline := time.Now().Add(10 * time.Second); !sent() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	kinds := map[string]int{}
	for _, m := range h.messages() {
		kinds[m.Kind]++
	}
	if kinds["threshold"] != 2 || kinds["exhausted"] != 1 || len(h.bad) != 0 {
		t.Errorf("delivered %v (bad %v), want two thresholds and an exhaustion", kinds, h.bad)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveNotifications returned %v", err)
	}
	if out.String() != "[OK] Notifications to hook (webhook)\n" {
		t.Errorf("output %q", out.String())
	}
	stats, err := notify.Stats(context.Background(), quotad.ReadStore(st))
	if err != nil || len(stats) != 1 || stats[0] != (notify.Stat{Notifier: "hook", State: "sent", Count: 3}) {
		t.Errorf("stats %+v, %v", stats, err)
	}
}
