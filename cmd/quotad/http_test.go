package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-to-end tests run `quotad serve` in this process: runContext in a
// goroutine with a cancellable context and its own output writers, so that
// no binary is built and the daemon stops when the test cancels it.

// lockedBuffer is an io.Writer safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const httpTestToken = "e2e-token-0123456789"

// isolate keeps the environment out of the test and returns a directory
// with a config (plus extra YAML) and the path of a fresh store.
func isolate(t *testing.T, extra string) (cfg, db string) {
	t.Helper()
	for _, k := range []string{"QUOTAD_DB", "QUOTAD_SERVER", "QUOTAD_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	cfg = filepath.Join(dir, "quotad.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "q.db")
}

// daemonRun is a `quotad serve` running in this process.
type daemonRun struct {
	url    string
	out    *lockedBuffer
	errOut *lockedBuffer
	cancel context.CancelFunc
	done   chan int
}

var addrLine = regexp.MustCompile(`\[OK\] HTTP API on (http://\S+)/api/v1\n`)

// startDaemon runs serve --no-jobs with args and waits for its HTTP address.
func startDaemon(t *testing.T, args ...string) *daemonRun {
	t.Helper()
	return startServe(t, append([]string{"--no-jobs"}, args...)...)
}

// startServe runs serve with args and waits for its HTTP address.
func startServe(t *testing.T, args ...string) *daemonRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonRun{out: &lockedBuffer{}, errOut: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { d.done <- runContext(ctx, append([]string{"serve"}, args...), d.out, d.errOut) }()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.After(30 * time.Second)
	for {
		if m := addrLine.FindStringSubmatch(d.out.String()); m != nil {
			d.url = m[1]
			return d
		}
		select {
		case code := <-d.done:
			d.done <- code
			t.Fatalf("serve exited with %d before listening:\n%s%s", code, d.out, d.errOut)
		case <-deadline:
			t.Fatalf("serve did not print its address:\n%s%s", d.out, d.errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop cancels the daemon and returns its exit status.
func (d *daemonRun) stop(t *testing.T) int {
	d.cancel()
	select {
	case code := <-d.done:
		d.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", d.out)
		return -1
	}
}

// runCLI runs one command in this process.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = runContext(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEndToEnd runs `quotad serve --listen 127.0.0.1:0` and drives it
// with the CLI in --server mode, comparing every answer with the CLI on the
// store directly.
func TestServeEndToEnd(t *testing.T) {
	cfg, db := isolate(t, "server:\n  token: "+httpTestToken+"\n")
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db, "--quiet")
	if !strings.HasPrefix(d.url, "http://127.0.0.1:") || strings.HasSuffix(d.url, ":0") {
		t.Fatalf("printed address %q is not the bound one", d.url)
	}
	if code, body := get(t, d.url+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code, body := get(t, d.url+"/readyz", ""); code != 200; code, body = get(t, d.url+"/readyz", "") {
		if time.Now().After(deadline) {
			t.Fatalf("readyz: %d %q", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	remote := []string{"--config", cfg, "--server", d.url, "--token", httpTestToken}
	direct := []string{"--config", cfg, "--db", db}
	same := func(wantCode int, args ...string) string {
		t.Helper()
		rOut, rErr, rCode := runCLI(append(args, remote...)...)
		dOut, dErr, dCode := runCLI(append(args, direct...)...)
		if rOut != dOut || rErr != dErr || rCode != dCode {
			t.Fatalf("quotad %s differs:\n--server (exit %d):\n%s%s\ndirect (exit %d):\n%s%s",
				strings.Join(args, " "), rCode, rOut, rErr, dCode, dOut, dErr)
		}
		if rCode != wantCode {
			t.Fatalf("quotad %s: exit %d, want %d\n%s%s", strings.Join(args, " "), rCode, wantCode, rOut, rErr)
		}
		return rOut
	}
	same(0, "status", "--json")
	same(0, "channels", "--json")
	same(1, "spend", "nope", "5")
	same(1, "pause", "Nobody")
	same(1, "resume", "Nobody")
	same(2, "spend", "youtube", "-5")

	// Mutations through the daemon, each read back both ways.
	out, errOut, code := runCLI(append([]string{"spend", "youtube", "10000", "--channel", "Shorts"}, remote...)...)
	if code != 0 || !strings.Contains(out, "[WARNING] YOUTUBE quota exhausted") {
		t.Fatalf("remote spend: %d\n%s%s", code, out, errOut)
	}
	if st := same(0, "status", "--json"); !strings.Contains(st, `"quota:youtube"`) {
		t.Fatalf("status after exhausting youtube:\n%s", st)
	}
	same(0, "logs", "--json", "--limit", "5")
	same(3, "spend", "youtube", "1") // refused by quotad (exit 3): exhausted until midnight Pacific
	same(0, "classify", "--api", "youtube", "--status", "403", "The request cannot be completed because you have exceeded your quota.")
	if out, errOut, code := runCLI(append([]string{"pause", "RankRiot", "--reason", "e2e"}, remote...)...); code != 0 {
		t.Fatalf("remote pause: %d %s%s", code, out, errOut)
	}
	same(0, "channels", "--json")
	if out, _, code := runCLI(append([]string{"resume", "--all"}, remote...)...); code != 0 || !strings.Contains(out, "Resumed: RankRiot") {
		t.Fatalf("remote resume --all: %d %s", code, out)
	}
	if out, _, code := runCLI(append([]string{"reset", "youtube"}, remote...)...); code != 0 || !strings.Contains(out, "[OK] YOUTUBE quota reset") {
		t.Fatalf("remote reset: %d %s", code, out)
	}
	same(0, "status", "--json")

	// Without the token, mutations are refused and reads served (loopback).
	plain := filepath.Join(t.TempDir(), "plain.yaml")
	if err := os.WriteFile(plain, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI("spend", "groq", "1", "--config", plain, "--server", d.url)
	if code != 1 || !strings.Contains(errOut, "unauthorized") {
		t.Fatalf("spend without a token: %d %s", code, errOut)
	}
	if _, _, code := runCLI("status", "--config", plain, "--server", d.url); code != 0 {
		t.Fatalf("status without a token: %d", code)
	}
	if strings.Contains(d.out.String()+d.errOut.String(), httpTestToken) {
		t.Fatal("the daemon printed its token")
	}

	if code := d.stop(t); code != 0 {
		t.Fatalf("serve exit %d after cancel:\n%s%s", code, d.out, d.errOut)
	}
	if !strings.Contains(d.out.String(), "[OK] quotad stopped") {
		t.Fatalf("serve output:\n%s", d.out)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(d.url, "http://"), time.Second); err == nil {
		t.Fatal("the daemon still listens after stopping")
	}
}

func TestServeNoHTTP(t *testing.T) {
	cfg, db := isolate(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"serve", "--no-http", "--no-jobs", "--listen", "127.0.0.1:0", "--config", cfg, "--db", db}, out, io.Discard)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "[OK] Quota monitor active"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve --no-http did not start:\n%s", out)
		}
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 || strings.Contains(out.String(), "HTTP API on") {
		t.Fatalf("--no-http: exit %d\n%s", code, out)
	}
}

func TestServeRefusesOpenAddressWithoutToken(t *testing.T) {
	cfg, db := isolate(t, "")
	var out, errOut lockedBuffer
	code := runContext(context.Background(), []string{"serve", "--no-jobs", "--listen", "0.0.0.0:0", "--config", cfg, "--db", db}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "refusing to serve HTTP on 0.0.0.0:0 without a token") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

func TestServeOpenAddressWithToken(t *testing.T) {
	cfg, db := isolate(t, "")
	t.Setenv("QUOTAD_TOKEN", httpTestToken)
	d := startDaemon(t, "--listen", "0.0.0.0:0", "--config", cfg, "--db", db, "--quiet")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(d.url, "http://"))
	base := "http://127.0.0.1:" + port
	if code, _ := get(t, base+"/api/v1/status", ""); code != http.StatusUnauthorized {
		t.Fatalf("a read without the token beyond loopback: %d", code)
	}
	if code, _ := get(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token beyond loopback: %d", code)
	}
	if code, body := get(t, base+"/api/v1/status", httpTestToken); code != http.StatusOK {
		t.Fatalf("a read with the token: %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
}

// TestGracefulShutdown stops the server while a request runs: the request
// completes, new connections are refused, and serveUntilDone returns once
// the request is done.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(ctx, ln, h, slog.New(slog.DiscardHandler), 10*time.Second) }()

	type answer struct {
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{string(b), err}
	}()
	<-entered
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for { // the listener closes at once
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("serveUntilDone returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if a := <-got; a.err != nil || a.body != "finished" {
		t.Fatalf("in-flight request: %q, %v", a.body, a.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serveUntilDone: %v", err)
	}
}

// TestShutdownBound cuts a request that outlives the bound.
func TestShutdownBound(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(ctx, ln, h, slog.New(slog.DiscardHandler), 50*time.Millisecond) }()
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	<-entered
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil || time.Since(start) > 5*time.Second {
			t.Fatalf("serveUntilDone: %v after %s", err, time.Since(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveUntilDone ignored its bound")
	}
	if err := <-got; err == nil {
		t.Fatal("the stuck request got an answer")
	}
}

func TestServeListenFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, db := isolate(t, "")
	var errOut lockedBuffer
	code := runContext(context.Background(), []string{"serve", "--no-jobs", "--listen", ln.Addr().String(), "--config", cfg, "--db", db}, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "address already in use") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

func TestTokenCommand(t *testing.T) {
	cfg, _ := isolate(t, "")
	out, errOut, code := runCLI("token", "--new")
	tok := strings.TrimSpace(out)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if code != 0 || err != nil || len(raw) != 32 || strings.Count(out, "\n") != 1 {
		t.Fatalf("token --new: exit %d, %q (%v)", code, out, err)
	}
	if !strings.Contains(errOut, "token: "+tok) || !strings.Contains(errOut, "QUOTAD_TOKEN="+tok) {
		t.Fatalf("token --new instructions:\n%s", errOut)
	}
	if again, _, _ := runCLI("token", "--new"); again == out {
		t.Fatal("two new tokens are equal")
	}

	_, errOut, code = runCLI("token", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "quotad token --new") {
		t.Fatalf("token without one configured: %d %s", code, errOut)
	}
	t.Setenv("QUOTAD_TOKEN", "from-env")
	if out, _, code := runCLI("token", "--config", cfg); code != 0 || out != "from-env\n" {
		t.Fatalf("token from QUOTAD_TOKEN: %d %q", code, out)
	}
	t.Setenv("QUOTAD_TOKEN", "")
	cfgTok, _ := isolate(t, "server:\n  token: from-config\n")
	if out, _, code := runCLI("token", "--config", cfgTok); code != 0 || out != "from-config\n" {
		t.Fatalf("token from the config: %d %q", code, out)
	}
}

func TestRemoteBadURL(t *testing.T) {
	cfg, _ := isolate(t, "")
	_, errOut, code := runCLI("status", "--config", cfg, "--server", "localhost:8080")
	if code != 1 || !strings.Contains(errOut, "must look like http://") {
		t.Fatalf("bad --server: %d %s", code, errOut)
	}
	_, errOut, code = runCLI("status", "--config", cfg, "--server", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("no daemon: %d %s", code, errOut)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "[::]:1": false, "192.0.2.1:1": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(a); got != want {
			t.Errorf("isLoopback(%s) = %v", addr, got)
		}
	}
	if isLoopback(&net.UnixAddr{Name: "/tmp/x", Net: "unix"}) {
		t.Error("a unix socket is not a loopback address here")
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if hs.ReadHeaderTimeout != 10*time.Second || hs.ReadTimeout != 30*time.Second || hs.WriteTimeout != 60*time.Second || hs.IdleTimeout != 120*time.Second {
		t.Fatalf("timeouts: header %s, read %s, write %s, idle %s", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
	if hs.ErrorLog == nil {
		t.Fatal("http.Server errors are not sent to the daemon's log")
	}
}
