// Package monitor runs the loop that applies resets on time: it sleeps until
// the earliest next_reset or blocked_until in the store, applies everything
// due, and goes back to sleep. It also catches up at start-up on resets missed
// while down, runs a safety pass on a fixed interval, and polls the store so
// that changes made by other processes are honoured within a poll interval.
package monitor

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
)

// Options configure a Monitor. Zero values take the defaults.
type Options struct {
	SafetyTick   time.Duration // full pass at least this often; default 1h (the seed's hourly check)
	PollInterval time.Duration // how often the store is re-read for other processes' changes; default 1s
	Logger       *slog.Logger
	// OnPass, if set, is called after every pass that ran Tick, with its
	// result; tests use it to wait for the monitor instead of sleeping.
	OnPass func(engine.TickResult, error)
}

// Monitor applies time-driven state changes for an Engine.
type Monitor struct {
	e     *engine.Engine
	clock clock.Clock
	opts  Options
	log   *slog.Logger

	running  atomic.Bool
	lastPass atomic.Int64 // unix nanoseconds of the last successful Tick
}

// New returns a Monitor for e, using e's clock.
func New(e *engine.Engine, opts Options) *Monitor {
	if opts.SafetyTick <= 0 {
		opts.SafetyTick = time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Monitor{e: e, clock: e.Clock(), opts: opts, log: opts.Logger}
}

// Running reports whether Run is in its loop, past its start-up catch-up.
func (m *Monitor) Running() bool { return m.running.Load() }

// LastPass returns when the last successful pass ran (zero if none).
func (m *Monitor) LastPass() time.Time {
	n := m.lastPass.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Run catches up at once, then loops until ctx is done. It returns nil when
// ctx is cancelled; store errors are logged and retried, never fatal.
func (m *Monitor) Run(ctx context.Context) error {
	// A store that announces other processes' commits (PostgreSQL's
	// LISTEN/NOTIFY) wakes the loop at once; polling stays the fallback.
	changes := m.e.Changes() // nil, never ready, when the store has none
	lastFull := m.pass(ctx, "start-up catch-up")
	m.running.Store(true) // ready only once missed resets are applied
	defer m.running.Store(false)
	// ranAt is when a "due" pass ran without waiting, if the last one did:
	// the next read of the store checks that it did not leave state due.
	var ranAt time.Time
	ranAtOnce := false
	for {
		now := m.clock.Now()
		wait := m.opts.PollInterval
		due, edited, err := m.e.Pending(ctx)
		if ranAtOnce {
			ranAtOnce = false
			if ctx.Err() == nil && err == nil && !due.IsZero() && !due.After(ranAt) { // due again at once: don't spin
				m.sleep(ctx, m.opts.PollInterval)
				continue
			}
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			m.log.Error("monitor: reading the store", "err", err)
		case edited:
			wait = 0
		case !due.IsZero() && due.Sub(now) < wait:
			wait = max(due.Sub(now), 0)
		}
		if untilSafety := lastFull.Add(m.opts.SafetyTick).Sub(now); untilSafety < wait {
			wait = max(untilSafety, 0)
		}
		if wait > 0 {
			t := m.clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C():
			case <-changes: // another process committed: re-read the store now
				t.Stop()
				continue
			}
		}
		now = m.clock.Now()
		switch {
		case !now.Before(lastFull.Add(m.opts.SafetyTick)):
			lastFull = m.pass(ctx, "safety tick")
		case edited || (!due.IsZero() && !now.Before(due)):
			m.pass(ctx, "due")
			ranAt, ranAtOnce = now, wait == 0
		}
	}
}

func (m *Monitor) sleep(ctx context.Context, d time.Duration) {
	t := m.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}

// pass runs one Tick and returns the clock time it ran at.
func (m *Monitor) pass(ctx context.Context, why string) time.Time {
	now := m.clock.Now()
	if ctx.Err() != nil {
		return now
	}
	res, err := m.e.Tick(ctx)
	if err != nil {
		m.log.Error("monitor: pass failed", "why", why, "err", err)
	} else {
		m.lastPass.Store(m.clock.Now().UnixNano())
		if len(res.Resets)+len(res.Unblocked)+len(res.Resumed)+len(res.Reconciled)+res.Expired > 0 {
			m.log.Debug("monitor: pass", "why", why, "resets", res.Resets, "unblocked", res.Unblocked, "resumed", res.Resumed, "reconciled", res.Reconciled, "expired", res.Expired)
		}
	}
	if m.opts.OnPass != nil {
		m.opts.OnPass(res, err)
	}
	return now
}
