package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var apiTests = []subtest{
	{"RoundTrip", testAPIRoundTrip},
	{"ReplaceWindows", testAPIReplaceWindows},
	{"SaveWindow", testSaveWindow},
	{"SaveWindowUnknown", testSaveWindowUnknown},
	{"Delete", testDeleteAPI},
	{"Missing", testAPIMissing},
	{"Invalid", testAPIInvalid},
	{"ModelsBucketsScopes", testAPIModelsBucketsScopes},
}

// groqAPI has every field set: two windows in non-alphabetical order, one
// exhausted with a provider-stated time, one used past its limit.
func groqAPI() quotad.API {
	return quotad.API{
		Name: "groq", Unit: "tokens", Keywords: []string{"groq", "llama"}, AutoResume: true,
		Windows: []quotad.Window{
			{
				Name: "minute", Limit: 6000, Rule: "every 1m", Used: 6000, Reserved: 12,
				LastReset: at(-15 * time.Second), NextReset: at(45 * time.Second),
				Exhausted: true, ExhaustedAt: at(-2 * time.Second), BlockedUntil: at(7*time.Second + 300*time.Millisecond),
			},
			{
				Name: "daily", Limit: 100000, Rule: "daily 00:00 America/Los_Angeles", Used: 120000, Reserved: 0,
				LastReset: at(-18*time.Hour - 30*time.Minute), NextReset: at(5*time.Hour + 29*time.Minute),
			},
		},
	}
}

// youtubeAPI has auto_resume off and zero times except next_reset.
func youtubeAPI() quotad.API {
	return quotad.API{
		Name: "youtube", Unit: "units", Keywords: []string{"youtube", "google"}, AutoResume: false,
		Windows: []quotad.Window{{Name: "daily", Limit: 10000, Rule: "daily 00:00", Used: 1600, NextReset: at(6 * time.Hour)}},
	}
}

// pexelsAPI has no keywords and only zero times.
func pexelsAPI() quotad.API {
	return quotad.API{
		Name: "pexels", Unit: "requests", AutoResume: true,
		Windows: []quotad.Window{{Name: "monthly", Limit: 20000, Rule: "monthly 1 00:00"}},
	}
}

func saveAPIs(t *testing.T, s quotad.Store, apis ...quotad.API) {
	t.Helper()
	update(t, s, func(tx quotad.Tx) error {
		for _, a := range apis {
			if err := tx.SaveAPI(a); err != nil {
				return err
			}
		}
		return nil
	})
}

func readAPI(t *testing.T, s quotad.Store, name string) quotad.API {
	t.Helper()
	var a quotad.API
	view(t, s, func(tx quotad.Tx) (err error) { a, err = tx.API(name); return err })
	return a
}

func readAPIs(t *testing.T, s quotad.Store) []quotad.API {
	t.Helper()
	var list []quotad.API
	view(t, s, func(tx quotad.Tx) (err error) { list, err = tx.APIs(); return err })
	return list
}

func testAPIRoundTrip(t *testing.T, e *env) {
	groq, youtube, pexels := groqAPI(), youtubeAPI(), pexelsAPI()
	update(t, e.s, func(tx quotad.Tx) error {
		for _, a := range []quotad.API{youtube, groq, pexels} {
			if err := tx.SaveAPI(a); err != nil {
				return err
			}
		}
		got, err := tx.API("groq") // read your own writes
		if err != nil {
			return err
		}
		equal(t, "API in the writing transaction", got, groq, normAPI)
		return nil
	})
	for _, want := range []quotad.API{groq, youtube, pexels} {
		got := readAPI(t, e.s, want.Name)
		equal(t, "API("+want.Name+")", got, want, normAPI)
		for i, w := range got.Windows {
			if w.Remaining() != want.Windows[i].Remaining() {
				t.Errorf("%s/%s remaining = %d, want %d", want.Name, w.Name, w.Remaining(), want.Windows[i].Remaining())
			}
		}
	}
	equalList(t, "APIs() in name order", readAPIs(t, e.s), []quotad.API{groq, pexels, youtube}, normAPI)

	// The zero times of pexels stay zero; non-zero ones keep the instant.
	p := readAPI(t, e.s, "pexels").Windows[0]
	if !p.LastReset.IsZero() || !p.NextReset.IsZero() || !p.ExhaustedAt.IsZero() || !p.BlockedUntil.IsZero() {
		t.Errorf("zero times did not stay zero: %+v", p)
	}
	g := readAPI(t, e.s, "groq").Windows[0]
	if d := g.BlockedUntil.Sub(groq.Windows[0].BlockedUntil); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("blocked_until moved by %v", d)
	}
}

