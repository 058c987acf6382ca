package config

import (
	"fmt"
	"slices"
	"strings"
)

// SimulateConfig describes a job by what it calls, for `quotad simulate`:
// each run makes Calls in order, takes Duration, and fails for a reason
// other than quota with probability FailRate.
type SimulateConfig struct {
	Calls    []SimCall `yaml:"calls"`
	Duration Duration  `yaml:"duration"`
	FailRate float64   `yaml:"fail_rate"`
}

// SimCall is one kind of call a simulated job makes, Count times per run
// (default 1): an LLM chat completion of Tokens tokens (Model defaults to
// the provider's first model), a YouTube Method (search.list,
// videos.insert, videos.list, channels.list; default videos.list), or a
// Pexels search.
type SimCall struct {
	API    string `yaml:"api"`
	Model  string `yaml:"model"`
	Method string `yaml:"method"`
	Tokens int64  `yaml:"tokens"`
	Count  int    `yaml:"count"`
}

// SimMethods are the YouTube methods a simulated call may name.
var SimMethods = []string{"search.list", "videos.insert", "videos.list", "channels.list"}

// Limits of a simulated job.
const (
	MaxSimCount  = 10000
	MaxSimTokens = 1_000_000
)

// problems checks a job's simulate key against the APIs the channel may
// call: an API it needs, or whose model or bucket (api/name) it needs.
func (s *SimulateConfig) problems(p fieldPath, apis []string) []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	if len(s.Calls) == 0 {
		add(p.to("calls"), "expected at least one call, like {api: groq, tokens: 2500}")
	}
	for i, c := range s.Calls {
		cp := p.to("calls", i)
		if !slices.ContainsFunc(apis, func(a string) bool { return a == c.API || strings.HasPrefix(a, c.API+"/") }) {
			add(cp.to("api"), "%q is not an API this channel needs; expected one of: %s", c.API, strings.Join(apis, ", "))
		}
		if c.Count < 0 || c.Count > MaxSimCount {
			add(cp.to("count"), "expected a count from 0 to %d, got %d", MaxSimCount, c.Count)
		}
		if c.Tokens < 0 || c.Tokens > MaxSimTokens {
			add(cp.to("tokens"), "expected tokens from 0 to %d, got %d", MaxSimTokens, c.Tokens)
		}
		if c.Method != "" && !slices.Contains(SimMethods, c.Method) {
			add(cp.to("method"), "unknown method %q; expected one of: %s", c.Method, strings.Join(SimMethods, ", "))
		}
	}
	if s.Duration < 0 {
		add(p.to("duration"), "expected a duration of 0 or more, got %s", s.Duration)
	}
	if s.FailRate < 0 || s.FailRate > 1 {
		add(p.to("fail_rate"), "expected a rate from 0 to 1, got %g", s.FailRate)
	}
	return ps
}
