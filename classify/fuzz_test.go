package classify_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/classify"
)

var kinds = map[classify.Kind]bool{ // kind → is a quota kind
	classify.KindNone: false, classify.KindQuota: true, classify.KindRateLimit: true,
	classify.KindBilling: true, classify.KindChannel: true, classify.KindRequest: false,
}

// sane reports whether t is a retry time Classify or a parser may return.
func sane(t time.Time) bool { return !t.Before(now) && !t.After(now.Add(maxWait)) }

func FuzzClassify(f *testing.F) {
	for _, c := range cases {
		k, v := "", ""
		for hk, hv := range c.ev.Headers {
			k, v = hk, hv[0]
			break
		}
		f.Add(c.ev.Status, k, v, c.ev.Message, c.ev.API, "llama")
	}
	f.Fuzz(func(t *testing.T, status int, hk, hv, msg, api, keyword string) {
		apis := append(apis[:len(apis):len(apis)], classify.APIInfo{Name: "fz", Keywords: []string{keyword}})
		ev := classify.Evidence{API: api, Status: status, Message: msg}
		if hk != "" {
			ev.Headers = http.Header{hk: {hv}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Remaining": {"0"}}
		}
		v := classify.Classify(ev, apis, now)
		isQuota, known := kinds[v.Kind]
		if !known {
			t.Fatalf("unknown kind %q", v.Kind)
		}
		if v.Quota != isQuota {
			t.Fatalf("Quota = %v for kind %s", v.Quota, v.Kind)
		}
		if !v.Until.IsZero() && !sane(v.Until) {
			t.Fatalf("Until %s out of range", v.Until)
		}
		switch v.Kind {
		case classify.KindRateLimit, classify.KindChannel:
			if v.Until.IsZero() {
				t.Fatalf("%s without Until", v.Kind)
			}
		case classify.KindNone, classify.KindRequest, classify.KindBilling:
			if !v.Until.IsZero() {
				t.Fatalf("%s with Until", v.Kind)
			}
		}
		if api != "" && v.API != api {
			t.Fatalf("API = %q, want explicit %q", v.API, api)
		}
		if v.Evidence == "" {
			t.Fatal("empty Evidence")
		}
		if b, err := json.Marshal(v); err != nil || !json.Valid(b) {
			t.Fatalf("Marshal: %s, %v", b, err)
		}
		if again := classify.Classify(ev, apis, now); again != v {
			t.Fatalf("not deterministic: %+v then %+v", v, again)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"3", "120", "0", "3.5", "-1", "", "Sun, 11 Jan 2026 02:31:00 GMT", "Mon, 12 Jan 2026 02:35:00 GMT", "Monday, 12-Jan-26 02:35:00 GMT", "Mon Jan 12 02:35:00 2026", "2026-01-11T18:35:00-08:00", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := classify.ParseRetryAfter(s, now)
		if ok != !got.IsZero() {
			t.Fatalf("ParseRetryAfter(%q) = %s, %v", s, got, ok)
		}
		if ok && !sane(got) {
			t.Fatalf("ParseRetryAfter(%q) = %s out of range", s, got)
		}
	})
}

func FuzzParseResetHeader(f *testing.F) {
	for _, s := range []string{"1769904000", "1768185600.25", "1768185600000", "27", "0.5", "2m59.56s", "7.66s", "12ms", "1h2m3s", "-5", "999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := classify.ParseResetHeader(s, now)
		if ok != !got.IsZero() {
			t.Fatalf("ParseResetHeader(%q) = %s, %v", s, got, ok)
		}
		if ok && !sane(got) {
			t.Fatalf("ParseResetHeader(%q) = %s out of range", s, got)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7m12.3s", "2m59.56s", "50.597142857s", "12ms", "1h30m", "24 hours", "20 seconds", "1 minute", "an hour", "1h, 30m", "1 hour and 30 minutes", "1.5µs", ".5s", "0", "-1s", "9999999999999999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := classify.ParseDuration(s)
		if !ok {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %s, false", s, d)
			}
			return
		}
		if d < 0 || d > maxWait {
			t.Fatalf("ParseDuration(%q) = %s out of range", s, d)
		}
		if strings.TrimSpace(s) == s && !strings.ContainsAny(s, "+-") {
			if gd, err := time.ParseDuration(s); err == nil && gd != d {
				t.Fatalf("ParseDuration(%q) = %s, time.ParseDuration = %s", s, d, gd)
			}
		}
		if d2, ok2 := classify.ParseDuration(" " + s + "\t"); !ok2 || d2 != d {
			t.Fatalf("padding changed ParseDuration(%q): %s, %v", s, d2, ok2)
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	for _, bc := range []struct {
		name string
		ev   classify.Evidence
	}{
		{"groq429", classify.Evidence{Status: 429, Message: groqTPM, Headers: hdr(groqHeaders...)}},
		{"youtube403", classify.Evidence{Status: 403, Message: ytQuotaJSON}},
		{"plain", classify.Evidence{Message: "dial tcp 142.250.72.14:443: connect: connection refused"}},
		{"keyword", classify.Evidence{Message: "Groq API quota exhausted"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				classify.Classify(bc.ev, apis, now)
			}
		})
	}
}
