// Package runner runs the channels' jobs: each active channel's command on
// its schedule, at most one run per channel at a time (a lease in the store
// keeps two daemons on one database from running it twice) and at most
// MaxConcurrent runs at once. A job is held while its channel is paused,
// while an API it needs is exhausted, and while an API has fewer free units
// than the job's estimate; it runs at the first chance after. A run that
// was missed while the daemon was down runs once when it starts, not once
// per missed instant.
//
// Each run's output is captured (bounded: the last 64 KiB and 50 lines) and
// accounted like a reported error or success: a failing job's last lines
// are classified by the engine, so a provider's quota error in them pauses
// the channel and exhausts the API until the provider's stated time.
//
// Job processes run in a process group of their own; a timeout kills the
// whole group. Timeouts are measured on the real clock; schedules, leases
// and recorded times use the engine's clock, so tests can drive them.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/rule"
)

// Defaults of Options.
const (
	DefaultPollInterval = time.Second
	DefaultKillGrace    = 5 * time.Second
)

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	Clock         clock.Clock    // schedules and recorded times; default the engine's clock
	MaxConcurrent int            // global limit of runs at once in Run; default config.DefaultMaxConcurrent
	Location      *time.Location // zone of schedules that name none; default the engine's
	ID            string         // lease holder id; default NewID(): host:pid:random
	// Env returns variables added to a job's environment after the
	// daemon's own environment and the job's env (later entries win):
	// QUOTAD_DB or QUOTAD_SERVER, QUOTAD_TOKEN, QUOTAD_BIN. QUOTAD_CHANNEL
	// is always added last by the runner itself.
	Env    func(channel string) []string
	Logger *slog.Logger
	// ConfigDir is the directory of the config file: a relative job dir is
	// resolved against it, and a job without a dir runs in it. "" means the
	// current directory.
	ConfigDir    string
	PollInterval time.Duration // how often the store is re-read for others' changes; default 1s
	KillGrace    time.Duration // between SIGTERM and SIGKILL of a job's process group; default 5s
	// OnRun, if set, is called after each run has been recorded.
	OnRun func(Result)
	// OnPass, if set, is called after each scheduling pass of Run; tests
	// use it to wait for the runner instead of sleeping.
	OnPass func(Pass)
}

// Pass is what one scheduling pass of Run decided.
type Pass struct {
	At      time.Time
	Started []string          // channels whose jobs it started
	Held    map[string]string // due jobs it held, channel → reason
	Busy    []string          // due jobs already running (here or elsewhere) or waiting for a free slot
}

// Runner runs the jobs of channels. It is safe for concurrent use.
type Runner struct {
	e     *engine.Engine
	store quotad.Store
	clock clock.Clock
	opts  Options
	log   *slog.Logger
	id    string
	jobs  map[string]*job
	order []string // channel names, as configured

	mu      sync.Mutex
	running map[string]bool
	wake    chan struct{} // a run ended or an engine event may have lifted a hold

	holds map[string]string // the loop's last logged hold per channel
}

// job is one channel's job, ready to run.
type job struct {
	channel  string
	cfg      config.JobConfig
	dir      string
	schedule rule.Rule
	timed    bool // has a schedule
	timeout  time.Duration
}

// New returns a Runner for the jobs of the given channels (channels without
// a job are ignored). It fails when a job has no command or a schedule does
// not parse.
func New(e *engine.Engine, channels []config.ChannelConfig, opts Options) (*Runner, error) {
	if opts.Clock == nil {
		opts.Clock = e.Clock()
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = config.DefaultMaxConcurrent
	}
	if opts.Location == nil {
		opts.Location = e.Location()
	}
	if opts.ID == "" {
		opts.ID = NewID()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = DefaultKillGrace
	}
	r := &Runner{
		e: e, store: e.Store(), clock: opts.Clock, opts: opts, log: opts.Logger, id: opts.ID,
		jobs: map[string]*job{}, running: map[string]bool{}, wake: make(chan struct{}, 1), holds: map[string]string{},
	}
	for _, ch := range channels {
		if ch.Job == nil {
			continue
		}
		if len(ch.Job.Command) == 0 || ch.Job.Command[0] == "" {
			return nil, fmt.Errorf("%w: channel %s: job has an empty command", quotad.ErrInvalid, ch.Name)
		}
		if _, dup := r.jobs[ch.Name]; dup {
			return nil, fmt.Errorf("%w: channel %s is listed twice", quotad.ErrInvalid, ch.Name)
		}
		j := &job{channel: ch.Name, cfg: *ch.Job, dir: ResolveDir(opts.ConfigDir, ch.Job.Dir), timeout: time.Duration(ch.Job.Timeout)}
		if j.timeout <= 0 {
			j.timeout = time.Duration(config.DefaultJobTimeout)
		}
		if ch.Job.Schedule != "" {
			s, err := rule.Parse(ch.Job.Schedule, opts.Location)
			if err != nil {
				return nil, fmt.Errorf("channel %s: job schedule: %w", ch.Name, err)
			}
			j.schedule, j.timed = s, true
		}
		r.jobs[ch.Name] = j
		r.order = append(r.order, ch.Name)
	}
	return r, nil
}

