package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// A start that cannot serve is refused before anything is applied: no
// "[OK]" line, and the store is not even created.
func TestServeRefusedStartChangesNothing(t *testing.T) {
	cfg, db := isolate(t, "")
	var out, errOut lockedBuffer
	code := runContext(context.Background(), []string{"serve", "--no-jobs", "--listen", "0.0.0.0:0", "--config", cfg, "--db", db}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "refusing to serve HTTP on 0.0.0.0:0 without a token") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "[OK]") || strings.Contains(out.String(), "Starting") {
		t.Fatalf("a refused start printed its start-up lines:\n%s", out.String())
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("a refused start touched the store %s: %v", db, err)
	}
}

// A second serve on an address in use fails with a message that says what
// to do, prints no "[OK]" line and leaves the running daemon's config alone.
func TestServeSecondOnUsedPort(t *testing.T) {
	cfg, db := isolate(t, "")
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db, "--quiet")
	addr := strings.TrimPrefix(d.url, "http://")
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(testConfig, "limit: 10000,", "limit: 7,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut lockedBuffer
	code := runContext(context.Background(), []string{"serve", "--no-jobs", "--listen", addr, "--config", other, "--db", db}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "address already in use") || !strings.Contains(errOut.String(), "another quotad serve") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "[OK]") {
		t.Fatalf("the refused serve printed an [OK] line:\n%s", out.String())
	}
	if w := windowOf(t, d.url, "youtube", "daily"); w.Limit != 10000 {
		t.Fatalf("the refused serve applied its config: youtube limit %d", w.Limit)
	}
}

// windowOf reads one window from a daemon's /api/v1/status.
func windowOf(t *testing.T, url, api, window string) quotad.WindowStatus {
	t.Helper()
	code, body := get(t, url+"/api/v1/status", "")
	if code != 200 {
		t.Fatalf("status: %d %s", code, body)
	}
	var st quotad.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	for _, a := range st.APIs {
		if a.Name != api {
			continue
		}
		for _, w := range a.Windows {
			if w.Name == window {
				return w
			}
		}
	}
	return quotad.WindowStatus{}
}

// proc is the quotad binary running `serve` as a separate process, as
// systemd runs it, with its output lines collected.
type proc struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	lines   []string
	from    int           // await looks at lines from here on (mark)
	changed chan struct{} // closed and replaced when a line arrives or output ends
	ended   bool
}

func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), changed: make(chan struct{})}
	p.cmd.Env = append(append(os.Environ(), "QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=", "NOTIFY_SOCKET="), env...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.ended = true
		close(p.changed)
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
		w.Close()
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// mark makes await look only at lines printed from now on.
func (p *proc) mark() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.from = len(p.lines)
}

// await returns the submatches of the first line since the mark that
// matches re, waiting for it; lines may come in any order.
func (p *proc) await(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.lines[p.from:] {
			if m := rx.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m
			}
		}
		changed, ended := p.changed, p.ended
		p.mu.Unlock()
		if ended {
			t.Fatalf("serve ended before printing %q:\n%s", re, p.output())
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("serve did not print %q:\n%s", re, p.output())
		}
	}
}

