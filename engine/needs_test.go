package engine_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
)

// withOpenAI adds an OpenAI-compatible API beside the defaults.
func withOpenAI(apis []quotad.API) []quotad.API {
	return append(apis, quotad.API{Name: "openai", Unit: "tokens", Keywords: []string{"openai"}, AutoResume: true,
		Windows: []quotad.Window{{Name: "daily", Limit: 500000, Rule: "daily 00:00 America/Los_Angeles"}}})
}

func TestBudgetPausesOnlyThatChannelUntilTheReset(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 0, 0, la)
	f := newFixtureWith(t, start, nil, []quotad.Channel{
		{Name: "Thrifty", APIs: []string{"youtube"}, Budgets: []quotad.Budget{{API: "youtube", Units: 2000}}},
		{Name: "Shared", APIs: []string{"youtube"}, Budgets: []quotad.Budget{{API: "youtube", Share: 0.25}}},
		{Name: "Free", APIs: []string{"youtube"}},
	})
	for range 3 {
		if _, err := f.e.Spend(f.ctx, "youtube", 600, "Thrifty"); err != nil {
			t.Fatal(err)
		}
	}
	if !f.channel("Thrifty").Active {
		t.Fatal("paused at 1800 of a 2000 budget")
	}
	// 600 more do not fit the 200 left: refused whole, as the budget's own
	// hold, and the channel stays active for what does fit.
	_, err := f.e.Spend(f.ctx, "youtube", 600, "Thrifty")
	var ee *quotad.ExhaustedError
	if !errors.As(err, &ee) || ee.Kind != quotad.HoldBudget || ee.Channel != "Thrifty" || !ee.ChannelLevel() {
		t.Fatalf("spend past the budget: %v, want refused by the budget", err)
	}
	if !f.channel("Thrifty").Active || f.api("youtube").Windows[0].Used != 1800 {
		t.Fatalf("a refused spend changed something: %+v %+v", f.channel("Thrifty"), f.api("youtube").Windows[0])
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 200, "Thrifty"); err != nil {
		t.Fatal(err)
	}
	c := f.channel("Thrifty")
	midnight := time.Date(2026, 1, 12, 0, 0, 0, 0, la)
	if got := reasons(c); len(got) != 1 || got[0] != "budget:youtube" || c.ResumeAt == nil || !c.ResumeAt.Equal(midnight) {
		t.Fatalf("Thrifty after its budget: %+v", c)
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 1, "Thrifty"); !errors.Is(err, quotad.ErrExhausted) {
		t.Fatalf("spend past the budget: %v, want refused", err)
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 2400, "Shared"); err != nil || !f.channel("Shared").Active {
		t.Fatalf("Shared at 2400 of its 25%% (2500): %v", err)
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 100, "Shared"); err != nil || f.channel("Shared").Active {
		t.Fatalf("Shared at 2500 of 2500 should be paused: %v", err)
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 1000, "Free"); err != nil || !f.channel("Free").Active {
		t.Fatalf("a channel without a budget was held: %v", err)
	}
	f.clock.Set(midnight)
	if r := f.tick(); len(r.Resumed) != 2 {
		t.Fatalf("at the reset resumed %v, want Thrifty and Shared", r.Resumed)
	}
}

