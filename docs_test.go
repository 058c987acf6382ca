package quotad_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// docPages returns README.md and every page under docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, pages...)
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	headingRE = regexp.MustCompile(`^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// prose returns the lines of a markdown document with those of fenced code
// blocks blanked, so that line i+1 of the file is element i.
func prose(doc string) []string {
	lines := strings.Split(doc, "\n")
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			lines[i] = ""
		} else if fenced {
			lines[i] = ""
		}
	}
	return lines
}

// anchor returns GitHub's anchor for a heading: lower case, punctuation
// dropped, spaces turned into hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns every heading anchor of a markdown document, numbered as
// GitHub numbers repeated headings (-1, -2, …).
func anchors(doc string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, l := range prose(doc) {
		m := headingRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		a := anchor(m[1])
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocLinksResolve checks that every relative link in README.md and
// docs/*.md names a file that exists and, for a markdown file, a heading
// it has.
func TestDocLinksResolve(t *testing.T) {
	cache := map[string]map[string]bool{}
	anchorsOf := func(path string) (map[string]bool, bool) {
		if a, ok := cache[path]; ok {
			return a, true
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false
		}
		cache[path] = anchors(string(b))
		return cache[path], true
	}
	checked := 0
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range prose(string(b)) {
			for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, frag, _ := strings.Cut(target, "#")
				path := page
				if file != "" {
					path = filepath.Join(filepath.Dir(page), file)
				}
				checked++
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s line %d: link %q: no file %s", page, i+1, target, path)
					continue
				}
				if frag == "" || !strings.HasSuffix(path, ".md") {
					continue
				}
				if a, _ := anchorsOf(path); !a[frag] {
					t.Errorf("%s line %d: link %q: %s has no heading with anchor #%s", page, i+1, target, path, frag)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d relative links checked: the link pattern is broken", checked)
	}
}

// TestREADMEIsAFrontPage checks what README.md promises a newcomer: at most
// 250 lines, the demo and the two commands of a fresh machine as the
// README gives them, and a link to every page under docs/.
func TestREADMEIsAFrontPage(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if n := strings.Count(readme, "\n"); n > 250 {
		t.Errorf("README.md has %d lines; a front page has at most 250: move sections into docs/", n)
	}
	for _, cmd := range []string{
		"\ngo run ./cmd/quotad serve --config examples/demo/quotad.yaml --db /tmp/demo.db\n",
		"\ngo run ./cmd/quotad serve\n",
		"\nmake test\n",
	} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md lacks the command line %q", strings.TrimSpace(cmd))
		}
	}
	if _, err := os.Stat("examples/demo/quotad.yaml"); err != nil {
		t.Errorf("the README's demo config: %v", err)
	}
	mk, err := os.ReadFile("Makefile")
	if err != nil || !regexp.MustCompile(`(?m)^test:`).Match(mk) {
		t.Errorf("Makefile has no test target for the README's `make test` (%v)", err)
	}
	for _, page := range docPages(t)[1:] {
		if !strings.Contains(readme, "]("+filepath.ToSlash(page)+")") {
			t.Errorf("README.md does not link %s: a reader finds docs pages from the front page", page)
		}
	}
}

func TestAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Reloading the config":                         "reloading-the-config",
		"`GET /metrics` - Prometheus text format":      "get-metrics---prometheus-text-format",
		"The proxy's overhead":                         "the-proxys-overhead",
		"The one line, per SDK":                        "the-one-line-per-sdk",
		"1. Adopt channels.db":                         "1-adopt-channelsdb",
		"`quotad.quota_manager`: the seed's functions": "quotadquota_manager-the-seeds-functions",
	} {
		if got := anchor(heading); got != want {
			t.Errorf("anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}
