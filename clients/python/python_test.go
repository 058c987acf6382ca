package python

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPythonClient builds quotad, starts `quotad serve` on a free loopback
// port with a temporary SQLite file and tests/quotad.yaml, installs the
// package with pip (offline: the build backend is in the tree) and runs
// `python3 -m unittest discover` against the daemon, as docs/python.md tells a
// person to. It runs once per Python found: python3 on PATH and Debian's
// /usr/bin/python3 when that is another interpreter (Debian's python3-googleapi
// and python3-requests are importable there, so the guard tests use the real
// exception classes), and Python 3.9, the oldest supported, when it is there
// (python3.9, or pyenv's); QUOTAD_TEST_PYTHON names others instead
// ("python3.9 python3.13").
// It skips when there is no Python 3.9 or later.
func TestPythonClient(t *testing.T) {
	pythons := interpreters(t)
	if len(pythons) == 0 {
		t.Skip("no python3 (3.9 or later) found: the Python client's tests need one (Debian: apt-get install python3)")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	url, token := startDaemon(t, filepath.Join(root, "tests", "quotad.yaml"))
	for _, py := range pythons {
		t.Run(strings.TrimPrefix(strings.ReplaceAll(py, "/", "_"), "_"), func(t *testing.T) {
			runSuite(t, py, root, url, token)
		})
	}
}

// interpreters returns the distinct Python 3.9+ interpreters to test with.
func interpreters(t *testing.T) []string {
	var out []string
	seen := map[string]bool{}
	names := []string{"python3", "/usr/bin/python3", "python3.9"}
	// The oldest Python the client supports, where pyenv has it (its python3.9
	// shim only runs when 3.9 is the selected version).
	pyenv := os.Getenv("PYENV_ROOT")
	if home, err := os.UserHomeDir(); pyenv == "" && err == nil {
		pyenv = filepath.Join(home, ".pyenv")
	}
	if m, _ := filepath.Glob(filepath.Join(pyenv, "versions", "3.9.*", "bin", "python3")); len(m) > 0 {
		names = append(names, m[len(m)-1])
	}
	if v := os.Getenv("QUOTAD_TEST_PYTHON"); v != "" {
		names = strings.Fields(v) // such as "python3.9 python3.13"
	}
	for _, name := range names {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		b, err := exec.Command(path, "-c", "import sys; print(sys.version_info >= (3, 9)); print(sys.executable)").Output()
		if err != nil {
			t.Logf("%s: %v", path, err)
			continue
		}
		lines := strings.Fields(string(b))
		if len(lines) < 2 || lines[0] != "True" {
			t.Logf("%s is older than Python 3.9: not used", path)
			continue
		}
		real, err := filepath.EvalSymlinks(lines[1])
		if err != nil {
			real = lines[1]
		}
		if !seen[real] {
			seen[real] = true
			out = append(out, path)
		}
	}
	return out
}

var addrLine = regexp.MustCompile(`\[OK\] HTTP API on (http://\S+)/api/v1`)

// startDaemon builds quotad and runs `quotad serve` with cfg on a free
// loopback port and a token; it returns the daemon's URL and token.
func startDaemon(t *testing.T, cfg string) (url, token string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "quotad")
	build := exec.Command("go", "build", "-o", bin, "github.com/quotad/quotad/cmd/quotad")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build quotad: %v\n%s", err, out)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token = hex.EncodeToString(b)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--db", filepath.Join(dir, "q.db"), "--no-jobs", "--quiet")
	cmd.Env = append(os.Environ(), "QUOTAD_TOKEN="+token, "QUOTAD_DB=", "QUOTAD_SERVER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
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
		return u, token
	case <-time.After(60 * time.Second):
		t.Fatalf("quotad serve did not print its address:\n%s", stderr.String())
	}
	return "", ""
}

// runSuite installs the package for py into a temporary directory and runs
// the unittest suite against the daemon.
func runSuite(t *testing.T, py, root, url, token string) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	env := append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1")
	if err := exec.Command(py, "-m", "pip", "--version").Run(); err != nil {
		t.Logf("%s has no pip (Debian: apt-get install python3-pip): testing the source tree with PYTHONPATH", py)
		site = root
	} else {
		install := exec.Command(py, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", site, root)
		install.Env = env
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("pip install %s: %v\n%s", root, err, out)
		}
	}
	env = append(env, "PYTHONPATH="+site, "QUOTAD_SERVER="+url, "QUOTAD_TOKEN="+token, "QUOTAD_TEST_REQUIRE_SERVER=1")
	where := exec.Command(py, "-c", "import quotad; print(quotad.__file__)")
	where.Env, where.Dir = env, dir
	if out, err := where.Output(); err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), site) {
		t.Fatalf("import quotad: %s (%v); want it from %s", out, err, site)
	}
	tests := filepath.Join(root, "tests")
	run := exec.Command(py, "-m", "unittest", "discover", "-v", "-s", tests, "-t", tests)
	run.Env, run.Dir = env, dir
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -m unittest: %v\n%s", py, err, out)
	}
	if !regexp.MustCompile(`(?m)^Ran \d+ tests`).Match(out) || !regexp.MustCompile(`(?m)^OK`).Match(out) {
		t.Fatalf("unittest did not report OK:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("%s: %s", py, strings.Join(lines[max(0, len(lines)-3):], " "))
	for _, l := range lines {
		if strings.Contains(l, "skipped") && strings.Contains(l, "...") {
			t.Logf("%s", l)
		}
	}
}
