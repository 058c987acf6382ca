package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

var la = mustLoc("America/Los_Angeles")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// fixture is an engine on a fresh SQLite file with the seed's default APIs
// and the given channels (name → APIs).
type fixture struct {
	t     *testing.T
	e     *engine.Engine
	clock *clock.Fake
	store *sqlite.Store
	ctx   context.Context
}

func newFixture(t *testing.T, start time.Time, channels map[string][]string) *fixture {
	t.Helper()
	var chans []quotad.Channel
	for name, needs := range channels {
		chans = append(chans, quotad.Channel{Name: name, APIs: needs, Priority: quotad.PriorityNormal})
	}
	return newFixtureWith(t, start, nil, chans)
}

// newFixtureWith is newFixture with the default APIs changed by edit and the
// channels given in full.
func newFixtureWith(t *testing.T, start time.Time, edit func(apis []quotad.API), chans []quotad.Channel) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/quotad.db")
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(start)
	e := engine.New(st, engine.Options{Clock: fc, Location: la, ErrorThreshold: 20})
	t.Cleanup(func() { e.Close(); st.Close() })
	apis, _ := config.DefaultConfig().Domain()
	if edit != nil {
		edit(apis)
	}
	if _, err := e.Configure(ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, e: e, clock: fc, store: st, ctx: ctx}
}

