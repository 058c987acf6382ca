package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
)

// Backoff schedule: the wait before retry n (n = 1 after the first failed
// attempt) is BackoffBase x BackoffFactor^(n-1), at most BackoffMax, times a
// random factor from 1-BackoffJitter to 1+BackoffJitter: about 10s, 30s,
// 1m30s, 4m30s, 13m30s, 40m30s, 1h, 1h. With the default 8 attempts a
// notification is given up about two hours after its first failure.
const (
	BackoffBase   = 10 * time.Second
	BackoffFactor = 3
	BackoffMax    = time.Hour
	BackoffJitter = 0.2
)

// Backoff returns the wait before retry n, with r (uniform in [0, 1))
// choosing the jitter: r = 0.5 gives the schedule exactly.
func Backoff(n int, r float64) time.Duration {
	d := float64(BackoffBase) * math.Pow(BackoffFactor, float64(max(n, 1)-1))
	d = min(d, float64(BackoffMax))
	return time.Duration(d * (1 - BackoffJitter + 2*BackoffJitter*r)).Round(time.Millisecond)
}

// DefaultPollInterval is how often the dispatcher looks for due
// notifications when nobody wakes it.
const DefaultPollInterval = 2 * time.Second

// Options configure a Dispatcher. Zero values take the defaults.
type Options struct {
	Clock        clock.Clock   // default: the system clock
	Logger       *slog.Logger  // default: slog.Default()
	PollInterval time.Duration // default DefaultPollInterval
	// Jitter returns uniform random numbers in [0, 1) for Backoff; default
	// math/rand/v2.Float64.
	Jitter func() float64
	// Senders replace the senders built from the notifiers, by name
	// (tests, or a program that embeds quotad with its own receivers).
	Senders map[string]Sender
	// OnResult, if set, is called after every attempt has been recorded.
	OnResult func(Result)
	// BatchLimit bounds how many due notifications one pass claims;
	// default 500.
	BatchLimit int
}

// Result is the outcome of one delivery attempt, as recorded in the store.
type Result struct {
	Notification quotad.Notification // State, Attempts, NextAttempt and LastError after the attempt
	Err          error               // nil when delivered
}

// Queue is the stored queue of notifications as the dispatcher uses it: reads,
// and transactions that save notifications' state and the events of giving
// one up. *engine.Engine is one: the engine stays the store's only writer
// and publishes those events.
type Queue interface {
	quotad.Reader
	UpdateOutbox(ctx context.Context, fn func(quotad.OutboxTx) error) error
}

// Dispatcher sends queued notifications. Create it with NewDispatcher and
// run it with Run.
type Dispatcher struct {
	store Queue
	clock clock.Clock
	log   *slog.Logger
	opts  Options
	lanes map[string]*lane
	wake  chan struct{}

	mu     sync.Mutex // guards lanes' queues and running flags, and queued
	queued map[int64]bool
	wg     sync.WaitGroup

	statsMu sync.Mutex
	stats   map[[2]string]int64 // (notifier, outcome) → count
}

// lane delivers one notifier's notifications, one at a time, in order.
type lane struct {
	name        string
	sender      Sender
	timeout     time.Duration
	maxAttempts int
	queue       []quotad.Notification
	running     bool
}

// NewDispatcher returns a dispatcher for the notifiers (as validated by the
// config), over the queue.
func NewDispatcher(store Queue, notifiers []Notifier, opts Options) (*Dispatcher, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.BatchLimit <= 0 {
		opts.BatchLimit = 500
	}
	d := &Dispatcher{
		store: store, clock: opts.Clock, log: opts.Logger, opts: opts, lanes: map[string]*lane{},
		wake: make(chan struct{}, 1), queued: map[int64]bool{}, stats: map[[2]string]int64{},
	}
	for _, n := range notifiers {
		s, ok := opts.Senders[n.Name]
		if !ok {
			var err error
			if s, err = NewSender(n); err != nil {
				return nil, err
			}
		}
		l := &lane{name: n.Name, sender: s, timeout: n.AttemptTimeout(), maxAttempts: n.MaxAttempts}
		if l.maxAttempts <= 0 {
			l.maxAttempts = DefaultMaxAttempts
		}
		d.lanes[n.Name] = l
	}
	return d, nil
}