func testAPIReplaceWindows(t *testing.T, e *env) {
	saveAPIs(t, e.s, groqAPI(), youtubeAPI())

	// Drop "minute", change "daily", add "hour" in front, change the API.
	next := groqAPI()
	next.Unit, next.Keywords, next.AutoResume = "requests", []string{"groq"}, false
	daily := next.Windows[1]
	daily.Used, daily.Limit = 5, 50000
	hour := quotad.Window{Name: "hour", Limit: 1000, Rule: "every 1h", Used: 1, NextReset: at(time.Hour)}
	next.Windows = []quotad.Window{hour, daily}
	saveAPIs(t, e.s, next)
	equal(t, "API after SaveAPI replaced windows", readAPI(t, e.s, "groq"), next, normAPI)
	equal(t, "other API", readAPI(t, e.s, "youtube"), youtubeAPI(), normAPI)

	// The removed window is gone from the store, not just from the list.
	err := e.s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveWindow("groq", groqAPI().Windows[0]) })
	if !errors.Is(err, quotad.ErrUnknownAPI) {
		t.Errorf("SaveWindow of a removed window: err = %v, want ErrUnknownAPI", err)
	}

	// Reordering alone is kept.
	next.Windows = []quotad.Window{daily, hour}
	saveAPIs(t, e.s, next)
	equal(t, "API after reordering windows", readAPI(t, e.s, "groq"), next, normAPI)

	// Auto-resume back on is read back on.
	next.AutoResume = true
	saveAPIs(t, e.s, next)
	if !readAPI(t, e.s, "groq").AutoResume {
		t.Errorf("AutoResume not turned back on")
	}
}

func testSaveWindow(t *testing.T, e *env) {
	saveAPIs(t, e.s, groqAPI(), youtubeAPI())
	// Change every field of "daily": clear set times, set cleared ones.
	w := groqAPI().Windows[1]
	w.Limit, w.Rule, w.Used, w.Reserved = 90000, "daily 01:00 UTC", 90000, 250
	w.LastReset, w.NextReset = time.Time{}, at(24*time.Hour)
	w.Exhausted, w.ExhaustedAt, w.BlockedUntil = true, at(time.Second), at(time.Hour+500*time.Millisecond)
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveWindow("groq", w) })

	want := groqAPI()
	want.Windows[1] = w
	got := readAPI(t, e.s, "groq")
	equal(t, "API after SaveWindow", got, want, normAPI)
	if r := got.Windows[1].Remaining(); r != 0 {
		t.Errorf("remaining = %d, want 0", r)
	}
	equal(t, "other API after SaveWindow", readAPI(t, e.s, "youtube"), youtubeAPI(), normAPI)

	// And back: exhausted cleared, times cleared.
	w.Exhausted, w.ExhaustedAt, w.BlockedUntil, w.Used = false, time.Time{}, time.Time{}, 0
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveWindow("groq", w) })
	want.Windows[1] = w
	equal(t, "API after second SaveWindow", readAPI(t, e.s, "groq"), want, normAPI)
}

func testSaveWindowUnknown(t *testing.T, e *env) {
	saveAPIs(t, e.s, groqAPI())
	w := groqAPI().Windows[1]
	w.Used = 7
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveWindow("nope", w); !errors.Is(err, quotad.ErrUnknownAPI) {
			t.Errorf("SaveWindow on a missing API: err = %v, want ErrUnknownAPI", err)
		}
		missing := w
		missing.Name = "weekly"
		if err := tx.SaveWindow("groq", missing); !errors.Is(err, quotad.ErrUnknownAPI) {
			t.Errorf("SaveWindow of a missing window: err = %v, want ErrUnknownAPI", err)
		}
		// A not-found error leaves the transaction usable.
		return tx.SaveWindow("groq", w)
	})
	got := readAPI(t, e.s, "groq")
	if len(got.Windows) != 2 || got.Windows[1].Used != 7 {
		t.Errorf("after failed SaveWindows and one good one: %+v", got.Windows)
	}
	if _, ok := got.Window("weekly"); ok {
		t.Errorf("SaveWindow of a missing window created it")
	}
}

func testDeleteAPI(t *testing.T, e *env) {
	saveAPIs(t, e.s, groqAPI(), youtubeAPI())
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.DeleteAPI("groq"); err != nil {
			return err
		}
		return tx.DeleteAPI("nope") // missing: no error
	})
	view(t, e.s, func(tx quotad.Tx) error {
		if _, err := tx.API("groq"); !errors.Is(err, quotad.ErrUnknownAPI) {
			t.Errorf("API of a deleted API: err = %v, want ErrUnknownAPI", err)
		}
		return nil
	})
	equalList(t, "APIs after delete", readAPIs(t, e.s), []quotad.API{youtubeAPI()}, normAPI)
	err := e.s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveWindow("groq", groqAPI().Windows[1]) })
	if !errors.Is(err, quotad.ErrUnknownAPI) {
		t.Errorf("SaveWindow of a deleted API: err = %v, want ErrUnknownAPI", err)
	}
	// Saving it again starts from what is saved, with no leftover window.
	again := groqAPI()
	again.Windows = again.Windows[1:]
	saveAPIs(t, e.s, again)
	equal(t, "API saved again after delete", readAPI(t, e.s, "groq"), again, normAPI)
}

