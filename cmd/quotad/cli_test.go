package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// bin is the quotad binary built once for the tests that run it as a
// separate process, as a person would.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quotad-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "quotad")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build quotad: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testConfig = `timezone: America/Los_Angeles
apis:
  groq:
    unit: tokens
    keywords: [groq, llama]
    windows:
      - {name: daily, limit: 100000, reset: "daily 00:00"}
  youtube:
    keywords: [youtube, google]
    windows:
      - {name: daily, limit: 10000, reset: "daily 00:00"}
channels:
  RankRiot:
    apis: [groq, youtube]
  Shorts:
    apis: [youtube]
`

// cli runs quotad in dir with the test config and returns stdout, stderr
// and the exit status.
type cli struct {
	t   *testing.T
	dir string
}

func newCLI(t *testing.T, cfg string) *cli {
	dir := t.TempDir()
	if cfg != "" {
		if err := os.WriteFile(filepath.Join(dir, "quotad.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &cli{t: t, dir: dir}
}

func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("quotad %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (c *cli) status() quotad.Status {
	c.t.Helper()
	var st quotad.Status
	if err := json.Unmarshal([]byte(c.ok("status", "--json")), &st); err != nil {
		c.t.Fatal(err)
	}
	return st
}

func channelOf(st quotad.Status, name string) quotad.ChannelStatus {
	for _, c := range st.Channels {
		if c.Name == name {
			return c
		}
	}
	return quotad.ChannelStatus{}
}

func TestCLIManualOperations(t *testing.T) {
	c := newCLI(t, testConfig)
	st := c.status()
	if len(st.APIs) != 2 || len(st.Channels) != 2 {
		t.Fatalf("fresh status: %+v", st)
	}
	if out := c.ok("spend", "youtube", "9000", "--channel", "Shorts"); !strings.Contains(out, "1000 remaining") {
		t.Fatalf("spend output: %s", out)
	}
	out := c.ok("report-error", "--channel", "Shorts", "--status", "403",
		`{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.","errors":[{"message":"quota","domain":"youtube.quota","reason":"quotaExceeded"}]}}`)
	if !strings.Contains(out, "quota: true") || !strings.Contains(out, "Paused: RankRiot") || !strings.Contains(out, "Paused: Shorts") {
		t.Fatalf("report-error output:\n%s", out)
	}
	if _, errs, code := c.run("spend", "youtube", "1"); code != 3 || !strings.Contains(errs, "quota exhausted") {
		t.Fatalf("spend on exhausted youtube: exit %d %s", code, errs)
	}
	c.ok("pause", "RankRiot", "--reason", "new intro")
	c.ok("reset", "youtube")
	st = c.status()
	if !channelOf(st, "Shorts").Active {
		t.Fatal("Shorts not resumed by reset youtube")
	}
	if r := channelOf(st, "RankRiot"); r.Active || len(r.PauseReasons) != 1 || r.PauseReasons[0].Reason != "manual" {
		t.Fatalf("RankRiot after reset: %+v (a manual pause must stay)", r)
	}
	if out := c.ok("resume", "RankRiot"); !strings.Contains(out, "Resumed: RankRiot") {
		t.Fatalf("resume: %s", out)
	}
	logs := c.ok("logs", "--category", "%quota%", "--limit", "50")
	if !strings.Contains(logs, "YOUTUBE quota exhausted") || !strings.Contains(logs, "YOUTUBE quota reset") {
		t.Fatalf("logs:\n%s", logs)
	}
	var evs []quotad.EventStatus
	if err := json.Unmarshal([]byte(c.ok("logs", "--json", "--channel", "RankRiot")), &evs); err != nil || len(evs) == 0 {
		t.Fatalf("logs --json: %v %d", err, len(evs))
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(c.ok("classify", "--json", "--status", "429", "--header", "Retry-After: 30", "groq says slow down")), &v); err != nil {
		t.Fatal(err)
	}
	if v["quota"] != true || v["api"] != "groq" || v["until"] == nil {
		t.Fatalf("classify --json: %v", v)
	}
	// For a person: the time in the config's zone with the time left, as
	// everywhere else, not UTC.
	human := c.ok("classify", "--status", "429", "--header", "Retry-After: 30", "groq says slow down")
	if !regexp.MustCompile(`until: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d P[SD]T \(in (29|30)s\)`).MatchString(human) {
		t.Fatalf("classify:\n%s", human)
	}
	if before, after := c.status(), c.status(); len(before.APIs) != len(after.APIs) {
		t.Fatal("classify changed state")
	}
}

func TestCLIExitStatuses(t *testing.T) {
	c := newCLI(t, testConfig)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"spend", "youtube"}, 2, "takes 2 argument"},
		{[]string{"spend", "youtube", "-5"}, 2, ""},
		{[]string{"spend", "youtube", "lots"}, 2, "positive whole number"},
		{[]string{"spend", "nope", "5"}, 1, "unknown API"},
		{[]string{"resume", "Nobody"}, 1, "unknown channel"},
		{[]string{"reset"}, 2, "--all"},
		{[]string{"status", "--bogus"}, 2, "unknown flag"},
		{[]string{"schedule", "dayly 00:00"}, 2, "expected"},
		{[]string{"report-error", "--status", "999", "x"}, 2, "--status"},
		{[]string{"version"}, 0, ""},
	} {
		out, errs, code := c.run(tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.msg) {
			t.Errorf("quotad %s: exit %d, output %q; want exit %d containing %q", strings.Join(tc.args, " "), code, out+errs, tc.code, tc.msg)
		}
	}
	if st := c.status(); st.APIs[1].Windows[0].Used != 0 {
		t.Fatal("bad input changed state")
	}
}

