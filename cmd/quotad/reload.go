package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/internal/sdnotify"
)

// reloadHook is a part of the daemon that follows a reloaded config: when
// the part of the config it reads changes, it is stopped and run again with
// the new config. run may return nil at once when it has nothing to do (no
// jobs, no notifiers); a reload that gives it work starts it.
type reloadHook struct {
	name string
	run  func(ctx context.Context, d *daemon) error
	// changes describes what differs between two configs for this part;
	// none means it keeps running untouched.
	changes func(old, new config.Config) []string
	// drain: let the running work finish (d.drain is closed) instead of
	// cancelling it; the job runner must not interrupt a pipeline's run.
	drain bool
}

// liveOptions are the engine options a reload changes in the running
// engine: the notifications queued for events.
type liveOptions struct {
	outbox atomic.Pointer[func([]quotad.Event) []quotad.Notification]
}

// install stores o's reloadable options and returns o with functions that
// follow the stored ones.
func (l *liveOptions) install(o engine.Options) engine.Options {
	l.set(o)
	o.Outbox = func(evs []quotad.Event) []quotad.Notification {
		if f := *l.outbox.Load(); f != nil {
			return f(evs)
		}
		return nil
	}
	return o
}

func (l *liveOptions) set(o engine.Options) {
	l.outbox.Store(&o.Outbox)
}

// reloader reloads the config on SIGHUP and hands it to the reload hooks.
type reloader struct {
	g    *globals
	d    *daemon // as started: its cfg is what the restart-only settings came from
	live *liveOptions
	hup  chan os.Signal
	// sock is $NOTIFY_SOCKET as serve found it; the variable is removed
	// from the environment so that jobs do not inherit it.
	sock string

	mu    sync.Mutex // serialises reloads
	cur   config.Config
	hooks []reloadHook
	mail  map[string]chan config.Config // per reload hook: the newest config it has not taken
}

// catchHangup returns a channel that receives SIGHUP from now on (and so
// keeps the signal from killing the process).
func catchHangup() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// newReloader returns the reloader of d and its reloadable parts; hup
// delivers the reload signals.
func newReloader(g *globals, d *daemon, live *liveOptions, hup chan os.Signal, hooks []reloadHook) *reloader {
	r := &reloader{g: g, d: d, live: live, hup: hup, cur: d.cfg, hooks: hooks, mail: map[string]chan config.Config{},
		sock: os.Getenv(sdnotify.EnvSocket)}
	os.Unsetenv(sdnotify.EnvSocket)
	for _, h := range hooks {
		r.mail[h.name] = make(chan config.Config, 1)
	}
	return r
}

// run tells systemd the daemon is ready once ready is closed, reloads on
// every SIGHUP, and says STOPPING when ctx is done.
func (r *reloader) run(ctx context.Context, ready <-chan struct{}) error {
	defer r.notify(sdnotify.Stopping)
	select {
	case <-ready:
		r.notify(sdnotify.Ready + "\nSTATUS=" + r.serving())
	case <-ctx.Done():
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.hup:
			r.notify(sdnotify.ReloadingNow())
			status := r.reload(ctx)
			r.notify(sdnotify.Ready + "\nSTATUS=" + r.serving() + "; " + oneLine(status, 200))
		}
	}
}

// serving is the status systemctl shows for the daemon.
func (r *reloader) serving() string {
	s := "Serving"
	if r.d.ln != nil {
		s += " http://" + r.d.ln.Addr().String()
	}
	return s
}

// notify sends state to systemd when it asked for notifications; a failure
// is logged, never fatal.
func (r *reloader) notify(state string) {
	if r.sock == "" {
		return
	}
	if err := sdnotify.SendTo(r.sock, state); err != nil {
		r.d.log.Warn("systemd notification failed", "state", state, "err", err)
	}
}