func TestReserveKeepsTheLastUnitsForHighPriority(t *testing.T) {
	f := newFixtureWith(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), func(apis []quotad.API) {
		apis[1].Reserve = quotad.Reserve{Priority: quotad.PriorityHigh, Units: 2000} // youtube
	}, []quotad.Channel{
		{Name: "Flagship", APIs: []string{"youtube"}, Priority: quotad.PriorityHigh},
		{Name: "Filler", APIs: []string{"youtube"}, Priority: quotad.PriorityLow},
		{Name: "Regular", APIs: []string{"youtube"}, Priority: quotad.PriorityNormal},
	})
	// Low and normal channels reserve concurrently: they never get into the
	// last 2000 units.
	var mu sync.Mutex
	var granted int64
	var wg sync.WaitGroup
	for _, ch := range []string{"Filler", "Regular", "Filler", "Regular"} {
		wg.Go(func() {
			for range 50 {
				r, err := f.e.Reserve(f.ctx, "youtube", 97, ch, time.Hour)
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
	if granted > 8000 || granted < 8000-97 {
		t.Fatalf("low priority reserved %d, want just under 8000 (10000 minus the 2000 reserve)", granted)
	}
	r, err := f.e.Reserve(f.ctx, "youtube", 1900, "Flagship", time.Hour)
	if err != nil {
		t.Fatalf("high priority refused inside the reserve: %v", err)
	}
	if _, err := f.e.Commit(f.ctx, r.ID, 1900); err != nil {
		t.Fatal(err)
	}
	// Spends: once usage is into the reserve, lower channels stop and the high one goes on.
	f = newFixtureWith(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), func(apis []quotad.API) {
		apis[1].Reserve = quotad.Reserve{Priority: quotad.PriorityHigh, Units: 2000} // youtube
	}, []quotad.Channel{
		{Name: "Flagship", APIs: []string{"youtube"}, Priority: quotad.PriorityHigh},
		{Name: "Filler", APIs: []string{"youtube"}, Priority: quotad.PriorityLow},
		{Name: "Regular", APIs: []string{"youtube"}, Priority: quotad.PriorityNormal},
	})
	// A spend reaching into the reserve is refused whole, as the reserve's
	// hold; what fits above it is granted.
	_, err = f.e.Spend(f.ctx, "youtube", 8001, "Regular")
	var ee *quotad.ExhaustedError
	if !errors.As(err, &ee) || ee.Kind != quotad.HoldReserve || ee.Priority != quotad.PriorityHigh || !strings.Contains(err.Error(), "reserve for high priority") {
		t.Fatalf("a spend reaching into the reserve: %v, want refused by the reserve", err)
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 8000, "Regular"); err != nil {
		t.Fatal(err)
	}
	if f.channel("Filler").Active || f.channel("Regular").Active {
		t.Fatal("channels below the reserve's priority still active at the reserve")
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 10, "Filler"); !errors.Is(err, quotad.ErrExhausted) {
		t.Fatalf("low priority spend inside the reserve: %v", err)
	}
	if !f.channel("Flagship").Active {
		t.Fatal("the high-priority channel was paused")
	}
	if _, err := f.e.Spend(f.ctx, "youtube", 1500, "Flagship"); err != nil {
		t.Fatalf("high priority continues with reduced quota: %v", err)
	}
}

func TestFallbackSwitchesAndReturns(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 0, 0, la)
	f := newFixtureWith(t, start, nil, nil)
	apis := withOpenAI(defaultAPIs())
	chans := []quotad.Channel{{Name: "Writer", APIs: []string{"youtube"}, Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"groq", "openai"}}}}}
	if _, err := f.e.Configure(f.ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	pick := func() engine.Pick {
		p, err := f.e.Pick(f.ctx, "Writer", "llm")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := pick(); p.Provider != "groq" {
		t.Fatalf("pick %+v, want groq first", p)
	}
	if _, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Writer", Evidence: classify.Evidence{API: "groq", Status: 429, Message: "Rate limit reached for model llama-3.3-70b-versatile on tokens per day (TPD): Limit 100000. Please try again in 2h0m0s."}}); err != nil {
		t.Fatal(err)
	}
	if !f.channel("Writer").Active {
		t.Fatal("paused though openai is available")
	}
	if p := pick(); p.Provider != "openai" {
		t.Fatalf("pick %+v, want openai while groq is exhausted", p)
	}
	// Both gone: paused with capability:llm until the first is back.
	if _, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Writer", Evidence: classify.Evidence{API: "openai", Status: 429, Headers: map[string][]string{"Retry-After": {"3600"}}, Message: "Rate limit reached for requests per day"}}); err != nil {
		t.Fatal(err)
	}
	c := f.channel("Writer")
	if got := reasons(c); len(got) != 1 || got[0] != "capability:llm" || c.ResumeAt == nil || !c.ResumeAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("with both providers exhausted: %+v", c)
	}
	f.clock.Advance(time.Hour)
	if r := f.tick(); len(r.Resumed) != 1 {
		t.Fatalf("resumed %v when openai came back", r.Resumed)
	}
	if p := pick(); p.Provider != "openai" {
		t.Fatalf("pick %+v", p)
	}
	f.clock.Advance(time.Hour)
	f.tick()
	if p := pick(); p.Provider != "groq" {
		t.Fatalf("pick %+v, want back to groq after its block", p)
	}
}

