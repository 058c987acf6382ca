//go:build unix

package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/runner"
)

// groq429 is what a pipeline prints when Groq refuses a call: the SDK's
// error line with the response body.
const groq429 = "groq.RateLimitError: Error code: 429 - " +
	`{"error":{"message":"Rate limit reached for model ` + "`llama-3.3-70b-versatile`" + ` in organization ` + "`org_01jq`" +
	` service tier ` + "`on_demand`" + ` on tokens per minute (TPM): Limit 12000, Used 11546, Requested 1094. Please try again in 41.2s. Visit https://console.groq.com/docs/rate-limits for more information.","type":"tokens","code":"rate_limit_exceeded"}}`

// script writes an sh script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func accountConfig(threshold int, command string) string {
	return `timezone: UTC
error_threshold: ` + strconv.Itoa(threshold) + `
apis:
  groq:
    unit: tokens
    keywords: [groq, llama]
    windows:
      - {name: minute, limit: 12000, reset: "every 1h"}
  youtube:
    keywords: [youtube, google]
    windows:
      - {name: daily, limit: 10000, reset: "daily 00:00"}
channels:
  Writer:
    apis: [groq, youtube]
    job:
      command: ` + command + `
      timeout: 1s
`
}

func TestQuotaErrorInTheOutputPausesTheChannel(t *testing.T) {
	dir := t.TempDir()
	script(t, dir, "job.sh", "echo 'writing the script for video 17'\necho 'calling llama-3.3-70b-versatile'\ncat <<'EOF'\n"+groq429+"\nEOF\nexit 1\n")
	f := newFixture(t, start12, accountConfig(20, `[sh, `+filepath.Join(dir, "job.sh")+`]`))
	n := f.node("a", nil)
	res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	until := start12.Add(41200 * time.Millisecond)
	if res.Outcome != runner.OutcomeQuota || res.ExitCode != 1 || res.Verdict == nil || res.Verdict.API != "groq" || !res.Verdict.Until.Equal(until) {
		t.Fatalf("result: outcome %s exit %d verdict %+v", res.Outcome, res.ExitCode, res.Verdict)
	}
	c := n.channel("Writer")
	if c.Active || len(c.PauseReasons) != 1 || c.PauseReasons[0].Reason != "quota:groq" || c.ConsecutiveErrors != 0 {
		t.Fatalf("channel: %+v", c)
	}
	g, err := n.e.API(n.ctx, "groq")
	if err != nil {
		t.Fatal(err)
	}
	if w := g.Windows[0]; !w.Exhausted || w.BlockedUntil == nil || !w.BlockedUntil.Equal(until) || g.Available {
		t.Fatalf("groq: %+v", g)
	}
	if !c.ResumeAt.Equal(until) {
		t.Fatalf("resume at %v, want %v", c.ResumeAt, until)
	}
	evs := n.jobEvents("Writer")
	if len(evs) != 1 {
		t.Fatalf("%d job events", len(evs))
	}
	ev := evs[0]
	if ev.Level != quotad.LevelWarning || ev.Fields["outcome"] != "quota" || ev.Fields["api"] != "groq" || ev.Fields["kind"] != string(classify.KindRateLimit) ||
		!strings.Contains(ev.Fields["tail"], "writing the script") || !strings.Contains(ev.Fields["tail"], "try again in 41.2s") {
		t.Fatalf("event: %+v", ev)
	}
	st := n.state("Writer")
	if st.LastResult != quotad.JobQuota || !strings.HasPrefix(st.LastDetail, "exit status 1; rate_limit on groq until") || st.Runs != 1 {
		t.Fatalf("state: %+v", st)
	}
	// A paused channel's job is refused, unless forced.
	if _, err := n.r.RunOnce(n.ctx, "Writer", false, nil); !errors.Is(err, runner.ErrPaused) || !strings.Contains(err.Error(), "quota:groq") {
		t.Fatalf("RunOnce on a paused channel: %v", err)
	}
	if res, err := n.r.RunOnce(n.ctx, "Writer", true, nil); err != nil || res.Trigger != "forced" {
		t.Fatalf("forced run: %+v %v", res, err)
	}
}

func TestFailingRunsReachTheErrorThreshold(t *testing.T) {
	f := newFixture(t, start12, accountConfig(3, `'echo "step 1 ok"; echo "render failed: ffmpeg exited 1" >&2; exit 2'`))
	n := f.node("a", nil)
	for i := 1; i <= 3; i++ {
		res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != runner.OutcomeFailed || res.ExitCode != 2 || res.Verdict == nil || res.Verdict.Quota ||
			!slices.Equal(res.Tail, []string{"step 1 ok", "render failed: ffmpeg exited 1"}) {
			t.Fatalf("run %d: %+v", i, res)
		}
		if c := n.channel("Writer"); c.ConsecutiveErrors != i || c.Active != (i < 3) {
			t.Fatalf("after run %d: %+v", i, c)
		}
	}
	c := n.channel("Writer")
	if len(c.PauseReasons) != 1 || c.PauseReasons[0].Reason != quotad.ReasonErrors.String() {
		t.Fatalf("channel: %+v", c)
	}
	_, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
	var pe *runner.PausedError
	if !errors.As(err, &pe) || !slices.Equal(pe.Reasons, []string{"errors"}) || !pe.ResumeAt.IsZero() {
		t.Fatalf("RunOnce after the errors pause: %v", err)
	}
}

