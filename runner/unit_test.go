//go:build unix

package runner_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/runner"
)

func TestTail(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name    string
		writes  []string
		first   string
		last    string
		count   int
		dropped int64
	}{
		{"nothing", nil, "", "", 0, 0},
		{"one line without newline", []string{"hello"}, "hello", "hello", 1, 0},
		{"crlf", []string{"a\r\nb\r\n"}, "a", "b", 2, 0},
		{"split writes", []string{"hel", "lo\nwor", "ld\n"}, "hello", "world", 2, 0},
		{"exactly 50 lines", []string{lines(50)}, "line 1", "line 50", 50, 0},
		{"51 lines", []string{lines(51)}, "line 2", "line 51", 50, int64(len("line 1\n"))},
		{"blank lines count", []string{"a\n\n\nb\n"}, "a", "b", 4, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tl := runner.NewTail(nil)
			for _, w := range tt.writes {
				tl.Write([]byte(w))
			}
			got, dropped := tl.Lines()
			if len(got) != tt.count || dropped != tt.dropped || (tt.count > 0 && (got[0] != tt.first || got[len(got)-1] != tt.last)) {
				t.Fatalf("Lines() = %d lines %q, dropped %d; want %d lines %q..%q, dropped %d", len(got), got, dropped, tt.count, tt.first, tt.last, tt.dropped)
			}
		})
	}
}

func TestTailKeepsOnlyTheEnd(t *testing.T) {
	var tee bytes.Buffer
	tl := runner.NewTail(&tee)
	long := strings.Repeat("x", 100<<10) // one line longer than the kept bytes
	tl.Write([]byte("start\n" + long))
	got, dropped := tl.Lines()
	if len(got) != 1 || len(got[0]) != runner.TailBytes || dropped != tl.Total()-int64(runner.TailBytes) {
		t.Fatalf("a cut line that is all there is: %d lines, first %d bytes, dropped %d of %d", len(got), len(got[0]), dropped, tl.Total())
	}
	tl.Write([]byte("\nend"))
	got, dropped = tl.Lines()
	if len(got) != 1 || got[0] != "end" || dropped != tl.Total()-3 {
		t.Fatalf("a cut line before a whole one is dropped: %q, dropped %d of %d", got, dropped, tl.Total())
	}
	if tee.Len() != int(tl.Total()) {
		t.Fatalf("tee got %d bytes of %d", tee.Len(), tl.Total())
	}
	// Many small writes: the partial line at the cut is dropped.
	tl = runner.NewTail(nil)
	for i := range 100000 {
		fmt.Fprintf(tl, "row %06d\n", i)
	}
	got, dropped = tl.Lines()
	if len(got) != runner.TailLines || got[0] != "row 099950" || got[49] != "row 099999" || dropped != tl.Total()-50*11 {
		t.Fatalf("lines %d: %q..%q dropped %d", len(got), got[0], got[len(got)-1], dropped)
	}
	// Invalid UTF-8 is made valid.
	tl = runner.NewTail(nil)
	tl.Write([]byte("bad \xff byte\n"))
	if got, _ := tl.Lines(); got[0] != "bad \uFFFD byte" {
		t.Fatalf("%q", got[0])
	}
}

func TestGate(t *testing.T) {
	now := time.Date(2026, 1, 11, 12, 0, 0, 0, time.UTC)
	reset := now.Add(time.Hour)
	groq := func(used, reserved int64, exhausted bool, blocked time.Time) quotad.API {
		return quotad.API{Name: "groq", Unit: "tokens", AutoResume: true, Windows: []quotad.Window{
			{Name: "daily", Limit: 100000, Used: 0, NextReset: now.Add(12 * time.Hour)},
			{Name: "minute", Limit: 10000, Used: used, Reserved: reserved, NextReset: reset, Exhausted: exhausted, BlockedUntil: blocked},
		}}
	}
	active := quotad.Channel{Name: "W", APIs: []string{"groq"}}
	paused := quotad.Channel{Name: "W", APIs: []string{"groq"}, Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("quota:groq"), Since: now}}}
	manual := quotad.Channel{Name: "W", APIs: []string{"groq"}, Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("manual"), Since: now}}}
	est := map[string]int64{"groq": 3000}
	for _, tt := range []struct {
		name   string
		ch     quotad.Channel
		api    quotad.API
		est    map[string]int64
		reason string
		until  time.Time
	}{
		{"free", active, groq(0, 0, false, time.Time{}), est, "", time.Time{}},
		{"exactly enough", active, groq(4000, 3000, false, time.Time{}), est, "", time.Time{}},
		{"no estimate", active, groq(9999, 0, false, time.Time{}), nil, "", time.Time{}},
		{"paused for quota", paused, groq(10000, 0, true, time.Time{}), est, "channel paused (quota:groq)", reset},
		{"paused by a person", manual, groq(0, 0, false, time.Time{}), est, "channel paused (manual)", time.Time{}},
		{"exhausted, channel resumed by a person", active, groq(10000, 0, true, now.Add(41*time.Second)), est, "groq is exhausted", now.Add(41 * time.Second)},
		{"used", active, groq(8000, 0, false, time.Time{}), est, "groq/minute has 2000 tokens free, the job needs 3000", reset},
		{"reserved", active, groq(4000, 4000, false, time.Time{}), est, "groq/minute has 2000 tokens free, the job needs 3000", reset},
		{"estimate above the limit", active, groq(0, 0, false, time.Time{}), map[string]int64{"groq": 20000}, "the job's estimate of 20000 tokens exceeds what groq/minute can give this channel (10000): it can never start; lower the estimate", time.Time{}},
		{"estimate of an unknown API", active, groq(0, 0, false, time.Time{}), map[string]int64{"pexels": 1}, "API pexels is not configured", time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := runner.Gate(tt.ch, map[string]quotad.API{"groq": tt.api}, tt.est, now)
			if h.Reason != tt.reason || !h.Until.Equal(tt.until) || h.Held() != (tt.reason != "") {
				t.Fatalf("Gate = %+v, want %q until %v", h, tt.reason, tt.until)
			}
		})
	}
}