// ResolveDir returns the working directory of a job: dir itself when it is
// absolute, dir joined to configDir when it is relative, configDir when dir
// is empty. An empty configDir stands for the current directory.
func ResolveDir(configDir, dir string) string {
	switch {
	case filepath.IsAbs(dir):
		return dir
	case dir == "" && configDir == "":
		return ""
	case dir == "":
		return configDir
	}
	return filepath.Join(configDir, dir)
}

// ID returns the runner's lease holder id.
func (r *Runner) ID() string { return r.id }

// Channels returns the channels that have a job, as configured.
func (r *Runner) Channels() []string { return append([]string(nil), r.order...) }

// Run runs scheduled jobs until ctx is done. Each pass reads the store,
// computes the next run of jobs that have none, and starts every due job
// that its gate lets through, highest channel priority first, up to
// MaxConcurrent at once; then it sleeps until the next job is due, a poll
// interval passes, a run ends, or the engine reports a reset or a resume.
// When ctx is done, running jobs are stopped (SIGTERM, then SIGKILL) and
// recorded as interrupted, without counting as failures; their due time is
// kept, so they run again when the daemon starts. Run returns nil then.
func (r *Runner) Run(ctx context.Context) error {
	unsubscribe := r.e.Subscribe(func(events []quotad.Event) {
		for _, ev := range events {
			switch ev.Category {
			case quotad.CategoryQuotaReset, quotad.CategoryAutoResume, quotad.CategoryResume, quotad.CategoryConfig:
				r.poke()
				return
			}
		}
	})
	defer unsubscribe()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		wait := r.pass(ctx, &wg)
		if ctx.Err() != nil {
			return nil
		}
		t := r.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		case <-r.wake:
			t.Stop()
		}
	}
}

// poke wakes the loop without blocking.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// snapshot is what a pass reads from the store.
type snapshot struct {
	chans  map[string]quotad.Channel
	apis   map[string]quotad.API
	states map[string]quotad.JobState
}

func (r *Runner) read(ctx context.Context) (snapshot, error) {
	s := snapshot{chans: map[string]quotad.Channel{}, apis: map[string]quotad.API{}, states: map[string]quotad.JobState{}}
	err := r.store.View(ctx, func(tx quotad.Tx) error {
		chans, err := tx.Channels()
		if err != nil {
			return err
		}
		apis, err := tx.APIs()
		if err != nil {
			return err
		}
		states, err := tx.JobStates()
		if err != nil {
			return err
		}
		for _, c := range chans {
			s.chans[c.Name] = c
		}
		for _, a := range apis {
			s.apis[a.Name] = a
		}
		for _, st := range states {
			s.states[st.Channel] = st
		}
		return nil
	})
	return s, err
}

