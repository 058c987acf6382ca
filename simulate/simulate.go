// Package simulate lives through days or months of a configuration's
// channels on a virtual clock, in well under a minute, with quotad's own
// parts making every decision: the engine (metering, exhaustion, pauses,
// resets), the monitor's due pass (engine.Tick, called at every due
// instant as the monitor does), the runner's decisions (gate, costs,
// reserves, budgets, pacing, priorities, fallbacks, through
// runner.RunDue) and the metering proxy (header adoption and refusal
// classification), against the in-process fake providers of
// internal/fakeprovider. Jobs are described by what they call (a job's
// simulate key) instead of being run. A change to how quotad decides
// shows in the simulation, because nothing of it is re-implemented here.
//
// The same month under the seed's rules (hourly check, midnight reset,
// keyword-only detection, resume of every paused channel) is Baseline.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
	"github.com/quotad/quotad/proxy"
	"github.com/quotad/quotad/runner"
	"github.com/quotad/quotad/store/sqlite"
)

// Defaults of Options.
const (
	DefaultDays = 30
	DefaultStep = 5 * time.Minute
	// InterventionAfter is how long a pause may keep a channel off while
	// its providers would serve it before a person watching would step in.
	InterventionAfter = time.Hour
)

// ErrNoJobs is returned for a configuration without a simulated job.
var ErrNoJobs = errors.New("no channel has a job with a simulate key")

// Options configure a simulation. Zero values take the defaults.
type Options struct {
	Days  int       // default 30
	Seed  int64     // draws of failures, provider errors and outages
	Start time.Time // default midnight of 1 March 2026 in the config's zone
	// Step is the longest virtual time between two passes; passes also
	// run at every instant the engine has due (resets, provider blocks).
	// Default 5m.
	Step time.Duration
	// ErrorRate is the probability that a provider answers a call with a
	// 500; OutageRate the probability that a provider is down for an hour.
	ErrorRate, OutageRate float64
	// Baseline also lives through the same month under the seed's rules.
	Baseline bool
	// Copies runs this many copies of each simulated channel (named
	// NAME-2, NAME-3, …): how many channels the quotas carry. Default 1.
	Copies int
	// Dir holds the temporary store; default the system's temp dir.
	Dir string
}

func (o *Options) defaults(cfg config.Config) {
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, cfg.Location())
	}
}

