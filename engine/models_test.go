package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
)

// groqPerModel replaces the default groq API with the groq profile's:
// every model of Groq's table has its own rpm, rpd, tpm and tpd.
func groqPerModel(t *testing.T) func(apis []quotad.API) {
	return func(apis []quotad.API) {
		p, _ := provider.Lookup("groq")
		g, err := p.API("groq")
		if err != nil {
			t.Fatal(err)
		}
		apis[0] = g
	}
}

func windowOf(t *testing.T, s quotad.APIStatus, key string) quotad.WindowStatus {
	t.Helper()
	for _, w := range s.Windows {
		if w.Key == key {
			return w
		}
	}
	t.Fatalf("%s has no window %s", s.Name, key)
	return quotad.WindowStatus{}
}

// A spend on a model charges that model's windows, each by its meter: one
// request in rpm and rpd, the units in tpm and tpd. Other models' windows
// are untouched, and a spend naming no model on an API whose limits are all
// per model is refused with the fix.
func TestSpendChargesEachWindowByItsMeter(t *testing.T) {
	f := newFixtureWith(t, time.Date(2026, 1, 11, 9, 0, 0, 0, la), groqPerModel(t), []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq"}}})
	res, err := f.e.Spend(f.ctx, "groq/llama-3.3-70b-versatile", 1200, "RankRiot")
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "llama-3.3-70b-versatile" || len(res.Windows) != 4 || res.Exhausted {
		t.Errorf("result %+v", res)
	}
	a := f.api("groq")
	for key, want := range map[string]int64{
		"llama-3.3-70b-versatile/rpm": 1, "llama-3.3-70b-versatile/rpd": 1,
		"llama-3.3-70b-versatile/tpm": 1200, "llama-3.3-70b-versatile/tpd": 1200,
		"llama-3.1-8b-instant/rpm": 0, "llama-3.1-8b-instant/tpd": 0,
	} {
		if w := windowOf(t, a, key); w.Used != want {
			t.Errorf("%s used %d, want %d", key, w.Used, want)
		}
	}
	if w := windowOf(t, a, "llama-3.3-70b-versatile/rpm"); w.Unit != "requests" {
		t.Errorf("rpm counts %q, want requests", w.Unit)
	}
	if !f.channel("RankRiot").Active {
		t.Error("a spend far below every limit paused the channel")
	}
	if _, err := f.e.Spend(f.ctx, "groq", 1200, "RankRiot"); !errors.Is(err, quotad.ErrInvalid) {
		t.Errorf("a spend naming no model on a per-model API: %v, want invalid", err)
	}
	// A reservation holds one request and the units; its release gives
	// them back.
	r, err := f.e.Reserve(f.ctx, "groq/llama-3.1-8b-instant", 500, "RankRiot", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a = f.api("groq")
	if windowOf(t, a, "llama-3.1-8b-instant/rpm").Reserved != 1 || windowOf(t, a, "llama-3.1-8b-instant/tpd").Reserved != 500 {
		t.Errorf("reservation held %+v", a.Windows)
	}
	if res, err := f.e.Commit(f.ctx, r.ID, 300); err != nil || res.Model != "llama-3.1-8b-instant" {
		t.Fatalf("commit %+v %v", res, err)
	}
	a = f.api("groq")
	if w := windowOf(t, a, "llama-3.1-8b-instant/tpd"); w.Reserved != 0 || w.Used != 300 {
		t.Errorf("8b tpd after commit %+v", w)
	}
	if w := windowOf(t, a, "llama-3.1-8b-instant/rpd"); w.Reserved != 0 || w.Used != 1 {
		t.Errorf("8b rpd after commit %+v", w)
	}
}

// A model without quota pauses exactly the channels that need it: the one
// whose spend used it (it needs groq as a whole) and the one naming it;
// a channel naming another model, and a fallback list with another model
// left, keep running. They resume at that model's reset.
func TestModelOutPausesOnlyItsChannels(t *testing.T) {
	start := time.Date(2026, 1, 11, 9, 0, 30, 0, time.UTC)
	// Days smaller than minutes, so that one spend that fits runs a day out.
	edit := func(apis []quotad.API) {
		groqPerModel(t)(apis)
		for i, w := range apis[0].Windows {
			if w.Name == "tpd" && (w.Model == "llama-3.3-70b-versatile" || w.Model == "llama-3.1-8b-instant") {
				apis[0].Windows[i].Limit = 5000
			}
		}
	}
	f := newFixtureWith(t, start, edit, []quotad.Channel{
		{Name: "Writer", APIs: []string{"groq"}},
		{Name: "Scripts", APIs: []string{"groq/llama-3.3-70b-versatile"}},
		{Name: "Titles", APIs: []string{"groq/llama-3.1-8b-instant"}},
		{Name: "Flex", Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"groq/llama-3.3-70b-versatile", "groq/llama-3.1-8b-instant"}}}},
		{Name: "Other", APIs: []string{"groq"}},
	})
	if _, err := f.e.Spend(f.ctx, "groq/llama-3.3-70b-versatile", 5000, "Writer"); err != nil {
		t.Fatal(err)
	}
	reason := "quota:groq/llama-3.3-70b-versatile"
	for name, want := range map[string][]string{"Writer": {reason}, "Scripts": {reason}, "Titles": nil, "Flex": nil, "Other": nil} {
		if got := reasons(f.channel(name)); len(got) != len(want) || len(want) > 0 && got[0] != want[0] {
			t.Errorf("%s pauses %v, want %v", name, got, want)
		}
	}
	var ee *quotad.ExhaustedError
	if _, err := f.e.Spend(f.ctx, "groq/llama-3.3-70b-versatile", 1, ""); !errors.As(err, &ee) || ee.Window != "llama-3.3-70b-versatile/tpd" {
		t.Errorf("a 70b spend: %v, want refused by its tpd", err)
	}
	if _, err := f.e.Spend(f.ctx, "groq/llama-3.1-8b-instant", 50, "Titles"); err != nil {
		t.Errorf("an 8b spend while the 70b is out: %v", err)
	}
	midnight := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	if c := f.channel("Scripts"); c.ResumeAt == nil || !c.ResumeAt.Equal(midnight) {
		t.Errorf("Scripts resumes at %v, want the 70b tpd's reset %s", c.ResumeAt, midnight)
	}
	// The minute windows reset: the model is still out for the day.
	f.clock.Set(start.Add(time.Minute))
	f.tick()
	if f.channel("Scripts").Active {
		t.Fatal("Scripts resumed while its model's tpd is out")
	}
	// The 8b out too: Flex has no provider of llm left.
	if _, err := f.e.Spend(f.ctx, "groq/llama-3.1-8b-instant", 4950, "Titles"); err != nil {
		t.Fatal(err)
	}
	if got := reasons(f.channel("Flex")); len(got) != 1 || got[0] != "capability:llm" {
		t.Errorf("Flex pauses %v, want capability:llm", got)
	}
	f.clock.Set(midnight)
	f.tick()
	for _, name := range []string{"Writer", "Scripts", "Titles", "Flex"} {
		if c := f.channel(name); !c.Active {
			t.Errorf("%s not resumed at the reset: %v", name, reasons(c))
		}
	}
}

