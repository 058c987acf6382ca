package quotad_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/quotad/quotad"
)

// groqYouTube is an API with a model-less window, two models' windows (one
// replacing the model-less tpd), a second scope, and YouTube-like buckets.
func selectionAPI() quotad.API {
	return quotad.API{Name: "x", Unit: "tokens", Windows: []quotad.Window{
		{Name: "daily"}, // 0: every call
		{Name: "tpd"},   // 1: every call without a tpd of its model
		{Name: "rpm", Model: "llama-3.3-70b-versatile"},               // 2
		{Name: "tpd", Model: "llama-3.3-70b-versatile"},               // 3: replaces 1 for 70b
		{Name: "rpm", Model: "llama-3.1-8b-instant"},                  // 4
		{Name: "search.list", Bucket: true},                           // 5
		{Name: "videos.insert", Bucket: true},                         // 6
		{Name: "daily", Scope: "shorts"},                              // 7
		{Name: "videos.insert", Scope: "shorts", Bucket: true},        // 8
		{Name: "rpm", Model: "llama-3.1-8b-instant", Scope: "shorts"}, // 9
	}}
}

func TestSelected(t *testing.T) {
	a := selectionAPI()
	for _, tc := range []struct {
		target string
		want   []int
	}{
		{"x", []int{0, 1}},
		{"x/llama-3.3-70b-versatile", []int{0, 2, 3}},
		{"x/llama-3.1-8b-instant", []int{0, 1, 4}},
		{"x/unknown-model", []int{0, 1}},
		{"x/search.list", []int{0, 1, 5}},
		{"x/videos.insert", []int{0, 1, 6}},
		{"x@shorts", []int{7}},
		{"x/videos.insert@shorts", []int{7, 8}},
		{"x/llama-3.1-8b-instant@shorts", []int{7, 9}},
		{"x@nobody", nil},
	} {
		got := a.Selected(quotad.ParseTarget(tc.target))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Selected(%s) = %v, want %v", tc.target, got, tc.want)
		}
	}
}

func TestNeedWindows(t *testing.T) {
	a := selectionAPI()
	for _, tc := range []struct {
		need string
		want []int
	}{
		{"x", []int{0, 1, 5, 6}}, // the API as a whole: buckets too (a job that uploads needs videos.insert)
		{"x/videos.insert", []int{0, 1, 6}},
		{"x/llama-3.3-70b-versatile", []int{0, 2, 3}},
	} {
		got := a.NeedWindows(quotad.ParseTarget(tc.need))
		if !slices.Equal(got, tc.want) {
			t.Errorf("NeedWindows(%s) = %v, want %v", tc.need, got, tc.want)
		}
	}
}

// TestNeedAvailable: an exhausted window refuses only the targets it is
// selected for.
func TestNeedAvailable(t *testing.T) {
	for _, tc := range []struct {
		exhausted int
		served    []string
		refused   []string
	}{
		{3, []string{"x", "x/llama-3.1-8b-instant", "x/search.list", "x@shorts"}, []string{"x/llama-3.3-70b-versatile"}},
		{1, []string{"x/llama-3.3-70b-versatile", "x@shorts"}, []string{"x", "x/llama-3.1-8b-instant"}},
		{6, []string{"x/search.list", "x/llama-3.3-70b-versatile", "x/videos.insert@shorts"}, []string{"x/videos.insert", "x"}},
		{0, []string{"x@shorts"}, []string{"x", "x/search.list", "x/videos.insert", "x/llama-3.1-8b-instant"}},
		{8, []string{"x/videos.insert", "x/search.list@shorts"}, []string{"x/videos.insert@shorts", "x@shorts"}},
	} {
		a := selectionAPI()
		a.Windows[tc.exhausted].Exhausted = true
		for _, s := range tc.served {
			if !a.NeedAvailable(quotad.ParseTarget(s)) {
				t.Errorf("window %s exhausted: %s refused, want served", a.Windows[tc.exhausted].Key(), s)
			}
		}
		for _, s := range tc.refused {
			if a.NeedAvailable(quotad.ParseTarget(s)) {
				t.Errorf("window %s exhausted: %s served, want refused", a.Windows[tc.exhausted].Key(), s)
			}
		}
	}
}

