package engine_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// usageFixture is an engine on a fresh SQLite store with the default APIs
// and channels A (groq, youtube) and B (youtube), on a fake clock.
type usageFixture struct {
	t     *testing.T
	ctx   context.Context
	e     *engine.Engine
	st    *sqlite.Store
	clock *clock.Fake
}

func newUsageFixture(t *testing.T, start time.Time, opts engine.Options) *usageFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(start)
	opts.Clock, opts.Location = fc, la
	e := engine.New(st, opts)
	t.Cleanup(func() { e.Close(); st.Close() })
	apis, _ := config.DefaultConfig().Domain()
	chans := []quotad.Channel{{Name: "A", APIs: []string{"groq", "youtube"}}, {Name: "B", APIs: []string{"youtube"}}}
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	return &usageFixture{t: t, ctx: ctx, e: e, st: st, clock: fc}
}

func (f *usageFixture) spend(api string, units int64, channel string) {
	f.t.Helper()
	if _, err := f.e.Spend(f.ctx, api, units, channel); err != nil {
		f.t.Fatalf("spend %s %d %s: %v", api, units, channel, err)
	}
}

func (f *usageFixture) usage(q engine.UsageQuery) []engine.UsagePoint {
	f.t.Helper()
	pts, err := f.e.Usage(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Usage(%+v): %v", q, err)
	}
	return pts
}

