package quotad_test

import (
	"testing"

	"github.com/quotad/quotad"
)

func TestReasonOf(t *testing.T) {
	tests := []struct {
		text string
		want quotad.Reason
	}{
		{"manual", quotad.ReasonManual},
		{"errors", quotad.ReasonErrors},
		{"channel_limit", quotad.ReasonChannelLimit},
		{"quota:?", quotad.ReasonQuotaUnknown},
		{"quota:groq", quotad.QuotaReason("groq")},
		{"quota:groq/llama-3.3-70b-versatile", quotad.QuotaReason("groq/llama-3.3-70b-versatile")},
		{"quota:youtube/videos.insert@b", quotad.QuotaReason("youtube/videos.insert@b")},
		{"budget:youtube", quotad.BudgetReason("youtube")},
		{"reserve:groq", quotad.ReserveReason("groq")},
		{"capability:llm", quotad.CapabilityReason("llm")},
		{"capability:", quotad.CapabilityReason("")},
		// Text quotad did not write is kept whole.
		{"maintenance", quotad.Reason{Kind: quotad.KindOther, Subject: "maintenance"}},
		{"manual:by bob", quotad.Reason{Kind: quotad.KindOther, Subject: "manual:by bob"}},
		{"quota", quotad.Reason{Kind: quotad.KindOther, Subject: "quota"}},
		{"holiday:2026", quotad.Reason{Kind: quotad.KindOther, Subject: "holiday:2026"}},
	}
	for _, tc := range tests {
		got := quotad.ReasonOf(tc.text)
		if got != tc.want {
			t.Errorf("ReasonOf(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
		if s := got.String(); s != tc.text {
			t.Errorf("ReasonOf(%q).String() = %q", tc.text, s)
		}
	}
	if tg := quotad.QuotaReason("groq/llama-3.3-70b-versatile").Target(); tg.API != "groq" || tg.Model != "llama-3.3-70b-versatile" {
		t.Errorf("Target of a model's quota reason = %+v", tg)
	}
	for _, r := range []quotad.Reason{quotad.ReasonQuotaUnknown, quotad.BudgetReason("groq"), quotad.ReasonManual} {
		if tg := r.Target(); tg.API != "" {
			t.Errorf("%s.Target() = %+v, want none", r, tg)
		}
	}
	for r, want := range map[quotad.Reason]bool{quotad.ReasonManual: true, quotad.ReasonErrors: true, quotad.ReasonChannelLimit: false, quotad.QuotaReason("groq"): false} {
		if got := r.ByPerson(); got != want {
			t.Errorf("%s.ByPerson() = %v, want %v", r, got, want)
		}
	}
}

// FuzzReasonOf: a stored reason reads back to the same text whatever it
// holds, so that reading and saving a channel never changes its pauses.
func FuzzReasonOf(f *testing.F) {
	for _, s := range []string{"manual", "quota:?", "quota:groq/m@s", "budget:x", "capability:", "x:y:z", "", ":", "errors:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := quotad.ReasonOf(s)
		if got := r.String(); got != s {
			t.Fatalf("ReasonOf(%q).String() = %q (%+v)", s, got, r)
		}
		if quotad.ReasonOf(r.String()) != r {
			t.Fatalf("ReasonOf is not stable on %q", s)
		}
	})
}