func (f *fixture) channel(name string) quotad.ChannelStatus {
	f.t.Helper()
	c, err := f.e.Channel(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) api(name string) quotad.APIStatus {
	f.t.Helper()
	a, err := f.e.API(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) tick() engine.TickResult {
	f.t.Helper()
	r, err := f.e.Tick(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func reasons(c quotad.ChannelStatus) []string {
	var rs []string
	for _, p := range c.PauseReasons {
		rs = append(rs, p.Reason)
	}
	return rs
}

func (f *fixture) events(category string) []quotad.Event {
	f.t.Helper()
	evs, err := f.e.Events(f.ctx, quotad.EventFilter{Category: category, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

// TestSeedScenario is the reference document's story: groq runs out at
// 18:30, RankRiot pauses, midnight Pacific resets groq and RankRiot resumes
// by itself, while a channel a person paused and one paused by errors stay
// paused.
func TestSeedScenario(t *testing.T) {
	start := time.Date(2026, 1, 11, 18, 30, 0, 0, la)
	f := newFixture(t, start, map[string][]string{
		"RankRiot": {"groq", "youtube", "pexels"},
		"Held":     {"groq"},
		"Flaky":    {"groq", "youtube"},
	})
	if _, err := f.e.Pause(f.ctx, "Held", "editing thumbnails"); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Flaky", Evidence: classify.Evidence{Message: "ffmpeg: exit status 1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := reasons(f.channel("Flaky")); len(got) != 1 || got[0] != quotad.ReasonErrors.String() {
		t.Fatalf("Flaky after 20 errors: pauses %v, want [errors]", got)
	}

	res, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "RankRiot", Evidence: classify.Evidence{Message: "Groq API error: quota exceeded for llama-3.3-70b"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verdict.Quota || res.Verdict.API != "groq" {
		t.Fatalf("verdict %+v, want a groq quota error", res.Verdict)
	}
	g := f.api("groq")
	if g.Available {
		t.Fatal("groq still available after a quota error")
	}
	midnight := time.Date(2026, 1, 12, 0, 0, 0, 0, la)
	if !g.AvailableAt.Equal(midnight) {
		t.Fatalf("groq available at %v, want %v", g.AvailableAt, midnight)
	}
	if got := reasons(f.channel("RankRiot")); len(got) != 1 || got[0] != "quota:groq" {
		t.Fatalf("RankRiot pauses %v, want [quota:groq]", got)
	}
	if rs := f.channel("RankRiot").ResumeAt; rs == nil || !rs.Equal(midnight) {
		t.Fatalf("RankRiot resume_at %v, want %v", rs, midnight)
	}
	if got := reasons(f.channel("Held")); len(got) != 1 || got[0] != "manual" {
		t.Fatalf("Held pauses %v, want only [manual] (held by a person)", got)
	}

	f.clock.Set(midnight.Add(-time.Second))
	if r := f.tick(); slices.Contains(r.Resets, "groq/daily") || len(r.Resumed) != 0 {
		t.Fatalf("a second before midnight: %+v, want no groq reset", r)
	}
	f.clock.Set(midnight)
	r := f.tick()
	if len(r.Resumed) != 1 || r.Resumed[0] != "RankRiot" {
		t.Fatalf("at midnight resumed %v, want [RankRiot]", r.Resumed)
	}
	if !f.channel("RankRiot").Active {
		t.Fatal("RankRiot not active after midnight")
	}
	if !f.api("groq").Available || f.api("groq").Windows[0].Used != 0 {
		t.Fatalf("groq after reset: %+v", f.api("groq"))
	}
	if f.channel("Held").Active || f.channel("Flaky").Active {
		t.Fatal("a reset lifted a pause made by a person or by errors")
	}
	if n := len(f.events("%quota%")); n < 3 {
		t.Fatalf("%d quota events, want exhaustion, pause and reset logged", n)
	}
	if evs := f.events(quotad.CategoryAutoResume); len(evs) != 1 || evs[0].Channel != "RankRiot" {
		t.Fatalf("auto_resume events %+v, want one for RankRiot", evs)
	}
	// Idempotent: a second pass at the same instant changes nothing.
	if r := f.tick(); len(r.Resets)+len(r.Resumed) != 0 {
		t.Fatalf("second tick at midnight: %+v", r)
	}
}

func TestSpendExhaustsExactlyTheChannelsThatNeedTheAPI(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{
		"LLM":   {"groq"},
		"Video": {"youtube", "pexels"},
	})
	res, err := f.e.Spend(f.ctx, "groq", 60000, "LLM")
	if err != nil || res.Exhausted {
		t.Fatalf("first spend: %+v %v", res, err)
	}
	res, err = f.e.Spend(f.ctx, "groq", 40000, "LLM")
	if err != nil || !res.Exhausted {
		t.Fatalf("spend reaching the limit: %+v %v, want exhausted", res, err)
	}
	_, err = f.e.Spend(f.ctx, "groq", 1, "LLM")
	var ee *quotad.ExhaustedError
	if !errors.As(err, &ee) || !errors.Is(err, quotad.ErrExhausted) {
		t.Fatalf("spend on exhausted API: %v, want ExhaustedError", err)
	}
	if !ee.Until.Equal(time.Date(2026, 1, 12, 0, 0, 0, 0, la)) {
		t.Fatalf("until %v, want midnight Pacific", ee.Until)
	}
	if f.channel("LLM").Active {
		t.Fatal("LLM still active")
	}
	if !f.channel("Video").Active {
		t.Fatal("Video paused though it does not need groq")
	}
	if w := f.api("groq").Windows[0]; w.Used != 100000 || w.Remaining != 0 {
		t.Fatalf("groq window %+v", w)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"groq"}})
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"negative", spendErr(f, "groq", -5, ""), quotad.ErrInvalid},
		{"zero", spendErr(f, "groq", 0, ""), quotad.ErrInvalid},
		{"absurd", spendErr(f, "groq", 1e15, ""), quotad.ErrInvalid},
		{"unknown api", spendErr(f, "nope", 5, ""), quotad.ErrUnknownAPI},
		{"unknown channel", spendErr(f, "groq", 5, "nobody"), quotad.ErrUnknownChannel},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := f.e.Reset(f.ctx, "groq", "nope"); !errors.Is(err, quotad.ErrUnknownAPI) {
		t.Errorf("reset with an unknown API: %v", err)
	}
	if _, err := f.e.Resume(f.ctx, "nobody"); !errors.Is(err, quotad.ErrUnknownChannel) {
		t.Errorf("resume unknown: %v", err)
	}
	if w := f.api("groq").Windows[0]; w.Used != 0 {
		t.Fatalf("bad input changed usage: %+v", w)
	}
	if evs := f.events(""); len(evs) != 1 { // only "config applied"
		t.Fatalf("bad input wrote events: %+v", evs)
	}
}

func spendErr(f *fixture, api string, units int64, ch string) error {
	_, err := f.e.Spend(f.ctx, api, units, ch)
	return err
}

func TestRetryAfterBlocksOnlyUntilTheProvidersTime(t *testing.T) {
	start := time.Date(2026, 1, 11, 14, 0, 0, 0, la)
	f := newFixture(t, start, map[string][]string{"LLM": {"groq"}})
	h := http.Header{}
	h.Set("Retry-After", "30")
	res, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "LLM", Evidence: classify.Evidence{Status: 429, Headers: h, Message: `{"error":{"message":"Rate limit reached for model llama-3.3-70b-versatile on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s.","type":"requests","code":"rate_limit_exceeded"}}`}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.APIExhausted || len(res.Paused) != 1 {
		t.Fatalf("report: %+v", res)
	}
	g := f.api("groq")
	if g.AvailableAt == nil || !g.AvailableAt.Equal(start.Add(30*time.Second)) {
		t.Fatalf("groq available at %v, want %v (Retry-After), not midnight", g.AvailableAt, start.Add(30*time.Second))
	}
	f.clock.Advance(29 * time.Second)
	f.tick()
	if f.channel("LLM").Active {
		t.Fatal("resumed before the provider's time")
	}
	f.clock.Advance(time.Second)
	if r := f.tick(); len(r.Unblocked) != 1 || len(r.Resumed) != 1 {
		t.Fatalf("at the retry time: %+v", r)
	}
	if !f.channel("LLM").Active || !f.api("groq").Available {
		t.Fatal("not resumed at the provider's retry time")
	}
}

func TestCatchUpAfterDowntimeResetsOnce(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 18, 30, 0, 0, la), map[string][]string{"A": {"youtube"}})
	if _, err := f.e.Spend(f.ctx, "youtube", 10000, "A"); err != nil {
		t.Fatal(err)
	}
	// Down for two midnights.
	f.clock.Set(time.Date(2026, 1, 13, 10, 0, 0, 0, la))
	r := f.tick()
	if len(r.Resumed) != 1 {
		t.Fatalf("resumed %v", r.Resumed)
	}
	n := 0
	for _, ev := range f.events(quotad.CategoryQuotaReset) {
		if ev.Fields["api"] == "youtube" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d youtube reset events after missing two, want one catch-up", n)
	}
	w := f.api("youtube").Windows[0]
	if !w.LastReset.Equal(time.Date(2026, 1, 13, 0, 0, 0, 0, la)) || !w.NextReset.Equal(time.Date(2026, 1, 14, 0, 0, 0, 0, la)) {
		t.Fatalf("after catch-up last %v next %v", w.LastReset, w.NextReset)
	}
}

func TestClockStepsNeverDoubleOrSkipAReset(t *testing.T) {
	start := time.Date(2026, 1, 11, 23, 0, 0, 0, la)
	f := newFixture(t, start, map[string][]string{"A": {"groq"}})
	if _, err := f.e.Spend(f.ctx, "groq", 100000, "A"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(start.Add(-5 * time.Hour)) // stepped back
	if r := f.tick(); slices.Contains(r.Resets, "groq/daily") {
		t.Fatalf("reset after a step back: %+v", r)
	}
	f.clock.Set(start.Add(2 * time.Hour)) // forward past midnight
	if r := f.tick(); !slices.Contains(r.Resets, "groq/daily") || len(r.Resumed) != 1 {
		t.Fatalf("after stepping past midnight: %+v", r)
	}
	f.clock.Set(start) // back before midnight again
	if r := f.tick(); slices.Contains(r.Resets, "groq/daily") {
		t.Fatalf("double reset after stepping back: %+v", r)
	}
	f.clock.Set(time.Date(2026, 1, 13, 0, 0, 0, 0, la))
	if r := f.tick(); !slices.Contains(r.Resets, "groq/daily") {
		t.Fatalf("next midnight: %+v, want one reset", r)
	}
}

func TestErrorThresholdAndSuccess(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"groq"}})
	report := func() {
		if _, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "A", Evidence: classify.Evidence{Status: 500, Message: "internal server error"}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 19 {
		report()
	}
	if _, err := f.e.ReportSuccess(f.ctx, "A"); err != nil {
		t.Fatal(err)
	}
	for range 19 {
		report()
	}
	if !f.channel("A").Active {
		t.Fatal("paused though a success cleared the count")
	}
	report()
	if got := reasons(f.channel("A")); len(got) != 1 || got[0] != "errors" {
		t.Fatalf("pauses %v, want [errors]", got)
	}
	if _, err := f.e.ResetAll(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(48 * time.Hour)
	f.tick()
	if f.channel("A").Active {
		t.Fatal("an errors pause was lifted without a person")
	}
	if r, err := f.e.Resume(f.ctx, "A"); err != nil || len(r.Resumed) != 1 {
		t.Fatalf("resume: %+v %v", r, err)
	}
	if c := f.channel("A"); !c.Active || c.ConsecutiveErrors != 0 {
		t.Fatalf("after resume: %+v", c)
	}
}

func TestExternalIsActiveEditIsAManualResume(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"RankRiot": {"groq"}, "Other": {"groq"}})
	if _, err := f.e.Pause(f.ctx, "RankRiot", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DB().Exec("UPDATE channels SET is_active = 1 WHERE name = 'RankRiot'"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DB().Exec("UPDATE channels SET is_active = 0 WHERE name = 'Other'"); err != nil {
		t.Fatal(err)
	}
	if _, edited, err := f.e.Pending(f.ctx); err != nil || !edited {
		t.Fatalf("Pending did not notice the edit: %v %v", edited, err)
	}
	r := f.tick()
	if len(r.Reconciled) != 2 {
		t.Fatalf("reconciled %v", r.Reconciled)
	}
	if !f.channel("RankRiot").Active {
		t.Fatal("UPDATE channels SET is_active = 1 was not honoured")
	}
	if got := reasons(f.channel("Other")); len(got) != 1 || got[0] != "manual" {
		t.Fatalf("is_active = 0 edit gave %v, want a manual pause", got)
	}
	if _, edited, _ := f.e.Pending(f.ctx); edited {
		t.Fatal("still out of sync after reconciling")
	}
}

func TestUnattributedQuotaErrorPausesOnlyTheReporter(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"Multi": {"groq", "youtube"}, "Single": {"pexels"}, "Bystander": {"groq"}})
	res, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Multi", Evidence: classify.Evidence{Message: "upstream said: quota exceeded"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict.API != "" || len(res.Paused) != 1 || res.Paused[0] != "Multi" {
		t.Fatalf("report: %+v", res)
	}
	c := f.channel("Multi")
	if got := reasons(c); len(got) != 1 || got[0] != quotad.ReasonQuotaUnknown.String() || c.PauseReasons[0].Until == nil {
		t.Fatalf("Multi: %+v", c)
	}
	if !f.channel("Bystander").Active || !f.api("groq").Available {
		t.Fatal("an unattributed error touched other channels or APIs")
	}
	// A channel needing exactly one API: the error is attributed to it.
	res, err = f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Single", Evidence: classify.Evidence{Message: "429 Too Many Requests"}})
	if err != nil || res.Verdict.API != "pexels" || !res.APIExhausted {
		t.Fatalf("single-API channel: %+v %v", res, err)
	}
}

