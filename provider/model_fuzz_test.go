package provider_test

import (
	"strings"
	"testing"

	"github.com/quotad/quotad/provider"
)

// FuzzModelOfBody: the model read from any request or response body is a
// name fit for a window key (no spaces, no '@', at most 200 bytes) or "".
func FuzzModelOfBody(f *testing.F) {
	for _, s := range []string{
		`{"model":"llama-3.3-70b-versatile","messages":[]}`,
		`{"messages":[{"content":"say \"model\": \"x\""}],"model":"meta-llama/llama-4-scout-17b-16e-instruct"}`,
		`{"model":"a b"}`, `{"model":` + strings.Repeat("x", 300), `not json "model": "m" tail`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := provider.ModelOfBody(b)
		if len(m) > 200 || strings.ContainsAny(m, " \t\r\n@\"") {
			t.Fatalf("model %q from %q", m, b)
		}
		if m2 := provider.ModelInText(string(b)); len(m2) > 200 || strings.ContainsAny(m2, " \t\r\n@\"") {
			t.Fatalf("model in text %q from %q", m2, b)
		}
	})
}

func TestModelOfBody(t *testing.T) {
	for body, want := range map[string]string{
		`{"model":"llama-3.1-8b-instant","messages":[]}`:                                 "llama-3.1-8b-instant",
		`{"messages":[{"content":"the \"model\": \"fake\""}],"model":"gpt-4o-mini"}`:     "gpt-4o-mini",
		`{"model":"meta-llama/llama-4-scout-17b-16e-instruct"` + strings.Repeat(" ", 10): "meta-llama/llama-4-scout-17b-16e-instruct", // cut short: scanned
		`{"stream":true}`:       "",
		`{"model":"has space"}`: "",
	} {
		if got := provider.ModelOfBody([]byte(body)); got != want {
			t.Errorf("ModelOfBody(%q) = %q, want %q", body, got, want)
		}
	}
	for text, want := range map[string]string{
		"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01` service tier `on_demand` on tokens per day (TPD)": "llama-3.3-70b-versatile",
		"Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3":                                      "gpt-4o-mini",
		"Processed 429 videos for channel RankRiot": "",
	} {
		if got := provider.ModelInText(text); got != want {
			t.Errorf("ModelInText(%q) = %q, want %q", text, got, want)
		}
	}
}
