package classify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// quotad's own refusals, as a job prints them, are its own hold and never
// a provider's quota error, whatever other words they carry.
func TestQuotadHoldIsNotAProviderQuotaError(t *testing.T) {
	now := time.Date(2026, 1, 11, 17, 0, 0, 0, time.UTC)
	reset := time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)
	apis := []classify.APIInfo{{Name: "youtube", Keywords: []string{"youtube", "google"}}, {Name: "groq", Keywords: []string{"groq"}}}
	budget := (&quotad.ExhaustedError{API: "youtube", Kind: quotad.HoldBudget, Channel: "Norm", Window: "daily", Until: reset, Detail: "100 of its budget of 150 units spent, 100 asked"}).Error()
	reserve := (&quotad.ExhaustedError{API: "youtube", Kind: quotad.HoldReserve, Channel: "Lo", Priority: quotad.PriorityHigh, Window: "daily", Until: reset}).Error()
	window := (&quotad.ExhaustedError{API: "youtube", Window: "daily", Until: reset}).Error()
	for _, tc := range []struct {
		name, msg string
		want      classify.Hold
	}{
		{"budget", "quotad: spend youtube: " + budget, classify.Hold{Kind: "budget", API: "youtube", Channel: "Norm", Window: "daily", Until: reset}},
		{"reserve among other output", "uploading...\nquotad: reserve youtube: " + reserve + "\n", classify.Hold{Kind: "reserve", API: "youtube", Channel: "Lo", Window: "daily", Priority: "high", Until: reset}},
		{"exhausted window says quota exhausted and 429", "HTTP 429 quotad: spend youtube: " + window, classify.Hold{Kind: "window", API: "youtube", Window: "daily", Until: reset}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := classify.FindHold(tc.msg)
			if !ok || h != tc.want {
				t.Fatalf("FindHold = %+v, %v; want %+v", h, ok, tc.want)
			}
			v := classify.Classify(classify.Evidence{Message: tc.msg}, apis, now)
			if v.Quota || v.Kind != classify.KindHold || v.API != "youtube" || !v.Until.Equal(reset) || !strings.Contains(v.Evidence, "quotad's own hold") {
				t.Fatalf("verdict %+v", v)
			}
		})
	}
	// Without the marker, the same words are a provider's quota error.
	if v := classify.Classify(classify.Evidence{Message: "youtube: quota exhausted (window daily)"}, apis, now); !v.Quota || v.Kind == classify.KindHold {
		t.Fatalf("a provider's quota error: %+v", v)
	}
	// A broken marker is not one.
	for _, msg := range []string{"[quotad-hold kind=budget", "[quotad-hold api=youtube]", "[quotad-hold kind=budget]"} {
		if _, ok := classify.FindHold(msg); ok {
			t.Errorf("FindHold(%q) found a hold", msg)
		}
	}
}

func FuzzFindHold(f *testing.F) {
	f.Add("quotad: youtube: held [quotad-hold kind=budget api=youtube channel=Norm window=daily until=2026-01-12T08:00:00Z]")
	f.Add("[quotad-hold kind=window api=groq until=nonsense] [quotad-hold ")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := classify.FindHold(s)
		if ok && (h.Kind == "" || h.API == "" || !strings.Contains(s, "[quotad-hold ")) {
			t.Fatalf("FindHold(%q) = %+v", s, h)
		}
		if len(s) > 64<<10 { // Classify examines the first 64 KiB
			return
		}
		v := classify.Classify(classify.Evidence{Message: s}, nil, time.Unix(0, 0))
		if ok != (v.Kind == classify.KindHold) || (ok && v.Quota) {
			t.Fatalf("Classify(%q) = %+v with hold %v", s, v, ok)
		}
	})
}
