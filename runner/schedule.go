package runner

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// Snapshot is what the scheduler decides on: the store's channels, APIs
// and job records, by name.
type Snapshot struct {
	Channels map[string]quotad.Channel
	APIs     map[string]quotad.API
	States   map[string]quotad.JobState
}

// apisByName reads every API, by name.
func apisByName(tx quotad.ReadTx) (map[string]quotad.API, error) {
	list, err := tx.APIs()
	if err != nil {
		return nil, err
	}
	apis := make(map[string]quotad.API, len(list))
	for _, a := range list {
		apis[a.Name] = a
	}
	return apis, nil
}

// ReadSnapshot reads a Snapshot of st in one read transaction.
func ReadSnapshot(ctx context.Context, st quotad.Reader) (Snapshot, error) {
	s := Snapshot{Channels: map[string]quotad.Channel{}, APIs: map[string]quotad.API{}, States: map[string]quotad.JobState{}}
	err := st.Read(ctx, func(tx quotad.ReadTx) error {
		chans, err := tx.Channels()
		if err != nil {
			return err
		}
		if s.APIs, err = apisByName(tx); err != nil {
			return err
		}
		states, err := tx.JobStates()
		if err != nil {
			return err
		}
		for _, c := range chans {
			s.Channels[c.Name] = c
		}
		for _, js := range states {
			s.States[js.Channel] = js
		}
		return nil
	})
	return s, err
}

// pass starts the due jobs it may and returns how long to sleep and what
// it decided.
//
// Due jobs are considered highest channel priority first, then longest
// waiting first (earliest due time); a job that waits for a free slot ages
// (agedRank), so lower priorities are not starved. Each is started only when its expected
// cost (learned, else the estimate) fits what is left of every API after
// the runs already started or running, the reserves and the pacing of paced
// APIs (Decide), and the channel's budgets and fallback providers as the
// engine would admit the spends (engine.CheckCost); a held job does not stop
// lower ones that fit.
func (r *Runner) pass(ctx context.Context, wg *sync.WaitGroup) (time.Duration, Pass) {
	wait := r.opts.PollInterval
	now := r.clock.Now()
	p := Pass{At: now, Held: map[string]string{}, Holds: map[string]Hold{}}
	snap, err := ReadSnapshot(ctx, r.e)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("runner: reading the store", "err", err)
		}
		return wait, p
	}
	type cand struct {
		j    *job
		next time.Time
		cost map[string]int64
	}
	var due []cand
	fix := map[string]time.Time{}
	costs := r.Costs()
	for _, name := range r.order {
		j := r.jobs[name]
		if !j.timed {
			continue
		}
		st := snap.States[name]
		next := nextDue(st.NextRun, j.schedule, now)
		if !next.Equal(st.NextRun) { // stored under an older schedule, or never: store it
			fix[name] = next
		}
		if next.After(now) {
			wait = min(wait, next.Sub(now))
			continue
		}
		if r.isRunning(name) || (st.Running(now) && st.Holder != r.id) {
			p.Busy = append(p.Busy, name)
			continue
		}
		if _, ok := snap.Channels[name]; !ok {
			r.noteHold(name, "the channel is not in the store")
			p.Held[name] = "the channel is not in the store"
			p.Holds[name] = Hold{Reason: p.Held[name], Kind: HoldConfig}
			continue
		}
		cost, learned := costs.Cost(name, j.cfg.Estimate)
		if learned {
			cost = NeedCosts(snap.Channels[name], cost)
		}
		due = append(due, cand{j, next, cost})
	}
	if len(fix) > 0 {
		r.fixNextRuns(ctx, fix)
	}
	sort.SliceStable(due, func(a, b int) bool {
		pa, pb := r.agedRank(snap.Channels[due[a].j.channel], now), r.agedRank(snap.Channels[due[b].j.channel], now)
		if pa != pb {
			return pa > pb
		}
		return due[a].next.Before(due[b].next)
	})
	pending := r.pending()
	for _, c := range due {
		j := c.j
		h := Decide(snap.Channels[j.channel], withPending(snap.APIs, pending), c.cost, r.paced, now)
		if !h.Held() {
			h = r.checkCost(ctx, j.channel, engine.Expected{Cost: c.cost, Pending: pending, APIs: snap.APIs}, now)
		}
		if h.Held() {
			r.noteHold(j.channel, h.Reason)
			p.Held[j.channel], p.Holds[j.channel] = h.Reason, h
			if !h.Until.IsZero() && h.Until.After(now) {
				wait = min(wait, h.Until.Sub(now))
			}
			continue
		}
		if !r.claim(j.channel, true) {
			p.Busy = append(p.Busy, j.channel)
			r.waitSlot(j.channel, now)
			continue
		}
		st, err := r.acquire(ctx, j, r.dueCheck(j, c.cost))
		if err != nil {
			r.unclaim(j.channel)
			switch {
			case errors.Is(err, ErrBusy) || errors.Is(err, errNotDue):
				p.Busy = append(p.Busy, j.channel)
			case errors.As(err, new(holdError)):
				p.Held[j.channel] = err.Error()
				p.Holds[j.channel] = err.(holdError).hold
			case ctx.Err() == nil:
				r.log.Error("runner: taking the job's lease", "channel", j.channel, "err", err)
			}
			continue
		}
		r.setInflight(j.channel, c.cost)
		r.waitSlot(j.channel, time.Time{})
		for api, u := range c.cost {
			pending[api] += u
		}
		r.noteHold(j.channel, "")
		p.Started = append(p.Started, j.channel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runJob(ctx, j, st, "schedule", nil)
		}()
	}
	if r.opts.OnPass != nil {
		r.opts.OnPass(p)
	}
	return max(wait, 0), p
}

