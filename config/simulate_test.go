package config_test

import (
	"strings"
	"testing"

	"github.com/quotad/quotad/config"
)

func TestSimulateKey(t *testing.T) {
	const head = "channels:\n  A:\n    apis: [groq, youtube]\n    job:\n      schedule: every 1h\n      simulate: "
	cases := []struct {
		name, simulate, want string // want "" = valid
	}{
		{"valid", "{calls: [{api: groq, model: llama-3.3-70b-versatile, tokens: 2500, count: 3}, {api: youtube, method: videos.insert}], duration: 4m, fail_rate: 0.02}", ""},
		{"no command needed", "{calls: [{api: groq}]}", ""},
		{"no calls", "{duration: 4m}", "channels.A.job.simulate.calls: expected at least one call"},
		{"api not needed", "{calls: [{api: pexels}]}", `channels.A.job.simulate.calls[0].api: "pexels" is not an API this channel needs`},
		{"negative count", "{calls: [{api: groq, count: -1}]}", "channels.A.job.simulate.calls[0].count: expected a count from 0 to 10000, got -1"},
		{"negative tokens", "{calls: [{api: groq, tokens: -5}]}", "calls[0].tokens: expected tokens from 0 to 1000000, got -5"},
		{"unknown method", "{calls: [{api: youtube, method: videos.delete}]}", `calls[0].method: unknown method "videos.delete"`},
		{"rate above 1", "{calls: [{api: groq}], fail_rate: 1.5}", "channels.A.job.simulate.fail_rate: expected a rate from 0 to 1, got 1.5"},
		{"unknown key", "{calls: [{api: groq, tokenz: 5}]}", "tokenz"},
		{"bad duration", "{calls: [{api: groq}], duration: soon}", "duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(head+c.simulate+"\n"), "quotad.yaml")
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if s := cfg.Channels[0].Job.Simulate; s == nil || len(s.Calls) == 0 {
					t.Fatalf("simulate not decoded: %+v", cfg.Channels[0].Job)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// A job without a command and without a simulate key is still an error.
func TestJobWithoutCommandOrSimulate(t *testing.T) {
	_, err := config.Parse([]byte("channels:\n  A:\n    apis: [groq]\n    job: {schedule: every 1h}\n"), "quotad.yaml")
	if err == nil || !strings.Contains(err.Error(), "channels.A.job.command: empty command") {
		t.Fatalf("got %v", err)
	}
}
