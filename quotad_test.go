package quotad_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var (
	t0 = time.Date(2026, 1, 11, 18, 30, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

func TestWindowRemainingFreeUntil(t *testing.T) {
	tests := []struct {
		name            string
		w               quotad.Window
		remaining, free int64
		until           time.Time
	}{
		{"fresh", quotad.Window{Limit: 100}, 100, 100, time.Time{}},
		{"part used", quotad.Window{Limit: 100, Used: 30}, 70, 70, time.Time{}},
		{"reserved counts in free, not in remaining", quotad.Window{Limit: 100, Used: 30, Reserved: 50}, 70, 20, time.Time{}},
		{"reserved past the limit", quotad.Window{Limit: 100, Used: 30, Reserved: 90}, 70, 0, time.Time{}},
		{"used exactly the limit", quotad.Window{Limit: 100, Used: 100}, 0, 0, time.Time{}},
		{"provider said more than the limit", quotad.Window{Limit: 100, Used: 140}, 0, 0, time.Time{}},
		{"until is the next reset", quotad.Window{Limit: 1, NextReset: t2}, 1, 1, t2},
		{"a provider's retry time wins", quotad.Window{Limit: 1, NextReset: t2, BlockedUntil: t1}, 1, 1, t1},
		{"even when it is after the reset", quotad.Window{Limit: 1, NextReset: t1, BlockedUntil: t2}, 1, 1, t2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Remaining(); got != tc.remaining {
				t.Errorf("Remaining() = %d, want %d", got, tc.remaining)
			}
			if got := tc.w.Free(); got != tc.free {
				t.Errorf("Free() = %d, want %d", got, tc.free)
			}
			if got := tc.w.Until(); !got.Equal(tc.until) {
				t.Errorf("Until() = %v, want %v", got, tc.until)
			}
		})
	}
}

func TestAPIAvailableAndAvailableAt(t *testing.T) {
	open := quotad.Window{Name: "hourly", Limit: 200, NextReset: t1}
	outAtReset := quotad.Window{Name: "daily", Limit: 10, Used: 10, Exhausted: true, NextReset: t2}
	outBlocked := quotad.Window{Name: "minute", Limit: 10, Exhausted: true, NextReset: t2, BlockedUntil: t1}
	outLater := quotad.Window{Name: "monthly", Limit: 10, Exhausted: true, NextReset: t2.Add(time.Hour)}
	tests := []struct {
		name      string
		windows   []quotad.Window
		available bool
		at        time.Time
	}{
		{"no windows", nil, true, time.Time{}},
		{"none exhausted", []quotad.Window{open}, true, time.Time{}},
		{"one exhausted: its reset", []quotad.Window{open, outAtReset}, false, t2},
		{"blocked by the provider: its retry time", []quotad.Window{open, outBlocked}, false, t1},
		{"several exhausted: the latest", []quotad.Window{outBlocked, outLater, outAtReset}, false, t2.Add(time.Hour)},
		{"used up but not marked exhausted is available", []quotad.Window{{Limit: 5, Used: 5}}, true, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := quotad.API{Name: "x", Windows: tc.windows}
			if got := a.Available(); got != tc.available {
				t.Errorf("Available() = %v, want %v", got, tc.available)
			}
			if got := a.AvailableAt(); !got.Equal(tc.at) {
				t.Errorf("AvailableAt() = %v, want %v", got, tc.at)
			}
		})
	}
	a := quotad.API{Windows: []quotad.Window{open, outAtReset}}
	if w, ok := a.Window("daily"); !ok || w.Limit != 10 {
		t.Errorf("Window(daily) = %+v, %v", w, ok)
	}
	if _, ok := a.Window("weekly"); ok {
		t.Error("Window(weekly) found a window that does not exist")
	}
}