// pass starts the due jobs it may and returns how long to sleep.
func (r *Runner) pass(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	wait := r.opts.PollInterval
	snap, err := r.read(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("runner: reading the store", "err", err)
		}
		return wait
	}
	now := r.clock.Now()
	p := Pass{At: now, Held: map[string]string{}}
	var due []*job
	fix := map[string]time.Time{}
	for _, name := range r.order {
		j := r.jobs[name]
		if !j.timed {
			continue
		}
		st := snap.states[name]
		next, want := st.NextRun, j.schedule.Next(now)
		// Next is monotonic: a stored next run later than Next(now) comes
		// from an older schedule (or a clock step back), and none is
		// computed on first sight: both become Next(now).
		if next.IsZero() || next.After(want) {
			next = want
			fix[name] = want
		}
		if next.After(now) {
			wait = min(wait, next.Sub(now))
			continue
		}
		if r.isRunning(name) || (st.Running(now) && st.Holder != r.id && !deadHolder(st.Holder)) {
			p.Busy = append(p.Busy, name)
			continue
		}
		ch, ok := snap.chans[name]
		if !ok {
			r.noteHold(name, "the channel is not in the store")
			p.Held[name] = "the channel is not in the store"
			continue
		}
		if h := Gate(ch, snap.apis, j.cfg.Estimate, now); h.Held() {
			r.noteHold(name, h.Reason)
			p.Held[name] = h.Reason
			continue
		}
		due = append(due, j)
	}
	if len(fix) > 0 {
		r.fixNextRuns(ctx, fix)
	}
	sort.SliceStable(due, func(a, b int) bool {
		pa, pb := snap.chans[due[a].channel].Priority.Rank(), snap.chans[due[b].channel].Priority.Rank()
		if pa != pb {
			return pa > pb
		}
		return snap.states[due[a].channel].NextRun.Before(snap.states[due[b].channel].NextRun)
	})
	for _, j := range due {
		if !r.claim(j.channel, true) {
			p.Busy = append(p.Busy, j.channel)
			continue
		}
		st, err := r.acquire(ctx, j, r.dueCheck(j))
		if err != nil {
			r.unclaim(j.channel)
			switch {
			case errors.Is(err, ErrBusy) || errors.Is(err, errNotDue):
				p.Busy = append(p.Busy, j.channel)
			case errors.As(err, new(holdError)):
				p.Held[j.channel] = err.Error()
			case ctx.Err() == nil:
				r.log.Error("runner: taking the job's lease", "channel", j.channel, "err", err)
			}
			continue
		}
		r.noteHold(j.channel, "")
		p.Started = append(p.Started, j.channel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.done(j.channel)
			r.runJob(ctx, j, st, "schedule", nil)
		}()
	}
	if r.opts.OnPass != nil {
		r.opts.OnPass(p)
	}
	return max(wait, 0)
}

// holdError is a gate refusal found inside the lease transaction.
type holdError struct{ reason string }

func (h holdError) Error() string { return h.reason }

// dueCheck re-checks, inside the lease transaction, that a scheduled run is
// still due and that its gate still lets it through: another runner may have
// made the run, or the channel may have been paused, since the pass read
// the store.
func (r *Runner) dueCheck(j *job) func(tx quotad.Tx, s quotad.JobState, now time.Time) error {
	return func(tx quotad.Tx, s quotad.JobState, now time.Time) error {
		if !s.NextRun.IsZero() && s.NextRun.After(now) {
			return errNotDue
		}
		ch, err := tx.Channel(j.channel)
		if err != nil {
			return err
		}
		list, err := tx.APIs()
		if err != nil {
			return err
		}
		apis := make(map[string]quotad.API, len(list))
		for _, a := range list {
			apis[a.Name] = a
		}
		if h := Gate(ch, apis, j.cfg.Estimate, now); h.Held() {
			return holdError{h.Reason}
		}
		return nil
	}
}

// fixNextRuns stores computed next runs, each only if the stored one is
// still what the pass saw (zero or from another schedule).
func (r *Runner) fixNextRuns(ctx context.Context, fix map[string]time.Time) {
	err := r.store.Update(ctx, func(tx quotad.Tx) error {
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

// claim marks a channel's job as running in this runner; with limit, only
// while fewer than MaxConcurrent run.
func (r *Runner) claim(channel string, limit bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[channel] || (limit && len(r.running) >= r.opts.MaxConcurrent) {
		return false
	}
	r.running[channel] = true
	return true
}

// done ends a claim and wakes the loop: a slot is free.
func (r *Runner) done(channel string) {
	r.unclaim(channel)
	r.poke()
}

func (r *Runner) unclaim(channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, channel)
}

func (r *Runner) isRunning(channel string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[channel]
}

// noteHold logs when a job's hold begins, changes or ends ("" = none).
func (r *Runner) noteHold(channel, reason string) {
	r.mu.Lock()
	prev := r.holds[channel]
	if reason == "" {
		delete(r.holds, channel)
	} else {
		r.holds[channel] = reason
	}
	r.mu.Unlock()
	switch {
	case reason == prev:
	case reason == "":
		r.log.Info("runner: job no longer held", "channel", channel)
	default:
		r.log.Info("runner: job due but held", "channel", channel, "reason", reason)
	}
}

// environ returns a job's environment: the process's own, the job's env, the
// Env option's variables, and QUOTAD_CHANNEL, later entries winning.
func (r *Runner) environ(j *job) []string {
	env := os.Environ()
	keys := make([]string, 0, len(j.cfg.Env))
	for k := range j.cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+j.cfg.Env[k])
	}
	if r.opts.Env != nil {
		env = append(env, r.opts.Env(j.channel)...)
	}
	return append(env, "QUOTAD_CHANNEL="+j.channel)
}
