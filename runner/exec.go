package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// drainWait bounds how long output is read after a job's processes are
// gone: a process that escaped the job's process group (setsid) may hold
// the output pipe open forever.
const drainWait = 2 * time.Second

// spec is one process to run.
type spec struct {
	argv    []string
	dir     string
	env     []string
	timeout time.Duration // measured on the real clock: processes live in real time
	grace   time.Duration // between SIGTERM and SIGKILL
	out     io.Writer     // receives stdout and stderr, interleaved as written
}

// outcome is what became of a process.
type outcome struct {
	exitCode    int    // the exit status; -1 when killed by a signal or never started
	status      string // "exit status 1", "signal: killed", ...
	startErr    error  // the process could not be started
	timedOut    bool   // killed because the timeout passed
	interrupted bool   // killed because ctx was done
	duration    time.Duration
}

// execute runs s in a process group of its own and waits for it. Its
// standard output and error share one pipe, read into s.out; standard input
// is /dev/null. When the timeout passes or ctx is done, the whole group gets
// SIGTERM, then SIGKILL after the grace period. When the main process
// exits, whatever is left of its group is killed: a run leaves nothing
// behind. execute returns once the output has been read to its end.
func execute(ctx context.Context, s spec) outcome {
	if len(s.argv) == 0 {
		return outcome{exitCode: -1, startErr: errors.New("empty command")}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return outcome{exitCode: -1, startErr: fmt.Errorf("output pipe: %w", err)}
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout, cmd.Stderr = pw, pw // an *os.File: the child writes to it directly, no copying goroutine
	ownGroup(cmd)
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return outcome{exitCode: -1, startErr: err}
	}
	pw.Close() // the children hold the only write ends now: EOF comes when they are all gone
	pid := cmd.Process.Pid
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(s.out, pr)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var o outcome
	timer := time.NewTimer(s.timeout)
	select {
	case <-waited:
	case <-timer.C:
		o.timedOut = true
		stop(pid, waited, s.grace)
	case <-ctx.Done():
		o.interrupted = true
		stop(pid, waited, s.grace)
	}
	timer.Stop()
	o.duration = time.Since(begin)
	killGroup(pid, true) // leftovers of the group: background children, grandchildren
	select {
	case <-copied:
	case <-time.After(drainWait):
		pr.Close()
		<-copied
	}
	pr.Close()
	o.exitCode = cmd.ProcessState.ExitCode()
	o.status = cmd.ProcessState.String()
	return o
}

// stop asks the group to end (SIGTERM), and kills it (SIGKILL) if its main
// process has not exited after grace. It returns once the main process has
// exited.
func stop(pid int, waited <-chan error, grace time.Duration) {
	killGroup(pid, false)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-waited:
		return
	case <-t.C:
	}
	killGroup(pid, true)
	<-waited
}