func TestReasonsAndPriorities(t *testing.T) {
	for reason, api := range map[string]string{"quota:groq": "groq", "quota:?": "", "quota:": "", "budget:groq": "", "manual": "", "errors": ""} {
		if got := quotad.ReasonOf(reason).Target().API; got != api {
			t.Errorf("ReasonOf(%q).Target().API = %q, want %q", reason, got, api)
		}
	}
	if got := quotad.QuotaReason("groq").String(); got != "quota:groq" {
		t.Errorf("QuotaReason = %q", got)
	}
	if got := quotad.BudgetReason("groq").String(); got != "budget:groq" {
		t.Errorf("BudgetReason = %q", got)
	}
	for p, rank := range map[quotad.Priority]int{"low": 0, "normal": 1, "high": 2, "": -1, "urgent": -1} {
		if got := p.Rank(); got != rank {
			t.Errorf("Priority(%q).Rank() = %d, want %d", p, got, rank)
		}
	}
	for _, tc := range []struct {
		b     quotad.Budget
		limit int64
		want  int64
	}{
		{quotad.Budget{Units: 2000}, 10000, 2000},
		{quotad.Budget{Share: 0.25}, 10000, 2500},
		{quotad.Budget{Units: 7, Share: 0.5}, 10000, 7},
	} {
		if got := tc.b.Limit(tc.limit); got != tc.want {
			t.Errorf("%+v.Limit(%d) = %d, want %d", tc.b, tc.limit, got, tc.want)
		}
	}
}

// apis returns the APIs of the pause-clearing tests: groq exhausted until
// t1, youtube available, pexels (auto_resume off) available, pixabay
// (auto_resume off) exhausted until t2.
func apis() map[string]quotad.API {
	return map[string]quotad.API{
		"groq":    {Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1, Used: 1, Exhausted: true, NextReset: t1}}},
		"youtube": {Name: "youtube", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1, NextReset: t1}}},
		"pexels":  {Name: "pexels", AutoResume: false, Windows: []quotad.Window{{Name: "hourly", Limit: 1, NextReset: t1}}},
		"pixabay": {Name: "pixabay", AutoResume: false, Windows: []quotad.Window{{Name: "minute", Limit: 1, Exhausted: true, NextReset: t2}}},
	}
}