func TestConcurrentSpendsAreExact(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"groq"}})
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 50 {
				if _, err := f.e.Spend(f.ctx, "groq", 3, "A"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if w := f.api("groq").Windows[0]; w.Used != 64*50*3 {
		t.Fatalf("used %d, want %d", w.Used, 64*50*3)
	}
	batches, ops, _ := f.e.Stats()
	t.Logf("%d operations in %d transactions", ops, batches)
}

func TestReserveNeverGrantsPastTheLimit(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"youtube"}})
	var mu sync.Mutex
	var granted int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				r, err := f.e.Reserve(f.ctx, "youtube", 37, "A", time.Minute)
				if err == nil {
					mu.Lock()
					granted += r.Units
					mu.Unlock()
				} else if !errors.Is(err, quotad.ErrExhausted) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if granted > 10000 || granted < 10000-37 {
		t.Fatalf("granted %d of 10000", granted)
	}
	// Expired reservations give their units back.
	f.clock.Advance(2 * time.Minute)
	if r := f.tick(); r.Expired == 0 {
		t.Fatal("no reservation expired")
	}
	if w := f.api("youtube").Windows[0]; w.Reserved != 0 || w.Used != 0 {
		t.Fatalf("after expiry: %+v", w)
	}
}

func TestReserveCommitRelease(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"youtube"}})
	r, err := f.e.Reserve(f.ctx, "youtube", 1600, "A", 0)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.api("youtube").Windows[0]; w.Reserved != 1600 {
		t.Fatalf("reserved %d", w.Reserved)
	}
	res, err := f.e.Commit(f.ctx, r.ID, 1450)
	if err != nil || res.Windows[0].Used != 1450 || res.Windows[0].Reserved != 0 {
		t.Fatalf("commit: %+v %v", res, err)
	}
	if _, err := f.e.Commit(f.ctx, r.ID, 1); !errors.Is(err, quotad.ErrUnknownReservation) {
		t.Fatalf("second commit: %v", err)
	}
	r2, _ := f.e.Reserve(f.ctx, "youtube", 500, "A", 0)
	if err := f.e.Release(f.ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if w := f.api("youtube").Windows[0]; w.Reserved != 0 || w.Used != 1450 {
		t.Fatalf("after release: %+v", w)
	}
	if _, err := f.e.Reserve(f.ctx, "youtube", 9000, "A", 0); !errors.Is(err, quotad.ErrExhausted) {
		t.Fatalf("reserve past the free units: %v", err)
	}
}

