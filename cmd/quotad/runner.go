package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
	"github.com/quotad/quotad/server"
)

// httpReadyWait bounds how long the job runner waits for the daemon's HTTP
// API before its jobs are pointed at the store instead.
const httpReadyWait = 5 * time.Second

// serveJobs is the serve hook of the job runner: it runs the channels' jobs
// on their schedules until ctx is done (nothing with --no-jobs or when no
// channel has a job).
func serveJobs(ctx context.Context, d *daemon) error {
	w := d.out
	if d.flags.noJobs {
		return nil
	}
	jobs := runnerJobs(d.cfg.Channels)
	scheduled := 0
	for _, j := range jobs {
		if j.Schedule != "" {
			scheduled++
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	server := ""
	if !d.flags.noHTTP {
		server = d.httpURL(ctx)
	}
	r, err := runner.New(d.engine, jobs, runner.Options{
		MaxConcurrent: d.cfg.Runner.MaxConcurrent,
		Location:      d.cfg.Location(),
		Env:           jobEnv(d.dsn, server, d.token, d.cfgPath),
		Logger:        d.log,
		ConfigDir:     configDir(d.cfgPath),
		PollInterval:  time.Duration(d.cfg.PollInterval),
		Paced:         d.cfg.PacedAPIs(),
		Drain:         d.drain,
		// A run's event is in the log: the console prints it from there.
		Ready: func() {
			via := "the store " + redactDSN(d.dsn)
			if server != "" {
				via = server
			}
			fmt.Fprintf(w, "[OK] Job runner active: %d job(s), %d scheduled, at most %d at a time; jobs reach quotad through %s\n",
				len(jobs), scheduled, d.cfg.Runner.MaxConcurrent, via)
		},
	})
	if err != nil {
		return fmt.Errorf("job runner: %w", err)
	}
	d.jobs.set(r)
	defer d.jobs.set(nil)
	return r.Run(ctx)
}

// jobStarter starts jobs for the HTTP API (the dashboard's "Run now") on
// the daemon's runner, once it runs.
type jobStarter struct{ r atomic.Pointer[runner.Runner] }

func (j *jobStarter) set(r *runner.Runner) { j.r.Store(r) }

// StartJob implements server.JobStarter.
func (j *jobStarter) StartJob(channel string, force bool) (time.Time, error) {
	r := j.r.Load()
	if r == nil {
		return time.Time{}, server.ErrNoJobs
	}
	started, err := r.Start(channel, force)
	switch {
	case errors.Is(err, runner.ErrNotRunning):
		return started, server.ErrNoJobs
	case errors.Is(err, runner.ErrPaused):
		return started, fmt.Errorf("%w: %w; not running its job (force runs it anyway)", quotad.ErrConflict, err)
	case errors.Is(err, runner.ErrBusy):
		return started, fmt.Errorf("%w: %w", quotad.ErrConflict, err)
	}
	return started, err
}

// httpURL returns the URL at which jobs reach the daemon's HTTP API once it
// listens (the real bound address, so --listen 127.0.0.1:0 works), or ""
// when HTTP is off or does not come up in time: jobs then use the store.
func (d *daemon) httpURL(ctx context.Context) string {
	t := time.NewTimer(httpReadyWait)
	defer t.Stop()
	select {
	case addr, ok := <-d.httpAddr:
		if !ok {
			return ""
		}
		d.httpAddr <- addr // for the runner of a reloaded config
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return ""
		}
		switch host {
		case "", "0.0.0.0":
			host = "127.0.0.1"
		case "::":
			host = "::1"
		}
		return "http://" + net.JoinHostPort(host, port)
	case <-t.C:
		d.log.Warn("job runner: the HTTP API did not come up; jobs will use the store directly")
	case <-ctx.Done():
	}
	return ""
}

// jobEnv returns the variables that tell a job's quotad commands where
// quotad is: QUOTAD_SERVER (the daemon's HTTP API) or else QUOTAD_DB (the
// store, as an absolute path), QUOTAD_TOKEN, QUOTAD_BIN (this binary) and
// QUOTAD_CONFIG (the config file). Empty values are set too, so that the
// daemon's own environment cannot point jobs elsewhere.
func jobEnv(dsn, server, token, cfgPath string) func(string) []string {
	bin, err := os.Executable()
	if err != nil {
		bin = "quotad"
	}
	vars := []string{"QUOTAD_BIN=" + bin, "QUOTAD_TOKEN=" + token}
	if server != "" {
		vars = append(vars, "QUOTAD_SERVER="+server, "QUOTAD_DB=")
	} else {
		vars = append(vars, "QUOTAD_SERVER=", "QUOTAD_DB="+absDSN(dsn))
	}
	cfg := ""
	if cfgPath != "" {
		if abs, err := filepath.Abs(cfgPath); err == nil {
			cfg = abs
		}
	}
	vars = append(vars, "QUOTAD_CONFIG="+cfg)
	return func(string) []string { return vars }
}

// absDSN makes a SQLite path absolute, since jobs run in other directories;
// URLs are returned as they are.
func absDSN(dsn string) string {
	path := strings.TrimPrefix(dsn, "sqlite://")
	if strings.Contains(path, "://") || filepath.IsAbs(path) {
		return dsn
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return dsn
}

// configDir returns the directory of the config file, against which
// relative job directories resolve; "" (the current directory) without one.
func configDir(cfgPath string) string {
	if cfgPath == "" {
		return ""
	}
	abs, err := filepath.Abs(cfgPath)
	if err != nil {
		return filepath.Dir(cfgPath)
	}
	return filepath.Dir(abs)
}