func TestPauseEnd(t *testing.T) {
	ch := quotad.Channel{Name: "RankRiot", Fallbacks: []quotad.Capability{
		{Name: "llm", Providers: []string{"groq", "youtube"}},
		{Name: "stock", Providers: []string{"pixabay"}},
	}}
	now := t0
	tests := []struct {
		name     string
		p        quotad.Pause
		byPerson bool
		want     bool
	}{
		{"quota of an exhausted API holds", quotad.Pause{Reason: quotad.ReasonOf("quota:groq")}, false, false},
		{"quota of an exhausted API holds for a person too", quotad.Pause{Reason: quotad.ReasonOf("quota:groq")}, true, false},
		{"quota of an available API clears", quotad.Pause{Reason: quotad.ReasonOf("quota:youtube")}, false, true},
		{"auto_resume off: an available API does not clear by itself", quotad.Pause{Reason: quotad.ReasonOf("quota:pexels")}, false, false},
		{"auto_resume off: a person clears it", quotad.Pause{Reason: quotad.ReasonOf("quota:pexels")}, true, true},
		{"auto_resume off and exhausted: not even a person", quotad.Pause{Reason: quotad.ReasonOf("quota:pixabay")}, true, false},
		{"quota of an API that is gone clears", quotad.Pause{Reason: quotad.ReasonOf("quota:deleted")}, false, true},
		{"manual never clears by itself", quotad.Pause{Reason: quotad.ReasonOf("manual"), Until: t0.Add(-time.Hour)}, false, false},
		{"manual is not cleared here even by a person", quotad.Pause{Reason: quotad.ReasonOf("manual")}, true, false},
		{"errors never clears by itself", quotad.Pause{Reason: quotad.ReasonOf("errors")}, false, false},
		{"a timed pause holds before its until", quotad.Pause{Reason: quotad.ReasonOf("budget:groq"), Until: t1}, false, false},
		{"a timed pause clears at its until", quotad.Pause{Reason: quotad.ReasonOf("budget:groq"), Until: now}, false, true},
		{"a timed pause clears after its until", quotad.Pause{Reason: quotad.ReasonOf("channel_limit"), Until: now.Add(-time.Second)}, false, true},
		{"an unattributed quota pause clears at its until", quotad.Pause{Reason: quotad.ReasonOf("quota:?"), Until: now}, false, true},
		{"a pause without an until does not clear", quotad.Pause{Reason: quotad.ReasonOf("reserve:groq")}, false, false},
		{"a budget of an API that is gone clears", quotad.Pause{Reason: quotad.BudgetReason("deleted"), Until: t1}, false, true},
		{"a reason quotad did not write holds without an until", quotad.Pause{Reason: quotad.ReasonOf("maintenance")}, false, false},
		{"a reason quotad did not write clears at its until", quotad.Pause{Reason: quotad.ReasonOf("maintenance"), Until: now}, false, true},
		{"capability held by a budget: holds before its until", quotad.Pause{Reason: quotad.CapabilityReason("llm"), Until: t1}, false, false},
		{"capability held by a budget: clears at its until", quotad.Pause{Reason: quotad.CapabilityReason("llm"), Until: now}, false, true},
		{"capability: one provider available clears", quotad.Pause{Reason: quotad.ReasonOf("capability:llm")}, false, true},
		{"capability: every provider out holds", quotad.Pause{Reason: quotad.ReasonOf("capability:stock")}, false, false},
		{"capability that is gone clears", quotad.Pause{Reason: quotad.ReasonOf("capability:video")}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.End(ch, apis(), now, tc.byPerson).Cleared; got != tc.want {
				t.Errorf("End(%q, byPerson=%v).Cleared = %v, want %v", tc.p.Reason, tc.byPerson, got, tc.want)
			}
			if tc.byPerson {
				return
			}
			// The status view's ResumeAt says the same: a pause that has
			// ended resumes at or before now, one that holds resumes later
			// or never.
			p := tc.p
			p.Since = now.Add(-time.Hour)
			c := ch
			c.Pauses = []quotad.Pause{p}
			at := quotad.ResumeAt(c, apis())
			if ended := !at.IsZero() && !at.After(now); ended != tc.want {
				t.Errorf("ResumeAt = %v (ended by now: %v), but End says cleared = %v", at, ended, tc.want)
			}
		})
	}
}

