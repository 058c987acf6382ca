package runner

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
)

// Outcomes of a run, as stored in quotad.JobState.LastResult.
const (
	OutcomeOK      = quotad.JobOK      // exited 0
	OutcomeFailed  = quotad.JobFailed  // exited non-zero with a non-quota error, could not start, or was interrupted
	OutcomeQuota   = quotad.JobQuota   // exited non-zero and its output is a quota error, or quotad's own refusal (classify.KindHold)
	OutcomeTimeout = quotad.JobTimeout // killed at its timeout
)

// Bounds of what a run's event carries.
const (
	eventTailBytes = 4 << 10 // the "tail" field: the last lines, at most 4 KiB
	detailBytes    = 200     // JobState.LastDetail and the message's quote of the output
)

// Result is what one run did.
type Result struct {
	Channel     string
	Trigger     string // "schedule", "manual" or "forced"
	ExitCode    int    // -1 when killed by a signal or never started
	Outcome     string // OutcomeOK, OutcomeFailed, OutcomeQuota or OutcomeTimeout
	Interrupted bool   // stopped because the runner's context ended; not accounted
	// Verdict is the engine's classification of a failed run's output (nil
	// for a successful or interrupted run).
	Verdict  *classify.Verdict
	Paused   []string // channels paused by this run's accounting
	Tail     []string // the last lines of output (at most TailLines)
	Dropped  int64    // bytes of output before Tail
	Output   int64    // bytes of output in all
	Started  time.Time
	Ended    time.Time
	Duration time.Duration // real time the process ran
	Detail   string        // short text, as stored in LastDetail
	Event    quotad.Event  // the run's event, as appended to the log
	// Providers are the providers the run was told to use, capability →
	// API ("" when none was available), as in QUOTAD_PROVIDER_<CAPABILITY>.
	Providers map[string]string
	// Spent is what the channel spent per API during the run (usage
	// history between its start and end, by the minute); nil when unknown.
	Spent map[string]int64
}

// OK reports whether the run succeeded.
func (r Result) OK() bool { return r.Outcome == OutcomeOK }

// RunOnce runs a channel's job now, in the foreground, whatever its
// schedule says: its output is copied to out (nil for none) as well as
// captured, and the run is accounted and recorded like a scheduled one,
// under the same lease. It refuses with a *PausedError when the channel is
// paused, unless force, and with a *BusyError when the job is running
// elsewhere (force does not override that). The error is nil whenever the
// job ran, whatever its outcome; Result.OK says how it went. RunOnce does
// not count against MaxConcurrent.
func (r *Runner) RunOnce(ctx context.Context, channel string, force bool, out io.Writer) (Result, error) {
	j, st, err := r.begin(ctx, channel, force)
	if err != nil {
		return Result{}, err
	}
	return r.runJob(ctx, j, st, trigger(force), out), nil
}

func trigger(force bool) string {
	if force {
		return "forced"
	}
	return "manual"
}

// begin claims a channel's job for a run a person asked for and takes its
// lease; see RunOnce for the errors. On success the caller runs the job and
// then calls r.done.
func (r *Runner) begin(ctx context.Context, channel string, force bool) (*job, quotad.JobState, error) {
	j, ok := r.jobs[channel]
	if !ok {
		return nil, quotad.JobState{}, fmt.Errorf("%w: %q has no job", quotad.ErrUnknownChannel, channel)
	}
	if !r.claim(channel, false) {
		return nil, quotad.JobState{}, &BusyError{Channel: channel, Holder: r.id}
	}
	st, err := r.acquire(ctx, j, func(tx quotad.ReadTx, _ quotad.JobState, _ time.Time) error {
		ch, err := tx.Channel(channel)
		if err != nil {
			return err
		}
		if !ch.Active() && !force {
			apis, err := apisByName(tx) // every API: a capability pause waits for fallback providers
			if err != nil {
				return err
			}
			pe := &PausedError{Channel: channel, ResumeAt: quotad.ResumeAt(ch, apis)}
			for _, p := range ch.Pauses {
				pe.Reasons = append(pe.Reasons, p.Reason.String())
			}
			return pe
		}
		return nil
	})
	if err != nil {
		r.done(channel)
		return nil, quotad.JobState{}, err
	}
	return j, st, nil
}

