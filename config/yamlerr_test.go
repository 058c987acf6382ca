package config

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestNodeErrorsAreYAMLTextFree: the errors of a document that yaml.v3
// refuses to decode come from the node tree alone - checkNode, which never
// runs yaml.v3's decoder on the document nor reads its messages - so a yaml
// upgrade that rewords its messages changes none of them. Each case is
// checked through checkNode directly, then through Parse, whose messages
// must not carry yaml.v3's wording.
func TestNodeErrorsAreYAMLTextFree(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		want      string // "line: path: message" of the one problem
	}{
		{"unknown key", "timezone: UTC\nerror_treshold: 5\n",
			`2: unknown key "error_treshold"; expected one of: timezone, error_threshold, safety_tick, poll_interval, db, durability, server, runner, store, apis, channels, thresholds, usage, notifiers`},
		{"duplicate key", "server:\n  listen: a\n  listen: b\n", `3: server: duplicate key "listen" (first defined at line 2); expected each key once`},
		{"duplicate struct key", "apis:\n  g:\n    unit: a\n    unit: b\n", `4: apis.g: duplicate key "unit" (first defined at line 3); expected each key once`},
		{"integer", "apis:\n  g:\n    windows: [{name: d, limit: lots, reset: daily 00:00}]\n", `3: apis.g.windows[0].limit: expected an integer, got "lots"`},
		{"fraction", "runner: {max_concurrent: 2.5}\n", "1: runner.max_concurrent: expected an integer, got the number 2.5"},
		{"bool", "apis:\n  g:\n    auto_resume: sometimes\n", `3: apis.g.auto_resume: expected true or false, got "sometimes"`},
		{"duration", "safety_tick: 60\n", "1: safety_tick: expected a duration like 30s, 5m, 1h30m or 1d, got the integer 60"},
		{"command", "channels:\n  A:\n    job:\n      command: {run: x}\n",
			`4: channels.A.job.command: expected a command: a list like ["python3", "make_video.py"] or a string run with sh -c, got a mapping`},
		{"budget", "channels:\n  A:\n    budgets: {groq: [1]}\n", `3: channels.A.budgets.groq: expected units or a percentage of each window's limit, like 500 or "25%", got a list`},
		{"list for mapping", "apis:\n  - groq\n", "2: apis: expected a mapping of API names to their settings, got a list"},
		{"not a mapping", "- a\n", "1: expected a mapping with the keys timezone, error_threshold"},
		{"merged value", "base: &b {listen: [x]}\nserver:\n  <<: *b\n", `1: unknown key "base"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			found := checkNode(resolve(&doc), rawType, nil, false)
			if len(found) == 0 {
				t.Fatalf("checkNode found nothing in %q", tt.doc)
			}
			if got := found[0].FieldError.String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("checkNode: %q\nwant prefix   %q", got, tt.want)
			}
			_, err := Parse([]byte(tt.doc), "q.yaml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.doc)
			}
			for _, yamlWords := range []string{"cannot unmarshal", "not found in type", "already defined at", "already set in type", "!!", "invalid value"} {
				if strings.Contains(err.Error(), yamlWords) {
					t.Errorf("Parse error carries yaml.v3's wording %q:\n%v", yamlWords, err)
				}
			}
		})
	}
}

// Merges of merges of aliases expand exponentially while staying the
// same type; the node check gives up with a clear error instead of walking
// 10^8 mappings (without its bound this test does not end).
func TestNodeCheckBoundsAliases(t *testing.T) {
	doc := "x0: &a0 {listen: \":1\"}\n"
	for i := 1; i < 9; i++ {
		prev := fmt.Sprintf("*a%d", i-1)
		doc += fmt.Sprintf("x%d: &a%d {<<: [%s%s]}\n", i, i, strings.Repeat(prev+", ", 9), prev)
	}
	doc += "server: {<<: *a8}\n"
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	found := checkNode(resolve(&root), rawType, nil, false)
	if len(found) == 0 || !strings.Contains(found[len(found)-1].Message, "aliases expand to too many values") {
		t.Fatalf("checkNode = %v, want the alias bound's error", found)
	}
	if _, err := Parse([]byte(doc), "q.yaml"); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Fatalf("Parse = %v, want an error about aliases", err)
	}
}