func TestResumeAt(t *testing.T) {
	ch := func(ps ...quotad.Pause) quotad.Channel {
		return quotad.Channel{Name: "c", Pauses: ps, Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"pixabay", "groq"}}}}
	}
	tests := []struct {
		name string
		c    quotad.Channel
		want time.Time
	}{
		{"active", ch(), time.Time{}},
		{"quota: when the API is back", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:groq"), Since: t0}), t1},
		{"quota of an API available already: now (its Since)", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:youtube"), Since: t0}), t0},
		{"auto_resume off: never by itself", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:pexels"), Since: t0}), time.Time{}},
		{"an API that is gone: now (its Since)", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:deleted"), Since: t0}), t0},
		{"manual: never", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:groq")}, quotad.Pause{Reason: quotad.ReasonOf("manual")}), time.Time{}},
		{"errors: never", ch(quotad.Pause{Reason: quotad.ReasonOf("errors")}), time.Time{}},
		{"timed: its until", ch(quotad.Pause{Reason: quotad.ReasonOf("budget:youtube"), Until: t2}), t2},
		{"several: the latest", ch(quotad.Pause{Reason: quotad.ReasonOf("quota:groq")}, quotad.Pause{Reason: quotad.ReasonOf("budget:youtube"), Until: t2}), t2},
		{"capability: the first provider with auto_resume back", ch(quotad.Pause{Reason: quotad.ReasonOf("capability:llm")}), t1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := quotad.ResumeAt(tc.c, apis()); !got.Equal(tc.want) {
				t.Errorf("ResumeAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatusViews(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	a := quotad.API{Name: "groq", Unit: "tokens", AutoResume: true, Windows: []quotad.Window{
		{Name: "daily", Limit: 100, Used: 120, Reserved: 5, Exhausted: true, ExhaustedAt: t0.In(la), NextReset: t1.In(la), Rule: "daily 00:00", BlockedUntil: t2},
		{Name: "minute", Limit: 10, Used: 3, Reserved: 2},
	}}
	s := quotad.StatusOf(a)
	if s.Available || s.AvailableAt == nil || !s.AvailableAt.Equal(t2) || s.Keywords == nil {
		t.Fatalf("StatusOf = %+v", s)
	}
	d, m := s.Windows[0], s.Windows[1]
	if d.Remaining != 0 || d.Reserved != 5 || d.ExhaustedAt.Location() != time.UTC || !d.NextReset.Equal(t1) || d.LastReset != nil {
		t.Errorf("exhausted window view = %+v", d)
	}
	if m.Remaining != 7 || m.Reserved != 2 || m.Exhausted || m.NextReset != nil || m.BlockedUntil != nil {
		t.Errorf("open window view = %+v", m)
	}
	b, err := json.Marshal(quotad.StatusOf(quotad.API{Name: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	// Programs read these: nulls and empty lists, never missing keys.
	if want := `{"name":"x","unit":"","available":true,"auto_resume":false,"available_at":null,"keywords":[],"windows":[]}`; string(b) != want {
		t.Errorf("JSON of an empty API = %s, want %s", b, want)
	}

	c := quotad.Channel{Name: "RankRiot", Priority: quotad.PriorityHigh, APIs: []string{"groq"},
		Pauses:    []quotad.Pause{{Reason: quotad.ReasonOf("quota:groq"), Since: t0, Detail: "429"}},
		Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"groq"}}},
		Budgets:   []quotad.Budget{{API: "groq", Share: 0.25}}, ConsecutiveErrors: 3}
	cs := quotad.ChannelStatusOf(c, apis())
	if cs.Active || len(cs.PauseReasons) != 1 || cs.PauseReasons[0].Detail != "429" || cs.ResumeAt == nil || !cs.ResumeAt.Equal(t1) ||
		cs.ConsecutiveErrors != 3 || len(cs.Fallbacks["llm"]) != 1 || len(cs.Budgets) != 1 || cs.Budgets[0].Share != 0.25 {
		t.Errorf("ChannelStatusOf = %+v", cs)
	}
	cs.APIs[0] = "changed"
	if c.APIs[0] != "groq" {
		t.Error("the view shares its APIs slice with the channel")
	}
	active := quotad.ChannelStatusOf(quotad.Channel{Name: "idle"}, nil)
	if !active.Active || active.ResumeAt != nil || active.APIs == nil || active.PauseReasons == nil {
		t.Errorf("view of an active channel = %+v", active)
	}

	ev := quotad.EventStatusOf(quotad.Event{ID: 7, Time: t0.In(la), Level: "INFO", Category: "quota"})
	if ev.ID != 7 || ev.Time.Location() != time.UTC || !ev.Time.Equal(t0) {
		t.Errorf("EventStatusOf = %+v", ev)
	}
	if quotad.TimePtr(time.Time{}) != nil {
		t.Error("TimePtr of the zero time is not nil")
	}
}

func TestErrors(t *testing.T) {
	err := quotad.Invalidf("bad %s", "input")
	if !errors.Is(err, quotad.ErrInvalid) || err.Error() == "" {
		t.Errorf("Invalidf: %v", err)
	}
	var ex error = &quotad.ExhaustedError{API: "groq"}
	if !errors.Is(ex, quotad.ErrExhausted) {
		t.Errorf("ExhaustedError is not ErrExhausted: %v", ex)
	}
}