// Run simulates cfg's channels that have a simulated job for opts.Days
// under quotad's rules (and, with opts.Baseline, under the seed's too) and
// returns the report.
func Run(ctx context.Context, cfg config.Config, opts Options) (*Report, error) {
	opts.defaults(cfg)
	cfg = simConfig(cfg, max(opts.Copies, 1))
	if len(cfg.Channels) == 0 {
		return nil, ErrNoJobs
	}
	rep, err := runQuotad(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if opts.Baseline {
		rep.Baseline = runSeed(cfg, opts)
	}
	return rep, nil
}

// simConfig keeps the channels with a simulated job, gives them a command
// (the runner needs one; the simulation never runs it) and names each
// API's provider when the API is called like one (groq, youtube, …).
func simConfig(cfg config.Config, copies int) config.Config {
	var chans []config.ChannelConfig
	for _, ch := range cfg.Channels {
		if ch.Job == nil || ch.Job.Simulate == nil {
			continue
		}
		j := *ch.Job
		if len(j.Command) == 0 {
			j.Command = []string{"simulate"}
		}
		ch.Job = &j
		for i := range copies {
			c := ch
			if i > 0 {
				c.Name = fmt.Sprintf("%s-%d", ch.Name, i+1)
			}
			chans = append(chans, c)
		}
	}
	cfg.Channels = chans
	apis := slices.Clone(cfg.APIs)
	for i, a := range apis {
		if _, known := upstream[a.Name]; a.Provider == "" && known {
			apis[i].Provider = a.Name
		}
		apis[i].Upstream = "" // the profile's own: the fakes answer there
		apis[i].Listen = ""
	}
	cfg.APIs = apis
	return cfg
}

// sim is one quotad run: the daemon's parts on a virtual clock.
type sim struct {
	cfg   config.Config
	opts  Options
	clk   *clock.Fake
	e     *engine.Engine
	px    *proxy.Proxy
	r     *runner.Runner
	world *world
	rec   *recorder
	specs map[string]*config.SimulateConfig
	// passDone is closed when the runner's pass has decided everything: a
	// run waits for it, so a run never ends (freeing the one slot) while
	// the pass still looks at other due jobs, whatever the goroutines' pace.
	passDone chan struct{}
	paused   map[string]string // channel → pause reasons, as last read
}

// runQuotad lives through the month with quotad's engine, proxy, monitor
// pass and runner on a temporary SQLite store.
func runQuotad(ctx context.Context, cfg config.Config, opts Options) (*Report, error) {
	dir, err := os.MkdirTemp(opts.Dir, "quotad-simulate")
	if err != nil {
		return nil, fmt.Errorf("simulate: temporary store: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "sim.db"))
	if err != nil {
		return nil, fmt.Errorf("simulate: open store: %w", err)
	}
	defer st.Close()
	s := &sim{cfg: cfg, opts: opts, clk: clock.NewFake(opts.Start), specs: map[string]*config.SimulateConfig{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.e = engine.New(st, engine.Options{Clock: s.clk, Location: cfg.Location(), ErrorThreshold: cfg.ErrorThreshold, Logger: quiet, Thresholds: []float64{}})
	defer s.e.Close()
	apis, chans := cfg.Domain()
	if _, err := s.e.Configure(ctx, apis, chans); err != nil {
		return nil, fmt.Errorf("simulate: configure: %w", err)
	}
	s.world = newWorld(s.clk.Now, opts.Seed, opts.ErrorRate, opts.OutageRate)
	profiles, err := provider.Build(cfg.ProviderSpecs())
	if err != nil {
		return nil, fmt.Errorf("simulate: providers: %w", err)
	}
	if s.px, err = proxy.New(s.e, profiles, proxy.Options{Transport: s.world, Logger: quiet}); err != nil {
		return nil, fmt.Errorf("simulate: proxy: %w", err)
	}
	defer s.px.Close(context.Background())
	for _, ch := range cfg.Channels {
		s.specs[ch.Name] = ch.Job.Simulate
	}
	// One run at a time: each lives through its duration on the virtual
	// clock, and the calls reach the providers in the same order for the
	// same seed.
	var jobs []runner.Job
	for _, ch := range cfg.Channels { // as cmd/quotad's runnerJobs translates them
		j := ch.Job
		jobs = append(jobs, runner.Job{Channel: ch.Name, Priority: ch.Priority, Command: j.Command, Dir: j.Dir, Env: j.Env,
			Schedule: j.Schedule, Timeout: time.Duration(j.Timeout), Estimate: j.Estimate})
	}
	s.r, err = runner.New(s.e, jobs, runner.Options{Clock: s.clk, MaxConcurrent: 1, Location: cfg.Location(),
		Logger: quiet, Paced: cfg.PacedAPIs(), Exec: s.exec, ID: "simulate", OnPass: func(runner.Pass) { close(s.passDone) }})
	if err != nil {
		return nil, fmt.Errorf("simulate: runner: %w", err)
	}
	s.rec = newRecorder(cfg, opts, "quotad", s.world)
	end := opts.Start.AddDate(0, 0, opts.Days)
	for now := opts.Start; now.Before(end); {
		s.clk.Set(now)
		if err := s.pass(ctx, now); err != nil {
			return nil, err
		}
		// Runs take virtual time: the next pass is at the next step after
		// the clock, or at the first instant the engine has due, if sooner.
		cur := s.clk.Now()
		next := opts.Start.Add((cur.Sub(opts.Start)/opts.Step + 1) * opts.Step)
		if due, _, err := s.e.Pending(ctx); err == nil && !due.IsZero() && due.Before(next) {
			next = due
			if due.Before(cur) {
				next = cur
			}
			if !next.After(now) {
				next = now.Add(time.Second)
			}
		}
		now = next
	}
	return s.rec.report(end), nil
}

// pass is one instant: the monitor's due pass (engine.Tick, as the
// monitor runs it), the runner's scheduling passes until none starts a
// run, and the recording of what the state is.
func (s *sim) pass(ctx context.Context, now time.Time) error {
	tick, err := s.e.Tick(ctx)
	if err != nil {
		return fmt.Errorf("simulate: %s: due pass: %w", now, err)
	}
	var holds map[string]runner.Hold
	changed := s.paused == nil || len(tick.Resumed)+len(tick.Unblocked)+len(tick.Reconciled)+tick.Expired > 0
	for {
		s.passDone = make(chan struct{})
		p := s.r.RunDue(ctx)
		holds = p.Holds
		if len(p.Started) == 0 {
			break
		}
		changed = true
	}
	held := map[string]string{}
	for ch, h := range holds {
		held[ch] = h.Kind
	}
	if !changed { // no run and no resume: the pauses are as last read
		s.rec.sample(now, s.paused, held, nil)
		return nil
	}
	// The state as the runner reads it (cheaper than a full status).
	snap, err := runner.ReadSnapshot(ctx, s.e)
	if err != nil {
		return fmt.Errorf("simulate: %s: reading the store: %w", now, err)
	}
	paused := map[string]string{}
	for name, ch := range snap.Channels {
		if !ch.Active() {
			var rs []string
			for _, p := range ch.Pauses {
				rs = append(rs, p.Reason.String())
			}
			paused[name] = strings.Join(rs, ",")
		}
	}
	s.paused = paused
	s.rec.sample(now, paused, held, quotadOverspent(snap.APIs))
	return nil
}

// quotadOverspent returns quotad's windows used beyond their limits.
func quotadOverspent(apis map[string]quotad.API) []string {
	var out []string
	for _, name := range sortedKeys(apis) {
		for _, w := range apis[name].Windows {
			if w.Used > w.Limit {
				out = append(out, fmt.Sprintf("%s/%s %d of %d", name, w.Key(), w.Used, w.Limit))
			}
		}
	}
	return out
}

// exec runs one simulated job: its calls in order through quotad's proxy,
// stopping at the first refusal, whose text it prints as a job would;
// then, with the job's fail rate, a failure that is not quota.
func (s *sim) exec(ctx context.Context, run runner.Exec) (int, error) {
	<-s.passDone
	spec := s.specs[run.Channel]
	now := s.clk.Now()
	s.rec.started(run.Channel, now)
	calls := expand(spec.Calls)
	// The calls are spread over the run's duration, which the clock lives
	// through: the runner records the run's real length.
	defer s.clk.Set(now.Add(time.Duration(spec.Duration)))
	for i, c := range calls {
		s.clk.Set(now.Add(time.Duration(spec.Duration) * time.Duration(i) / time.Duration(len(calls))))
		if p := run.Providers[capabilityOf(s.cfg, run.Channel, c.API)]; p != "" {
			c.API = p // the runner picked a fallback provider for the need
		}
		status, text := s.call(ctx, run.Channel, c)
		if status >= 300 {
			fmt.Fprintln(run.Out, text)
			s.rec.ended(run.Channel, now, false)
			return 1, nil
		}
	}
	if spec.FailRate > 0 && draw(s.opts.Seed, "fail", run.Channel, now.Unix()) < spec.FailRate {
		fmt.Fprintln(run.Out, "Error: ffmpeg exited with status 1 while rendering the video")
		s.rec.ended(run.Channel, now, false)
		return 1, nil
	}
	s.rec.ended(run.Channel, now, true)
	return 0, nil
}

// call is the one boundary between a simulated call and quotad: the call
// goes through the metering proxy's handler in memory, as a job's SDK
// pointed at quotad sends it, so metering, header adoption and refusals
// are the daemon's own. It returns the status and the text a job prints
// for a refusal.
func (s *sim) call(ctx context.Context, channel string, c config.SimCall) (int, string) {
	req, err := request(ctx, "http://127.0.0.1/proxy/"+c.API, c, providerOf(s.cfg, c.API))
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	req.Host = "127.0.0.1"
	req.Header.Set(proxy.HeaderChannel, channel)
	rec := httptest.NewRecorder()
	s.px.ServeHTTP(rec, req)
	if err := s.px.Wait(ctx); err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	return rec.Code, refusalText(rec.Code, rec.Body.String(), upstream[providerOf(s.cfg, c.API)])
}

// refusalText is what a job prints for a refused call: the status and
// body, as the providers' Python SDKs print them.
func refusalText(status int, body, url string) string {
	body = strings.TrimSpace(body)
	if body == "" {
		body = http.StatusText(status)
	}
	return fmt.Sprintf("Error code: %d - %s for url: %s", status, oneLine(body, 2000), url)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// expand repeats each call Count times (at least once).
func expand(calls []config.SimCall) []config.SimCall {
	var out []config.SimCall
	for _, c := range calls {
		for range max(c.Count, 1) {
			out = append(out, c)
		}
	}
	return out
}

// capabilityOf returns the fallback need of a channel that api is a
// provider of ("" when none).
func capabilityOf(cfg config.Config, channel, api string) string {
	ch, _ := cfg.Channel(channel)
	for _, f := range ch.Fallbacks {
		if slices.Contains(f.Providers, api) {
			return f.Name
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
