package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// leaseSlack is how long a lease outlives its job's timeout: a holder that
// dies without releasing blocks the job for at most timeout + leaseSlack.
const leaseSlack = time.Minute

// ErrBusy reports a job that is already running: another runner (or this
// one) holds its lease. The error is a *BusyError.
var ErrBusy = errors.New("job already running")

// ErrPaused reports a channel that is paused, so its job is not run. The
// error is a *PausedError.
var ErrPaused = errors.New("channel is paused")

// errNotDue reports a scheduled run that another runner made meanwhile.
var errNotDue = errors.New("job no longer due")

// BusyError says who runs a job.
type BusyError struct {
	Channel    string
	Holder     string    // the lease holder's id: host:pid:random
	Since      time.Time // when that run started
	LeaseUntil time.Time // when the lease lapses if its holder died
}

// Error implements error.
func (e *BusyError) Error() string {
	return fmt.Sprintf("job of channel %s is already running (started %s by %s)", e.Channel, e.Since.UTC().Format(time.RFC3339), e.Holder)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// PausedError says why a channel's job is not run.
type PausedError struct {
	Channel  string
	Reasons  []string  // the channel's pause reasons
	ResumeAt time.Time // when they are expected to clear; zero if only a person clears them
}

// Error implements error.
func (e *PausedError) Error() string {
	msg := fmt.Sprintf("channel %s is paused (%s)", e.Channel, strings.Join(e.Reasons, ", "))
	if !e.ResumeAt.IsZero() {
		msg += ", expected to resume at " + e.ResumeAt.UTC().Format(time.RFC3339)
	} else {
		msg += ", until a person resumes it"
	}
	return msg
}

// Is makes errors.Is(err, ErrPaused) true.
func (e *PausedError) Is(target error) bool { return target == ErrPaused }

// NewID returns a lease holder id, "host:pid:random", unique to this runner.
func NewID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", strings.ReplaceAll(host, ":", "_"), os.Getpid(), hex.EncodeToString(b[:]))
}

// acquire takes the lease of a channel's job in one store transaction, after
// check (given the transaction, the job's record and the time) has agreed.
// A live lease of another holder is refused with a *BusyError. It returns
// the record as saved.
func (r *Runner) acquire(ctx context.Context, j *job, check func(tx quotad.ReadTx, s quotad.JobState, now time.Time) error) (quotad.JobState, error) {
	var saved quotad.JobState
	err := r.e.UpdateJobs(ctx, func(tx quotad.JobTx) error {
		now := r.clock.Now()
		s, err := tx.JobState(j.channel)
		if err != nil {
			return err
		}
		// A lease is honoured until it lapses, even when its holder died:
		// the holder's job runs in its own process group and may outlive it.
		if s.Holder != "" && s.Holder != r.id && s.LeaseUntil.After(now) {
			return &BusyError{Channel: j.channel, Holder: s.Holder, Since: s.LastStart, LeaseUntil: s.LeaseUntil}
		}
		if check != nil {
			if err := check(tx, s, now); err != nil {
				return err
			}
		}
		if s.Holder != "" && s.Holder != r.id {
			r.log.Warn("runner: taking over a lapsed job lease", "channel", j.channel, "holder", s.Holder, "lease_until", s.LeaseUntil)
		}
		s.Channel, s.Holder, s.LeaseUntil, s.LastStart = j.channel, r.id, now.Add(j.timeout+leaseSlack), now
		if err := tx.SaveJobState(s); err != nil {
			return err
		}
		saved = s
		return nil
	})
	return saved, err
}

// release ends a run in one store transaction: it writes the run's result
// into the job's record, frees the lease, computes the next scheduled run
// and appends the run's event. When the lease was taken over meanwhile (it
// lapsed), only the event is written. Store errors are retried a few times
// with a context that outlives ctx, since a run that ends because the daemon
// stops must still be recorded.
func (r *Runner) release(ctx context.Context, j *job, update func(s *quotad.JobState, now time.Time), ev quotad.Event) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = r.e.UpdateJobs(tctx, func(tx quotad.JobTx) error {
			now := r.clock.Now()
			s, err := tx.JobState(j.channel)
			if err != nil {
				return err
			}
			if s.Holder == r.id {
				update(&s, now)
				s.Holder, s.LeaseUntil = "", time.Time{}
				if err := tx.SaveJobState(s); err != nil {
					return err
				}
			} else {
				r.log.Warn("runner: the job's lease was taken over while it ran; recording the run's event only", "channel", j.channel, "holder", s.Holder)
			}
			return tx.AppendEvents(ev)
		})
		cancel()
		if err == nil {
			return nil
		}
		r.log.Error("runner: recording the end of a run", "channel", j.channel, "attempt", attempt+1, "err", err)
	}
	return err
}