// reload reads the config again and applies it, printing what changed, and
// returns a status line for systemd; a config that cannot be read or
// applied changes nothing.
func (r *reloader) reload(ctx context.Context) (status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.d.out
	path, changes, restart, err := r.apply(ctx)
	if err != nil {
		r.d.log.Error("config reload refused; the running config stays in force", "err", err)
		fmt.Fprintf(out, "[ERROR] Config reload refused, the running config stays in force: %v\n", err)
		return "config reload refused: " + err.Error()
	}
	src := path
	if src == "" {
		src = "built-in defaults"
	}
	summary := "no changes"
	if len(changes) > 0 {
		summary = strings.Join(changes, "; ")
	}
	r.d.log.Debug("config reloaded", "config", src, "changes", summary)
	fmt.Fprintf(out, "[OK] Config reloaded from %s: %s\n", src, summary)
	if len(restart) > 0 {
		r.d.log.Debug("config changes that take effect only after a restart", "changes", strings.Join(restart, "; "))
		fmt.Fprintf(out, "[WARNING] Needs a restart of quotad serve to take effect: %s\n", strings.Join(restart, "; "))
		return "config reloaded; needs a restart: " + strings.Join(restart, "; ")
	}
	return "config reloaded: " + summary
}

// apply loads the config, checks what the running parts would refuse,
// applies it to the store and the engine, and hands it to the reload hooks.
func (r *reloader) apply(ctx context.Context) (path string, changes, restart []string, err error) {
	cfg, path, err := r.load()
	if err != nil {
		return path, nil, nil, err
	}
	if err := checkParts(cfg, r.d.engine, r.d.flags); err != nil {
		return path, nil, nil, err
	}
	apis, chans := cfg.Domain()
	res, err := r.d.engine.Configure(ctx, apis, chans)
	if err != nil {
		return path, nil, nil, err
	}
	r.live.set(r.g.engineOptions(cfg))
	r.d.views.SetJobs(runnerJobs(cfg.Channels), cfg.Location())
	old := r.cur
	r.cur = cfg
	changes = append(changes, res.Notes...)
	for _, h := range r.hooks {
		if c := h.changes(old, cfg); len(c) > 0 {
			changes = append(changes, c...)
			post(r.mail[h.name], cfg)
		}
	}
	return path, changes, r.restartOnly(cfg), nil
}

// load reads the file the daemon started with (a file that has gone is an
// error, never a reason to fall back to the built-in defaults); a daemon
// started on the defaults looks for a config as at start.
func (r *reloader) load() (config.Config, string, error) {
	if r.d.cfgPath == "" {
		return r.g.loadConfig()
	}
	cfg, err := config.Load(r.d.cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, r.d.cfgPath, fmt.Errorf("config file %s does not exist", r.d.cfgPath)
	}
	return cfg, r.d.cfgPath, err
}

// post leaves c in a mailbox of capacity 1, replacing what it held.
func post(mail chan config.Config, c config.Config) {
	for {
		select {
		case mail <- c:
			return
		default:
			select {
			case <-mail:
			default:
			}
		}
	}
}

// supervise runs h with the start-up config, and again with each config a
// reload hands it. A failure at start-up stops the daemon (as any serve
// hook's); a failure with a reloaded config is logged and waits for the
// next reload.
func (r *reloader) supervise(ctx context.Context, h reloadHook) error {
	mail := r.mail[h.name]
	cfg, first := r.d.cfg, true
	for {
		d := *r.d
		d.cfg = cfg
		drain := make(chan struct{})
		d.drain = drain
		hctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- h.run(hctx, &d) }()
		var err error
		select {
		case err = <-done:
			if err != nil && first {
				cancel()
				return err
			}
			if err != nil {
				r.d.log.Error(h.name+" failed with the reloaded config; fix the config and reload", "err", err)
			}
			select {
			case cfg = <-mail:
			case <-ctx.Done():
				cancel()
				return nil
			}
		case cfg = <-mail:
			if h.drain {
				close(drain)
				r.d.log.Info(h.name + ": the reloaded config takes effect once the running jobs end")
			} else {
				cancel()
			}
			if err := <-done; err != nil && ctx.Err() == nil {
				r.d.log.Error(h.name+" stopped with an error", "err", err)
			}
		case <-ctx.Done():
			err = <-done
			cancel()
			return err
		}
		cancel()
		select { // the newest config wins
		case cfg = <-mail:
		default:
		}
		if ctx.Err() != nil {
			return nil
		}
		first = false
	}
}

