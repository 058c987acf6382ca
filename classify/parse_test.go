package classify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quotad/quotad/classify"
)

const maxWait = 366 * 24 * time.Hour

func TestParseRetryAfter(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"3", in(3 * time.Second), true},
		{" 120 ", in(2 * time.Minute), true},
		{"0", now, true},
		{"3.5", in(3500 * time.Millisecond), true},
		{"31622400", in(maxWait), true},
		{"Sun, 11 Jan 2026 02:31:00 GMT", now, true},
		{"Mon, 12 Jan 2026 02:35:00 GMT", in(5 * time.Minute), true},
		{"Monday, 12-Jan-26 02:35:00 GMT", in(5 * time.Minute), true},
		{"Mon Jan 12 02:35:00 2026", in(5 * time.Minute), true},
		{"2026-01-11T18:35:00-08:00", in(5 * time.Minute), true},
		{"", time.Time{}, false},
		{"-1", time.Time{}, false},
		{"1e3", time.Time{}, false},
		{"soon", time.Time{}, false},
		{"31622401", time.Time{}, false},
		{"99999999999999999999", time.Time{}, false},
		{"Fri, 01 Jan 2100 00:00:00 GMT", time.Time{}, false},
	} {
		got, ok := classify.ParseRetryAfter(c.in, now)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", c.in, fmtT(got), ok, fmtT(c.want), c.ok)
		}
	}
}

func TestParseResetHeader(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1769904000", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), true},
		{"1768185600", in(10 * time.Minute), true},
		{"1768185600.25", in(10*time.Minute + 250*time.Millisecond), true},
		{"1768185600000", in(10 * time.Minute), true},
		{"1700000000", now, true},
		{"27", in(27 * time.Second), true},
		{"0.5", in(500 * time.Millisecond), true},
		{"2m59.56s", in(2*time.Minute + 59560*time.Millisecond), true},
		{"7.66s", in(7660 * time.Millisecond), true},
		{"12ms", in(12 * time.Millisecond), true},
		{"1h2m3s", in(time.Hour + 2*time.Minute + 3*time.Second), true},
		{"999999999", time.Time{}, false},  // 31 years of delta-seconds
		{"9999999999", time.Time{}, false}, // year 2286
		{"-5", time.Time{}, false},
		{"", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
	} {
		got, ok := classify.ParseResetHeader(c.in, now)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("ParseResetHeader(%q) = %s, %v; want %s, %v", c.in, fmtT(got), ok, fmtT(c.want), c.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7m12.3s", 7*time.Minute + 12300*time.Millisecond, true},
		{"2m59.56s", 2*time.Minute + 59560*time.Millisecond, true},
		{"50.597142857s", 50597142857, true},
		{"12ms", 12 * time.Millisecond, true},
		{"1h30m", 90 * time.Minute, true},
		{"1.5h", 90 * time.Minute, true},
		{"300µs", 300 * time.Microsecond, true},
		{"300us", 300 * time.Microsecond, true},
		{"24 hours", 24 * time.Hour, true},
		{"20 seconds", 20 * time.Second, true},
		{"1 minute", time.Minute, true},
		{"an hour", time.Hour, true},
		{"a minute", time.Minute, true},
		{"2 Days", 48 * time.Hour, true},
		{"1 hour 30 minutes", 90 * time.Minute, true},
		{"1h, 30m", 90 * time.Minute, true},
		{"1 hour and 30 minutes", 90 * time.Minute, true},
		{"  5s  ", 5 * time.Second, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"366d", maxWait, true},
		{"", 0, false},
		{"-1s", 0, false},
		{"1", 0, false},
		{"1x", 0, false},
		{"s", 0, false},
		{".s", 0, false},
		{"1h 30", 0, false},
		{"367d", 0, false},
		{"a few minutes", 0, false},
		{"9999999999999999999h", 0, false},
		{"1h and", 0, false},
	} {
		got, ok := classify.ParseDuration(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseDurationMatchesGo(t *testing.T) {
	for _, s := range []string{"1.0000000001s", "0.1ns", "1.5µs", "1.5μs", ".5s", "1.s", "3h2m1.000000001s", "8760h", "1.23456789012345678901234567890m"} {
		want, err := time.ParseDuration(s)
		got, ok := classify.ParseDuration(s)
		if err != nil || !ok || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; time.ParseDuration = %s, %v", s, got, ok, want, err)
		}
	}
}

func TestVerdictJSON(t *testing.T) {
	for _, c := range []struct {
		v    classify.Verdict
		want string
	}{
		{classify.Verdict{Kind: classify.KindNone, Evidence: "no evidence"}, `{"quota":false,"kind":"error","api":"","until":null,"evidence":"no evidence"}`},
		{classify.Verdict{Quota: true, Kind: classify.KindRateLimit, API: "groq", Until: in(3200 * time.Millisecond), Evidence: "x"}, `{"quota":true,"kind":"rate_limit","api":"groq","until":"2026-01-12T02:30:03.2Z","evidence":"x"}`},
		{classify.Verdict{Quota: true, Kind: classify.KindQuota, API: "youtube", Until: in(time.Hour), Evidence: "y"}, `{"quota":true,"kind":"quota","api":"youtube","until":"2026-01-12T03:30:00Z","evidence":"y"}`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal = %s, %v; want %s", b, err, c.want)
		}
		pb, _ := json.Marshal(&c.v)
		if string(pb) != string(b) {
			t.Errorf("pointer Marshal = %s", pb)
		}
		var back classify.Verdict
		if err := json.Unmarshal(b, &back); err != nil || back.Quota != c.v.Quota || back.Kind != c.v.Kind ||
			back.API != c.v.API || !back.Until.Equal(c.v.Until) || back.Evidence != c.v.Evidence {
			t.Errorf("round trip = %+v, %v; want %+v", back, err, c.v)
		}
	}
}

func TestEvidenceJSON(t *testing.T) {
	var ev classify.Evidence
	raw := `{"api":"groq","status":429,"headers":{"retry-after":["3"]},"message":"Rate limit reached"}`
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	v := classify.Classify(ev, apis, now)
	if v.Kind != classify.KindRateLimit || !v.Until.Equal(in(3*time.Second)) || v.API != "groq" {
		t.Errorf("got %+v", v)
	}
}