func TestSuccessClearsTheErrorCount(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "fail")
	f := newFixture(t, start12, accountConfig(5, `if [ -e "`+flag+`" ]; then echo boom; exit 1; fi; echo fine`))
	n := f.node("a", nil)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if res, _ := n.r.RunOnce(n.ctx, "Writer", false, nil); res.OK() {
			t.Fatal("run succeeded")
		}
	}
	os.Remove(flag)
	if res, err := n.r.RunOnce(n.ctx, "Writer", false, nil); err != nil || !res.OK() {
		t.Fatalf("run: %+v %v", res, err)
	}
	if c := n.channel("Writer"); c.ConsecutiveErrors != 0 {
		t.Fatalf("errors %d after a success", c.ConsecutiveErrors)
	}
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	for _, tt := range []struct{ name, command string }{
		// Both sleeps die of SIGTERM.
		{"term", `sleep 100 & echo $!; sh -c 'echo $$; exec sleep 100'`},
		// Every process ignores SIGTERM: SIGKILL after the grace period.
		{"kill", `trap "" TERM; sleep 100 & echo $!; sh -c 'echo $$; exec sleep 100'`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, start12, accountConfig(20, "'"+strings.ReplaceAll(tt.command, "'", "''")+"'"))
			n := f.node("a", nil)
			out := newSignalWriter("\n")
			res, err := n.r.RunOnce(n.ctx, "Writer", false, out)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != runner.OutcomeTimeout || res.Duration > 10*time.Second || len(res.Tail) != 2 {
				t.Fatalf("result: %+v", res)
			}
			for _, line := range res.Tail {
				pid, err := strconv.Atoi(line)
				if err != nil {
					t.Fatalf("the job printed %q, not a pid", line)
				}
				// The kernel ends a signalled process a moment after the
				// signal: give it a bounded while (a survivor never goes).
				for deadline := time.Now().Add(5 * time.Second); !gone(pid); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("process %d of the job still runs 5s after the timeout", pid)
						break
					}
				}
			}
			if c := n.channel("Writer"); c.ConsecutiveErrors != 1 || !c.Active {
				t.Fatalf("a timeout counts as one failure: %+v", c)
			}
			if st := n.state("Writer"); st.LastResult != quotad.JobTimeout || st.Holder != "" {
				t.Fatalf("state: %+v", st)
			}
		})
	}
}

func TestOutputIsBounded(t *testing.T) {
	f := newFixture(t, start12, accountConfig(20, `yes 0123456789 | head -n 1000000; echo END`))
	n := f.node("a", nil)
	res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const total = 1000000*11 + 4
	if !res.OK() || res.Output != total || len(res.Tail) != runner.TailLines || res.Tail[49] != "END" || res.Tail[0] != "0123456789" {
		t.Fatalf("result: ok %v output %d tail %d lines, last %q", res.OK(), res.Output, len(res.Tail), res.Tail[len(res.Tail)-1])
	}
	if want := int64(total - 49*11 - 4); res.Dropped != want {
		t.Fatalf("dropped %d, want %d", res.Dropped, want)
	}
	ev := n.jobEvents("Writer")[0]
	if len(ev.Fields["tail"]) > 4096 || !strings.HasSuffix(ev.Fields["tail"], "0123456789\nEND") || ev.Fields["dropped"] != strconv.FormatInt(res.Dropped, 10) {
		t.Fatalf("event fields: %v", ev.Fields)
	}
}

func TestEnvironmentAndDirectory(t *testing.T) {
	f := newFixture(t, start12, `timezone: UTC
apis:
  groq:
    windows: [{name: d, limit: 100, reset: "daily 00:00"}]
channels:
  Env:
    apis: [groq]
    job:
      command: [sh, -c, 'echo "$QUOTAD_CHANNEL|$FROM_JOB|$QUOTAD_DB|$PWD"']
      dir: work
      env: {FROM_JOB: yes, QUOTAD_CHANNEL: spoofed}
`)
	if err := os.Mkdir(filepath.Join(f.dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := f.node("a", func(o *runner.Options) {
		o.Env = func(ch string) []string { return []string{"QUOTAD_DB=/db/" + ch} }
	})
	res, err := n.r.RunOnce(n.ctx, "Env", false, nil)
	if err != nil || !res.OK() {
		t.Fatalf("%+v %v", res, err)
	}
	want := "Env|yes|/db/Env|" + filepath.Join(f.dir, "work")
	if res.Tail[0] != want {
		t.Fatalf("job saw %q, want %q", res.Tail[0], want)
	}
}

func TestCommandThatCannotStartIsAFailure(t *testing.T) {
	f := newFixture(t, start12, accountConfig(20, `[/nonexistent/quotad-job]`))
	n := f.node("a", nil)
	res, err := n.r.RunOnce(n.ctx, "Writer", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != runner.OutcomeFailed || res.ExitCode != -1 || !strings.HasPrefix(res.Detail, "could not start") {
		t.Fatalf("result: %+v", res)
	}
	if c := n.channel("Writer"); c.ConsecutiveErrors != 1 {
		t.Fatalf("channel: %+v", c)
	}
	if ev := n.jobEvents("Writer")[0]; !strings.HasPrefix(ev.Message, "Job could not start") {
		t.Fatalf("event: %q", ev.Message)
	}
}
