package sdktest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/internal/fakeprovider"
)

// bin is the quotad binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quotad-sdktest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "quotad")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/quotad/quotad/cmd/quotad").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build quotad: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needNode skips a test when Node.js or the pinned SDKs are missing.
func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed: the SDK tests need node (apt-get install nodejs npm) and `npm ci` in internal/sdktest/testdata")
	}
	for _, pkg := range []string{"openai", "groq-sdk", "@googleapis/youtube"} {
		if _, err := os.Stat(filepath.Join("testdata", "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("the npm package %s is not installed: run `npm ci` in internal/sdktest/testdata (.ci/run does)", pkg)
		}
	}
}

// python returns a Python 3 that can import every module, or skips.
func python(t *testing.T, modules ...string) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil {
			if exec.Command(path, "-c", "import "+strings.Join(modules, ", ")).Run() == nil {
				return path
			}
		}
	}
	t.Skipf("no python3 with %s: apt-get install python3-googleapi python3-requests (.ci/run does)", strings.Join(modules, ", "))
	return ""
}

// shiftClock is the real clock shifted by an offset a test may change:
// the fake providers' minute can be made to end when a test wants.
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// world is the fake providers and a quotad serve whose upstreams are them.
type world struct {
	t     *testing.T
	fake  *fakeprovider.Fake
	clock *shiftClock
	url   string // quotad's HTTP address
	cfg   string
	db    string
}

const configTmpl = `timezone: America/Los_Angeles
apis:
  groq:
    provider: groq
    upstream: %s/openai/v1
  openai:
    provider: openai
    upstream: %s/v1
    windows:
      - {name: rpm, limit: 500, reset: "every 1m"}
      - {name: rpd, limit: 10000, reset: "daily 00:00 UTC"}
      - {name: tpm, limit: 200000, reset: "every 1m"}
      - {name: tpd, limit: 10000000, reset: "daily 00:00 UTC"}
  youtube:
    provider: youtube
    upstream: %s/youtube/v3
  pexels:
    provider: pexels
    upstream: %s
%schannels:
  RankRiot:
    apis: [groq, youtube, pexels]
  Bot:
    apis: [openai]
`

var addrLine = regexp.MustCompile(`\[OK\] HTTP API on (http://\S+)/api/v1`)

func newWorld(t *testing.T) *world { return newWorldWith(t, "") }

// newWorldWith adds more APIs to the config, in its YAML (indented by 2).
func newWorldWith(t *testing.T, moreAPIs string) *world {
	t.Helper()
	w := &world{t: t, clock: &shiftClock{}}
	w.fake = fakeprovider.New(fakeprovider.Options{Clock: w.clock})
	servers := map[string]*httptest.Server{}
	for name, h := range map[string]http.Handler{"groq": w.fake.Groq(), "openai": w.fake.OpenAI(), "youtube": w.fake.YouTube(), "pexels": w.fake.Pexels()} {
		servers[name] = httptest.NewServer(h)
		t.Cleanup(servers[name].Close)
	}
	dir := t.TempDir()
	w.cfg, w.db = filepath.Join(dir, "quotad.yaml"), filepath.Join(dir, "quotad.db")
	doc := fmt.Sprintf(configTmpl, servers["groq"].URL, servers["openai"].URL, servers["youtube"].URL, servers["pexels"].URL,
		strings.ReplaceAll(moreAPIs, "YOUTUBE", servers["youtube"].URL))
	if err := os.WriteFile(w.cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", w.cfg, "--db", w.db, "--listen", "127.0.0.1:0", "--no-jobs", "--quiet", "--log-level", "debug")
	cmd.Env = append(os.Environ(), "QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=", "QUOTAD_CONFIG=")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("quotad serve's log:\n%s", stderr.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("quotad serve exited before listening:\n%s", stderr.String())
		}
		w.url = u
	case <-time.After(60 * time.Second):
		t.Fatalf("quotad serve did not print its address:\n%s", stderr.String())
	}
	return w
}

type lockedBuf struct {
	mu  chan struct{}
	buf strings.Builder
}

func (b *lockedBuf) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.String()
}

// run runs a program (node, python) in testdata and decodes the JSON line
// it prints into out.
func (w *world) run(out any, env []string, name string, args ...string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		w.t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, b, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		w.t.Fatalf("%s %s printed %s: %v", name, strings.Join(args, " "), b, err)
	}
}

// status returns quotad's windows: API → window → status.
func (w *world) status() map[string]map[string]quotad.WindowStatus {
	w.t.Helper()
	resp, err := http.Get(w.url + "/api/v1/status")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st quotad.Status
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &st); err != nil {
		w.t.Fatalf("status: %v: %s", err, b)
	}
	out := map[string]map[string]quotad.WindowStatus{}
	for _, a := range st.APIs {
		out[a.Name] = map[string]quotad.WindowStatus{}
		for _, win := range a.Windows {
			out[a.Name][win.Key] = win // a model's window is model/name
		}
	}
	return out
}

// waitUsed waits until quotad's windows of api are used as want (the
// proxy commits a success's accounting a few milliseconds after the
// answer), and fails with what they are after 10 s.
func (w *world) waitUsed(api string, want map[string]int64) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := w.status()[api]
		ok := true
		for name, n := range want {
			if st[name].Used != n {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			got := map[string]int64{}
			for name, s := range st {
				got[name] = s.Used
			}
			w.t.Fatalf("quotad's %s windows are used %v, want %v (what the fake provider charged)", api, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeModelTokens sums the tokens a fake provider reported on its 2xx
// answers, per model.
func (w *world) fakeModelTokens(provider string) map[string]int64 {
	out := map[string]int64{}
	for _, c := range w.fake.CallsTo(provider) {
		if c.Status == 200 {
			out[c.Model] += c.Tokens
		}
	}
	return out
}

// fakeTokens sums the tokens a fake provider reported on its 2xx answers.
func (w *world) fakeTokens(provider string) (tokens, calls int64) {
	for _, c := range w.fake.CallsTo(provider) {
		if c.Status == 200 {
			tokens += c.Tokens
			calls++
		}
	}
	return tokens, calls
}

// fakeUnits sums the YouTube units the fake charged to each bucket.
func (w *world) fakeUnits() map[string]int64 {
	out := map[string]int64{"daily": 0, "search.list": 0, "videos.insert": 0}
	for _, c := range w.fake.CallsTo("youtube") {
		out[c.Bucket] += c.Units
	}
	delete(out, "")
	return out
}

// paths returns the distinct "METHOD path" a fake provider received since
// call number from.
func (w *world) paths(provider string, from int) map[string]int {
	out := map[string]int{}
	for _, c := range w.fake.CallsTo(provider)[from:] {
		out[c.Method+" "+c.Path]++
	}
	return out
}
