package adopt_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/adopt"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/store/sqlite"
)

var la = mustZone("America/Los_Angeles")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// afternoon is 15:00 in Los Angeles on the fixture's day: Groq ran out at
// 12:30:45, everything resets at midnight.
var afternoon = time.Date(2026, 1, 11, 15, 0, 0, 0, la)

// input is the default config (the seed's table) with channels named as
// given, at now.
func input(now time.Time, chans ...quotad.Channel) adopt.Input {
	apis, _ := config.DefaultConfig().Domain()
	return adopt.Input{APIs: apis, Channels: chans, Zone: la, Now: now}
}

func window(t *testing.T, apis []quotad.API, api, name string) quotad.Window {
	t.Helper()
	for _, a := range apis {
		for _, w := range a.Windows {
			if a.Name == api && w.Name == name {
				return w
			}
		}
	}
	t.Fatalf("no window %s/%s in %+v", api, name, apis)
	return quotad.Window{}
}

func channel(t *testing.T, chans []quotad.Channel, name string) quotad.Channel {
	t.Helper()
	for _, c := range chans {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no channel %s", name)
	return quotad.Channel{}
}

func reasons(c quotad.Channel) []string {
	var out []string
	for _, p := range c.Pauses {
		out = append(out, p.Reason.String())
	}
	return out
}

func TestMakeCarriesQuotasOntoTheConfigsWindows(t *testing.T) {
	seed := sqlite.Seed{Path: "channels.db", Quotas: []sqlite.SeedQuota{
		{API: "groq", Limit: 100000, Used: 100000, Exhausted: true, ExhaustedAt: "2026-01-11 12:30:45",
			LastReset: "2026-01-11 00:00:00", NextReset: "2026-01-12 00:00:00", AutoResume: true},
		// A next_reset later than the rule's next instant yields to the rule.
		{API: "youtube", Limit: 10000, Used: 10000, NextReset: "2026-01-20 00:00:00", AutoResume: true},
		// The seed's limit matches the monthly window, not the first one.
		{API: "pexels", Limit: 20000, Used: 512, NextReset: "2026-02-01 00:00:00", AutoResume: true},
		{API: "elevenlabs", Limit: 10, Used: 1, AutoResume: true},
	}}
	p, err := adopt.Make(seed, input(afternoon))
	if err != nil {
		t.Fatal(err)
	}
	apis := p.Adoption.APIs
	groq := window(t, apis, "groq", "daily")
	if !groq.Exhausted || groq.Used != 100000 {
		t.Errorf("groq/daily = %+v, want exhausted with 100000 used", groq)
	}
	if want := time.Date(2026, 1, 11, 12, 30, 45, 0, la); !groq.ExhaustedAt.Equal(want) {
		t.Errorf("groq exhausted_at = %v, want %v (the seed's local text read in the config's zone)", groq.ExhaustedAt, want)
	}
	if want := time.Date(2026, 1, 12, 0, 0, 0, 0, la); !groq.NextReset.Equal(want) {
		t.Errorf("groq next_reset = %v, want %v", groq.NextReset, want)
	}
	yt := window(t, apis, "youtube", "daily")
	if want := time.Date(2026, 1, 12, 0, 0, 0, 0, la); !yt.NextReset.Equal(want) || !yt.Exhausted {
		t.Errorf("youtube/daily = %+v: used up to its limit it is exhausted, and resets at the rule's %v", yt, want)
	}
	if m, h := window(t, apis, "pexels", "monthly"), window(t, apis, "pexels", "hourly"); m.Used != 512 || h.Used != 0 {
		t.Errorf("pexels monthly used %d, hourly used %d; want the seed's 512 on the window with its limit, 0 on the other", m.Used, h.Used)
	}
	text := strings.Join(p.Lines, "\n")
	if !strings.Contains(text, "elevenlabs: not in the config") {
		t.Errorf("the plan does not say an API of the seed is not carried:\n%s", text)
	}
	for _, a := range apis {
		if a.Name == "elevenlabs" {
			t.Errorf("an API the config does not name was carried: %+v", a)
		}
	}
}

func TestMakeKeepsAMissedResetForTheCatchUp(t *testing.T) {
	seed := sqlite.Seed{Quotas: []sqlite.SeedQuota{{API: "groq", Limit: 100000, Used: 7, NextReset: "2026-01-12 00:00:00"}}}
	later := time.Date(2026, 3, 1, 10, 0, 0, 0, la)
	p, err := adopt.Make(seed, input(later))
	if err != nil {
		t.Fatal(err)
	}
	if w := window(t, p.Adoption.APIs, "groq", "daily"); !w.NextReset.Equal(time.Date(2026, 1, 12, 0, 0, 0, 0, la)) {
		t.Errorf("next_reset = %v, want the seed's missed one, for the monitor to apply at start", w.NextReset)
	}
	if !strings.Contains(strings.Join(p.Lines, "\n"), "was missed: applied when quotad serve starts") {
		t.Errorf("the plan does not say the reset was missed:\n%s", strings.Join(p.Lines, "\n"))
	}
}

func TestMakePausesInactiveChannels(t *testing.T) {
	seed := sqlite.Seed{
		Quotas: []sqlite.SeedQuota{
			{API: "groq", Limit: 100000, Used: 100000, Exhausted: true, ExhaustedAt: "2026-01-11 12:30:45"},
			{API: "youtube", Limit: 10000, Used: 10},
		},
		Channels: []sqlite.SeedChannel{
			{ID: 1, Name: "TechDaily", Active: true},
			{ID: 2, Name: "RankRiot", Active: false},   // needs groq (config): quota:groq
			{ID: 4, Name: "OldChannel", Active: false}, // needs youtube only: manual
			{ID: 7, Name: "Unlisted", Active: false},   // not in the config: every API, so quota:groq
		},
	}
	p, err := adopt.Make(seed, input(afternoon,
		quotad.Channel{Name: "RankRiot", APIs: []string{"groq", "youtube"}, Priority: quotad.PriorityHigh},
		quotad.Channel{Name: "OldChannel", APIs: []string{"youtube"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	chans := p.Adoption.Channels
	for _, tc := range []struct {
		name    string
		reasons []string
		apis    []string
	}{
		{"TechDaily", nil, []string{"groq", "pexels", "youtube"}},
		{"RankRiot", []string{"quota:groq"}, []string{"groq", "youtube"}},
		{"OldChannel", []string{quotad.ReasonManual.String()}, []string{"youtube"}},
		{"Unlisted", []string{"quota:groq"}, []string{"groq", "pexels", "youtube"}},
	} {
		c := channel(t, chans, tc.name)
		if !slices.Equal(reasons(c), tc.reasons) || !slices.Equal(c.APIs, tc.apis) {
			t.Errorf("%s: pauses %v needs %v, want %v and %v", tc.name, reasons(c), c.APIs, tc.reasons, tc.apis)
		}
	}
	if c := channel(t, chans, "OldChannel"); c.Pauses[0].Detail != adopt.ReasonAdopted {
		t.Errorf("OldChannel's pause says %q, want %q", c.Pauses[0].Detail, adopt.ReasonAdopted)
	}
	if c := channel(t, chans, "RankRiot"); c.Priority != quotad.PriorityHigh {
		t.Errorf("RankRiot priority %q, want the config's high", c.Priority)
	}
}

func TestParseSeedTimes(t *testing.T) {
	for _, tc := range []struct {
		text string
		want time.Time
	}{
		{"2026-01-11 12:30:45", time.Date(2026, 1, 11, 12, 30, 45, 0, la)},
		{"2026-01-11 12:30:45.250000", time.Date(2026, 1, 11, 12, 30, 45, 250e6, la)},
		{"2026-01-11T12:30:45", time.Date(2026, 1, 11, 12, 30, 45, 0, la)},
		{"2026-01-11T12:30:45Z", time.Date(2026, 1, 11, 12, 30, 45, 0, time.UTC)},
		{"2026-01-11 12:30:45+01:00", time.Date(2026, 1, 11, 11, 30, 45, 0, time.UTC)},
		{"2026-01-12", time.Date(2026, 1, 12, 0, 0, 0, 0, la)},
	} {
		seed := sqlite.Seed{Quotas: []sqlite.SeedQuota{{API: "groq", Limit: 100000, Exhausted: true, ExhaustedAt: tc.text}}}
		p, err := adopt.Make(seed, input(afternoon))
		if err != nil {
			t.Fatal(err)
		}
		if got := window(t, p.Adoption.APIs, "groq", "daily").ExhaustedAt; !got.Equal(tc.want) {
			t.Errorf("%q read as %v, want %v", tc.text, got, tc.want)
		}
	}
}

func FuzzMake(f *testing.F) {
	f.Add("2026-01-11 12:30:45", "2026-01-12 00:00:00", int64(100000), int64(5))
	f.Add("garbage", "", int64(-1), int64(-5))
	f.Fuzz(func(t *testing.T, at, next string, limit, used int64) {
		seed := sqlite.Seed{Quotas: []sqlite.SeedQuota{{API: "groq", Limit: limit, Used: used, Exhausted: true, ExhaustedAt: at, NextReset: next}},
			Channels: []sqlite.SeedChannel{{ID: 1, Name: "c"}}}
		p, err := adopt.Make(seed, input(afternoon))
		if err != nil {
			t.Fatal(err)
		}
		w := window(t, p.Adoption.APIs, "groq", "daily")
		if w.Used < 0 || !w.Exhausted || w.NextReset.After(time.Date(2026, 1, 12, 0, 0, 0, 0, la)) {
			t.Errorf("window %+v", w)
		}
	})
}
