package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var eventTests = []subtest{
	{"RoundTrip", testEventRoundTrip},
	{"Filter", testEventFilter},
	{"Paging", testEventPaging},
	{"Invalid", testEventInvalid},
}

func appendEvents(t *testing.T, s quotad.Store, events ...quotad.Event) {
	t.Helper()
	update(t, s, func(tx quotad.Tx) error { return tx.AppendEvents(events...) })
}

func readEvents(t *testing.T, s quotad.Store, f quotad.EventFilter) []quotad.Event {
	t.Helper()
	var list []quotad.Event
	view(t, s, func(tx quotad.Tx) (err error) { list, err = tx.Events(f); return err })
	return list
}

func messages(list []quotad.Event) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.Message)
	}
	return out
}

func testEventRoundTrip(t *testing.T, e *env) {
	in := []quotad.Event{
		{Time: at(0), Level: quotad.LevelWarning, Channel: "RankRiot", Category: quotad.CategoryQuota,
			Message: "Groq API quota exhausted - will auto-resume at midnight",
			Fields:  map[string]string{"api": "groq", "window": "daily", "until": "2026-01-12T08:00:00Z"}},
		{Time: at(time.Second), Level: quotad.LevelInfo, Category: quotad.CategoryQuotaReset,
			Message: "GROQ quota reset"},
		{Time: at(2 * time.Second), Level: quotad.LevelInfo, Channel: "RankRiot", Category: quotad.CategoryAutoResume,
			Message: "Channel auto-resumed after quota reset", Fields: map[string]string{}},
	}
	appendEvents(t, e.s, in...)
	got := readEvents(t, e.s, quotad.EventFilter{})
	if len(got) != len(in) {
		t.Fatalf("Events = %d events, want %d: %+v", len(got), len(in), got)
	}
	for i := range got {
		want := in[len(in)-1-i] // newest first
		if got[i].ID <= 0 {
			t.Errorf("event %d has ID %d", i, got[i].ID)
		}
		want.ID = got[i].ID
		equal(t, fmt.Sprintf("event %d", i), got[i], want, normEvent)
		if i > 0 && got[i].ID >= got[i-1].ID {
			t.Errorf("IDs not decreasing newest first: %d then %d", got[i-1].ID, got[i].ID)
		}
	}
	if in[0].Fields["api"] != "groq" || in[0].ID != 0 {
		t.Errorf("AppendEvents changed its arguments: %+v", in[0])
	}

	// A later transaction's events get later IDs.
	appendEvents(t, e.s, quotad.Event{Time: at(3 * time.Second), Level: quotad.LevelInfo, Category: quotad.CategoryResume, Message: "later"})
	latest := readEvents(t, e.s, quotad.EventFilter{Limit: 1})
	if len(latest) != 1 || latest[0].Message != "later" || latest[0].ID <= got[0].ID {
		t.Errorf("newest event = %+v, want \"later\" with an ID above %d", latest, got[0].ID)
	}
	// Appending nothing is a no-op.
	appendEvents(t, e.s)
}