// A reported 429 naming its model exhausts the window it names of that
// model only.
func TestReportedErrorAppliesToTheModelItNames(t *testing.T) {
	f := newFixtureWith(t, time.Date(2026, 1, 11, 9, 0, 0, 0, time.UTC), groqPerModel(t), []quotad.Channel{{Name: "Writer", APIs: []string{"groq"}}})
	msg := "groq.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for model `llama-3.1-8b-instant` in organization `org_01` service tier `on_demand` on tokens per day (TPD): Limit 500000, Used 499990, Requested 120. Please try again in 1m26.4s.', 'type': 'tokens', 'code': 'rate_limit_exceeded'}}"
	res, err := f.e.ReportError(f.ctx, reportOf("Writer", "groq", msg))
	if err != nil || !res.Verdict.Quota {
		t.Fatalf("%+v %v", res, err)
	}
	a := f.api("groq")
	if !windowOf(t, a, "llama-3.1-8b-instant/tpd").Exhausted {
		t.Error("the 8b tpd the text names is not exhausted")
	}
	for _, w := range a.Windows {
		if w.Exhausted && w.Key != "llama-3.1-8b-instant/tpd" {
			t.Errorf("%s exhausted too", w.Key)
		}
	}
	if got := reasons(f.channel("Writer")); len(got) != 1 || got[0] != "quota:groq/llama-3.1-8b-instant" {
		t.Errorf("Writer pauses %v", got)
	}
}

func reportOf(channel, api, msg string) engine.ErrorReport {
	return engine.ErrorReport{Channel: channel, Evidence: classify.Evidence{API: api, Message: msg}}
}