func TestCLIBadConfigNamesFileAndLine(t *testing.T) {
	c := newCLI(t, "timezone: America/Los_Angeles\napis:\n  groq:\n    windows:\n      - {name: daily, limit: 100, reset: \"dayly 00:00\"}\n")
	_, errs, code := c.run("status")
	if code == 0 || !strings.Contains(errs, "quotad.yaml:5") || !strings.Contains(errs, "expected") {
		t.Fatalf("exit %d, stderr %q; want file:line and what was expected", code, errs)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "quotad.db")); err == nil {
		t.Fatal("a bad config still created the store")
	}
}

func TestCLIInitWritesAValidConfig(t *testing.T) {
	c := newCLI(t, "")
	c.ok("init")
	if _, errs, code := c.run("init"); code == 0 || !strings.Contains(errs, "exists") {
		t.Fatalf("second init: %d %s", code, errs)
	}
	st := c.status()
	if len(st.APIs) != 3 || channelOf(st, "RankRiot").Name == "" {
		t.Fatalf("status with the example config: %+v", st)
	}
}

func TestCLISchedule(t *testing.T) {
	c := newCLI(t, "")
	var got []time.Time
	out := c.ok("schedule", `cron "0 2 * * *" America/Los_Angeles`, "--from", "2026-03-07T00:00:00Z", "-n", "3", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-03-07T10:00:00Z", "2026-03-08T10:00:00Z", "2026-03-09T09:00:00Z"}
	for i, w := range want {
		if got[i].UTC().Format(time.RFC3339) != w {
			t.Fatalf("schedule[%d] = %s, want %s (2 a.m. does not exist on 8 March: 3 a.m. PDT)", i, got[i].UTC().Format(time.RFC3339), w)
		}
	}
}

// TestCLIConcurrentProcesses spends from many processes at once: no update
// is lost.
func TestCLIConcurrentProcesses(t *testing.T) {
	c := newCLI(t, testConfig)
	c.ok("status") // create and configure the store
	const procs, each = 8, 10
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			for range each {
				if out, errs, code := c.run("spend", "groq", "7", "--channel", "RankRiot"); code != 0 {
					t.Errorf("spend: exit %d %s %s", code, out, errs)
				}
			}
		})
	}
	wg.Wait()
	st := c.status()
	if used := st.APIs[0].Windows[0].Used; used != procs*each*7 {
		t.Fatalf("groq used %d, want %d", used, procs*each*7)
	}
}

// TestSeedQueriesWork runs the reference document's sqlite3 one-liners on the
// store file.
func TestSeedQueriesWork(t *testing.T) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 CLI not installed (apt-get install sqlite3)")
	}
	c := newCLI(t, testConfig)
	c.ok("spend", "groq", "100000", "--channel", "RankRiot")
	db := filepath.Join(c.dir, "quotad.db")
	q := func(sql string) string {
		out, err := exec.Command(sqlite3, db, sql).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v %s", sql, err, out)
		}
		return string(out)
	}
	if out := q("SELECT api_name, quota_remaining, is_exhausted, next_reset FROM api_quotas;"); !strings.Contains(out, "groq|0|1|") {
		t.Fatalf("status query:\n%s", out)
	}
	if out := q("SELECT * FROM logs WHERE category LIKE '%quota%' ORDER BY timestamp DESC LIMIT 10;"); !strings.Contains(out, "GROQ quota exhausted") {
		t.Fatalf("logs query:\n%s", out)
	}
	q("UPDATE channels SET is_active = 1 WHERE name = 'RankRiot';")
	c.ok("resume") // any pass of the engine honours the edit
	if r := channelOf(c.status(), "RankRiot"); !r.Active {
		t.Fatalf("the seed's manual reactivation was not honoured: %+v", r)
	}
}

// TestCLIReserveAcrossProcessesNeverOverGrants reserves from many processes
// at once on one store: the grants never exceed the limit.
func TestCLIReserveAcrossProcessesNeverOverGrants(t *testing.T) {
	c := newCLI(t, testConfig)
	c.ok("spend", "youtube", "9000") // 1000 units left
	const procs, each, units = 6, 8, 37
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			for range each {
				out, errs, code := c.run("reserve", "youtube", fmt.Sprint(units), "--channel", "Shorts")
				switch {
				case code == 0:
					mu.Lock()
					granted += units
					mu.Unlock()
				case code == 3 && strings.Contains(errs, "kind=window"):
				default:
					t.Errorf("reserve: exit %d %s %s", code, out, errs)
				}
			}
		})
	}
	wg.Wait()
	if granted > 1000 || granted < 1000-units {
		t.Fatalf("granted %d units of the 1000 left", granted)
	}
	id := strings.TrimSpace(c.ok("reserve", "groq", "500"))
	c.ok("commit", id, "420")
	if used := c.status().APIs[0].Windows[0].Used; used != 420 {
		t.Fatalf("groq used %d after committing 420", used)
	}
	if _, errs, code := c.run("release", id); code != 1 || !strings.Contains(errs, "unknown reservation") {
		t.Fatalf("releasing a committed reservation: %d %s", code, errs)
	}
}
