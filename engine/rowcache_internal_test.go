package engine

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// cloneAPI and cloneChannel must copy every slice and map: the engine's
// row cache hands clones to transactions, which change them in place. This
// test fails when a field is added to these types, so that the clone
// functions are looked at again.
func TestCloneCoversEveryField(t *testing.T) {
	want := map[reflect.Type][]string{
		reflect.TypeFor[quotad.API]():        {"Name", "Unit", "Keywords", "AutoResume", "Windows", "Reserve", "Prices"},
		reflect.TypeFor[quotad.Window]():     {"Name", "Model", "Scope", "Meter", "Bucket", "Limit", "Rule", "Used", "Reserved", "LastReset", "NextReset", "Exhausted", "ExhaustedAt", "BlockedUntil"},
		reflect.TypeFor[quotad.Channel]():    {"Name", "Priority", "APIs", "Fallbacks", "Budgets", "Pauses", "ConsecutiveErrors", "StoredActive"},
		reflect.TypeFor[quotad.Pause]():      {"Reason", "Since", "Detail", "Until"},
		reflect.TypeFor[quotad.Capability](): {"Name", "Providers"},
		reflect.TypeFor[quotad.Budget]():     {"API", "Window", "Units", "Share", "Micros", "Per"},
		reflect.TypeFor[quotad.Reserve]():    {"Priority", "Units"},
	}
	for typ, fields := range want {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%s has fields %v; rowcache.go's clones know %v: update cloneAPI/cloneChannel and this list", typ, got, fields)
		}
	}

	now := time.Now() // with a monotonic reading, in the local zone
	a := &quotad.API{Name: "g", Keywords: []string{"g"}, Windows: []quotad.Window{{Name: "d", Used: 1, NextReset: now, BlockedUntil: now}}}
	c := cloneAPI(a)
	c.Keywords[0], c.Windows[0].Used = "x", 2
	if a.Keywords[0] != "g" || a.Windows[0].Used != 1 {
		t.Errorf("cloneAPI shares slices: %+v", a)
	}
	if c.Windows[0].NextReset.Location() != time.UTC || c.Windows[0].NextReset != now.Round(0).UTC() {
		t.Errorf("cloneAPI times not as stored: %v", c.Windows[0].NextReset)
	}
	ch := &quotad.Channel{Name: "A", APIs: []string{"g"}, Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"g", "o"}}},
		Budgets: []quotad.Budget{{API: "g", Units: 5}}, Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("manual"), Since: now}}}
	cc := cloneChannel(ch)
	cc.APIs[0], cc.Fallbacks[0].Providers[0], cc.Budgets[0].Units, cc.Pauses[0].Reason = "x", "x", 9, quotad.ReasonOf("x")
	if ch.APIs[0] != "g" || ch.Fallbacks[0].Providers[0] != "g" || ch.Budgets[0].Units != 5 || ch.Pauses[0].Reason.String() != "manual" {
		t.Errorf("cloneChannel shares slices: %+v", ch)
	}
}