func testEventFilter(t *testing.T, e *env) {
	ev := func(level, channel, category, msg string) quotad.Event {
		return quotad.Event{Time: base, Level: level, Channel: channel, Category: category, Message: msg}
	}
	appendEvents(t, e.s,
		ev(quotad.LevelWarning, "RankRiot", quotad.CategoryQuota, "e1"),
		ev(quotad.LevelInfo, "", quotad.CategoryQuotaReset, "e2"),
		ev(quotad.LevelWarning, "RankRiot", quotad.CategoryPause, "e3"),
		ev(quotad.LevelInfo, "RankRiot", quotad.CategoryAutoResume, "e4"),
		ev(quotad.LevelWarning, "Calm", quotad.CategoryQuota, "e5"),
		ev(quotad.LevelError, "Calm", quotad.CategoryError, "e6"),
		ev(quotad.LevelInfo, "Calm", "quotas", "e7"),
	)
	cases := []struct {
		f    quotad.EventFilter
		want []string
	}{
		{quotad.EventFilter{}, []string{"e7", "e6", "e5", "e4", "e3", "e2", "e1"}},
		{quotad.EventFilter{Category: "quota"}, []string{"e5", "e1"}},
		{quotad.EventFilter{Category: "%quota%"}, []string{"e7", "e5", "e2", "e1"}},
		{quotad.EventFilter{Category: "quota%"}, []string{"e7", "e5", "e2", "e1"}},
		{quotad.EventFilter{Category: "quota_%"}, []string{"e7", "e2"}},
		{quotad.EventFilter{Category: "%resume"}, []string{"e4"}},
		{quotad.EventFilter{Category: "quota_"}, []string{}}, // no '%': exact
		{quotad.EventFilter{Category: "nope"}, []string{}},
		{quotad.EventFilter{Channel: "RankRiot"}, []string{"e4", "e3", "e1"}},
		{quotad.EventFilter{Level: quotad.LevelWarning}, []string{"e5", "e3", "e1"}},
		{quotad.EventFilter{Category: "quota", Channel: "Calm"}, []string{"e5"}},
		{quotad.EventFilter{Category: "quota_reset"}, []string{"e2"}},
		{quotad.EventFilter{Category: "%quota%", Level: quotad.LevelInfo}, []string{"e7", "e2"}},
		{quotad.EventFilter{Channel: "Calm", Level: quotad.LevelError}, []string{"e6"}},
		{quotad.EventFilter{Channel: "Calm"}, []string{"e7", "e6", "e5"}},
		{quotad.EventFilter{Limit: 2}, []string{"e7", "e6"}},
	}
	for _, c := range cases {
		if got := messages(readEvents(t, e.s, c.f)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Events(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	// Events without a channel read back with Channel "".
	if got := readEvents(t, e.s, quotad.EventFilter{Category: quotad.CategoryQuotaReset}); len(got) != 1 || got[0].Channel != "" {
		t.Errorf("event without a channel read back as %+v", got)
	}
}

func testEventPaging(t *testing.T, e *env) {
	const n = 250
	events := make([]quotad.Event, n)
	for i := range events {
		events[i] = quotad.Event{Time: at(time.Duration(i) * time.Millisecond), Level: quotad.LevelInfo,
			Category: quotad.CategoryJob, Message: fmt.Sprintf("m%03d", i)}
	}
	appendEvents(t, e.s, events[:100]...)
	appendEvents(t, e.s, events[100:]...)
	want := func(hi, lo int) []string { // messages m<hi> down to m<lo>
		out := []string{}
		for i := hi; i >= lo; i-- {
			out = append(out, fmt.Sprintf("m%03d", i))
		}
		return out
	}
	all := readEvents(t, e.s, quotad.EventFilter{Limit: 1000})
	if got := messages(all); !reflect.DeepEqual(got, want(n-1, 0)) {
		t.Fatalf("Events(Limit 1000) = %d events %v..., want all %d newest first", len(got), got[:min(len(got), 3)], n)
	}
	id := func(i int) int64 { return all[n-1-i].ID } // ID of m<i>

	if got := messages(readEvents(t, e.s, quotad.EventFilter{})); !reflect.DeepEqual(got, want(249, 150)) {
		t.Errorf("default limit: got %d events (%v...), want the newest 100", len(got), got[:min(len(got), 3)])
	}
	if got := messages(readEvents(t, e.s, quotad.EventFilter{Limit: 10})); !reflect.DeepEqual(got, want(249, 240)) {
		t.Errorf("Limit 10 = %v", got)
	}
	if got := messages(readEvents(t, e.s, quotad.EventFilter{Before: id(240), Limit: 10})); !reflect.DeepEqual(got, want(239, 230)) {
		t.Errorf("Before m240, Limit 10 = %v", got)
	}
	if got := messages(readEvents(t, e.s, quotad.EventFilter{After: id(244)})); !reflect.DeepEqual(got, want(249, 245)) {
		t.Errorf("After m244 = %v", got)
	}
	if got := messages(readEvents(t, e.s, quotad.EventFilter{After: id(10), Before: id(15)})); !reflect.DeepEqual(got, want(14, 11)) {
		t.Errorf("After m10 Before m15 = %v", got)
	}
	if got := readEvents(t, e.s, quotad.EventFilter{Before: id(0)}); len(got) != 0 {
		t.Errorf("Before the first event = %d events", len(got))
	}
	// Paging through everything with Before visits every event once.
	var seen []string
	for before := int64(0); ; {
		page := readEvents(t, e.s, quotad.EventFilter{Before: before, Limit: 64})
		if len(page) == 0 {
			break
		}
		seen = append(seen, messages(page)...)
		before = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(seen, want(n-1, 0)) {
		t.Errorf("paging with Before visited %d events, want %d in order", len(seen), n)
	}
}

func testEventInvalid(t *testing.T, e *env) {
	err := e.s.Update(t.Context(), func(tx quotad.Tx) error {
		return tx.AppendEvents(quotad.Event{Level: quotad.LevelInfo, Category: quotad.CategoryJob, Message: "no time"})
	})
	if !errors.Is(err, quotad.ErrInvalid) {
		t.Errorf("AppendEvents without a time: err = %v, want ErrInvalid", err)
	}
	if got := readEvents(t, e.s, quotad.EventFilter{}); len(got) != 0 {
		t.Errorf("events after a refused append: %+v", got)
	}
}
