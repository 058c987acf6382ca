package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const modelsConfig = `timezone: America/Los_Angeles
apis:
  groq:
    provider: groq
    models:
      llama-3.3-70b-versatile: {tpd: 10000}   # a day smaller than a minute: one spend runs it out
  youtube:
    provider: youtube
channels:
  RankRiot:
    apis: [groq, youtube]
  Scripts:
    apis: [groq/llama-3.3-70b-versatile]
`

// quotad spend on a profiled API charges each window by its meter: one
// request and 1,200 tokens (not 1,200 requests, no pause); status shows the
// model and what each window counts; a model out pauses only its channels.
func TestCLISpendByMeterAndModel(t *testing.T) {
	c := newCLI(t, modelsConfig)
	out := c.ok("spend", "groq", "1200", "--model", "llama-3.3-70b-versatile", "--channel", "RankRiot")
	for _, want := range []string{
		"groq/llama-3.3-70b-versatile/rpm: 1/30 requests used",
		"groq/llama-3.3-70b-versatile/rpd: 1/1000 requests used",
		"groq/llama-3.3-70b-versatile/tpm: 1200/12000 tokens used",
		"groq/llama-3.3-70b-versatile/tpd: 1200/10000 tokens used",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("spend output lacks %q:\n%s", want, out)
		}
	}
	if st := c.status(); !channelOf(st, "RankRiot").Active {
		t.Errorf("a spend far below the limits paused RankRiot: %+v", channelOf(st, "RankRiot"))
	}
	if _, errs, code := c.run("spend", "groq", "1200"); code == 0 || !strings.Contains(errs, "name the model") {
		t.Errorf("spend on groq without a model: exit %d %s", code, errs)
	}
	text := c.ok("status")
	if !strings.Contains(text, "llama-3.3-70b-versatile") || !strings.Contains(text, "1/30 requests") || !strings.Contains(text, "idle models") {
		t.Errorf("status:\n%s", text)
	}
	// The 70b's day of tokens: Scripts and RankRiot wait for it; the 8b
	// still takes spends.
	c.ok("spend", "groq/llama-3.3-70b-versatile", "8800", "--channel", "RankRiot")
	st := c.status()
	for _, name := range []string{"RankRiot", "Scripts"} {
		ch := channelOf(st, name)
		if ch.Active || len(ch.PauseReasons) != 1 || ch.PauseReasons[0].Reason != "quota:groq/llama-3.3-70b-versatile" {
			t.Errorf("%s: %+v", name, ch)
		}
	}
	c.ok("spend", "groq", "100", "--model", "llama-3.1-8b-instant")
	// Usage shows each model and what it cost: 10,000 tokens of the 70b
	// at $0.59 per million (a spend is priced as input).
	usage := c.ok("usage", "--by", "day")
	if !strings.Contains(usage, "llama-3.3-70b-versatile") || !strings.Contains(usage, "$0.005900") || !strings.Contains(usage, "RankRiot") {
		t.Errorf("usage:\n%s", usage)
	}
	// The seed's query reads the rows, one per window, the key naming the
	// model.
	if _, err := exec.LookPath("sqlite3"); err == nil {
		q := exec.Command("sqlite3", filepath.Join(c.dir, "quotad.db"),
			"SELECT api_name, window_name, quota_remaining, is_exhausted, next_reset FROM api_quotas WHERE window_name LIKE 'llama-3.3%/tpd';")
		b, err := q.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "groq|llama-3.3-70b-versatile/tpd|0|1|") {
			t.Errorf("sqlite3: %v %s", err, b)
		}
	}
}