func TestConfigureKeepsUsageAndPauses(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"groq"}})
	if _, err := f.e.Spend(f.ctx, "groq", 100000, "A"); err != nil {
		t.Fatal(err)
	}
	apis, _ := config.DefaultConfig().Domain()
	apis[0].Windows[0].Limit = 200000
	if _, err := f.e.Configure(f.ctx, apis, []quotad.Channel{{Name: "A", APIs: []string{"groq"}}}); err != nil {
		t.Fatal(err)
	}
	w := f.api("groq").Windows[0]
	if w.Used != 100000 || w.Limit != 200000 || w.Exhausted {
		t.Fatalf("after raising the limit: %+v", w)
	}
	if !f.channel("A").Active {
		t.Fatal("A not resumed after the limit was raised above usage")
	}
}

func TestBillingHoldsUntilAPersonResets(t *testing.T) {
	f := newFixture(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), map[string][]string{"A": {"groq"}})
	_, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "A", Evidence: classify.Evidence{API: "groq", Status: 429, Message: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}`}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(72 * time.Hour)
	f.tick()
	if f.api("groq").Available || f.channel("A").Active {
		t.Fatal("a billing hold was lifted by time")
	}
	if r, err := f.e.Reset(f.ctx, "groq"); err != nil || len(r.Resumed) != 1 {
		t.Fatalf("reset: %+v %v", r, err)
	}
}

func defaultAPIs() []quotad.API {
	apis, _ := config.DefaultConfig().Domain()
	return apis
}
