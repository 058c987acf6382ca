package simulate_test

import (
	"context"
	"testing"

	"github.com/quotad/quotad/simulate"
)

// TestGroqModelLimitHoldsOnlyThatModel: a channel that spends
// llama-3.3-70b-versatile's tokens per day is stopped for the day; one on
// llama-3.1-8b-instant of the same API runs every time.
func TestGroqModelLimitHoldsOnlyThatModel(t *testing.T) {
	cfg := parse(t, `timezone: America/Los_Angeles
apis:
  groq: {provider: groq}
channels:
  Big:
    apis: [groq]
    job:
      schedule: every 10m
      simulate: {calls: [{api: groq, model: llama-3.3-70b-versatile, tokens: 2500, count: 3}], duration: 1m}
  Small:
    apis: [groq]
    job:
      schedule: every 1h
      simulate: {calls: [{api: groq, model: llama-3.1-8b-instant, tokens: 1000}]}
`)
	rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 1, Start: utcMidnight, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	big, small := rep.Channels["Big"], rep.Channels["Small"]
	// Hourly from 01:00 (the first pass schedules the next run): 23 runs.
	if small.Runs.Finished != 23 || small.Runs.PausedOutMinutes+small.Runs.PausedAvailableMinutes > 0 || len(small.Runs.Held) > 0 {
		t.Errorf("Small (llama-3.1-8b-instant) finished %d of 23 runs, paused %.0f+%.0f min, held %v: another model's limit stopped it",
			small.Runs.Finished, small.Runs.PausedOutMinutes, small.Runs.PausedAvailableMinutes, small.Runs.Held)
	}
	if tpd, _ := rep.Window("groq/llama-3.3-70b-versatile/tpd"); tpd.Utilization < 0.95 || big.Runs.Finished >= 144 {
		t.Errorf("Big: %+v; tpd %+v: want its model's day used up and runs stopped", big.Runs, tpd)
	}
	if len(rep.Interventions) > 0 || len(rep.Overspent) > 0 {
		t.Errorf("interventions %v, overspent %v", rep.Interventions, rep.Overspent)
	}
}

// TestYouTubeUploadBucketEndsUploadsNotSearches: uploads stop for the day
// when videos.insert's bucket is used up; a channel that only searches
// (it needs youtube/search.list) goes on.
func TestYouTubeUploadBucketEndsUploadsNotSearches(t *testing.T) {
	cfg := parse(t, `timezone: America/Los_Angeles
apis:
  youtube: {provider: youtube}
channels:
  Uploader:
    apis: [youtube]
    job:
      schedule: every 10m
      simulate: {calls: [{api: youtube, method: videos.insert, count: 5}]}
  Searcher:
    apis: [youtube/search.list]
    job:
      schedule: every 1h
      simulate: {calls: [{api: youtube, method: search.list}]}
`)
	rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	up, se := rep.Channels["Uploader"], rep.Channels["Searcher"]
	for i, d := range up.Days {
		if d.Finished != 20 { // 100 uploads a day, 5 a run
			t.Errorf("Uploader day %d (%s) finished %d runs, want 20 (videos.insert's 100 a day)", i, d.Date, d.Finished)
		}
	}
	if se.Runs.Finished != 47 || se.Runs.PausedOutMinutes+se.Runs.PausedAvailableMinutes > 0 {
		t.Errorf("Searcher finished %d of 47 runs, paused %.0f+%.0f min: the upload bucket stopped searches", se.Runs.Finished, se.Runs.PausedOutMinutes, se.Runs.PausedAvailableMinutes)
	}
	if w, _ := rep.Window("youtube/videos.insert"); w.Utilization < 0.99 || w.Overspent {
		t.Errorf("videos.insert: %+v", w)
	}
}