// Wake makes the dispatcher look for due notifications now (the daemon
// calls it on every committed event). It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due notifications until ctx is done: it claims them in the
// store (so another dispatcher on the same store leaves them alone), hands
// each to its notifier's lane, and sleeps until woken or the poll interval
// passes. On return, notifications claimed but not attempted are handed
// back to the store, due at once. Store errors are logged and retried.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		if err := d.pass(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("notify: reading the outbox", "err", err)
		}
		t := d.clock.NewTimer(d.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			d.wg.Wait()
			d.release()
			return nil
		case <-t.C():
		case <-d.wake:
			t.Stop()
		}
	}
}

// pass claims every due notification and starts the lanes that have work.
func (d *Dispatcher) pass(ctx context.Context) error {
	now := d.clock.Now()
	var due []quotad.Notification
	if err := d.store.Read(ctx, func(tx quotad.ReadTx) error {
		var err error
		due, err = tx.DueNotifications(now, d.opts.BatchLimit)
		return err
	}); err != nil {
		return err
	}
	if len(d.unqueued(due)) == 0 {
		return nil
	}
	var claimed, orphans []quotad.Notification
	err := d.store.UpdateOutbox(ctx, func(tx quotad.OutboxTx) error {
		claimed, orphans = nil, nil
		due, err := tx.DueNotifications(now, d.opts.BatchLimit)
		if err != nil {
			return err
		}
		waiting := map[string]int{}
		for _, n := range d.unqueued(due) {
			l := d.lanes[n.Notifier]
			if l == nil {
				n.State, n.LastError = quotad.NotifyDead, fmt.Sprintf("notifier %q is not in the configuration", n.Notifier)
				if err := tx.SaveNotification(n); err != nil {
					return err
				}
				if err := tx.AppendEvents(deadEvent(n, now)); err != nil {
					return err
				}
				orphans = append(orphans, n)
				continue
			}
			// The claim lasts until the lane should be done with everything
			// before it; then another dispatcher may take it over.
			d.mu.Lock()
			ahead := len(l.queue) + waiting[l.name]
			d.mu.Unlock()
			waiting[l.name]++
			n.NextAttempt = now.Add(time.Duration(ahead+1)*(l.timeout+5*time.Second) + 30*time.Second)
			if err := tx.SaveNotification(n); err != nil {
				return err
			}
			claimed = append(claimed, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range orphans {
		d.count(n.Notifier, quotad.NotifyDead)
		d.log.Error("notify: gave up a notification of a notifier that is no longer configured", "notifier", n.Notifier, "kind", n.Kind, "key", n.Key)
		d.report(Result{Notification: n})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range claimed {
		l := d.lanes[n.Notifier]
		l.queue = append(l.queue, n)
		d.queued[n.ID] = true
		if !l.running {
			l.running = true
			d.wg.Add(1)
			go d.runLane(ctx, l)
		}
	}
	return nil
}

// unqueued returns the notifications not already waiting in a lane.
func (d *Dispatcher) unqueued(ns []quotad.Notification) []quotad.Notification {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := ns[:0:0]
	for _, n := range ns {
		if !d.queued[n.ID] {
			out = append(out, n)
		}
	}
	return out
}

func (d *Dispatcher) runLane(ctx context.Context, l *lane) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(l.queue) == 0 || ctx.Err() != nil {
			l.running = false
			d.mu.Unlock()
			return
		}
		n := l.queue[0]
		l.queue = l.queue[1:]
		d.mu.Unlock()
		d.deliver(ctx, l, n)
		d.mu.Lock()
		delete(d.queued, n.ID)
		d.mu.Unlock()
	}
}

// deliver makes one attempt and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, l *lane, n quotad.Notification) {
	m, err := DecodeMessage(n.Payload)
	fatal := err != nil
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, l.timeout)
		err = l.sender.Send(sctx, m)
		if err != nil && sctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", l.timeout, err)
		}
		cancel()
	}
	now := d.clock.Now()
	save := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() != nil { // shutting down: not an attempt; due again at once
		n.NextAttempt = now
		d.save(save, n, nil)
		return
	}
	n.Attempts++
	n.LastError = ""
	var dead *quotad.Event
	switch {
	case err == nil:
		n.State, n.NextAttempt = quotad.NotifySent, now
	case fatal || permanent(err) || n.Attempts >= l.maxAttempts:
		n.State, n.LastError = quotad.NotifyDead, truncate(err.Error(), 500)
		ev := deadEvent(n, now)
		dead = &ev
	default:
		wait := max(Backoff(n.Attempts, d.opts.Jitter()), min(retryAfter(err), BackoffMax))
		n.State, n.NextAttempt, n.LastError = quotad.NotifyPending, now.Add(wait), truncate(err.Error(), 500)
	}
	d.save(save, n, dead)
	switch n.State {
	case quotad.NotifySent:
		d.count(l.name, quotad.NotifySent)
		d.log.Debug("notify: sent", "notifier", l.name, "kind", n.Kind, "key", n.Key, "attempts", n.Attempts)
	case quotad.NotifyDead:
		d.count(l.name, quotad.NotifyDead)
		d.log.Error("notify: gave up", "notifier", l.name, "kind", n.Kind, "key", n.Key, "attempts", n.Attempts, "err", err)
	default:
		d.count(l.name, "retry")
		d.log.Warn("notify: attempt failed; will retry", "notifier", l.name, "kind", n.Kind, "attempt", n.Attempts,
			"retry_at", n.NextAttempt, "err", err)
	}
	d.report(Result{Notification: n, Err: err})
}