// A channel's budget or a reserve on a fallback's first provider moves the
// channel to the next provider; it is held (capability:<need>) only when
// none can serve, until the first is back.
func TestHeldProviderMeansTheNextOne(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 0, 0, la)
	f := newFixtureWith(t, start, nil, nil)
	apis := withOpenAI(defaultAPIs())
	apis[0].Reserve = quotad.Reserve{Priority: quotad.PriorityHigh, Units: 10000} // groq: 100000 a day
	llm := []quotad.Capability{{Name: "llm", Providers: []string{"groq", "openai"}}}
	chans := []quotad.Channel{
		{Name: "Writer", APIs: []string{"youtube"}, Fallbacks: llm, Priority: quotad.PriorityHigh, Budgets: []quotad.Budget{{API: "groq", Units: 3000}}},
		{Name: "Filler", APIs: []string{"youtube"}, Fallbacks: llm, Priority: quotad.PriorityLow},
	}
	if _, err := f.e.Configure(f.ctx, apis, chans); err != nil {
		t.Fatal(err)
	}
	pick := func(ch string) engine.Pick {
		p, err := f.e.Pick(f.ctx, ch, "llm")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := f.e.Spend(f.ctx, "groq", 3000, "Writer"); err != nil {
		t.Fatal(err)
	}
	if c := f.channel("Writer"); !c.Active {
		t.Fatalf("Writer paused by its groq budget though openai can serve: %+v", c)
	}
	if p := pick("Writer"); p.Provider != "openai" || len(p.Available) != 1 {
		t.Fatalf("pick after Writer's groq budget: %+v, want openai", p)
	}
	if _, err := f.e.Spend(f.ctx, "openai", 1000, "Writer"); err != nil {
		t.Fatal(err)
	}
	// The reserve on groq moves the low channel to openai the same way.
	if _, err := f.e.Spend(f.ctx, "groq", 87000, "Filler"); err != nil {
		t.Fatal(err)
	}
	if c := f.channel("Filler"); !c.Active {
		t.Fatalf("Filler paused by groq's reserve though openai can serve: %+v", c)
	}
	if p := pick("Filler"); p.Provider != "openai" {
		t.Fatalf("pick for Filler at groq's reserve: %+v, want openai", p)
	}
	// openai gone too: both are held (capability:llm) until the first
	// provider is back: openai after its 2 h block, before groq's midnight.
	if _, err := f.e.ReportError(f.ctx, engine.ErrorReport{Channel: "Writer", Evidence: classify.Evidence{API: "openai", Status: 429,
		Headers: map[string][]string{"Retry-After": {"7200"}}, Message: "Rate limit reached for requests per day"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Writer", "Filler"} {
		c := f.channel(name)
		if got := reasons(c); len(got) != 1 || got[0] != "capability:llm" || c.ResumeAt == nil || !c.ResumeAt.Equal(start.Add(2*time.Hour)) {
			t.Fatalf("%s with groq held and openai exhausted: %+v", name, c)
		}
	}
	f.clock.Advance(2 * time.Hour)
	if r := f.tick(); len(r.Resumed) != 2 {
		t.Fatalf("resumed %v when openai came back", r.Resumed)
	}
	if p := pick("Writer"); p.Provider != "openai" {
		t.Fatalf("pick %+v", p)
	}
}

// A budget on a window shorter than a minute counts what the channel spent
// since that window's reset, not since the start of the minute it reset in.
func TestBudgetOnASubMinuteWindow(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 5, 0, la)
	f := newFixtureWith(t, start, func(apis []quotad.API) {
		apis[0].Windows = append(apis[0].Windows, quotad.Window{Name: "burst", Limit: 2000, Rule: "every 30s"}) // groq
	}, []quotad.Channel{{Name: "Fast", APIs: []string{"groq"}, Budgets: []quotad.Budget{{API: "groq", Window: "burst", Units: 1000}}}})
	if _, err := f.e.Spend(f.ctx, "groq", 500, "Fast"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(start.Add(25 * time.Second)) // 09:00:30, the burst window's reset
	f.tick()
	for range 2 {
		if _, err := f.e.Spend(f.ctx, "groq", 500, "Fast"); err != nil {
			t.Fatalf("1000 of a budget of 1000 in a new 30 s window: %v", err)
		}
	}
	if c := f.channel("Fast"); c.Active || len(c.PauseReasons) != 1 || !strings.Contains(c.PauseReasons[0].Detail, "spent 1000 of its budget of 1000") {
		t.Fatalf("Fast after its budget of the 30 s window: %+v", c)
	}
	if _, err := f.e.Spend(f.ctx, "groq", 1, "Fast"); !errors.Is(err, quotad.ErrExhausted) {
		t.Fatalf("past the budget: %v", err)
	}
}
