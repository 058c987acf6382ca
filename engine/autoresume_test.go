package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// TestAutoResumeOffWaitsForAPerson checks auto_resume: false: a channel
// paused for such an API stays paused after the API resets (by its timer or
// by a person's reset of the quota) and shows no resume time, while a
// channel of an API with auto_resume on comes back at the same reset; a
// person's resume of the channel clears it.
func TestAutoResumeOffWaitsForAPerson(t *testing.T) {
	start := time.Date(2026, 1, 11, 18, 30, 0, 0, la)
	f := newFixtureWith(t, start, func(apis []quotad.API) {
		for i := range apis {
			if apis[i].Name == "groq" {
				apis[i].AutoResume = false
			}
		}
	}, []quotad.Channel{
		{Name: "Writer", APIs: []string{"groq"}, Priority: quotad.PriorityNormal},
		{Name: "Uploader", APIs: []string{"youtube"}, Priority: quotad.PriorityNormal},
	})
	if f.api("groq").AutoResume || !f.api("youtube").AutoResume {
		t.Fatal("groq should have auto_resume off, youtube on")
	}
	for api, ch := range map[string]string{"groq": "Writer", "youtube": "Uploader"} {
		if _, err := f.e.Spend(f.ctx, api, f.api(api).Windows[0].Limit, ch); err != nil {
			t.Fatal(err)
		}
		if got := reasons(f.channel(ch)); !slices.Equal(got, []string{quotad.QuotaReason(api).String()}) {
			t.Fatalf("%s after %s ran out: pauses %v", ch, api, got)
		}
	}
	if rs := f.channel("Writer").ResumeAt; rs != nil {
		t.Fatalf("Writer resume_at %v, want null: it waits for a person", rs)
	}
	if rs := f.channel("Uploader").ResumeAt; rs == nil {
		t.Fatal("Uploader resume_at is null, want the reset")
	}

	f.clock.Set(time.Date(2026, 1, 12, 0, 0, 0, 0, la)) // both reset at midnight
	r := f.tick()
	if !slices.Contains(r.Resets, "groq/daily") || !slices.Equal(r.Resumed, []string{"Uploader"}) {
		t.Fatalf("at midnight: %+v, want groq reset and only Uploader resumed", r)
	}
	if !f.api("groq").Available {
		t.Fatal("groq not available after its reset")
	}
	if c := f.channel("Writer"); c.Active || c.ResumeAt != nil {
		t.Fatalf("Writer after groq's reset: active %v, resume_at %v; want paused, waiting for a person", c.Active, c.ResumeAt)
	}
	for _, ev := range f.events(quotad.CategoryAutoResume) {
		if ev.Channel == "Writer" {
			t.Fatalf("Writer auto-resumed: %+v", ev)
		}
	}

	// A person's reset of the quota is not a person's resume of the channel.
	if _, err := f.e.Reset(f.ctx, "groq"); err != nil {
		t.Fatal(err)
	}
	if f.tick(); f.channel("Writer").Active {
		t.Fatal("Writer resumed by a reset of groq; auto_resume is off")
	}

	res, err := f.e.Resume(f.ctx, "Writer")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Resumed, []string{"Writer"}) || !f.channel("Writer").Active {
		t.Fatalf("a person's resume: %+v, Writer active %v", res, f.channel("Writer").Active)
	}
}

// TestResumeEligibleClearsAutoResumeOff checks the seed's
// auto_resume_paused_channels (quotad resume with no channel): a person
// asking for it resumes channels of an available API even with auto_resume
// off, but not those of an API still exhausted.
func TestResumeEligibleClearsAutoResumeOff(t *testing.T) {
	f := newFixtureWith(t, time.Date(2026, 1, 11, 18, 30, 0, 0, la), func(apis []quotad.API) {
		for i := range apis {
			apis[i].AutoResume = false
		}
	}, []quotad.Channel{
		{Name: "Writer", APIs: []string{"groq"}, Priority: quotad.PriorityNormal},
		{Name: "Uploader", APIs: []string{"youtube"}, Priority: quotad.PriorityNormal},
	})
	for api, ch := range map[string]string{"groq": "Writer", "youtube": "Uploader"} {
		if _, err := f.e.Spend(f.ctx, api, f.api(api).Windows[0].Limit, ch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.e.Reset(f.ctx, "groq"); err != nil {
		t.Fatal(err)
	}
	if f.channel("Writer").Active {
		t.Fatal("Writer resumed by groq's reset; auto_resume is off")
	}
	res, err := f.e.ResumeEligible(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Resumed, []string{"Writer"}) || f.channel("Uploader").Active {
		t.Fatalf("resume of the eligible: %+v; want Writer only (youtube is still out)", res)
	}
}