// save records a notification's state (and the event of giving it up).
func (d *Dispatcher) save(ctx context.Context, n quotad.Notification, dead *quotad.Event) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := d.store.UpdateOutbox(ctx, func(tx quotad.OutboxTx) error {
		if err := tx.SaveNotification(n); err != nil {
			return err
		}
		if dead != nil {
			return tx.AppendEvents(*dead)
		}
		return nil
	})
	if err != nil { // the claim lapses and the notification is tried again
		d.log.Error("notify: recording a delivery attempt", "notifier", n.Notifier, "key", n.Key, "err", err)
	}
}

// release hands notifications claimed but not attempted back to the store.
func (d *Dispatcher) release() {
	d.mu.Lock()
	var left []quotad.Notification
	for _, l := range d.lanes {
		left = append(left, l.queue...)
		l.queue = nil
	}
	d.queued = map[int64]bool{}
	d.mu.Unlock()
	if len(left) == 0 {
		return
	}
	now := d.clock.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.store.UpdateOutbox(ctx, func(tx quotad.OutboxTx) error {
		for _, n := range left {
			n.NextAttempt = now
			if err := tx.SaveNotification(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.log.Warn("notify: handing back unsent notifications; they are tried again when their claim lapses", "count", len(left), "err", err)
	}
}

func (d *Dispatcher) report(r Result) {
	if d.opts.OnResult != nil {
		d.opts.OnResult(r)
	}
}

func deadEvent(n quotad.Notification, now time.Time) quotad.Event {
	return quotad.Event{
		Time: now, Level: quotad.LevelError, Category: CategoryNotify,
		Message: fmt.Sprintf("Notification given up: %s could not deliver a %s notification after %d attempt(s): %s",
			n.Notifier, n.Kind, n.Attempts, n.LastError),
		Fields: map[string]string{"notifier": n.Notifier, "kind": n.Kind, "key": n.Key,
			"attempts": strconv.Itoa(n.Attempts), "error": n.LastError},
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Stat is a count of notifications of one notifier in one state.
type Stat struct {
	Notifier string `json:"notifier"`
	State    string `json:"state"`
	Count    int64  `json:"count"`
}

func (d *Dispatcher) count(notifier, outcome string) {
	d.statsMu.Lock()
	d.stats[[2]string{notifier, outcome}]++
	d.statsMu.Unlock()
}

// Counters returns what this dispatcher did since it started: attempts per
// notifier with the outcome "sent", "retry" (failed, will be tried again)
// or "dead" (given up), sorted.
func (d *Dispatcher) Counters() []Stat {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	out := make([]Stat, 0, len(d.stats))
	for k, v := range d.stats {
		out = append(out, Stat{Notifier: k[0], State: k[1], Count: v})
	}
	sortStats(out)
	return out
}

// Stats counts the stored notifications per notifier and state ("pending",
// "sent", "dead"), over every process that shares the store, sorted: what
// /metrics exposes as quotad_notifications_total{notifier,state}. The store
// counts them (Tx.NotificationCounts) without reading any row.
func Stats(ctx context.Context, store quotad.Reader) ([]Stat, error) {
	var counts []quotad.NotificationCount
	if err := store.Read(ctx, func(tx quotad.ReadTx) error {
		var err error
		counts, err = tx.NotificationCounts()
		return err
	}); err != nil {
		return nil, fmt.Errorf("notification stats: %w", err)
	}
	out := make([]Stat, 0, len(counts))
	for _, c := range counts {
		out = append(out, Stat{Notifier: c.Notifier, State: c.State, Count: int64(c.Count)})
	}
	sortStats(out) // the store's order already, unless a collation disagrees with Go's
	return out, nil
}

func sortStats(s []Stat) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Notifier != s[j].Notifier {
			return s[i].Notifier < s[j].Notifier
		}
		return s[i].State < s[j].State
	})
}
