// Package engine holds quotad's operations over a store: spend, reserve,
// report errors and successes, reset quotas, pause and resume channels, and
// apply configuration. Time comes from an injected clock, so every behaviour
// can be tested through a day in a millisecond.
//
// Mutations from concurrent callers are group-committed: the engine runs
// every operation waiting at that moment in one store transaction and
// acknowledges each only once that transaction has committed (as durable as
// the store makes a commit: see quotad.Store.Update).
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/rule"
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	Clock          clock.Clock    // default: the system clock
	Location       *time.Location // zone for human-readable times and zone-less rules; default America/Los_Angeles
	ErrorThreshold int            // consecutive non-quota errors before an "errors" pause; default 20
	MaxUnits       int64          // largest units accepted by one operation; default 1e12
	Logger         *slog.Logger   // diagnostics; default slog.Default()
	// Thresholds are fractions of a window's limit (0.8, 0.95) whose crossing
	// by a spend emits a "threshold" event. Nil means DefaultThresholds;
	// an empty non-nil slice means none.
	Thresholds []float64
	// Outbox, if set, turns the events of each transaction into
	// notifications queued in the same transaction, so that no committed
	// event loses its notification.
	Outbox func(events []quotad.Event) []quotad.Notification
	// StoreTimeout bounds every wait for the store: a caller of a mutation
	// gets an error wrapping quotad.ErrUnavailable when its operation has no
	// answer within it, and each group-commit transaction is cancelled past
	// it. Default DefaultStoreTimeout.
	StoreTimeout time.Duration
}

// DefaultStoreTimeout is the default of Options.StoreTimeout.
const DefaultStoreTimeout = 5 * time.Second

// DefaultThresholds are the usage fractions that emit threshold events.
var DefaultThresholds = []float64{0.8, 0.95}

// DefaultErrorThreshold is the seed's "channel pauses after 20 errors".
const DefaultErrorThreshold = 20

// Engine runs quotad's operations over a Store. It is safe for concurrent use.
type Engine struct {
	store quotad.Store
	clock clock.Clock
	opts  Options
	log   *slog.Logger

	rules sync.Map // rule text → rule.Rule

	ops      chan *op
	loopDone chan struct{}
	closeMu  sync.RWMutex
	closed   bool

	subMu sync.RWMutex
	subs  map[int]func([]quotad.Event)
	subID int

	metrics  counters
	writeErr atomic.Pointer[error] // the last transaction's failure; nil after a success
	counts   *counterSet
	rows     rowCache  // the writer loop's; see rowcache.go
	drifts   *driftSet // provider figures adopted; see observe.go
}

type counters struct {
	batches, ops, storeErrors atomic.Uint64
}

// New returns an Engine over store. Call Close when done.
func New(store quotad.Store, opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			loc = time.UTC
		}
		opts.Location = loc
	}
	if opts.ErrorThreshold <= 0 {
		opts.ErrorThreshold = DefaultErrorThreshold
	}
	if opts.MaxUnits <= 0 {
		opts.MaxUnits = 1e12
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Thresholds == nil {
		opts.Thresholds = DefaultThresholds
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = DefaultStoreTimeout
	}
	e := &Engine{
		store: store, clock: opts.Clock, opts: opts, log: opts.Logger,
		ops: make(chan *op, 4*maxBatch), loopDone: make(chan struct{}), subs: map[int]func([]quotad.Event){}, counts: newCounterSet(), drifts: newDriftSet(),
	}
	go e.loop()
	return e
}

// Close stops the engine after finishing every operation already accepted.
// It does not close the store.
func (e *Engine) Close() error {
	e.closeMu.Lock()
	if !e.closed {
		e.closed = true
		close(e.ops)
	}
	e.closeMu.Unlock()
	<-e.loopDone
	return nil
}

// Clock returns the engine's clock.
func (e *Engine) Clock() clock.Clock { return e.clock }

// Location returns the zone used for human-readable times.
func (e *Engine) Location() *time.Location { return e.opts.Location }

// Subscribe calls fn with the events of every committed transaction, in
// commit order, from the engine's writer goroutine: fn must not block. The
// returned function unsubscribes.
func (e *Engine) Subscribe(fn func([]quotad.Event)) (unsubscribe func()) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	e.subID++
	id := e.subID
	e.subs[id] = fn
	return func() {
		e.subMu.Lock()
		defer e.subMu.Unlock()
		delete(e.subs, id)
	}
}