func TestGateReserveAndFallbacks(t *testing.T) {
	now := time.Date(2026, 1, 11, 12, 0, 0, 0, time.UTC)
	reset := now.Add(time.Minute)
	api := func(name string, used int64, exhausted bool) quotad.API {
		return quotad.API{Name: name, Unit: "tokens", AutoResume: true, Windows: []quotad.Window{
			{Name: "minute", Limit: 10000, Used: used, NextReset: reset, Exhausted: exhausted},
		}}
	}
	reserved := api("groq", 8500, false)
	reserved.Reserve = quotad.Reserve{Priority: quotad.PriorityHigh, Units: 2000}
	llm := []quotad.Capability{{Name: "llm", Providers: []string{"groq", "openai"}}}
	for _, tt := range []struct {
		name   string
		ch     quotad.Channel
		apis   []quotad.API
		est    map[string]int64
		reason string
	}{
		{"below the reserve", quotad.Channel{APIs: []string{"groq"}, Priority: quotad.PriorityNormal}, []quotad.API{reserved}, nil,
			"groq/minute is down to the 2000 tokens kept for high priority"},
		{"at the reserve's priority", quotad.Channel{APIs: []string{"groq"}, Priority: quotad.PriorityHigh}, []quotad.API{reserved}, map[string]int64{"groq": 1500}, ""},
		{"reserve counts against the estimate", quotad.Channel{APIs: []string{"groq"}, Priority: quotad.PriorityLow}, []quotad.API{func() quotad.API {
			a := reserved
			a.Windows = []quotad.Window{{Name: "minute", Limit: 10000, Used: 7000, NextReset: reset}}
			return a
		}()},
			map[string]int64{"groq": 1500}, "groq/minute has 1000 tokens free, the job needs 1500"},
		{"fallback serves", quotad.Channel{Fallbacks: llm}, []quotad.API{api("groq", 10000, true), api("openai", 0, false)}, nil, ""},
		{"fallback estimate", quotad.Channel{Fallbacks: llm}, []quotad.API{api("groq", 10000, true), api("openai", 9000, false)}, map[string]int64{"openai": 3000},
			"no provider of llm can serve (groq, openai): groq is exhausted"},
		{"no provider", quotad.Channel{Fallbacks: llm}, []quotad.API{api("groq", 10000, true), api("openai", 10000, true)}, nil,
			"no provider of llm can serve (groq, openai): groq is exhausted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			apis := map[string]quotad.API{}
			for _, a := range tt.apis {
				apis[a.Name] = a
			}
			h := runner.Gate(tt.ch, apis, tt.est, now)
			if h.Reason != tt.reason {
				t.Fatalf("Gate = %+v, want %q", h, tt.reason)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	now := time.Date(2026, 1, 11, 12, 0, 30, 0, time.UTC)
	ch := runner.Job{Channel: "W", Command: []string{"x"}, Schedule: "every 1m"}
	if runner.Describer([]runner.Job{{Channel: "V", Command: []string{"x"}}}, time.UTC)("W", quotad.JobState{}, now) != nil {
		t.Fatal("a channel without a job has no job status")
	}
	js := runner.Describe(ch, time.UTC, quotad.JobState{Channel: "W"}, now)
	if js.NextRun == nil || !js.NextRun.Equal(now.Add(30*time.Second)) || js.LastStart != nil || js.Running || js.Runs != 0 {
		t.Fatalf("never run: %+v", js)
	}
	s := quotad.JobState{Channel: "W", NextRun: now.Add(-time.Hour), LastStart: now.Add(-time.Second), LastResult: "ok", Runs: 3, Holder: "h", LeaseUntil: now.Add(time.Hour)}
	js = runner.Describe(ch, time.UTC, s, now)
	if !js.NextRun.Equal(now.Add(-time.Hour)) || !js.Running || js.Runs != 3 || js.LastResult != "ok" {
		t.Fatalf("overdue and running: %+v", js)
	}
	ch.Schedule = ""
	if js = runner.Describe(ch, time.UTC, s, now); js.NextRun != nil {
		t.Fatalf("on demand only: %+v", js)
	}
}

func TestResolveDir(t *testing.T) {
	for _, tt := range [][3]string{
		{"/etc/quotad", "", "/etc/quotad"},
		{"/etc/quotad", "jobs", "/etc/quotad/jobs"},
		{"/etc/quotad", "../srv", "/etc/srv"},
		{"/etc/quotad", "/srv/x", "/srv/x"},
		{"", "", ""},
		{"", "jobs", "jobs"},
	} {
		if got := runner.ResolveDir(tt[0], tt[1]); got != tt[2] {
			t.Errorf("ResolveDir(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

// A schedule that names no zone is in the config's zone, as the runner
// runs it, not in UTC.
func TestDescribeUsesTheConfigZone(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	now := time.Date(2026, 1, 11, 12, 0, 0, 0, time.UTC) // 04:00 in Los Angeles
	ch := runner.Job{Channel: "W", Command: []string{"x"}, Schedule: "daily 06:00"}
	js := runner.Describe(ch, la, quotad.JobState{Channel: "W"}, now)
	if want := time.Date(2026, 1, 11, 6, 0, 0, 0, la); js.NextRun == nil || !js.NextRun.Equal(want) {
		t.Fatalf("next run %v, want %s", js.NextRun, want)
	}
}
