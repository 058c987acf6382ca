//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// demoBound bounds the end-to-end run of the demo.
const demoBound = 150 * time.Second

// TestDemoEndToEnd runs examples/demo for real, as the README tells people
// to (without HTTP), and checks in the event log that groq runs out, Writer
// pauses, groq comes back (reset, or Groq's stated retry time), and Writer
// resumes by itself and runs again, without running while it was paused.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for up to two minutes of real time")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "demo.db")
	env := append(os.Environ(), "QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=")
	serve := exec.Command(bin, "serve", "--config", "examples/demo/quotad.yaml", "--db", db, "--no-http")
	serve.Dir, serve.Env = root, env
	var stderr bytes.Buffer
	serve.Stderr = &stderr
	pipe, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stdout strings.Builder
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			mu.Lock()
			stdout.WriteString(sc.Text() + "\n")
			mu.Unlock()
			lines <- sc.Text()
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		serve.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() {
			for range lines { // drain until the daemon closes its output
			}
			done <- serve.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("quotad serve: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			serve.Process.Kill()
			t.Errorf("quotad serve did not stop within 30s of SIGTERM")
		}
	}
	defer stop()
	logs := func() []quotad.EventStatus {
		cmd := exec.Command(bin, "logs", "--json", "--limit", "10000", "--db", db, "--config", "examples/demo/quotad.yaml")
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("quotad logs: %v", err)
		}
		var evs []quotad.EventStatus
		if err := json.Unmarshal(out, &evs); err != nil {
			t.Fatal(err)
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
		return evs
	}
	fail := func(format string, args ...any) {
		t.Helper()
		mu.Lock()
		out := stdout.String()
		mu.Unlock()
		var b strings.Builder
		for _, ev := range logs() {
			fmt.Fprintf(&b, "%d %s [%s] [%s] [%s] %s %v\n", ev.ID, ev.Time.Format("15:04:05.000"), ev.Level, ev.Channel, ev.Category, ev.Message, ev.Fields)
		}
		t.Fatalf(format+"\n--- serve stdout:\n%s\n--- serve stderr:\n%s\n--- event log:\n%s", append(args, out, stderr.String(), b.String())...)
	}

	// Wait, on the daemon's own output, for Writer to resume and run again.
	deadline := time.After(demoBound)
	resumed := false
	for waiting := true; waiting; {
		select {
		case line, ok := <-lines:
			switch {
			case !ok:
				stopped = true
				fail("quotad serve exited early: %v", serve.Wait())
			case strings.Contains(line, "[OK] Resumed: Writer"):
				resumed = true
			case resumed && strings.Contains(line, "[Writer] [job] Job"):
				waiting = false
			}
		case <-deadline:
			fail("no resume of Writer followed by a run within %s", demoBound)
		}
	}
	stop()

	// The store tells the story, in order.
	evs := logs()
	find := func(from int, what string, ok func(quotad.EventStatus) bool) int {
		for i := from; i < len(evs); i++ {
			if ok(evs[i]) {
				return i
			}
		}
		fail("no %s in the event log after event %d", what, from)
		return -1
	}
	exhausted := find(0, "groq exhaustion", func(e quotad.EventStatus) bool {
		return e.Category == quotad.CategoryQuota && e.Fields["api"] == "groq" && e.Fields["window"] != "" && strings.Contains(e.Message, "GROQ quota exhausted")
	})
	paused := find(exhausted, "pause of Writer", func(e quotad.EventStatus) bool {
		return e.Channel == "Writer" && e.Fields["reason"] == "quota:groq"
	})
	classified := find(paused, "Writer's run classified as a groq quota error", func(e quotad.EventStatus) bool {
		return e.Category == quotad.CategoryJob && e.Channel == "Writer" && e.Fields["outcome"] == "quota" && e.Fields["api"] == "groq" && e.Fields["until"] != ""
	})
	reset := find(paused, "groq reset", func(e quotad.EventStatus) bool {
		return e.Category == quotad.CategoryQuotaReset && e.Fields["api"] == "groq"
	})
	resume := find(reset, "auto-resume of Writer", func(e quotad.EventStatus) bool {
		return e.Category == quotad.CategoryAutoResume && e.Channel == "Writer"
	})
	find(resume, "a run of Writer after its resume", func(e quotad.EventStatus) bool {
		return e.Category == quotad.CategoryJob && e.Channel == "Writer"
	})
	if classified > resume {
		fail("the refused run was recorded after the resume")
	}
	for _, e := range evs[paused:resume] {
		if e.Category == quotad.CategoryJob && e.Channel == "Writer" && e.Fields["outcome"] != "quota" {
			fail("Writer ran while paused: event %d", e.ID)
		}
	}
	t.Logf("exhausted %s, paused %s, reset %s, resumed %s", evs[exhausted].Time.Format(time.TimeOnly), evs[paused].Time.Format(time.TimeOnly),
		evs[reset].Time.Format(time.TimeOnly), evs[resume].Time.Format(time.TimeOnly))
}