// restartOnly lists the settings of cfg that differ from those the daemon
// started with and that only a restart applies.
func (r *reloader) restartOnly(cfg config.Config) []string {
	was := r.d.cfg
	var notes []string
	diff := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			notes = append(notes, fmt.Sprintf("%s (%v → %v)", name, a, b))
		}
	}
	if dsn := r.g.dsn(cfg); dsn != r.d.dsn {
		notes = append(notes, fmt.Sprintf("db (%s → %s)", redactDSN(r.d.dsn), redactDSN(dsn)))
	}
	if l := serveListen(r.d.flags, cfg); !r.d.flags.noHTTP && l != r.d.listen {
		notes = append(notes, fmt.Sprintf("server.listen (%s → %s)", r.d.listen, l))
	}
	if r.g.tokenValue(cfg) != r.d.token {
		notes = append(notes, "server.token (changed)")
	}
	notes = append(notes, otherFields("server.", was.Server, cfg.Server, "Listen", "Token")...)
	diff("timezone of printed times and usage days", was.Timezone, cfg.Timezone) // rules and schedules follow it at once
	diff("error_threshold", was.ErrorThreshold, cfg.ErrorThreshold)
	diff("thresholds", was.Thresholds, cfg.Thresholds)
	diff("safety_tick", was.SafetyTick, cfg.SafetyTick)
	diff("poll_interval", was.PollInterval, cfg.PollInterval)
	diff("usage", was.Usage, cfg.Usage)
	if len(was.Notifiers) == 0 && len(cfg.Notifiers) > 0 {
		notes = append(notes, "the notification metrics (quotad_notifications_*; the notifications themselves are sent now)")
	}
	if !reflect.DeepEqual(was.ProviderSpecs(), cfg.ProviderSpecs()) {
		notes = append(notes, "the metering proxy's APIs (provider, upstream, costs)")
	}
	// Settings a reload does not know of (added after this was written)
	// need a restart until it does.
	return append(notes, otherFields("", was, cfg, "APIs", "Channels", "Notifiers", "Runner", "Timezone", "ErrorThreshold",
		"Thresholds", "SafetyTick", "PollInterval", "Usage", "DB", "Server")...)
}

// otherFields names (by their YAML key, after prefix) the fields of two
// structs of one type that differ, except the known ones.
func otherFields[T any](prefix string, was, now T, known ...string) []string {
	var notes []string
	wv, nv := reflect.ValueOf(was), reflect.ValueOf(now)
	for i := range wv.NumField() {
		f := wv.Type().Field(i)
		if slices.Contains(known, f.Name) || !f.IsExported() || reflect.DeepEqual(wv.Field(i).Interface(), nv.Field(i).Interface()) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			name = strings.ToLower(f.Name)
		}
		notes = append(notes, prefix+name)
	}
	return notes
}

// jobChanges describes what differs for the job runner.
func jobChanges(old, new config.Config) []string {
	notes := namedChanges("job of channel", jobsOf(old), jobsOf(new))
	if old.Runner != new.Runner {
		notes = append(notes, fmt.Sprintf("runner.max_concurrent %d → %d", old.Runner.MaxConcurrent, new.Runner.MaxConcurrent))
	}
	if !slices.Equal(old.PacedAPIs(), new.PacedAPIs()) {
		notes = append(notes, fmt.Sprintf("paced APIs [%s] → [%s]", strings.Join(old.PacedAPIs(), " "), strings.Join(new.PacedAPIs(), " ")))
	}
	return notes
}

func jobsOf(c config.Config) map[string]config.JobConfig {
	m := map[string]config.JobConfig{}
	for _, ch := range c.Channels {
		if ch.Job != nil {
			m[ch.Name] = *ch.Job
		}
	}
	return m
}

// notifierChanges describes what differs for the notification dispatcher.
func notifierChanges(old, new config.Config) []string {
	byName := func(c config.Config) map[string]config.NotifierConfig {
		m := map[string]config.NotifierConfig{}
		for _, n := range c.Notifiers {
			m[n.Name] = n
		}
		return m
	}
	return namedChanges("notifier", byName(old), byName(new))
}

// namedChanges lists the names added, removed and changed between two maps.
func namedChanges[V any](what string, old, new map[string]V) []string {
	var notes []string
	for _, name := range slices.Sorted(maps.Keys(new)) {
		o, ok := old[name]
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("added %s %s", what, name))
		case !reflect.DeepEqual(o, new[name]):
			notes = append(notes, fmt.Sprintf("changed %s %s", what, name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(old)) {
		if _, ok := new[name]; !ok {
			notes = append(notes, fmt.Sprintf("removed %s %s", what, name))
		}
	}
	return notes
}
