package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quotad/quotad/config"
)

// fragmentMark, on the line before a yaml block of the documentation, says
// the block is a part of a config that does not stand alone.
const fragmentMark = "<!-- fragment -->"

// TestDocConfigsParse checks that every YAML config shown in README.md and
// docs/*.md is one quotad accepts as written: a reader can paste it.
func TestDocConfigsParse(t *testing.T) {
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x")
	t.Setenv("QUOTAD_WEBHOOK_SECRET", "from-the-environment")
	t.Setenv("SMTP_PASSWORD", "from-the-environment")
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, page := range append([]string{"../README.md"}, pages...) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "```yaml" {
				continue
			}
			start := i + 1
			var block []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				block = append(block, lines[i])
			}
			doc := strings.Join(block, "\n")
			if (start >= 2 && strings.TrimSpace(lines[start-2]) == fragmentMark) || strings.Contains(doc, "scrape_configs:") {
				continue // a fragment, or Prometheus' config
			}
			checked++
			if _, err := config.Parse([]byte(doc), filepath.Base(page)); err != nil {
				t.Errorf("%s:%d: the yaml block is not a config quotad accepts (if it is a fragment, put %s on the line before it):\n%v",
					page, start, fragmentMark, err)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d yaml blocks checked", checked)
	}
}

// TestConfigurationPageListsEveryKey checks that docs/configuration.md's
// table of top-level keys has a row for every key the config accepts.
func TestConfigurationPageListsEveryKey(t *testing.T) {
	_, err := config.Parse([]byte("no_such_key: 1\n"), "quotad.yaml")
	_, list, ok := strings.Cut(fmt.Sprint(err), "expected one of: ")
	if !ok {
		t.Fatalf("the unknown-key error does not list the keys: %v", err)
	}
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, key := range strings.Split(strings.TrimSpace(list), ", ") {
		if !strings.Contains(page, "| `"+key+"` |") && !strings.Contains(page, "| `"+key+".") {
			t.Errorf("docs/configuration.md has no row for the key %q", key)
		}
	}
}
