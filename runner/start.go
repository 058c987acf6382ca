package runner

import (
	"errors"
	"time"
)

// ErrNotRunning reports a Start while Run is not running.
var ErrNotRunning = errors.New("the job runner is not running")

// Start starts a channel's job now, whatever its schedule, and returns once
// it has started — the run goes on in the background under Run, which stops
// it when its context ends (recorded as interrupted, like a scheduled run).
// The run is accounted and recorded like a scheduled one, and reported to
// Options.OnRun. Start refuses as RunOnce does — a *PausedError unless
// force, a *BusyError, an error wrapping quotad.ErrUnknownChannel for a
// channel without a job — and with ErrNotRunning outside Run. It returns
// the time the run started. Like RunOnce it does not count against
// MaxConcurrent: a person asked for it.
func (r *Runner) Start(channel string, force bool) (time.Time, error) {
	r.mu.Lock()
	live := r.live
	if live != nil {
		live.wg.Add(1) // under mu: Run's wg.Wait has not begun
	}
	r.mu.Unlock()
	if live == nil {
		return time.Time{}, ErrNotRunning
	}
	j, st, err := r.begin(live.ctx, channel, force)
	if err != nil {
		live.wg.Done()
		return time.Time{}, err
	}
	go func() {
		defer live.wg.Done()
		r.runJob(live.ctx, j, st, trigger(force), nil)
	}()
	return st.LastStart, nil
}