// TestReloadOnSIGHUP runs the real binary, edits its config and sends
// SIGHUP: the change is applied (seen over HTTP), the log says what
// changed, settings that need a restart are named, a job added starts
// running, and an invalid file is refused with its line while the old
// config stays in force. systemd hears READY, RELOADING and STOPPING.
func TestReloadOnSIGHUP(t *testing.T) {
	cfg, db := isolate(t, "")
	sock := filepath.Join(t.TempDir(), "notify.sock")
	notes, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notes.Close()
	notified := func(want string) string {
		t.Helper()
		notes.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		n, err := notes.Read(buf)
		if err != nil || strings.Split(string(buf[:n]), "\n")[0] != want {
			t.Fatalf("systemd got %q (%v), want %q", buf[:n], err, want)
		}
		return string(buf[:n])
	}
	p := startProc(t, []string{"NOTIFY_SOCKET=" + sock}, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db)
	url := "http://" + p.await(t, `\[OK\] HTTP API on http://(\S+)/api/v1`)[1]
	notified("READY=1")
	if w := windowOf(t, url, "youtube", "daily"); w.Limit != 10000 {
		t.Fatalf("youtube limit %d before the reload", w.Limit)
	}

	edited := strings.Replace(testConfig, "limit: 10000,", "limit: 5000,", 1)
	edited = strings.Replace(edited, "timezone: America/Los_Angeles", "timezone: Europe/Paris", 1)
	edited += `  Writer:
    apis: [groq]
    job:
      command: echo writing
      schedule: every 6h
`
	hook := newHookServer(t, "s3cret")
	edited += "notifiers:\n  hook:\n    type: webhook\n    url: " + hook.URL + "\n    secret: s3cret\n"
	if err := os.WriteFile(cfg, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	p.mark()
	p.cmd.Process.Signal(syscall.SIGHUP)
	notified("RELOADING=1")
	line := p.await(t, `\[OK\] Config reloaded from .*`)[0]
	for _, want := range []string{"window youtube/daily limit 5000", "added channel Writer", "added job of channel Writer", "added notifier hook"} {
		if !strings.Contains(line, want) {
			t.Errorf("reload line %q does not say %q", line, want)
		}
	}
	notified("READY=1")
	if w := windowOf(t, url, "youtube", "daily"); w.Limit != 5000 {
		t.Fatalf("youtube limit %d after the reload, want 5000", w.Limit)
	}
	p.await(t, `\[WARNING\] Needs a restart .*timezone of printed times and usage days \(America/Los_Angeles → Europe/Paris\)`)
	p.await(t, `\[OK\] Job runner active: 1 job`)
	// The notifier added by the reload is told of a pause made now.
	if out, errOut, code := runCLI("pause", "Shorts", "--server", url, "--config", cfg); code != 0 {
		t.Fatalf("pause: %d %s%s", code, out, errOut)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ms := hook.messages(); len(ms) > 0 {
			if ms[0].Kind != "manual" || ms[0].Channel != "Shorts" {
				t.Fatalf("the new notifier got %+v", ms[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notifier added by the reload got nothing:\n%s", p.output())
		}
	}

	if err := os.WriteFile(cfg, []byte(edited+"  Broken: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.mark()
	p.cmd.Process.Signal(syscall.SIGHUP)
	notified("RELOADING=1")
	p.await(t, `\[ERROR\] Config reload refused, the running config stays in force: .*quotad\.yaml:\d+`)
	if msg := notified("READY=1"); !strings.Contains(msg, "\nSTATUS=Serving "+url+"; config reload refused: ") {
		t.Errorf("systemd's status after a refused reload: %q", msg)
	}
	if w := windowOf(t, url, "youtube", "daily"); w.Limit != 5000 {
		t.Fatalf("youtube limit %d after a refused reload, want 5000", w.Limit)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(edited, "limit: 5000,", "limit: 0,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p.mark()
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.await(t, `\[ERROR\] Config reload refused.*quotad\.yaml:\d+`)
	// A file that has gone is refused too: never the built-in defaults.
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	p.mark()
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.await(t, `\[ERROR\] Config reload refused.*quotad\.yaml does not exist`)
	if w := windowOf(t, url, "youtube", "daily"); w.Limit != 5000 {
		t.Fatalf("youtube limit %d after the config file went, want 5000", w.Limit)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	for range 2 {
		notified("RELOADING=1")
		notified("READY=1")
	}
	notified("STOPPING=1")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, p.output())
	}
}

// A reload that changes jobs while one runs lets that run finish (it is not
// interrupted) and starts the new runner after it.
func TestReloadDrainsARunningJob(t *testing.T) {
	cfg, db := isolate(t, "")
	gate := filepath.Join(t.TempDir(), "go")
	job := func(schedule string) string {
		return testConfig + `  Writer:
    apis: [groq]
    job:
      command: echo started; while [ ! -e "` + gate + `" ]; do sleep 0.01; done; echo done
      schedule: ` + schedule + "\n"
	}
	if err := os.WriteFile(cfg, []byte(job("every 6h")), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, nil, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db)
	url := "http://" + p.await(t, `\[OK\] HTTP API on http://(\S+)/api/v1`)[1]
	p.await(t, `\[OK\] Job runner active: 1 job`)
	if out, errOut, code := runCLI("run", "Writer", "--server", url, "--config", cfg); code != 0 {
		t.Fatalf("run: %d %s%s", code, out, errOut)
	}
	if err := os.WriteFile(cfg, []byte(job("every 12h")), 0o644); err != nil {
		t.Fatal(err)
	}
	p.mark()
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.await(t, `\[OK\] Config reloaded from .*changed job of channel Writer`)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p.await(t, `\[Writer\] \[job\] `)
	p.await(t, `\[OK\] Job runner active: 1 job`)
	out, _, _ := runCLI("logs", "--category", "job", "--json", "--server", url, "--config", cfg)
	if !strings.Contains(out, "Writer") || strings.Contains(out, "interrupted") {
		t.Fatalf("the running job was interrupted by the reload, or not recorded:\n%s\n%s", out, p.output())
	}
	// The daemon serves each channel's job view, and the reload swapped it.
	out, _, _ = runCLI("status", "--json", "--server", url, "--config", cfg)
	var st quotad.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if j := channelOf(st, "Writer").Job; j == nil || j.Schedule != "every 12h" || j.Runs < 1 {
		t.Fatalf("the served job view after the reload: %+v, want schedule every 12h and the run", j)
	}
}
