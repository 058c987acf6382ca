// Command quotad keeps API-driven pipelines running through provider quota
// limits. `quotad serve` runs the daemon; every other subcommand is a manual
// operation on the same store (or, with --server, on a running daemon).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/internal/gctune"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitHeld: quotad refused the operation by one of its own holds (an
	// exhausted window, a window the units do not fit, the channel's budget,
	// a reserve for higher priorities); the message says whose hold and
	// until when.
	exitHeld = 3
)

func main() {
	gctune.Apply() // the collector's pace for a daemon with a small heap (GOGC decides when set)
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the exit status.
func run(args []string) int { return runContext(context.Background(), args, os.Stdout, os.Stderr) }

// runContext is run with a context (cancelling it stops `serve`) and the
// writers for standard output and error; tests use it.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(root.ErrOrStderr(), "quotad:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	if errors.Is(err, quotad.ErrExhausted) {
		return exitHeld
	}
	return exitFailure
}

// usageError marks a mistake in the command line itself: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf("%w: %s", quotad.ErrInvalid, fmt.Sprintf(format, args...))}
}
