package quotad_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// Each payload reads back what it wrote, and only from its own events.
func TestPayloadsRoundTrip(t *testing.T) {
	until := time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)
	x := quotad.Exhaustion{API: "groq", Windows: []string{"llama/tpd", "llama/rpd"}, Model: "llama", Until: until, Detail: "limit reached"}
	ev := quotad.Event{Category: quotad.CategoryQuota, Fields: x.Fields()}
	if got, ok := ev.Exhaustion(); !ok || !reflect.DeepEqual(got, x) {
		t.Errorf("Exhaustion() = %+v, %v; want %+v", got, ok, x)
	}
	if _, ok := ev.Paused(); ok {
		t.Error("an exhaustion read as a pause")
	}

	for _, r := range []quotad.Refill{
		{API: "youtube", Window: "daily", Trigger: quotad.TriggerTimer, NextReset: until, WasExhausted: true},
		{API: "youtube", Window: "daily", Trigger: quotad.TriggerTimer, NextReset: until, WasExhausted: false},
		{API: "groq", Window: "rpm", Trigger: quotad.TriggerRetryTime, WasExhausted: true},
		{API: "pexels", Window: "hourly", Trigger: quotad.TriggerProvider, Remaining: 17, WasExhausted: true},
		{API: "groq", Trigger: quotad.TriggerManual, WasExhausted: true},
	} {
		ev := quotad.Event{Category: quotad.CategoryQuotaReset, Fields: r.Fields()}
		if got, ok := ev.Refill(); !ok || got != r {
			t.Errorf("Refill() = %+v, %v; want %+v", got, ok, r)
		}
		if _, ok := ev.Exhaustion(); ok {
			t.Error("a refill read as an exhaustion")
		}
	}

	for _, tc := range []struct {
		category string
		p        quotad.Paused
	}{
		{quotad.CategoryPause, quotad.Paused{Reason: quotad.BudgetReason("youtube"), Until: until}},
		{quotad.CategoryPause, quotad.Paused{Reason: quotad.ReasonManual, Trigger: "manual"}},
		{quotad.CategoryPause, quotad.Paused{Reason: quotad.ReasonErrors}},
		{quotad.CategoryQuota, quotad.Paused{Reason: quotad.QuotaReason("groq/llama"), API: "groq"}},
		{quotad.CategoryQuota, quotad.Paused{Reason: quotad.CapabilityReason("llm"), API: "groq"}},
	} {
		ev := quotad.Event{Category: tc.category, Fields: tc.p.Fields()}
		if got, ok := ev.Paused(); !ok || got != tc.p {
			t.Errorf("Paused() = %+v, %v; want %+v", got, ok, tc.p)
		}
		if _, ok := ev.Exhaustion(); ok {
			t.Errorf("a pause (%s) read as an exhaustion", tc.p.Reason)
		}
	}
	if _, ok := (quotad.Event{Category: quotad.CategoryJob, Fields: map[string]string{"reason": "x"}}).Paused(); ok {
		t.Error("a job event read as a pause")
	}
}
