//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

const runConfig = `timezone: America/Los_Angeles
apis:
  groq:
    unit: tokens
    keywords: [groq, llama]
    windows:
      - {name: daily, limit: 100000, reset: "daily 00:00"}
channels:
  Writer:
    apis: [groq]
    job:
      command: echo "hello from $QUOTAD_CHANNEL in $PWD"; "$QUOTAD_BIN" spend groq 10 --channel "$QUOTAD_CHANNEL"
  Failer:
    apis: [groq]
    job:
      command: [sh, -c, 'echo "render failed: disk full" >&2; exit 3']
  NoJob:
    apis: [groq]
`

func TestRunCommand(t *testing.T) {
	c := newCLI(t, runConfig)
	out, errs, code := c.run("run", "Writer")
	if code != 0 || !strings.Contains(out, "hello from Writer in "+c.dir) || !strings.Contains(errs, "[OK] job of channel Writer finished") {
		t.Fatalf("run Writer: exit %d\n%s%s", code, out, errs)
	}
	// The job's own quotad command found the store: QUOTAD_DB is absolute.
	if used := c.status().APIs[0].Windows[0].Used; used != 10 {
		t.Fatalf("groq used %d after the job's spend, want 10", used)
	}
	c.ok("pause", "Writer", "--reason", "editing")
	out, errs, code = c.run("run", "Writer")
	if code != 1 || out != "" || !strings.Contains(errs, "channel Writer is paused (manual)") || !strings.Contains(errs, "--force") {
		t.Fatalf("run on a paused channel: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	if used := c.status().APIs[0].Windows[0].Used; used != 10 {
		t.Fatal("the refused job ran")
	}
	if out, errs, code = c.run("run", "Writer", "--force"); code != 0 || !strings.Contains(out, "hello from Writer") {
		t.Fatalf("run --force: exit %d\n%s%s", code, out, errs)
	}
	if ch := channelOf(c.status(), "Writer"); ch.Active {
		t.Fatal("--force lifted the pause")
	}
	out, errs, code = c.run("run", "Failer")
	if code != 1 || !strings.Contains(out, "render failed: disk full") || !strings.Contains(errs, "job of channel Failer: failed") {
		t.Fatalf("run Failer: exit %d\n%s%s", code, out, errs)
	}
	if ch := channelOf(c.status(), "Failer"); ch.ConsecutiveErrors != 1 {
		t.Fatalf("a failed run counts toward the threshold: %+v", ch)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "Nobody"}, 1, "unknown channel"},
		{[]string{"run", "NoJob"}, 1, "has no job"},
		{[]string{"run"}, 2, "takes 1 argument"},
	} {
		if out, errs, code := c.run(tc.args...); code != tc.code || !strings.Contains(out+errs, tc.msg) {
			t.Errorf("quotad %s: exit %d %q; want %d with %q", strings.Join(tc.args, " "), code, out+errs, tc.code, tc.msg)
		}
	}
	var evs []quotad.EventStatus
	if err := json.Unmarshal([]byte(c.ok("logs", "--json", "--category", "job")), &evs); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Channel != "Failer" || evs[0].Fields["outcome"] != "failed" || evs[1].Fields["trigger"] != "forced" || evs[2].Fields["trigger"] != "manual" {
		t.Fatalf("job events: %+v", evs)
	}
}

// TestServeRunsAJobOnRequest asks a running daemon to run a job now, as the
// dashboard's "Run now" does: `quotad run --server` and the HTTP route.
func TestServeRunsAJobOnRequest(t *testing.T) {
	for _, k := range []string{"QUOTAD_DB", "QUOTAD_SERVER", "QUOTAD_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	cfg, db := filepath.Join(dir, "quotad.yaml"), filepath.Join(dir, "q.db")
	// The daemon runs in this test process: its QUOTAD_BIN is the test
	// binary, so the job names the quotad built by TestMain.
	doc := strings.Replace(runConfig, `"$QUOTAD_BIN"`, `"`+bin+`"`, 1) + "server:\n  token: " + httpTestToken + "\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startServe(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db)
	remote := []string{"--config", cfg, "--server", d.url, "--token", httpTestToken}

	// The runner may still be starting: 503 until it runs.
	var out, errOut string
	code := -1
	for deadline := time.Now().Add(10 * time.Second); code != 0; {
		out, errOut, code = runCLI(append([]string{"run", "Writer"}, remote...)...)
		if code != 0 && (!strings.Contains(errOut, "not running jobs") || time.Now().After(deadline)) {
			t.Fatalf("run --server: exit %d\n%s%s", code, out, errOut)
		}
	}
	if !strings.Contains(out, "started the job of channel Writer") {
		t.Fatalf("run --server printed %q", out)
	}
	// The run is recorded in the daemon's log when it ends; the job's own
	// spend reached the daemon.
	for deadline := time.Now().Add(20 * time.Second); ; {
		logs, _, _ := runCLI(append([]string{"logs", "--category", "job", "--json"}, remote...)...)
		if strings.Contains(logs, "Writer") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no job event for Writer:\n%s\n%s", logs, d.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, _, _ := runCLI(append([]string{"status", "--json"}, remote...)...); !strings.Contains(out, `"used": 10`) {
		t.Errorf("the job's spend is not in the status:\n%s", out)
	}

	// A paused channel's job is refused without --force; NoJob has none.
	runCLI(append([]string{"pause", "Writer"}, remote...)...)
	if _, errOut, code := runCLI(append([]string{"run", "Writer"}, remote...)...); code == 0 || !strings.Contains(errOut, "paused") {
		t.Fatalf("run of a paused channel: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(append([]string{"run", "NoJob"}, remote...)...); code == 0 || !strings.Contains(errOut, "no job") {
		t.Fatalf("run of a channel without a job: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(append([]string{"run", "Writer", "--force"}, remote...)...); code != 0 {
		t.Fatalf("run --force: exit %d %s", code, errOut)
	}
	// The dashboard finds the route in the API description.
	if _, body := get(t, d.url+"/api/v1/openapi.json", ""); !strings.Contains(body, `"/api/v1/channels/{name}/run"`) {
		t.Error("openapi.json does not describe the run route")
	}
}

// TestStatusShowsJobs: `quotad status --json` on the store shows a channel's
// job with its last run (the views the daemon serves too), and none for a
// channel without a job.
func TestStatusShowsJobs(t *testing.T) {
	c := newCLI(t, runConfig)
	if _, errs, code := c.run("run", "Writer"); code != 0 {
		t.Fatalf("run Writer: exit %d\n%s", code, errs)
	}
	st := c.status()
	if j := channelOf(st, "Writer").Job; j == nil || j.Runs != 1 || j.LastResult == "" || j.LastStart == nil {
		t.Fatalf("Writer's job after one run: %+v", j)
	}
	if j := channelOf(st, "NoJob").Job; j != nil {
		t.Fatalf("NoJob has no job but shows %+v", j)
	}
}
