// Package runner runs the channels' jobs: each active channel's command on
// its schedule, at most one run per channel at a time (a lease in the store
// keeps two daemons on one database from running it twice) and at most
// MaxConcurrent runs at once. A job is held while its channel is paused,
// while an API it needs is exhausted, and while its expected cost (learned
// from its recent runs, else its estimate) does not fit what is left of an
// API, of the channel's budgets or above a reserve for higher priorities;
// it runs at the first chance after. A run that
// was missed while the daemon was down runs once when it starts, not once
// per missed instant.
//
// Each run's output is captured (bounded: the last 64 KiB and 50 lines) and
// accounted like a reported error or success: a failing job's last lines
// are classified by the engine, so a provider's quota error in them pauses
// the channel and exhausts the API until the provider's stated time, while
// quotad's own refusal echoed by the job (its [quotad-hold ...] marker)
// changes nothing.
//
// Job processes run in a process group of their own; a timeout kills the
// whole group. Timeouts are measured on the real clock; schedules, leases
// and recorded times use the engine's clock, so tests can drive them.
package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/rule"
)

// Defaults of Options and Job.
const (
	DefaultMaxConcurrent = 4
	DefaultJobTimeout    = time.Hour
	DefaultPollInterval  = time.Second
	DefaultKillGrace     = 5 * time.Second
	DefaultAgingStep     = time.Minute
)

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	Clock         clock.Clock    // schedules and recorded times; default the engine's clock
	MaxConcurrent int            // global limit of runs at once in Run; default DefaultMaxConcurrent
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
	// AgingStep ages due jobs that wait for a free slot (MaxConcurrent):
	// each full step of waiting raises a job's priority by one level for
	// the order of starts, up to high, so a low-priority job is never
	// starved by higher ones that are always due. Default DefaultAgingStep;
	// negative turns aging off. Quota gates (reserves, budgets) still see
	// the channel's own priority.
	AgingStep time.Duration
	KillGrace time.Duration // between SIGTERM and SIGKILL of a job's process group; default 5s
	// OnRun, if set, is called after each run has been recorded.
	OnRun func(Result)
	// OnPass, if set, is called after each scheduling pass of Run; tests
	// use it to wait for the runner instead of sleeping.
	OnPass func(Pass)
	// Paced are the APIs whose windows are spread evenly over their period
	// (the config's pace: even).
	Paced []string
	// Costs is the model of what each channel's run spends; nil means a
	// new one, seeded from the store's job events when Run starts.
	Costs *Costs
	// Exec, if set, runs jobs in place of processes (tests, simulations).
	Exec Executor
	// Drain, when closed, makes Run stop starting jobs, wait for the running
	// ones to end (they are not stopped) and return nil: the daemon drains a
	// runner this way before it starts one for a reloaded config.
	Drain <-chan struct{}
	// Ready, if set, is called once Run accepts Start (the daemon says the
	// runner is active only then).
	Ready func()
}

// Executor runs one job instead of its process: it writes the job's output
// to run.Out and returns its exit status, or an error when the job could
// not start.
type Executor func(ctx context.Context, run Exec) (exitCode int, err error)

// Exec is one run handed to an Executor.
type Exec struct {
	Channel   string
	Argv      []string
	Dir       string
	Env       []string          // as a process would get it, QUOTAD_PROVIDER_* included
	Providers map[string]string // capability → provider picked at start ("" when none)
	Out       io.Writer
}

// Pass is what one scheduling pass of Run decided.
type Pass struct {
	At      time.Time
	Started []string          // channels whose jobs it started
	Held    map[string]string // due jobs it held, channel → reason
	Busy    []string          // due jobs already running (here or elsewhere) or waiting for a free slot
	// Holds are the held jobs' full holds, with kinds and times.
	Holds map[string]Hold
}

// Runner runs the jobs of channels. It is safe for concurrent use.
type Runner struct {
	e     *engine.Engine
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
	// slotWait is when each due job first found no free slot (it is
	// cleared when the job starts): the age aging counts.
	slotWait map[string]time.Time

	costs    *Costs
	seeded   bool
	paced    map[string]bool
	inflight map[string]map[string]int64 // running channel → expected cost, counted as pending

	// live is Run's context and wait group while Run runs (nil otherwise):
	// Start runs jobs under them.
	live *liveRun
}

type liveRun struct {
	ctx context.Context
	wg  *sync.WaitGroup
}

// Job is one channel's job as the runner runs it. The program that reads
// the config translates each configured job into one.
type Job struct {
	Channel string
	// Priority is the channel's configured priority: a plan shows it for a
	// channel the store does not have yet.
	Priority quotad.Priority
	Command  []string // the argv; Command[0] must not be empty
	// Dir is the working directory; a relative one is resolved against
	// Options.ConfigDir (ResolveDir).
	Dir string
	Env map[string]string // added to the daemon's environment
	// Schedule is a reset-rule-syntax schedule; "" runs the job on demand
	// only.
	Schedule string
	Timeout  time.Duration    // DefaultJobTimeout when 0
	Estimate map[string]int64 // expected units per run per API
}

