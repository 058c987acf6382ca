package main

import (
	"slices"
	"testing"

	"github.com/quotad/quotad/config"
)

func TestReloadDescribesChanges(t *testing.T) {
	parse := func(doc string) config.Config {
		t.Helper()
		c, err := config.Parse([]byte(doc), "quotad.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := parse(testConfig + "  Writer:\n    apis: [groq]\n    job:\n      command: echo a\n      schedule: every 1h\n" +
		"notifiers:\n  ops:\n    type: webhook\n    url: http://127.0.0.1:9/a\n")
	for _, tc := range []struct {
		name      string
		doc       string
		jobs      []string
		notifiers []string
	}{
		{"nothing", testConfig + "  Writer:\n    apis: [groq]\n    job:\n      command: echo a\n      schedule: every 1h\n" +
			"notifiers:\n  ops:\n    type: webhook\n    url: http://127.0.0.1:9/a\n", nil, nil},
		{"job changed, notifier added", testConfig + "  Writer:\n    apis: [groq]\n    job:\n      command: echo b\n      schedule: every 1h\n" +
			"notifiers:\n  ops:\n    type: webhook\n    url: http://127.0.0.1:9/a\n  chat:\n    type: slack\n    url: http://127.0.0.1:9/s\n",
			[]string{"changed job of channel Writer"}, []string{"added notifier chat"}},
		{"job and notifier removed, runner limit", testConfig + "runner:\n  max_concurrent: 2\n",
			[]string{"removed job of channel Writer", "runner.max_concurrent 4 → 2"}, []string{"removed notifier ops"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(tc.doc)
			if got := jobChanges(base, c); !slices.Equal(got, tc.jobs) {
				t.Errorf("jobs: %q, want %q", got, tc.jobs)
			}
			if got := notifierChanges(base, c); !slices.Equal(got, tc.notifiers) {
				t.Errorf("notifiers: %q, want %q", got, tc.notifiers)
			}
		})
	}
}

func TestOtherFieldsNamesUnknownSettings(t *testing.T) {
	type settings struct {
		Listen   string   `yaml:"listen"`
		Hosts    []string `yaml:"allowed_hosts,omitempty"`
		Timeout  int
		internal int
	}
	was := settings{Listen: "a", Hosts: []string{"x"}, Timeout: 1, internal: 1}
	now := settings{Listen: "b", Hosts: []string{"y"}, Timeout: 2, internal: 2}
	if got := otherFields("server.", was, now, "Listen"); !slices.Equal(got, []string{"server.allowed_hosts", "server.timeout"}) {
		t.Fatalf("got %q", got)
	}
	if got := otherFields("", was, was); len(got) != 0 {
		t.Fatalf("equal structs: %q", got)
	}
}