// pending returns the expected costs of the runs in flight, per API.
func (r *Runner) pending() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int64{}
	for _, cost := range r.inflight {
		for api, u := range cost {
			out[api] += u
		}
	}
	return out
}

// pendingOthers is pending without the channel's own run.
func (r *Runner) pendingOthers(channel string) map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int64{}
	for ch, cost := range r.inflight {
		if ch == channel {
			continue
		}
		for api, u := range cost {
			out[api] += u
		}
	}
	return out
}

func (r *Runner) setInflight(channel string, cost map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cost == nil {
		delete(r.inflight, channel)
		return
	}
	r.inflight[channel] = cost
}

// holdError is a gate refusal found inside the lease transaction.
type holdError struct{ hold Hold }

func (h holdError) Error() string { return h.hold.Reason }

// dueCheck re-checks, inside the lease transaction, that a scheduled run is
// still due and that Decide still lets it through: another runner may have
// made the run, or the channel may have been paused, since the pass read
// the store.
func (r *Runner) dueCheck(j *job, cost map[string]int64) func(tx quotad.ReadTx, s quotad.JobState, now time.Time) error {
	return func(tx quotad.ReadTx, s quotad.JobState, now time.Time) error {
		if !s.NextRun.IsZero() && s.NextRun.After(now) {
			return errNotDue
		}
		ch, err := tx.Channel(j.channel)
		if err != nil {
			return err
		}
		apis, err := apisByName(tx)
		if err != nil {
			return err
		}
		if h := Decide(ch, apis, cost, r.paced, now); h.Held() {
			return holdError{h}
		}
		return nil
	}
}

// fixNextRuns stores computed next runs, each only if the stored one is
// still what the pass saw (zero or from another schedule).
func (r *Runner) fixNextRuns(ctx context.Context, fix map[string]time.Time) {
	err := r.e.UpdateJobs(ctx, func(tx quotad.JobTx) error {
		for name, next := range fix {
			s, err := tx.JobState(name)
			if err != nil {
				return err
			}
			if !s.NextRun.IsZero() && !s.NextRun.After(next) {
				continue
			}
			s.Channel, s.NextRun = name, next
			if err := tx.SaveJobState(s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		r.log.Error("runner: storing next run times", "err", err)
	}
}

// noteHold logs when a job's hold begins, changes or ends ("" = none). A
// hold whose reason differs only in its figures (a paced allowance growing
// each second, units free changing) is the same hold: it is logged once.
func (r *Runner) noteHold(channel, reason string) {
	key := holdKey(reason)
	r.mu.Lock()
	prev := r.holds[channel]
	if reason == "" {
		delete(r.holds, channel)
	} else {
		r.holds[channel] = key
	}
	r.mu.Unlock()
	switch {
	case key == prev:
	case reason == "":
		r.log.Info("runner: job no longer held", "channel", channel)
	default:
		r.log.Info("runner: job due but held", "channel", channel, "reason", reason)
	}
}

// checkCost holds a run whose cost the engine would refuse (a budget, a
// reserve, a window; for a fallback need, every provider): the job would
// start only to be refused.
func (r *Runner) checkCost(ctx context.Context, channel string, x engine.Expected, now time.Time) Hold {
	h, err := CostHold(ctx, r.e, channel, x, now)
	if err != nil && ctx.Err() == nil {
		r.log.Warn("runner: checking a run's cost", "channel", channel, "err", err)
	}
	return h
}

// CostHold is the hold of a run of a channel expected to spend x that the
// engine would refuse (engine.CheckCost), as a Hold of kind HoldBudget,
// HoldReserve or HoldInsufficient; the zero Hold when it fits. An error
// reading the store is returned with the zero Hold.
func CostHold(ctx context.Context, e *engine.Engine, channel string, x engine.Expected, now time.Time) (Hold, error) {
	if len(x.Cost) == 0 {
		return Hold{}, nil
	}
	err := e.CheckCost(ctx, channel, x)
	var ee *quotad.ExhaustedError
	switch {
	case err == nil:
		return Hold{}, nil
	case !errors.As(err, &ee):
		return Hold{}, err
	}
	kind := HoldInsufficient
	switch ee.HoldKind() {
	case quotad.HoldBudget:
		kind = HoldBudget
	case quotad.HoldReserve:
		kind = HoldReserve
	}
	return Hold{Reason: strings.TrimSuffix(ee.Error(), " "+ee.Marker()), Until: notBefore(ee.Until, now), Kind: kind}, nil
}

// holdKey is a hold's reason with its numbers and times left out.
func holdKey(reason string) string {
	var b strings.Builder
	digits := false
	for _, c := range reason {
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(c)
	}
	return b.String()
}

// waitSlot notes that a due job found no free slot at now (the first time
// counts), or, with the zero time, that it started.
func (r *Runner) waitSlot(channel string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.IsZero() {
		delete(r.slotWait, channel)
	} else if _, ok := r.slotWait[channel]; !ok {
		r.slotWait[channel] = now
	}
}

// agedRank is the rank a due job of ch is ordered by: its priority's, plus
// one per full AgingStep it has waited for a free slot, at most high's.
func (r *Runner) agedRank(ch quotad.Channel, now time.Time) int {
	rank := ch.Priority.Rank()
	r.mu.Lock()
	since, ok := r.slotWait[ch.Name]
	r.mu.Unlock()
	if !ok || r.opts.AgingStep <= 0 {
		return rank
	}
	return min(max(rank, rank+int(now.Sub(since)/r.opts.AgingStep)), quotad.PriorityHigh.Rank())
}