// job is one channel's job, ready to run.
type job struct {
	channel  string
	cfg      Job
	dir      string
	schedule rule.Rule
	timed    bool // has a schedule
	timeout  time.Duration
}

// New returns a Runner for the given jobs, one per channel. It fails when a
// job has no command, a channel is listed twice or a schedule does not
// parse.
func New(e *engine.Engine, jobs []Job, opts Options) (*Runner, error) {
	if opts.Clock == nil {
		opts.Clock = e.Clock()
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
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
	if opts.AgingStep == 0 {
		opts.AgingStep = DefaultAgingStep
	}
	r := &Runner{
		e: e, clock: opts.Clock, opts: opts, log: opts.Logger, id: opts.ID,
		jobs: map[string]*job{}, running: map[string]bool{}, wake: make(chan struct{}, 1), holds: map[string]string{}, slotWait: map[string]time.Time{},
		costs: opts.Costs, seeded: opts.Costs != nil, paced: map[string]bool{}, inflight: map[string]map[string]int64{},
	}
	if r.costs == nil {
		r.costs = NewCosts(0)
	}
	for _, name := range opts.Paced {
		r.paced[name] = true
	}
	for _, jb := range jobs {
		if len(jb.Command) == 0 || jb.Command[0] == "" {
			return nil, fmt.Errorf("%w: channel %s: job has an empty command", quotad.ErrInvalid, jb.Channel)
		}
		if _, dup := r.jobs[jb.Channel]; dup {
			return nil, fmt.Errorf("%w: channel %s is listed twice", quotad.ErrInvalid, jb.Channel)
		}
		j := &job{channel: jb.Channel, cfg: jb, dir: ResolveDir(opts.ConfigDir, jb.Dir), timeout: jb.Timeout}
		if j.timeout <= 0 {
			j.timeout = DefaultJobTimeout
		}
		if jb.Schedule != "" {
			s, err := rule.Parse(jb.Schedule, opts.Location)
			if err != nil {
				return nil, fmt.Errorf("channel %s: job schedule: %w", jb.Channel, err)
			}
			j.schedule, j.timed = s, true
		}
		r.jobs[jb.Channel] = j
		r.order = append(r.order, jb.Channel)
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
// When Options.Drain closes, Run returns once the running jobs have ended.
func (r *Runner) Run(ctx context.Context) error {
	r.seed(ctx)
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
	r.mu.Lock()
	r.live = &liveRun{ctx: ctx, wg: &wg}
	r.mu.Unlock()
	if r.opts.Ready != nil {
		r.opts.Ready()
	}
	defer func() { // before wg.Wait: no Start adds a run after it began
		r.mu.Lock()
		r.live = nil
		r.mu.Unlock()
	}()
	for {
		wait, _ := r.pass(ctx, &wg)
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
		case <-r.opts.Drain:
			t.Stop()
			return nil
		}
	}
}

// Costs returns the runner's cost model.
func (r *Runner) Costs() *Costs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.costs
}

// seed learns costs from the store's job events, once, unless Options gave
// a model.
func (r *Runner) seed(ctx context.Context) {
	r.mu.Lock()
	done := r.seeded
	r.seeded = true
	r.mu.Unlock()
	if done {
		return
	}
	c, err := LearnCosts(ctx, r.e, r.order, 0, 0)
	if err != nil {
		r.log.Warn("runner: learning costs from history; using estimates", "err", err)
		return
	}
	r.mu.Lock()
	r.costs = c
	r.mu.Unlock()
}

// RunDue makes one scheduling pass, like one turn of Run's loop, and waits
// for the runs it started. Simulations and tests drive the runner with it
// on a fake clock.
func (r *Runner) RunDue(ctx context.Context) Pass {
	r.seed(ctx)
	var wg sync.WaitGroup
	_, p := r.pass(ctx, &wg)
	wg.Wait()
	return p
}

// poke wakes the loop without blocking.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
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

// environ returns a job's environment: the process's own, the job's env, the
// Env option's variables, and QUOTAD_CHANNEL, later entries winning.
func (r *Runner) environ(j *job) []string {
	env := os.Environ()
	keys := slices.Sorted(maps.Keys(j.cfg.Env))
	for _, k := range keys {
		env = append(env, k+"="+j.cfg.Env[k])
	}
	if r.opts.Env != nil {
		env = append(env, r.opts.Env(j.channel)...)
	}
	return append(env, "QUOTAD_CHANNEL="+j.channel)
}