func TestTargetText(t *testing.T) {
	for _, tc := range []struct {
		text string
		want quotad.Target
	}{
		{"groq", quotad.Target{API: "groq"}},
		{"groq/llama-3.3-70b-versatile", quotad.Target{API: "groq", Model: "llama-3.3-70b-versatile"}},
		{"groq/meta-llama/llama-4-scout-17b-16e-instruct", quotad.Target{API: "groq", Model: "meta-llama/llama-4-scout-17b-16e-instruct"}},
		{"youtube@shorts", quotad.Target{API: "youtube", Scope: "shorts"}},
		{"youtube/videos.insert@shorts", quotad.Target{API: "youtube", Model: "videos.insert", Scope: "shorts"}},
	} {
		got := quotad.ParseTarget(tc.text)
		if got != tc.want || got.String() != tc.text {
			t.Errorf("ParseTarget(%q) = %+v (%q), want %+v", tc.text, got, got.String(), tc.want)
		}
	}
	for _, tc := range []struct{ w quotad.Window }{
		{quotad.Window{Name: "tpd", Model: "meta-llama/llama-4-scout-17b-16e-instruct", Scope: "shorts"}},
		{quotad.Window{Name: "daily", Scope: "s"}},
		{quotad.Window{Name: "daily"}},
	} {
		if n := quotad.WindowName(tc.w.Key(), tc.w.Model, tc.w.Scope); n != tc.w.Name {
			t.Errorf("WindowName(%q) = %q, want %q", tc.w.Key(), n, tc.w.Name)
		}
	}
}

// FuzzParseTarget: a target's text reads back as itself when it is in
// canonical form, and never panics.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"groq", "groq/llama-3.3-70b-versatile", "youtube/videos.insert@shorts", "a/b/c@d@e", "@", "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg := quotad.ParseTarget(s)
		if strings.Contains(tg.Scope, "@") || strings.Contains(tg.API, "/") {
			t.Fatalf("ParseTarget(%q) = %+v", s, tg)
		}
		// A model holding "@" cannot be told from a scope in text: such a
		// target is refused as a model name (engine.checkTarget).
		if back := quotad.ParseTarget(tg.String()); back != tg && tg.API != "" && !strings.Contains(tg.API, "@") && !strings.Contains(tg.Model, "@") {
			t.Fatalf("ParseTarget(%q) = %+v, its text %q reads %+v", s, tg, tg.String(), back)
		}
	})
}

// HasKey agrees with comparing Key for every window and key.
func TestWindowHasKey(t *testing.T) {
	ws := []quotad.Window{
		{Name: "tpd"},
		{Name: "tpd", Model: "llama-3.3-70b-versatile"},
		{Name: "tpd", Model: "meta-llama/llama-4-scout-17b-16e-instruct"},
		{Name: "daily", Scope: "shorts"},
		{Name: "rpm", Model: "m", Scope: "s"},
		{Name: "a@b", Model: "x/y"},
	}
	keys := []string{"", "tpd", "tpd@", "/tpd", "llama-3.3-70b-versatile/tpd", "llama-3.3-70b-versatile/tpd@s",
		"meta-llama/llama-4-scout-17b-16e-instruct/tpd", "meta-llama/tpd", "daily@shorts", "daily@short", "daily",
		"m/rpm@s", "m/rpm", "rpm@s", "x/y/a@b", "x/y/a", "@"}
	for _, w := range ws {
		matched := 0
		for _, k := range keys {
			if got, want := w.HasKey(k), w.Key() == k; got != want {
				t.Errorf("%+v.HasKey(%q) = %v, want %v", w, k, got, want)
			} else if got {
				matched++
			}
		}
		if matched != 1 {
			t.Errorf("%+v matched %d keys of the table, want its own once", w, matched)
		}
	}
}

// FuzzWindowHasKey: HasKey(k) is Key() == k.
func FuzzWindowHasKey(f *testing.F) {
	f.Add("tpd", "llama/x", "s", "llama/x/tpd@s")
	f.Add("daily", "", "shorts", "daily@shorts")
	f.Add("a", "b", "", "b/a")
	f.Fuzz(func(t *testing.T, name, model, scope, key string) {
		w := quotad.Window{Name: name, Model: model, Scope: scope}
		if got, want := w.HasKey(key), w.Key() == key; got != want {
			t.Fatalf("%+v.HasKey(%q) = %v, Key() %q", w, key, got, w.Key())
		}
		if !w.HasKey(w.Key()) {
			t.Fatalf("%+v.HasKey(its own key %q) = false", w, w.Key())
		}
	})
}
