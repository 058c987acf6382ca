//go:build unix

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docBlock is one fenced code block of a Markdown page.
type docBlock struct {
	info string // what follows the opening fence: sh, sh python, python, yaml, console
	body string
}

// docBlocks returns the fenced code blocks of a Markdown file, in order.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []docBlock
		cur  *docBlock
		body strings.Builder
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "```") {
			if cur != nil {
				body.WriteString(line + "\n")
			}
			continue
		}
		if cur == nil {
			cur = &docBlock{info: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
			body.Reset()
			continue
		}
		cur.body = body.String()
		out = append(out, *cur)
		cur = nil
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: unclosed code block %q", path, cur.info)
	}
	return out
}

// TestMigratingDocCommands runs every `sh` block of
// docs/migrating-from-quota-manager.md, in order, in one bash script, in a
// directory holding a channels.db that Python's sqlite3 wrote as the seed's
// daemon does and the page's quotad.yaml, with quotad on the PATH - as a
// reader would, from adoption to the daemon's last command. The page's
// 127.0.0.1:8080 is replaced by a free port, so that the test never meets
// another daemon. `sh python` and `python` blocks run too, with the
// repository's Python client (clients/python) against that serve, when
// python3 is installed; `python seed` (the seed's code) and `python
// fragment` (calls inside a daemon's own code) are not run.
func TestMigratingDocCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the migration guide's commands")
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("the guide uses the sqlite3 shell, which is not installed (apt-get install sqlite3)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	blocks := docBlocks(t, "../../docs/migrating-from-quota-manager.md")
	dir := t.TempDir()
	seedCopy(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	// Python blocks run with the repository's client when python3 is here,
	// once quotad serve answers, with QUOTAD_SERVER naming it (the sh blocks
	// run without, as the page's reader would).
	python, _ := exec.LookPath("python3")
	clientDir, err := filepath.Abs("../../clients/python")
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT\n")
	n, configs, pythons, waited := 0, 0, 0, false
	pythonBlock := func(b docBlock, code string) {
		pythons++
		if !waited {
			waited = true
			script.WriteString("for i in $(seq 300); do quotad status --server http://" + addr +
				" >/dev/null 2>&1 && break; sleep 0.1; done\n")
		}
		script.WriteString("echo '### python block " + b.info + "'\n(\nexport QUOTAD_SERVER=http://" + addr + "\n" + code + ")\n")
	}
	for _, b := range blocks {
		switch {
		case b.info == "sh":
			n++
			script.WriteString("echo '### block " + string(rune('A'+n-1)) + "'\n")
			script.WriteString(strings.ReplaceAll(b.body, "127.0.0.1:8080", addr))
		case b.info == "yaml" && strings.HasPrefix(b.body, "# quotad.yaml\n"):
			configs++
			if err := os.WriteFile(filepath.Join(dir, "quotad.yaml"), []byte(b.body), 0o644); err != nil {
				t.Fatal(err)
			}
		case b.info == "sh python" && python != "":
			pythonBlock(b, b.body)
		case b.info == "python" && python != "":
			pythonBlock(b, "python3 - <<'PYTHON_BLOCK'\n"+b.body+"PYTHON_BLOCK\n")
		case b.info == "sh python" || b.info == "python", // without python3: not run
			b.info == "python seed" || b.info == "python fragment" || b.info == "console" || b.info == "yaml":
		default:
			t.Errorf("code block with info %q: mark it sh (run by this test), sh python or python (run with the "+
				"Python client), python seed, python fragment, yaml or console", b.info)
		}
	}
	if n < 10 || configs != 1 {
		t.Fatalf("found %d sh blocks and %d quotad.yaml blocks; the page lost its commands?", n, configs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+filepath.Dir(sqlite3)+":"+os.Getenv("PATH"),
		"QUOTAD_DB=", "QUOTAD_SERVER=", "QUOTAD_TOKEN=", "QUOTAD_CONFIG=",
		"PYTHONPATH="+clientDir+":"+os.Getenv("PYTHONPATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the guide's commands failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Dry run: nothing was changed",
		"[OK] adopted channels.db",
		"RankRiot (id 2): inactive, needs groq, youtube, pexels -> paused quota:groq",
		"[OK] HTTP API on http://" + addr,
		"groq|daily|", // the seed's status query with window_name, one row per window
		"[OK] GROQ quota reset",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the guide's commands did not print %q:\n%s", want, out)
		}
	}
	if python == "" {
		t.Log("python3 not found: the guide's Python blocks were not run")
	} else if pythons < 5 || !strings.Contains(string(out), `"quota_remaining"`) {
		t.Errorf("ran %d Python blocks; get_quota_status_summary printed nothing of the seed's columns:\n%s", pythons, out)
	}
	if m := backups(t, filepath.Join(dir, "channels.db")); len(m) != 1 {
		t.Errorf("copies %v, want the one adoption made", m)
	}
}
