package main

import (
	"strings"
	"testing"
)

// TestAutoResumeOffCLI checks auto_resume: false through the CLI: after
// the API is refilled, its channel stays paused (no resume time shown) while
// a channel of an API with auto_resume on comes back, and a person's
// `quotad resume CHANNEL` clears it.
func TestAutoResumeOffCLI(t *testing.T) {
	c := newCLI(t, strings.Replace(testConfig, "    unit: tokens\n", "    unit: tokens\n    auto_resume: false\n", 1))
	c.ok("spend", "groq", "100000", "--channel", "RankRiot")
	c.ok("spend", "youtube", "10000", "--channel", "Shorts")
	st := c.status()
	if st.APIs[0].Name != "groq" || st.APIs[0].AutoResume {
		t.Fatalf("groq: %+v, want auto_resume false", st.APIs[0])
	}
	if r := channelOf(st, "RankRiot"); r.Active || r.ResumeAt != nil {
		t.Fatalf("RankRiot after groq ran out: %+v, want paused with no resume time", r)
	}

	out := c.ok("reset", "groq", "youtube")
	st = c.status()
	if !st.APIs[0].Available {
		t.Fatalf("groq not available after `quotad reset`:\n%s", out)
	}
	if r := channelOf(st, "RankRiot"); r.Active || len(r.PauseReasons) != 1 || r.PauseReasons[0].Reason != "quota:groq" {
		t.Fatalf("RankRiot after groq's reset: %+v, want still paused quota:groq (auto_resume: false)\n%s", r, out)
	}
	if s := channelOf(st, "Shorts"); !s.Active {
		t.Fatalf("Shorts after youtube's reset: %+v, want resumed (auto_resume on)", s)
	}

	c.ok("resume", "RankRiot")
	if r := channelOf(c.status(), "RankRiot"); !r.Active {
		t.Fatalf("RankRiot after `quotad resume RankRiot`: %+v", r)
	}
}