// runJob runs a job whose lease is held and whose claim this runner has,
// accounts for its outcome with the engine, releases the lease with the
// run's record and event, and ends the claim before reporting to OnRun.
func (r *Runner) runJob(ctx context.Context, j *job, st quotad.JobState, trigger string, out io.Writer) Result {
	r.log.Debug("runner: job started", "channel", j.channel, "trigger", trigger, "command", j.cfg.Command, "dir", j.dir)
	tail := NewTail(out)
	providers := r.pickProviders(ctx, j.channel)
	// What the channel spent earlier in the minute the run starts in (usage
	// is kept by the minute) is not the run's.
	base, _ := r.spent(ctx, j.channel, st.LastStart, st.LastStart)
	env := r.environ(j)
	for _, k := range slices.Sorted(maps.Keys(providers)) {
		if providers[k] != "" {
			env = append(env, ProviderEnv(k)+"="+providers[k])
		}
	}
	var o outcome
	if r.opts.Exec != nil {
		begin := time.Now()
		code, err := r.opts.Exec(ctx, Exec{Channel: j.channel, Argv: j.cfg.Command, Dir: j.dir, Env: env, Providers: providers, Out: tail})
		o = outcome{exitCode: code, status: fmt.Sprintf("exit status %d", code), duration: time.Since(begin)}
		if err != nil {
			o = outcome{exitCode: -1, startErr: err, duration: o.duration}
		}
	} else {
		o = execute(ctx, spec{
			argv: j.cfg.Command, dir: j.dir, env: env,
			timeout: j.timeout, grace: r.opts.KillGrace, out: tail,
		})
	}
	res := Result{Channel: j.channel, Trigger: trigger, ExitCode: o.exitCode, Started: st.LastStart, Duration: o.duration, Output: tail.Total(), Providers: providers}
	res.Tail, res.Dropped = tail.Lines()
	last := oneLine(lastMeaningful(res.Tail), detailBytes)
	actx := context.WithoutCancel(ctx) // accounting happens even when the daemon is stopping
	var message string
	switch {
	case o.interrupted:
		res.Outcome, res.Interrupted = OutcomeFailed, true
		res.Detail = "interrupted: the runner stopped; " + o.status
	case o.startErr != nil:
		res.Outcome = OutcomeFailed
		res.Detail = "could not start: " + o.startErr.Error()
		message = "job could not start: " + o.startErr.Error()
	case o.timedOut:
		res.Outcome = OutcomeTimeout
		res.Detail = fmt.Sprintf("timed out after %s; process group killed", j.timeout)
		message = fmt.Sprintf("job timed out after %s and was killed", j.timeout)
	case o.exitCode == 0:
		res.Outcome = OutcomeOK
		res.Detail = o.status
		if _, err := r.e.ReportSuccess(actx, j.channel); err != nil {
			r.log.Error("runner: recording success", "channel", j.channel, "err", err)
		}
	default:
		res.Outcome = OutcomeFailed
		res.Detail = o.status
		message = strings.Join(res.Tail, "\n")
		if strings.TrimSpace(message) == "" {
			message = "job failed with " + o.status + " and printed nothing"
		}
	}
	if message != "" {
		rep, err := r.e.ReportError(actx, engine.ErrorReport{Channel: j.channel, Evidence: classify.Evidence{Message: message}})
		if err != nil {
			r.log.Error("runner: reporting the job's failure", "channel", j.channel, "err", err)
		} else {
			v := rep.Verdict
			res.Verdict, res.Paused = &v, rep.Paused
			if (v.Quota || v.Kind == classify.KindHold) && res.Outcome == OutcomeFailed && o.startErr == nil {
				res.Outcome = OutcomeQuota
			}
			if v.Kind != classify.KindNone {
				res.Detail += "; " + describeVerdict(v)
			}
		}
	}
	res.Detail = oneLine(res.Detail, detailBytes)
	if !res.Interrupted {
		spent, err := r.spent(actx, j.channel, st.LastStart, r.clock.Now())
		if err != nil {
			r.log.Warn("runner: reading what the run spent", "channel", j.channel, "err", err)
		} else {
			for api, u := range base {
				if spent[api] -= u; spent[api] <= 0 {
					delete(spent, api)
				}
			}
			res.Spent = spent
			// A run refused by quotad's own hold spent less than it needed:
			// learning from it would lower the cost the gate checks, and
			// the next run would be refused again.
			if res.Verdict == nil || res.Verdict.Kind != classify.KindHold {
				r.Costs().Observe(j.channel, spent)
			}
		}
	}
	res.Event = r.event(j, res, last, o.startErr != nil)
	err := r.release(ctx, j, func(s *quotad.JobState, now time.Time) {
		res.Ended = now
		s.LastEnd, s.LastResult, s.LastDetail = now, res.Outcome, res.Detail
		s.Runs++
		if j.timed && !res.Interrupted { // an interrupted run stays due: it runs again at start-up
			s.NextRun = j.schedule.Next(now)
		}
	}, res.Event)
	if err != nil {
		r.log.Error("runner: the run could not be recorded; its lease lapses by itself", "channel", j.channel, "err", err)
	}
	if res.Ended.IsZero() {
		res.Ended = r.clock.Now()
	}
	// The run is over and recorded: whoever OnRun tells may start the job
	// again at once.
	r.setInflight(j.channel, nil)
	r.done(j.channel)
	if r.opts.OnRun != nil {
		r.opts.OnRun(res)
	}
	return res
}

