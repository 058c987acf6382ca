package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/notify"
	"github.com/quotad/quotad/store/sqlite"
)

var t0 = time.Date(2026, 1, 11, 18, 30, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// receiver is an HTTP receiver that answers with the statuses of plan in
// turn (the last one forever) and records every request.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	plan  []int
	reqs  []request
	block chan struct{} // when set, requests wait for it (or their context)
}

type request struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{plan: plan}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		block := r.block
		r.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-req.Context().Done():
				return
			}
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, request{req.Header.Clone(), body})
		status := http.StatusOK
		if len(r.plan) > 0 {
			status = r.plan[0]
			if len(r.plan) > 1 {
				r.plan = r.plan[1:]
			}
		}
		r.mu.Unlock()
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "120")
		}
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// delivered counts the requests answered 2xx.
func (r *receiver) count() int { return len(r.requests()) }

// harness runs a Dispatcher on a fake clock and lets the test wait for its
// attempts.
type harness struct {
	t       *testing.T
	st      quotad.Store
	clock   *clock.Fake
	d       *notify.Dispatcher
	results chan notify.Result
	given   chan quotad.Event // "notification given up" events the engine published
	cancel  context.CancelFunc
	done    chan struct{}
}

func start(t *testing.T, st quotad.Store, cfg config.Config, fc *clock.Fake, senders map[string]notify.Sender) *harness {
	t.Helper()
	h := &harness{t: t, st: st, clock: fc, results: make(chan notify.Result, 100), given: make(chan quotad.Event, 100), done: make(chan struct{})}
	e := engine.New(st, engine.Options{Clock: fc}) // the dispatcher writes through the engine
	t.Cleanup(func() { _ = e.Close() })
	e.Subscribe(func(evs []quotad.Event) {
		for _, ev := range evs {
			if ev.Category == notify.CategoryNotify {
				select {
				case h.given <- ev:
				default:
				}
			}
		}
	})
	d, err := notify.NewDispatcher(e, notifiers(cfg), notify.Options{
		Clock: fc, PollInterval: time.Second, Jitter: func() float64 { return 0.5 }, Senders: senders,
		OnResult: func(r notify.Result) { h.results <- r },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { defer close(h.done); d.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// published returns the "notification given up" events the engine has
// published so far: written through the engine, they reach its subscribers
// (the dashboard's stream, the console) before the dispatcher reports the
// result.
func (h *harness) published() []quotad.Event {
	var out []quotad.Event
	for {
		select {
		case ev := <-h.given:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// stop cancels the dispatcher and waits for it to return.
func (h *harness) stop() {
	h.cancel()
	<-h.done
}

// result waits for the next attempt.
func (h *harness) result() notify.Result {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(15 * time.Second):
		h.t.Fatal("no delivery attempt")
		return notify.Result{}
	}
}

// quiet checks that no attempt happens for a short while.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case r := <-h.results:
		h.t.Fatalf("unexpected attempt: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
}

// advance moves the fake clock and wakes the dispatcher.
func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.d.Wake()
}

// enqueue queues a notification of an event for every notifier of cfg
// subscribed to it, as the engine's Outbox hook does.
func enqueue(t *testing.T, st quotad.Store, cfg config.Config, evs ...quotad.Event) []quotad.Notification {
	t.Helper()
	ns := notify.Outbox(notifiers(cfg))(evs)
	if err := st.Update(context.Background(), func(tx quotad.Tx) error { return tx.EnqueueNotifications(ns...) }); err != nil {
		t.Fatal(err)
	}
	return ns
}

// stored returns every stored notification, oldest first.
func stored(t *testing.T, st quotad.Store) []quotad.Notification {
	t.Helper()
	var ns []quotad.Notification
	if err := st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		ns, err = tx.Notifications(1000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ns)-1; i < j; i, j = i+1, j-1 {
		ns[i], ns[j] = ns[j], ns[i]
	}
	return ns
}

func events(t *testing.T, st quotad.Store, category string) []quotad.Event {
	t.Helper()
	var evs []quotad.Event
	if err := st.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		evs, err = tx.Events(quotad.EventFilter{Category: category})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// exhaustedEvent is the event the engine writes when groq runs out.
func exhaustedEvent(at time.Time) quotad.Event {
	return quotad.Event{
		Time: at, Level: quotad.LevelWarning, Channel: "RankRiot", Category: quotad.CategoryQuota,
		Message: "GROQ quota exhausted at 2026-01-11 10:30:00 PST - will auto-resume at 2026-01-12 00:00:00 PST",
		Fields:  map[string]string{"api": "groq", "window": "daily", "until": "2026-01-12T08:00:00Z", "detail": "limit reached"},
	}
}

// notifiers are the config's notifiers, as the daemon translates them.
func notifiers(cfg config.Config) []notify.Notifier {
	var out []notify.Notifier
	for _, n := range cfg.Notifiers {
		out = append(out, notify.Notifier{
			Name: n.Name, Type: n.Type, Events: n.Events, URL: n.URL, Secret: n.Secret,
			Host: n.Host, Port: n.Port, Username: n.Username, Password: n.Password, From: n.From, To: n.To, StartTLS: n.StartTLS,
			Timeout: time.Duration(n.Timeout), MaxAttempts: n.MaxAttempts,
		})
	}
	return out
}

func parseConfig(t *testing.T, doc string) config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
