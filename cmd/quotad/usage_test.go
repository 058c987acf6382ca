package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

func TestCLIUsage(t *testing.T) {
	c := newCLI(t, testConfig)
	c.ok("spend", "groq", "1200", "--channel", "RankRiot")
	c.ok("spend", "groq", "300", "--channel", "RankRiot")
	c.ok("spend", "youtube", "50", "--channel", "Shorts")
	c.ok("spend", "youtube", "7")

	var pts []engine.UsagePoint
	if err := json.Unmarshal([]byte(c.ok("usage", "--json", "--by", "day")), &pts); err != nil {
		t.Fatal(err)
	}
	type row struct {
		api, channel string
		units, count int64
	}
	var got []row
	for _, p := range pts {
		got = append(got, row{p.API, p.Channel, p.Units, p.Count})
		if y, m, d := time.Now().In(mustZone(t, "America/Los_Angeles")).Date(); !p.Start.Equal(time.Date(y, m, d, 0, 0, 0, 0, mustZone(t, "America/Los_Angeles"))) {
			t.Errorf("day point starts %s, want today's local midnight", p.Start)
		}
	}
	want := []row{{"groq", "RankRiot", 1500, 2}, {"youtube", "", 7, 1}, {"youtube", "Shorts", 50, 1}}
	if len(got) != len(want) {
		t.Fatalf("usage = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	out := c.ok("usage", "--api", "groq", "--by", "minute", "--since", "1h")
	if !strings.Contains(out, "START") || !strings.Contains(out, "RankRiot") || !strings.Contains(out, "1500") ||
		!strings.Contains(out, "total") || strings.Contains(out, "youtube") {
		t.Errorf("usage table:\n%s", out)
	}
	if out := c.ok("usage", "--channel", "Shorts", "--json"); !strings.Contains(out, `"units": 50`) || strings.Contains(out, "RankRiot") {
		t.Errorf("usage --channel Shorts:\n%s", out)
	}
	if out := c.ok("usage", "--since", "2020-01-01", "--until", "2020-01-02"); !strings.Contains(out, "no usage recorded") {
		t.Errorf("empty range:\n%s", out)
	}
	if out := c.ok("usage", "--since", "2020-01-01T00:00:00Z", "--until", "2020-01-02T00:00:00Z", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty range JSON: %q", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"usage", "--by", "week"}, 2, "--by must be minute, hour or day"},
		{[]string{"usage", "--since", "yesterday"}, 2, `"yesterday" is not a duration`},
		{[]string{"usage", "--since", "-5m"}, 2, "expected a positive duration"},
		{[]string{"usage", "--api", "openai"}, 1, "unknown API"},
		{[]string{"usage", "--since", "1h", "--until", "2h"}, 1, "is not before"},
	} {
		if out, errs, code := c.run(tc.args...); code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("quotad %s: exit %d, output %q; want exit %d containing %q", strings.Join(tc.args, " "), code, out+errs, tc.code, tc.msg)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestHousekeeping runs the daemon's housekeeping loop on a fake clock: it
// rolls up old minutes at once and warns of a forecast exhaustion within a
// minute of the projection becoming a forecast.
func TestHousekeeping(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.DefaultConfig()
	start := time.Date(2026, 1, 11, 6, 0, 0, 0, cfg.Location())
	fc := clock.NewFake(start.Add(-72 * time.Hour))
	e := engine.New(st, engine.Options{Clock: fc, Location: cfg.Location()})
	defer e.Close()
	apis, _ := cfg.Domain()
	if _, err := e.Configure(ctx, apis, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Spend(ctx, "groq", 10, ""); err != nil { // three days ago
		t.Fatal(err)
	}
	fc.Set(start)
	if _, err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	passes := make(chan struct{}, 1000)
	done := make(chan error, 1)
	go func() {
		done <- housekeeping(ctx, e, engine.UsageRetention{Minutes: 48 * time.Hour, Hours: 400 * 24 * time.Hour},
			slog.New(slog.NewTextHandler(io.Discard, nil)), func() { passes <- struct{}{} })
	}()
	pass := func() {
		t.Helper()
		select {
		case <-passes:
		case <-time.After(10 * time.Second):
			t.Fatal("housekeeping made no pass")
		}
		for { // wait for it to go to sleep
			added := fc.TimerAdded() // before looking: a timer added in between still wakes us
			if fc.Timers() > 0 {
				break
			}
			select {
			case <-added:
			case <-time.After(10 * time.Second):
				t.Fatal("housekeeping never slept")
			}
		}
	}
	pass()
	var hours []quotad.UsageBucket
	if err := st.View(ctx, func(tx quotad.Tx) error {
		hours, err = tx.Usage(quotad.UsageFilter{Resolution: quotad.Hour})
		return err
	}); err != nil || len(hours) != 1 || hours[0].Units != 10 {
		t.Fatalf("after the first pass: hour buckets %+v, %v; want the old minute rolled up", hours, err)
	}

	// 40 units a minute on youtube (10,000 a day): the projection is a
	// forecast once it is 3h ahead (70 minutes in), and warned of once.
	fc.Advance(time.Second) // passes run a second after each minute
	for i := 0; ; i++ {
		if _, err := e.Spend(ctx, "youtube", 40, ""); err != nil {
			t.Fatal(err)
		}
		fc.Advance(time.Minute)
		pass()
		evs, err := e.Events(ctx, quotad.EventFilter{Category: quotad.CategoryForecast})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			// 10,000 / 40 a minute from 06:00:01 runs out at 10:10:01.
			if i < 69 || i > 71 || len(evs) != 1 || !strings.Contains(evs[0].Message, "YOUTUBE daily quota projected to run out at 2026-01-11 10:10:") {
				t.Fatalf("after %d minutes: %+v", i+1, evs)
			}
			break
		}
		if i > 80 {
			t.Fatal("no forecast")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("housekeeping returned %v", err)
	}
}