// event returns the log event of a run; startErr tells a command that
// could not start from one that failed.
func (r *Runner) event(j *job, res Result, last string, startErr bool) quotad.Event {
	took := res.Duration.Round(time.Millisecond)
	level, msg := quotad.LevelError, ""
	switch {
	case res.Interrupted:
		level, msg = quotad.LevelWarning, "Job interrupted: the runner stopped; it runs again when due"
	case startErr:
		msg = "Job " + res.Detail
	case res.Outcome == OutcomeOK:
		level, msg = quotad.LevelInfo, fmt.Sprintf("Job finished in %s", took)
	case res.Outcome == OutcomeTimeout:
		msg = fmt.Sprintf("Job timed out after %s; its process group was killed", j.timeout)
	case res.Outcome == OutcomeQuota && res.Verdict.Kind == classify.KindHold:
		v := res.Verdict
		level, msg = quotad.LevelWarning, fmt.Sprintf("Job was refused by quotad's own hold on %s after %s", verdictAPI(v), took)
		last = oneLine(v.Evidence, detailBytes)
	case res.Outcome == OutcomeQuota:
		v := res.Verdict
		level, msg = quotad.LevelWarning, fmt.Sprintf("Job hit a %s on %s after %s", v.Kind, verdictAPI(v), took)
		if v.Evidence != "" {
			last = oneLine(v.Evidence, detailBytes)
		}
	default:
		msg = fmt.Sprintf("Job failed (exit %d) after %s", res.ExitCode, took)
	}
	if last != "" && res.Outcome != OutcomeOK && !res.Interrupted {
		msg += ": " + last
	}
	fields := map[string]string{
		"outcome":   res.Outcome,
		"trigger":   res.Trigger,
		"exit_code": strconv.Itoa(res.ExitCode),
		"duration":  took.String(),
		"output":    strconv.FormatInt(res.Output, 10),
		"dropped":   strconv.FormatInt(res.Dropped, 10),
		"tail":      tailField(res.Tail),
		"detail":    res.Detail,
		"holder":    r.id,
	}
	if v := res.Verdict; v != nil {
		fields["kind"], fields["api"] = string(v.Kind), v.API
		if !v.Until.IsZero() {
			fields["until"] = v.Until.UTC().Format(time.RFC3339Nano)
		}
	}
	if res.Interrupted {
		fields["interrupted"] = "true"
	}
	if res.Spent != nil {
		fields["spent"] = FormatSpent(res.Spent)
	}
	if !res.Started.IsZero() {
		fields["started"] = res.Started.UTC().Format(time.RFC3339Nano)
	}
	for k, v := range res.Providers {
		fields["provider_"+k] = v
	}
	return quotad.Event{Time: r.clock.Now(), Level: level, Channel: j.channel, Category: quotad.CategoryJob, Message: msg, Fields: fields}
}

// describeVerdict is a short account of a classification.
func describeVerdict(v classify.Verdict) string {
	s := string(v.Kind)
	if v.API != "" {
		s += " on " + v.API
	}
	if !v.Until.IsZero() {
		s += " until " + v.Until.UTC().Format(time.RFC3339)
	}
	if v.Evidence != "" {
		s += " (" + v.Evidence + ")"
	}
	return s
}

func verdictAPI(v *classify.Verdict) string {
	if v == nil || v.API == "" {
		return "unattributed"
	}
	return v.API
}

// lastMeaningful returns the last line with a letter or a digit in it (not
// a closing brace), or "".
func lastMeaningful(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.IndexFunc(lines[i], func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			return lines[i]
		}
	}
	return ""
}

// tailField joins the last lines into at most eventTailBytes, dropping whole
// lines from the front (a single longer line keeps its end).
func tailField(lines []string) string {
	s := strings.TrimRight(strings.Join(lines, "\n"), " \t\n")
	if len(s) <= eventTailBytes {
		return s
	}
	s = s[len(s)-eventTailBytes:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		return s[i+1:]
	}
	return strings.ToValidUTF8(s, "")
}

// oneLine collapses white space and cuts s to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// pickProviders asks the engine which provider each fallback need of the
// channel should use now for the run's expected cost (engine.PickFor):
// capability → API, "" when none can serve.
func (r *Runner) pickProviders(ctx context.Context, channel string) map[string]string {
	var caps []string
	var ch quotad.Channel
	err := r.e.Read(ctx, func(tx quotad.ReadTx) error {
		var err error
		ch, err = tx.Channel(channel)
		for _, c := range ch.Fallbacks {
			caps = append(caps, c.Name)
		}
		return err
	})
	if err != nil || len(caps) == 0 {
		return nil
	}
	out := make(map[string]string, len(caps))
	cost, learned := r.Costs().Cost(channel, r.jobs[channel].cfg.Estimate)
	if learned {
		cost = NeedCosts(ch, cost)
	}
	for _, c := range caps {
		p, err := r.e.PickFor(ctx, channel, c, engine.Expected{Cost: cost, Pending: r.pendingOthers(channel)})
		if err != nil {
			r.log.Warn("runner: picking a provider", "channel", channel, "capability", c, "err", err)
		}
		out[c] = p.Provider
	}
	return out
}
