package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/monitor"
	"github.com/quotad/quotad/store/sqlite"
)

// Scale builds channels channels spread over apis APIs, exhausts every API
// (pausing every channel), then measures: the one reset pass that resumes
// them all, `status --json` (Status plus JSON encoding), and the process's
// resident memory.
func Scale(ctx context.Context, dir string, apis, channels int) ([]Result, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "scale.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	la, _ := time.LoadLocation("America/Los_Angeles")
	start := time.Date(2026, 1, 11, 18, 30, 0, 0, la)
	fc := clock.NewFake(start)
	e := engine.New(st, engine.Options{Clock: fc, Location: la})
	defer e.Close()
	defs := make([]quotad.API, apis)
	for i := range defs {
		defs[i] = quotad.API{Name: fmt.Sprintf("api%03d", i), Unit: "units", AutoResume: true,
			Windows: []quotad.Window{{Name: "daily", Limit: 1000, Rule: "daily 00:00 America/Los_Angeles"}}}
	}
	chans := make([]quotad.Channel, channels)
	for i := range chans {
		chans[i] = quotad.Channel{Name: fmt.Sprintf("channel%05d", i), Priority: quotad.PriorityNormal,
			APIs: []string{defs[i%apis].Name, defs[(i+1)%apis].Name}}
	}
	var out []Result
	t0 := time.Now()
	if _, err := e.Configure(ctx, defs, chans); err != nil {
		return nil, err
	}
	out = append(out, Result{Name: fmt.Sprintf("configure %d APIs, %d channels", apis, channels), Ops: 1, Elapsed: time.Since(t0), PerSec: 1 / time.Since(t0).Seconds()})
	t0 = time.Now()
	for _, a := range defs {
		if _, err := e.Spend(ctx, a.Name, 1000, ""); err != nil {
			return nil, err
		}
	}
	out = append(out, Result{Name: fmt.Sprintf("exhaust %d APIs (pausing every channel)", apis), Ops: int64(apis), Elapsed: time.Since(t0), PerSec: float64(apis) / time.Since(t0).Seconds()})
	fc.Set(time.Date(2026, 1, 12, 0, 0, 0, 0, la))
	t0 = time.Now()
	r, err := e.Tick(ctx)
	if err != nil {
		return nil, err
	}
	el := time.Since(t0)
	if len(r.Resumed) != channels {
		return nil, fmt.Errorf("scale: the reset resumed %d channels, want %d", len(r.Resumed), channels)
	}
	out = append(out, Result{Name: fmt.Sprintf("one reset resuming %d channels", channels), Ops: 1, Elapsed: el, PerSec: 1 / el.Seconds(), Note: "target < 1s"})
	var best time.Duration
	var size int
	for range 5 {
		t0 = time.Now()
		s, err := e.Status(ctx)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(s); err != nil {
			return nil, err
		}
		if d := time.Since(t0); best == 0 || d < best {
			best, size = d, buf.Len()
		}
	}
	out = append(out, Result{Name: "status --json (read + encode)", Ops: 1, Elapsed: best, PerSec: 1 / best.Seconds(), Note: fmt.Sprintf("%d KiB of JSON; target < 200ms", size/1024)})
	runtime.GC()
	out = append(out, Result{Name: "resident memory (VmRSS)", Note: rss() + "; target < 150 MB"})
	return out, nil
}

// rss returns this process's resident set size as text.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%.1f MB", float64(kb)/1024)
			}
		}
	}
	return "unknown"
}

// Latency measures how long after a reset instant a paused channel is
// active again, with the real monitor and the real clock: a window resetting
// every second is exhausted n times and the delay from each reset instant to
// the channel's resume event is recorded.
func Latency(ctx context.Context, dir string, n int) (Result, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "latency.db"))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	e := engine.New(st, engine.Options{})
	defer e.Close()
	api := quotad.API{Name: "fast", Unit: "units", AutoResume: true, Windows: []quotad.Window{{Name: "second", Limit: 1, Rule: "every 1s"}}}
	if _, err := e.Configure(ctx, []quotad.API{api}, []quotad.Channel{{Name: "A", APIs: []string{"fast"}}}); err != nil {
		return Result{}, err
	}
	resumed := make(chan time.Time, 16)
	defer e.Subscribe(func(evs []quotad.Event) {
		for _, ev := range evs {
			if ev.Category == quotad.CategoryAutoResume {
				resumed <- time.Now()
			}
		}
	})()
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := monitor.New(e, monitor.Options{})
	go m.Run(mctx)
	var lat []time.Duration
	for range n {
		// Exhaust just after a reset so that the next one is ~1s away.
		if _, err := e.Spend(ctx, "fast", 1, "A"); err != nil {
			time.Sleep(10 * time.Millisecond) // exhausted from the previous round: wait for its reset
			continue
		}
		a, err := e.API(ctx, "fast")
		if err != nil {
			return Result{}, err
		}
		instant := *a.Windows[0].NextReset
		select {
		case at := <-resumed:
			lat = append(lat, at.Sub(instant))
		case <-time.After(5 * time.Second):
			return Result{}, fmt.Errorf("latency: no resume within 5s of a reset")
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return Result{}, fmt.Errorf("latency: no sample")
	}
	return Result{Name: fmt.Sprintf("resume latency after a reset (%d resets)", len(lat)), Ops: int64(len(lat)),
		P50: lat[len(lat)/2], P99: lat[len(lat)*99/100], Note: fmt.Sprintf("max %s; target p99 < 100ms", lat[len(lat)-1].Round(time.Microsecond))}, nil
}
