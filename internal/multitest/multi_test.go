package multitest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

// buildQuotad builds the quotad binary once into a temporary directory.
func buildQuotad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quotad")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/quotad/quotad/cmd/quotad")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// env is what every quotad process of the test gets: no variable from the
// outside points it elsewhere.
func env() []string {
	return append(os.Environ(), "QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=", "QUOTAD_CONFIG=")
}

// daemon is one `quotad serve` process.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  string // file with its stdout and stderr
	done chan error
}

func startDaemon(t *testing.T, bin, dir, name string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, out: filepath.Join(dir, name+".log"), done: make(chan error, 1)}
	f, err := os.Create(d.out)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, append([]string{"serve", "--no-http"}, args...)...)
	d.cmd.Env = env()
	d.cmd.Stdout, d.cmd.Stderr = f, f
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
		d.done <- nil
	})
	return d
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(d.out)
	return string(b)
}

// waitReady waits until the daemon says its monitor is active.
func (d *daemon) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.log(), "Quota monitor active") {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("%s exited (%v) before it was ready:\n%s", d.name, err, d.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s:\n%s", d.name, d.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends sig and waits for the process to end.
func (d *daemon) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = d.cmd.Process.Signal(sig)
	select {
	case err := <-d.done:
		d.done <- err
		if sig == syscall.SIGTERM && err != nil {
			t.Errorf("%s: stopped with %v:\n%s", d.name, err, d.log())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop within 20s of %v", d.name, sig)
	}
}

// run runs one quotad command and returns its exit status and output.
func run(bin string, args ...string) (int, string) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	return -1, err.Error()
}

const jobScript = `#!/bin/sh
# Appends "start <ns> <daemon pid>" and, 0.3s later, "end <start ns> <ns> <daemon pid>" to $1, under a lock.
f="$1"; p=$PPID; s=$(date +%s%N)
flock "$f.lock" sh -c "echo start $s $p >> '$f'"
sleep 0.3
e=$(date +%s%N)
flock "$f.lock" sh -c "echo end $s $e $p >> '$f'"
`

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestMultiInstance runs three daemons (one without jobs, killed with
// SIGKILL mid-way and restarted) and several spending processes on one
// fresh schema.
func TestMultiInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-instance test skipped under -short (it takes about 30s)")
	}
	dsn := pgtest.Schema(t)
	bin := buildQuotad(t)
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs.txt")
	job := filepath.Join(dir, "job.sh")
	writeFile(t, job, jobScript, 0o755)
	// steady resets daily, twelve hours from now: never during the test.
	steadyAt := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	cfg := filepath.Join(dir, "quotad.yaml")
	writeFile(t, cfg, fmt.Sprintf(`timezone: UTC
poll_interval: 200ms
apis:
  fast:
    windows:
      - {name: tick, limit: 5, reset: "every 2s"}
  steady:
    windows:
      - {name: daily, limit: 1000000000, reset: "daily %s UTC"}
channels:
  A: {apis: [fast]}
  B: {apis: [fast, steady]}
  C: {apis: [steady]}
  J:
    apis: [steady]
    job:
      command: ["/bin/sh", %q, %q]
      schedule: "every 1s"
      timeout: 10s
`, steadyAt, job, runs), 0o644)
	common := []string{"--db", dsn, "--config", cfg}
	cli := func(args ...string) (int, string) { return run(bin, append(args, common...)...) }

	// Three daemons start at once on the empty schema: migrations and the
	// first configuration race. d1 runs no jobs; it is the one killed.
	d1 := startDaemon(t, bin, dir, "d1", append(common, "--no-jobs")...)
	d2 := startDaemon(t, bin, dir, "d2", common...)
	d3 := startDaemon(t, bin, dir, "d3", common...)
	for _, d := range []*daemon{d1, d2, d3} {
		d.waitReady(t)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range []*daemon{d1, d2, d3} {
				t.Logf("--- %s log (tail) ---\n%s", d.name, tail(d.log(), 40))
			}
		}
	})

	// Exhaust fast over and over: every reset (every 2s) resumes A and B,
	// the next spend pauses them again.
	stopFast := make(chan struct{})
	var fastWG sync.WaitGroup
	fastWG.Go(func() {
		for {
			select {
			case <-stopFast:
				return
			case <-time.After(150 * time.Millisecond):
			}
			if code, out := cli("spend", "fast", "5"); code != 0 && code != 3 { // 3: refused by quotad, fast is exhausted
				t.Errorf("spend fast: exit %d: %s", code, out)
				return
			}
		}
	})

	// Phase 1: spend steady from 4 loops of processes; count what is
	// acknowledged (exit status 0).
	var (
		acked, spends, refused atomic.Int64
		spendWG                sync.WaitGroup
	)
	phase1 := time.Now().Add(8 * time.Second)
	for i := range 4 {
		spendWG.Go(func() {
			for n := 0; time.Now().Before(phase1); n++ {
				units := int64((i*7+n)%9 + 1)
				code, out := cli("spend", "steady", strconv.FormatInt(units, 10), "--channel", "B")
				switch code {
				case 0:
					acked.Add(units)
					spends.Add(1)
				default:
					refused.Add(1)
					t.Errorf("spend steady %d: exit %d: %s", units, code, out)
				}
			}
		})
	}

	// Meanwhile, a person's edit of is_active through psql is seen and
	// reconciled by one of the daemons within about a second.
	time.Sleep(3 * time.Second)
	edit := time.Now()
	pgtest.Exec(t, dsn, "UPDATE channels SET is_active = FALSE WHERE name = 'C'")
	var seenAfter time.Duration
	for time.Since(edit) < 5*time.Second {
		if c := channel(t, st, "C"); len(c.Pauses) == 1 && c.Pauses[0].Reason == quotad.ReasonManual {
			seenAfter = time.Since(edit)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	switch {
	case seenAfter == 0:
		t.Errorf("is_active = FALSE set in psql was not reconciled within 5s")
	case seenAfter > 1500*time.Millisecond:
		t.Errorf("is_active = FALSE set in psql was reconciled only after %v", seenAfter)
	}
	t.Logf("outside edit reconciled after %v", seenAfter)
	if code, out := cli("resume", "C"); code != 0 {
		t.Errorf("resume C: exit %d: %s", code, out)
	}

	spendWG.Wait()
	used := window(t, st, "steady").Used
	if used != acked.Load() {
		t.Errorf("steady: quota_used = %d, but the acknowledged spends sum to %d (%d spends, %d failed)", used, acked.Load(), spends.Load(), refused.Load())
	}
	t.Logf("phase 1: %d spend processes acknowledged %d units; quota_used = %d", spends.Load(), acked.Load(), used)

	// Phase 2: kill d1 without warning; d2 and d3 keep applying resets.
	d1.stop(t, syscall.SIGKILL)
	killed := time.Now()
	time.Sleep(6 * time.Second)

	// Phase 3: d1 comes back, catches up, and nothing is applied twice.
	d1b := startDaemon(t, bin, dir, "d1-restarted", append(common, "--no-jobs")...)
	d1b.waitReady(t)
	time.Sleep(4 * time.Second)

	// Stop: no new job runs (pause J, wait for a running one to end), then
	// every daemon stops cleanly.
	close(stopFast)
	fastWG.Wait()
	if code, out := cli("pause", "J", "--reason", "end of test"); code != 0 {
		t.Errorf("pause J: exit %d: %s", code, out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if js := jobState(t, st, "J"); js.Holder == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("J's job still running 10s after J was paused")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stopWG sync.WaitGroup
	for _, d := range []*daemon{d1b, d2, d3} {
		stopWG.Go(func() { d.stop(t, syscall.SIGTERM) })
	}
	stopWG.Wait()

	for _, d := range []*daemon{d1b, d2, d3} {
		for _, line := range strings.Split(d.log(), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("%s logged an error: %s", d.name, line)
			}
		}
	}
	evs := events(t, st)
	checkResets(t, evs, killed)
	checkResumes(t, evs)
	if n := count(evs, func(ev quotad.Event) bool {
		return ev.Channel == "C" && ev.Category == quotad.CategoryPause && ev.Fields["trigger"] == "external"
	}); n != 1 {
		t.Errorf("the outside edit of C was reconciled %d times, want once", n)
	}
	checkJobRuns(t, runs, jobState(t, st, "J"), d2.cmd.Process.Pid, d3.cmd.Process.Pid)
}

// checkResets: every timer reset of fast/tick is applied once (one
// quota_reset event per next_reset it computed), none that refilled an
// exhausted window is skipped while the daemons run, and the survivors kept
// applying them after the kill.
func checkResets(t *testing.T, evs []quotad.Event, killed time.Time) {
	t.Helper()
	seen := map[string]int{}
	var nexts []time.Time
	afterKill := 0
	for _, ev := range evs {
		if ev.Category != quotad.CategoryQuotaReset || ev.Fields["trigger"] != "timer" {
			continue
		}
		key := ev.Fields["api"] + "/" + ev.Fields["window"] + "@" + ev.Fields["next_reset"]
		seen[key]++
		if seen[key] == 2 {
			t.Errorf("reset %s applied more than once", key)
		}
		if ev.Fields["api"] != "fast" {
			t.Errorf("unexpected reset of %s", key)
			continue
		}
		next, err := time.Parse(time.RFC3339, ev.Fields["next_reset"])
		if err != nil {
			t.Fatalf("reset event next_reset %q: %v", ev.Fields["next_reset"], err)
		}
		nexts = append(nexts, next)
		if ev.Time.After(killed) {
			afterKill++
		}
	}
	// A timer reset of a window that was not exhausted writes no event
	// (it is not news), so two logged resets may be several periods apart;
	// but a period in which fast was exhausted must end with a logged
	// reset: an exhaustion logged before the last quiet reset of a gap
	// means that reset was skipped.
	var exhausted []time.Time
	for _, ev := range evs {
		if ev.Category == quotad.CategoryQuota && ev.Fields["api"] == "fast" {
			exhausted = append(exhausted, ev.Time)
		}
	}
	for i := 1; i < len(nexts); i++ {
		d := nexts[i].Sub(nexts[i-1])
		if d <= 0 || d%(2*time.Second) != 0 {
			t.Errorf("resets of fast/tick: next_reset %s then %s (%v apart): applied out of order",
				nexts[i-1].Format(time.RFC3339), nexts[i].Format(time.RFC3339), d)
			continue
		}
		// Quiet resets were due at nexts[i-1], …, nexts[i]-4s.
		lastQuiet := nexts[i].Add(-4 * time.Second)
		for _, at := range exhausted {
			if d > 2*time.Second && at.After(nexts[i-1].Add(-2*time.Second)) && at.Before(lastQuiet) {
				t.Errorf("resets of fast/tick: fast was exhausted at %s, but no reset was logged between next_reset %s and %s: one skipped",
					at.Format(time.RFC3339Nano), nexts[i-1].Format(time.RFC3339), nexts[i].Format(time.RFC3339))
				break
			}
		}
	}
	if len(nexts) < 8 || afterKill < 4 {
		t.Errorf("%d resets of fast/tick, %d after the kill: want at least 8 and 4", len(nexts), afterKill)
	}
	t.Logf("%d resets of fast/tick, each once; %d after d1 was killed", len(nexts), afterKill)
}

// checkResumes: A and B alternate between a quota:fast pause and an
// auto-resume, every auto-resume is committed with a timer reset (same
// transaction, same instant), and none is repeated.
func checkResumes(t *testing.T, evs []quotad.Event) {
	t.Helper()
	resetAt := map[time.Time]bool{}
	for _, ev := range evs {
		if ev.Category == quotad.CategoryQuotaReset {
			resetAt[ev.Time] = true
		}
	}
	for _, ch := range []string{"A", "B"} {
		paused, resumes := false, 0
		for _, ev := range evs {
			if ev.Channel != ch {
				continue
			}
			switch {
			case ev.Category == quotad.CategoryQuota && ev.Fields["reason"] == quotad.QuotaReason("fast").String():
				if paused {
					t.Errorf("%s paused for fast twice without a resume (event %d)", ch, ev.ID)
				}
				paused = true
			case ev.Category == quotad.CategoryAutoResume:
				if !paused {
					t.Errorf("%s auto-resumed twice without a pause between (event %d)", ch, ev.ID)
				}
				if !resetAt[ev.Time] {
					t.Errorf("%s auto-resumed (event %d) in a transaction without a reset", ch, ev.ID)
				}
				paused = false
				resumes++
			}
		}
		if resumes < 5 {
			t.Errorf("%s auto-resumed %d times, want at least 5", ch, resumes)
		}
		t.Logf("%s: %d auto-resumes, each after exactly one pause", ch, resumes)
	}
}

type jobRun struct {
	start, end int64 // unix ns; end 0 when missing
	pid        int
}

// checkJobRuns: no two runs of J overlap, every run ended, and the job
// record counts each once.
func checkJobRuns(t *testing.T, path string, js quotad.JobState, pids ...int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("J's job never ran: %v", err)
	}
	defer f.Close()
	byStart := map[int64]*jobRun{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		num := func(i int) int64 { n, _ := strconv.ParseInt(fs[i], 10, 64); return n }
		switch {
		case len(fs) == 3 && fs[0] == "start":
			byStart[num(1)] = &jobRun{start: num(1), pid: int(num(2))}
		case len(fs) == 4 && fs[0] == "end" && byStart[num(1)] != nil:
			byStart[num(1)].end = num(2)
		default:
			t.Errorf("runs file: unexpected line %q", sc.Text())
		}
	}
	var list []*jobRun
	perPid := map[int]int{}
	for _, r := range byStart {
		list = append(list, r)
		perPid[r.pid]++
	}
	sort.Slice(list, func(i, j int) bool { return list[i].start < list[j].start })
	for i, r := range list {
		if r.end == 0 {
			t.Errorf("run started at %d by pid %d never ended", r.start, r.pid)
		}
		if i > 0 && list[i-1].end > r.start {
			t.Errorf("runs overlap: pid %d ran [%d, %d], pid %d started at %d", list[i-1].pid, list[i-1].start, list[i-1].end, r.pid, r.start)
		}
	}
	if int64(len(list)) != js.Runs {
		t.Errorf("J's job started %d times, its record counts %d runs", len(list), js.Runs)
	}
	if len(list) < 5 {
		t.Errorf("J's job ran %d times, want at least 5", len(list))
	}
	for pid := range perPid {
		if pid != pids[0] && pid != pids[1] {
			t.Errorf("a job ran under pid %d, not one of the daemons with jobs %v", pid, pids)
		}
	}
	t.Logf("J's job ran %d times, never two at once; runs per daemon pid: %v", len(list), perPid)
}

func events(t *testing.T, s quotad.Store) []quotad.Event {
	t.Helper()
	var evs []quotad.Event
	err := s.View(context.Background(), func(tx quotad.Tx) error {
		var err error
		evs, err = tx.Events(quotad.EventFilter{Limit: 1 << 20})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	return evs
}

func count(evs []quotad.Event, f func(quotad.Event) bool) int {
	n := 0
	for _, ev := range evs {
		if f(ev) {
			n++
		}
	}
	return n
}

func channel(t *testing.T, s quotad.Store, name string) quotad.Channel {
	t.Helper()
	var c quotad.Channel
	if err := s.View(context.Background(), func(tx quotad.Tx) (err error) { c, err = tx.Channel(name); return err }); err != nil {
		t.Fatal(err)
	}
	return c
}

func window(t *testing.T, s quotad.Store, api string) quotad.Window {
	t.Helper()
	var a quotad.API
	if err := s.View(context.Background(), func(tx quotad.Tx) (err error) { a, err = tx.API(api); return err }); err != nil {
		t.Fatal(err)
	}
	return a.Windows[0]
}

func jobState(t *testing.T, s quotad.Store, ch string) quotad.JobState {
	t.Helper()
	var js quotad.JobState
	if err := s.View(context.Background(), func(tx quotad.Tx) (err error) { js, err = tx.JobState(ch); return err }); err != nil {
		t.Fatal(err)
	}
	return js
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