// buckets returns the stored buckets of a resolution.
func (f *usageFixture) buckets(res time.Duration) []quotad.UsageBucket {
	f.t.Helper()
	var out []quotad.UsageBucket
	if err := f.st.View(f.ctx, func(tx quotad.Tx) error {
		var err error
		out, err = tx.Usage(quotad.UsageFilter{Resolution: res})
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func pt(start time.Time, api, channel string, units, count int64) engine.UsagePoint {
	return engine.UsagePoint{Start: start, API: api, Channel: channel, Units: units, Count: count}
}

func samePoints(t *testing.T, what string, got, want []engine.UsagePoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d points, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !got[i].Start.Equal(want[i].Start) || got[i].API != want[i].API || got[i].Channel != want[i].Channel ||
			got[i].Units != want[i].Units || got[i].Count != want[i].Count {
			t.Errorf("%s: point %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestUsageAggregates(t *testing.T) {
	// 23:58 on Jan 10 in Los Angeles; spends across two local days.
	start := time.Date(2026, 1, 10, 23, 58, 10, 0, la)
	f := newUsageFixture(t, start, engine.Options{})
	f.spend("youtube", 100, "A")
	f.spend("youtube", 50, "A") // same minute: one bucket, count 2
	f.spend("youtube", 7, "B")
	f.clock.Advance(time.Minute) // 23:59
	f.spend("youtube", 10, "A")
	f.spend("groq", 1000, "")
	f.clock.Advance(2 * time.Minute) // 00:01 Jan 11
	f.spend("youtube", 1, "A")
	f.clock.Advance(time.Hour) // 01:01
	f.spend("youtube", 2, "A")

	m := func(h, min int) time.Time { return time.Date(2026, 1, 10, h, min, 0, 0, la) }
	d11 := func(h, min int) time.Time { return time.Date(2026, 1, 11, h, min, 0, 0, la) }
	samePoints(t, "by minute", f.usage(engine.UsageQuery{By: engine.ByMinute}), []engine.UsagePoint{
		pt(m(23, 58), "youtube", "A", 150, 2), pt(m(23, 58), "youtube", "B", 7, 1),
		pt(m(23, 59), "groq", "", 1000, 1), pt(m(23, 59), "youtube", "A", 10, 1),
		pt(d11(0, 1), "youtube", "A", 1, 1), pt(d11(1, 1), "youtube", "A", 2, 1),
	})
	samePoints(t, "by hour (default)", f.usage(engine.UsageQuery{API: "youtube"}), []engine.UsagePoint{
		pt(m(23, 0), "youtube", "A", 160, 3), pt(m(23, 0), "youtube", "B", 7, 1),
		pt(d11(0, 0), "youtube", "A", 1, 1), pt(d11(1, 0), "youtube", "A", 2, 1),
	})
	samePoints(t, "by day, one channel", f.usage(engine.UsageQuery{Channel: "A", By: engine.ByDay}), []engine.UsagePoint{
		pt(m(0, 0), "youtube", "A", 160, 3), pt(d11(0, 0), "youtube", "A", 3, 2),
	})
	samePoints(t, "since", f.usage(engine.UsageQuery{Since: d11(0, 0), By: engine.ByDay}), []engine.UsagePoint{
		pt(d11(0, 0), "youtube", "A", 3, 2),
	})
	samePoints(t, "until", f.usage(engine.UsageQuery{Until: m(23, 59), By: engine.ByDay}), []engine.UsagePoint{
		pt(m(0, 0), "youtube", "A", 150, 2), pt(m(0, 0), "youtube", "B", 7, 1),
	})
	if pts := f.usage(engine.UsageQuery{API: "pexels"}); len(pts) != 0 {
		t.Errorf("pexels: %+v", pts)
	}
	if got := f.usage(engine.UsageQuery{By: engine.ByDay})[0].Start; got.Location() != la {
		t.Errorf("day start %s is not in the engine's zone", got)
	}

	for _, tt := range []struct {
		q    engine.UsageQuery
		want error
	}{
		{engine.UsageQuery{By: "week"}, quotad.ErrInvalid},
		{engine.UsageQuery{Since: d11(2, 0), Until: d11(1, 0)}, quotad.ErrInvalid},
		{engine.UsageQuery{API: "openai"}, quotad.ErrUnknownAPI},
		{engine.UsageQuery{Channel: "Nobody"}, quotad.ErrUnknownChannel},
	} {
		if _, err := f.e.Usage(f.ctx, tt.q); !errors.Is(err, tt.want) {
			t.Errorf("Usage(%+v) = %v, want %v", tt.q, err, tt.want)
		}
	}
}

func TestUsageDaysAcrossDST(t *testing.T) {
	// Los Angeles springs forward on 2026-03-08: that day has 23 hours.
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, la)
	f := newUsageFixture(t, start, engine.Options{})
	for range 4 {
		f.spend("groq", 10, "A")
		f.clock.Advance(12 * time.Hour)
	}
	got := f.usage(engine.UsageQuery{Since: start.Add(-time.Hour), By: engine.ByDay})
	want := []engine.UsagePoint{
		pt(time.Date(2026, 3, 7, 0, 0, 0, 0, la), "groq", "A", 10, 1),
		// 00:00 PST and, 12 hours later in a 23-hour day, 13:00 PDT
		pt(time.Date(2026, 3, 8, 0, 0, 0, 0, la), "groq", "A", 20, 2),
		pt(time.Date(2026, 3, 9, 0, 0, 0, 0, la), "groq", "A", 10, 1), // 01:00 PDT
	}
	samePoints(t, "days across DST", got, want)
}

// TestUsageRollupAndRetention lives through 401 days: minute buckets older
// than the minutes retention become hour buckets with the same totals, and
// hour buckets older than the hours retention are deleted.
func TestUsageRollupAndRetention(t *testing.T) {
	start := time.Date(2026, 1, 10, 9, 15, 0, 0, time.UTC)
	f := newUsageFixture(t, start, engine.Options{})
	for i := range 90 { // 09:15..10:44, 1 unit a minute on youtube for A, 2 on groq for nobody
		f.spend("youtube", 1, "A")
		f.spend("groq", 2, "")
		if i == 0 {
			f.spend("youtube", 5, "B")
		}
		f.clock.Advance(time.Minute)
	}
	ret := engine.UsageRetention{Minutes: 48 * time.Hour, Hours: 400 * 24 * time.Hour}
	byHour := func() []engine.UsagePoint {
		return f.usage(engine.UsageQuery{Since: start.Add(-time.Hour), By: engine.ByHour})
	}
	before := byHour()
	if res, err := f.e.CompactUsage(f.ctx, ret); err != nil || res != (engine.CompactResult{}) {
		t.Fatalf("CompactUsage at once = %+v, %v; want nothing to do", res, err)
	}

	// 48h after 10:00 (plus a bit): the 09:xx minutes are rolled up, the
	// 10:xx ones are not yet (boundaries are whole hours).
	f.clock.Set(time.Date(2026, 1, 12, 10, 30, 0, 0, time.UTC))
	res, err := f.e.CompactUsage(f.ctx, ret)
	if err != nil || res.RolledUp != 45+45+1 || res.Pruned != 0 {
		t.Fatalf("CompactUsage after 48h = %+v, %v; want 91 minute buckets rolled up", res, err)
	}
	hours, minutes := f.buckets(quotad.Hour), f.buckets(quotad.Minute)
	if len(hours) != 3 || len(minutes) != 45+45 {
		t.Fatalf("after roll-up: %d hour and %d minute buckets, want 3 and 90", len(hours), len(minutes))
	}
	for _, b := range hours {
		if !b.Start.Equal(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("hour bucket %+v", b)
		}
	}
	if after := byHour(); !reflect.DeepEqual(totals(after), totals(before)) {
		t.Errorf("totals changed by the roll-up:\nbefore %+v\nafter  %+v", before, after)
	}
	// Asked by minute, the rolled-up part comes as one point per hour.
	pts := f.usage(engine.UsageQuery{API: "youtube", Channel: "A", Since: start.Add(-time.Hour), By: engine.ByMinute})
	if len(pts) != 1+45 || pts[0].Units != 45 || !pts[0].Start.Equal(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("by minute after roll-up: %d points, first %+v", len(pts), pts[0])
	}
	if res, err := f.e.CompactUsage(f.ctx, ret); err != nil || res != (engine.CompactResult{}) {
		t.Errorf("second CompactUsage = %+v, %v; want nothing to do", res, err)
	}

	// A day later everything is hourly; 400 days after 10:00 it is gone.
	f.clock.Set(time.Date(2026, 1, 13, 11, 0, 0, 0, time.UTC))
	if res, err := f.e.CompactUsage(f.ctx, ret); err != nil || res.RolledUp != 90 {
		t.Fatalf("CompactUsage = %+v, %v", res, err)
	}
	if hours := f.buckets(quotad.Hour); len(hours) != 5 { // B spent in 09:xx only
		t.Fatalf("%d hour buckets, want 5: %+v", len(hours), hours)
	}
	f.clock.Set(time.Date(2026, 1, 10, 10, 30, 0, 0, time.UTC).Add(400 * 24 * time.Hour))
	if res, err := f.e.CompactUsage(f.ctx, ret); err != nil || res.Pruned != 3 {
		t.Fatalf("CompactUsage after 400 days = %+v, %v; want the 09:00 hour pruned", res, err)
	}
	f.clock.Advance(time.Hour)
	if res, err := f.e.CompactUsage(f.ctx, ret); err != nil || res.Pruned != 2 {
		t.Fatalf("CompactUsage = %+v, %v; want the 10:00 hour pruned", res, err)
	}
	if n := len(f.buckets(0)); n != 0 {
		t.Errorf("%d buckets left", n)
	}
}

type total struct {
	api, channel string
	units, count int64
}

func totals(pts []engine.UsagePoint) map[total]bool {
	sum := map[[2]string][2]int64{}
	for _, p := range pts {
		s := sum[[2]string{p.API, p.Channel}]
		sum[[2]string{p.API, p.Channel}] = [2]int64{s[0] + p.Units, s[1] + p.Count}
	}
	out := map[total]bool{}
	for k, v := range sum {
		out[total{k[0], k[1], v[0], v[1]}] = true
	}
	return out
}

func TestMeterCountsItsCalls(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 10, 0, la)
	f := newUsageFixture(t, start, engine.Options{})
	f.spend("youtube", 10, "A")
	for _, m := range []engine.Metered{
		{API: "youtube", Channel: "A", Usage: 20, Calls: 3}, // three coalesced calls
		{API: "youtube", Channel: "A", Usage: 5},            // 0 calls means one
	} {
		if _, err := f.e.Meter(f.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	samePoints(t, "by minute", f.usage(engine.UsageQuery{By: engine.ByMinute}), []engine.UsagePoint{
		pt(start.Truncate(time.Minute), "youtube", "A", 35, 5),
	})
}
