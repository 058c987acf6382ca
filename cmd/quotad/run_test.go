//go:build unix

package main

import (
	"encoding/json"
	"strings"
	"testing"

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