func testAPIMissing(t *testing.T, e *env) {
	if got := readAPIs(t, e.s); len(got) != 0 {
		t.Errorf("APIs of an empty store = %+v", got)
	}
	check := func(tx quotad.Tx) error {
		if _, err := tx.API("nope"); !errors.Is(err, quotad.ErrUnknownAPI) {
			t.Errorf("API(nope): err = %v, want ErrUnknownAPI", err)
		}
		return nil
	}
	view(t, e.s, check)
	update(t, e.s, check)
	saveAPIs(t, e.s, groqAPI())
	view(t, e.s, check)
}

func testAPIInvalid(t *testing.T, e *env) {
	saveAPIs(t, e.s, youtubeAPI())
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveAPI(quotad.API{Unit: "x", Windows: []quotad.Window{{Name: "daily", Limit: 1}}}); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("SaveAPI with an empty name: err = %v, want ErrInvalid", err)
		}
		dup := groqAPI()
		dup.Windows[1].Name = dup.Windows[0].Name
		if err := tx.SaveAPI(dup); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("SaveAPI with duplicate window names: err = %v, want ErrInvalid", err)
		}
		changed := youtubeAPI()
		changed.Unit = "changed"
		changed.Windows = append(changed.Windows, changed.Windows[0])
		if err := tx.SaveAPI(changed); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("SaveAPI with duplicate window names: err = %v, want ErrInvalid", err)
		}
		return nil
	})
	equalList(t, "APIs after invalid saves (nothing changed)", readAPIs(t, e.s), []quotad.API{youtubeAPI()}, normAPI)
}

// testAPIModelsBucketsScopes: windows of one name but different models or
// scopes are different rows; their model, scope, meter and bucket come back;
// SaveWindow and SaveAPI address a window by its key.
func testAPIModelsBucketsScopes(t *testing.T, e *env) {
	a := quotad.API{Name: "groq", Unit: "tokens", AutoResume: true, Windows: []quotad.Window{
		{Name: "tpd", Limit: 100000, Rule: "daily 00:00 UTC", Meter: quotad.MeterTokens, NextReset: at(time.Hour)},
		{Name: "tpd", Model: "llama-3.3-70b-versatile", Limit: 100000, Rule: "daily 00:00 UTC", Meter: quotad.MeterTokens, Used: 7, NextReset: at(time.Hour)},
		{Name: "rpm", Model: "llama-3.3-70b-versatile", Limit: 30, Rule: "every 1m", Meter: quotad.MeterRequests, NextReset: at(time.Minute)},
		{Name: "tpd", Model: "meta-llama/llama-4-scout-17b-16e-instruct", Limit: 500000, Rule: "daily 00:00 UTC", Meter: quotad.MeterTokens},
		{Name: "tpd", Model: "llama-3.3-70b-versatile", Scope: "shorts", Limit: 100000, Rule: "daily 00:00 UTC", Meter: quotad.MeterTokens, Used: 9},
		{Name: "search.list", Bucket: true, Limit: 100, Rule: "daily 00:00"},
	}}
	saveAPIs(t, e.s, a)
	equal(t, "API with model, scope and bucket windows", readAPI(t, e.s, "groq"), a, normAPI)

	w := a.Windows[4]
	w.Used, w.Exhausted, w.ExhaustedAt = 100000, true, at(0)
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveWindow("groq", w) })
	got := readAPI(t, e.s, "groq")
	for i, g := range got.Windows {
		want := a.Windows[i]
		if i == 4 {
			want = w
		}
		if g.Used != want.Used || g.Exhausted != want.Exhausted || g.Key() != want.Key() {
			t.Errorf("window %d after SaveWindow of %s: %s used %d exhausted %v; want %s used %d exhausted %v",
				i, w.Key(), g.Key(), g.Used, g.Exhausted, want.Key(), want.Used, want.Exhausted)
		}
	}

	// Dropping the scope's window leaves the others of that name.
	a.Windows = append(a.Windows[:4:4], a.Windows[5])
	saveAPIs(t, e.s, a)
	equal(t, "API after dropping a scope's window", readAPI(t, e.s, "groq"), a, normAPI)
}
