package provider_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/provider"
)

// headerNames are every header a profile reads.
var headerNames = []string{
	"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
	"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens",
	"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
	"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "RateLimit", "Retry-After",
}

// genericAPI has windows the IETF figures may name or match.
var genericAPI = quotad.API{Name: "gen", Windows: []quotad.Window{
	{Name: "burst", Limit: 10}, {Name: "default", Limit: 100}, {Name: "daily", Limit: 1000},
}}

// checkObservations holds for every observation any profile returns.
func checkObservations(t *testing.T, api quotad.API, obs []provider.Observation) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range obs {
		if _, ok := api.Window(o.Window); !ok {
			t.Fatalf("observation of unknown window %q", o.Window)
		}
		if seen[o.Window] {
			t.Fatalf("two observations of window %q", o.Window)
		}
		seen[o.Window] = true
		if o.Limit == 0 || o.Limit < -1 || o.Remaining < -1 {
			t.Fatalf("bad figures %+v", o)
		}
		if o.Limit > 0 && o.Remaining > o.Limit {
			t.Fatalf("remaining above limit: %+v", o)
		}
		if !o.Reset.IsZero() && (!o.Reset.After(now) || o.Reset.After(now.Add(367*24*time.Hour))) {
			t.Fatalf("reset out of range: %+v", o)
		}
		if o.Limit < 0 && o.Remaining < 0 && o.Reset.IsZero() {
			t.Fatalf("empty observation %+v", o)
		}
	}
}

func FuzzObservations(f *testing.F) {
	seeds := [][3]string{
		{"2m59.56s", "987", "1000"}, {"7.66s", "0", "12000"}, {"50.597142857s", "11000", "12000"}, {"12ms", "1", "2"},
		{"1783069920", "19684", "20000"}, {"37", "0", "100"}, {"1700000000", "5", "10"},
		{"10, 10;w=1", "3", "100;w=60"}, {`"burst";q=10;w=1, "daily";q=1000;w=86400`, `"burst";r=0;t=1`, "limit=100, remaining=50, reset=50"},
		{"Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1e9"}, {"", "", ""}, {"999999999999999999999", "99999999999999999999", "x"},
	}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(i*3), s[0], s[1], s[2], 200)
	}
	profiles := provider.All()
	f.Fuzz(func(t *testing.T, pick, names uint8, a, b, c string, status int) {
		p := profiles[int(pick)%len(profiles)]
		api := genericAPI
		if p.Name != "generic" {
			var err error
			if api, err = p.API(p.Name); err != nil {
				t.Fatal(err)
			}
		}
		h := http.Header{}
		for i, v := range []string{a, b, c} {
			h.Add(headerNames[(int(names)+i*5)%len(headerNames)], v)
			h.Add(headerNames[(int(names)*7+i)%len(headerNames)], v)
		}
		checkObservations(t, api, p.Observations(h, status, api, now))
	})
}

func FuzzIETFFields(f *testing.F) {
	for _, s := range [][2]string{
		{`"burst";q=10;w=1, "daily";q=1000;w=86400`, `"burst";r=0;t=1, "daily";r=600;t=3600`},
		{"100;w=60", "limit=100, remaining=50, reset=50"},
		{`"a\"b";q=1`, `"a\"b";r=1`}, {`";;;,,,"`, `"unterminated`}, {"", `default;r=3;t=9`},
	} {
		f.Add(s[0], s[1], "40", "30")
	}
	p, _ := provider.Lookup("generic")
	f.Fuzz(func(t *testing.T, policy, rl, remaining, reset string) {
		h := http.Header{}
		h.Set("RateLimit-Policy", policy)
		h.Set("RateLimit", rl)
		h.Set("RateLimit-Remaining", remaining)
		h.Set("RateLimit-Reset", reset)
		checkObservations(t, genericAPI, p.Observations(h, 200, genericAPI, now))
		one := quotad.API{Name: "one", Windows: []quotad.Window{{Name: "requests", Limit: 100}}}
		checkObservations(t, one, p.Observations(h, 200, one, now))
	})
}

func FuzzTokensFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}`,
		`{"x_groq":{"usage":{"total_tokens":17}}}`, `{"response":{"usage":{"input_tokens":1,"output_tokens":2}}}`,
		`{"usage":{"total_tokens":1e30}}`, `{"usage":{"total_tokens":-1,"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}`,
		`[1,2,3]`, `"_tokens"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, ok := provider.TokensFromJSON(body)
		if ok && (n < 0 || n > 1<<40) {
			t.Fatalf("tokens %d", n)
		}
		if !ok && n != 0 {
			t.Fatalf("tokens %d without usage", n)
		}
	})
}

func FuzzSSEUsage(f *testing.F) {
	for _, s := range []string{groqStream, openaiStream, "data: [DONE]\n", "data:{\"usage\":{\"total_tokens\":3}}\r\n", "\n\n\r\r"} {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		var whole provider.SSEUsage
		whole.Write(stream)
		whole.Close()
		n1, ok1 := whole.Tokens()
		i := int(cut) % (len(stream) + 1)
		var split provider.SSEUsage
		split.Write(stream[:i])
		split.Write(stream[i:])
		split.Close()
		n2, ok2 := split.Tokens()
		if n1 != n2 || ok1 != ok2 || whole.Done() != split.Done() {
			t.Fatalf("whole %d %v, split at %d %d %v", n1, ok1, i, n2, ok2)
		}
		if ok1 && (n1 < 0 || n1 > 1<<40) {
			t.Fatalf("tokens %d", n1)
		}
	})
}

func FuzzRedact(f *testing.F) {
	for _, s := range [][3]string{
		{"Authorization: Bearer ", "sk-proj-abcdef123456", ""},
		{"GET /v3/videos?key=", "AIzaSyD-abcdefghijklmnop", "&part=id"},
		{`{"api_key":"`, "49817234-0a2b3c4d5e6f", `"}`},
		{"Incorrect API key provided: ", "gsk_0123456789abcdef", "."},
		{"", "aaaa", "aaaaaaa"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string) {
		got := provider.Redact(prefix+secret+suffix, secret)
		if len(secret) < 4 || strings.ContainsRune(secret, 0) {
			return
		}
		// Every credential became the marker; no text outside the markers
		// is the secret.
		if strings.Contains(strings.ReplaceAll(got, provider.Redacted, "\x00"), secret) {
			t.Fatalf("Redact(%q, %q) = %q", prefix+secret+suffix, secret, got)
		}
	})
}

func FuzzParseCost(f *testing.F) {
	for _, s := range [][2]string{{"GET /search", "search.list:1"}, {"WRITE /", "50"}, {"/videos", "2"}, {"* /", "daily:0"}, {"get /x y", "1"}, {"POST /a", "x:"}} {
		f.Add(s[0], s[1])
	}
	yt, _ := provider.Lookup("youtube")
	api, _ := yt.API("youtube")
	f.Fuzz(func(t *testing.T, key, value string) {
		r, err := provider.ParseCost(key, value)
		if err != nil {
			return
		}
		if r.Cost < 0 || r.Cost > provider.MaxCost || !strings.HasPrefix(r.Path, "/") {
			t.Fatalf("accepted %+v", r)
		}
		p, err := yt.WithCosts(r)
		if err != nil {
			return
		}
		for _, m := range []string{"GET", "POST", "DELETE"} {
			charges, usage := p.Charges(api, m, r.Path, 200, 0)
			if usage < 0 {
				t.Fatalf("usage %d", usage)
			}
			for w, u := range charges {
				if _, ok := api.Window(w); !ok || u < 0 {
					t.Fatalf("charge %d to %q", u, w)
				}
			}
		}
	})
}

func FuzzAssess(f *testing.F) {
	for i, s := range []string{youtubeQuota, youtubeDaily, youtubeRate, youtubeUpload, groqTPM, groqTPD, groqRPM, groqTooLarge, openaiTooLarge, openaiBilling, "API rate limit exceeded", ""} {
		f.Add(uint8(i), 429-(i%2)*26, s, "GET", "/search", "5")
	}
	profiles := provider.All()
	f.Fuzz(func(t *testing.T, pick uint8, status int, body, method, path, retry string) {
		p := profiles[int(pick)%len(profiles)]
		api := genericAPI
		if p.Name != "generic" {
			api, _ = p.API(p.Name)
			for i := range api.Windows {
				api.Windows[i].NextReset = now.Add(time.Duration(i+1) * time.Hour)
			}
		}
		h := http.Header{"Retry-After": {retry}, "X-Ratelimit-Remaining-Tokens": {"0"}}
		a := p.Assess(p.Name, api, provider.Response{Method: method, Path: path, Status: status, Header: h, Body: []byte(body)}, now)
		checkObservations(t, api, a.Observations)
		if status < 400 && a.Verdict.Kind != "" {
			t.Fatalf("verdict %+v for status %d", a.Verdict, status)
		}
		if a.Window != "" {
			if _, ok := api.Window(a.Window); !ok {
				t.Fatalf("pinpointed unknown window %q", a.Window)
			}
			if a.Verdict.Kind != classify.KindQuota && a.Verdict.Kind != classify.KindRateLimit {
				t.Fatalf("window %q pinpointed for kind %s", a.Window, a.Verdict.Kind)
			}
		}
		if !a.Verdict.Until.IsZero() && a.Verdict.Until.Before(now) {
			t.Fatalf("until %s before now", a.Verdict.Until)
		}
		if a.Verdict.Quota != (a.Verdict.Kind == classify.KindQuota || a.Verdict.Kind == classify.KindRateLimit ||
			a.Verdict.Kind == classify.KindBilling || a.Verdict.Kind == classify.KindChannel) {
			t.Fatalf("inconsistent verdict %+v", a.Verdict)
		}
		charges, _ := p.Charges(api, method, path, status, 5)
		for w, u := range charges {
			if _, ok := api.Window(w); !ok || u <= 0 {
				t.Fatalf("charge %d to %q", u, w)
			}
		}
	})
}