func (e *Engine) publish(events []quotad.Event) {
	if len(events) == 0 {
		return
	}
	e.counts.add(func(c *Counters) {
		for _, ev := range events {
			if r, ok := ev.Refill(); ok {
				c.Resets[r.API]++
			} else if x, ok := ev.Exhaustion(); ok {
				c.Exhaustions[x.API]++
			}
			switch ev.Category {
			case quotad.CategoryResume, quotad.CategoryAutoResume:
				c.Resumes++
			case quotad.CategoryPause:
				c.Pauses++
			}
		}
	})
	e.subMu.RLock()
	defer e.subMu.RUnlock()
	for _, fn := range e.subs {
		fn(events)
	}
}

// Stats reports group-commit counters: transactions committed, operations
// committed in them, and transactions that failed.
func (e *Engine) Stats() (batches, ops, failures uint64) {
	c := e.Counters()
	return c.Transactions, c.Operations, c.StoreFailures
}

// rule returns the parsed rule for text, cached.
func (e *Engine) rule(text string) (rule.Rule, error) {
	if r, ok := e.rules.Load(text); ok {
		return r.(rule.Rule), nil
	}
	r, err := rule.Parse(text, e.opts.Location)
	if err != nil {
		return rule.Rule{}, err
	}
	e.rules.Store(text, r)
	return r, nil
}

// Status returns every API and channel.
func (e *Engine) Status(ctx context.Context) (quotad.Status, error) {
	var st quotad.Status
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		apis, err := tx.APIs()
		if err != nil {
			return err
		}
		chans, err := tx.Channels()
		if err != nil {
			return err
		}
		st = statusOf(apis, chans)
		return annotateForecasts(tx, apis, &st, e.clock.Now())
	})
	if err != nil {
		return quotad.Status{}, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

func statusOf(apis []quotad.API, chans []quotad.Channel) quotad.Status {
	byName := make(map[string]quotad.API, len(apis))
	st := quotad.Status{APIs: make([]quotad.APIStatus, 0, len(apis)), Channels: make([]quotad.ChannelStatus, 0, len(chans))}
	for _, a := range apis {
		byName[a.Name] = a
		st.APIs = append(st.APIs, quotad.StatusOf(a))
	}
	for _, c := range chans {
		st.Channels = append(st.Channels, quotad.ChannelStatusOf(c, byName))
	}
	return st
}

// API returns one API's status; an unknown name wraps quotad.ErrUnknownAPI.
func (e *Engine) API(ctx context.Context, name string) (quotad.APIStatus, error) {
	var s quotad.APIStatus
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		a, err := tx.API(name)
		if err != nil {
			return err
		}
		s = quotad.StatusOf(a)
		return annotateAPIForecast(tx, a, &s, e.clock.Now())
	})
	return s, err
}

// Channel returns one channel's status; an unknown name wraps
// quotad.ErrUnknownChannel.
func (e *Engine) Channel(ctx context.Context, name string) (quotad.ChannelStatus, error) {
	var s quotad.ChannelStatus
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		c, err := tx.Channel(name)
		if err != nil {
			return err
		}
		apis := map[string]quotad.API{}
		names := slices.Clone(c.APIs)
		for _, f := range c.Fallbacks {
			names = append(names, f.Providers...)
		}
		for _, n := range names {
			n = quotad.ParseTarget(n).API // a need may name a model
			if a, err := tx.API(n); err == nil {
				apis[n] = a
			}
		}
		s = quotad.ChannelStatusOf(c, apis)
		return nil
	})
	return s, err
}

// Events returns events matching f, newest first.
func (e *Engine) Events(ctx context.Context, f quotad.EventFilter) ([]quotad.Event, error) {
	var evs []quotad.Event
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		var err error
		evs, err = tx.Events(f)
		return err
	})
	return evs, err
}

// Pending returns what the monitor needs to decide when to act: the earliest
// instant at which time alone changes state, and whether another program
// edited a channel's is_active behind quotad's back.
func (e *Engine) Pending(ctx context.Context) (due time.Time, edited bool, err error) {
	err = e.store.View(ctx, func(tx quotad.Tx) error {
		if due, err = tx.DueAt(); err != nil {
			return err
		}
		list, err := tx.ChannelsOutOfSync()
		edited = len(list) > 0
		return err
	})
	return due, edited, err
}

// Logs returns events matching f, newest first, as shown to people and
// programs.
func (e *Engine) Logs(ctx context.Context, f quotad.EventFilter) ([]quotad.EventStatus, error) {
	evs, err := e.Events(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	out := make([]quotad.EventStatus, 0, len(evs))
	for _, ev := range evs {
		out = append(out, quotad.EventStatusOf(ev))
	}
	return out, nil
}

// JobStates returns the stored record of every channel's job (the runner's
// last and next runs), from which the job views are built (package runner).
func (e *Engine) JobStates(ctx context.Context) ([]quotad.JobState, error) {
	var states []quotad.JobState
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		var err error
		states, err = tx.JobStates()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("job states: %w", err)
	}
	return states, nil
}
