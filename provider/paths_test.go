package provider_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/quotad/quotad/provider"
)

// pathCases are the forms of each call real SDKs send, below the API's
// proxy root, and where they must go upstream and which cost path they are.
var pathCases = []struct {
	api, in, up, cost string
}{
	// openai-node and the Python openai package with baseURL …/proxy/openai.
	{"openai", "/chat/completions", "/v1/chat/completions", "/chat/completions"},
	// The same with baseURL …/proxy/openai/v1.
	{"openai", "/v1/chat/completions", "/v1/chat/completions", "/chat/completions"},
	{"openai", "/v1", "/v1", "/"},
	{"openai", "", "/v1", "/"},
	// groq-sdk / Python groq with baseURL …/proxy/groq.
	{"groq", "/openai/v1/chat/completions", "/openai/v1/chat/completions", "/chat/completions"},
	// openai-node pointed at Groq (baseURL …/proxy/groq).
	{"groq", "/chat/completions", "/openai/v1/chat/completions", "/chat/completions"},
	{"groq", "/models", "/openai/v1/models", "/models"},
	// Not the base path, only a prefix of its first segment.
	{"groq", "/openaix/v1/models", "/openai/v1/openaix/v1/models", "/openaix/v1/models"},
	// @googleapis/youtube with a per-call rootUrl …/proxy/youtube/ and
	// google-api-python-client's discovery rootUrl.
	{"youtube", "/youtube/v3/search", "/youtube/v3/search", "/search"},
	{"youtube", "/search", "/youtube/v3/search", "/search"},
	{"youtube", "/upload/youtube/v3/videos", "/upload/youtube/v3/videos", "/videos"},
	{"youtube", "/resumable/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos", "/videos"},
	{"youtube", "/youtube/v3/videos", "/youtube/v3/videos", "/videos"},
	{"youtube", "/youtube/v3", "/youtube/v3", "/"},
	// Escapes stay escaped.
	{"youtube", "/youtube/v3/videos%2Fx", "/youtube/v3/videos%2Fx", "/videos%2Fx"},
	// Pexels has no base path: everything goes as it is.
	{"pexels", "/v1/search", "/v1/search", "/v1/search"},
	{"pexels", "/videos/search", "/videos/search", "/videos/search"},
	{"pixabay", "/", "/api/", "/"},
	{"pixabay", "/api/videos/", "/api/videos/", "/videos"},
}

func TestUpstreamPath(t *testing.T) {
	for _, c := range pathCases {
		p, _ := provider.Lookup(c.api)
		if got := p.UpstreamPath(c.in); got != c.up {
			t.Errorf("%s UpstreamPath(%q) = %q, want %q", c.api, c.in, got, c.up)
		}
		if got := p.CostPath(c.in); got != c.cost {
			t.Errorf("%s CostPath(%q) = %q, want %q", c.api, c.in, got, c.cost)
		}
	}
}

// The cost table charges a call by its canonical path whatever form
// arrived: search.list to its bucket, uploads to videos.insert.
func TestCostOfEveryForm(t *testing.T) {
	yt, _ := provider.Lookup("youtube")
	for _, c := range []struct{ method, path, window string }{
		{"GET", "/search", "search.list"}, {"GET", "/youtube/v3/search", "search.list"},
		{"POST", "/upload/youtube/v3/videos", "videos.insert"}, {"POST", "/resumable/upload/youtube/v3/videos", "videos.insert"},
		{"POST", "/youtube/v3/videos", "videos.insert"}, {"GET", "/youtube/v3/videos", "daily"}, {"GET", "/channels", "daily"},
	} {
		r, ok := yt.Cost(c.method, c.path)
		if !ok || r.Window != c.window {
			t.Errorf("Cost(%s %s) = %+v, %v; want window %s", c.method, c.path, r, ok, c.window)
		}
	}
}

func TestNative(t *testing.T) {
	for _, c := range []struct {
		api, path string
		want      bool
	}{
		{"youtube", "/youtube/v3/search", true}, {"youtube", "/upload/youtube/v3/videos", true},
		{"youtube", "/resumable/upload/youtube/v3/videos", true}, {"youtube", "/youtube/v3", true},
		{"youtube", "/youtube/v31/search", false}, {"youtube", "/upload/other", false}, {"youtube", "/search", false},
		{"groq", "/openai/v1/chat/completions", true}, {"groq", "/v1/chat/completions", false},
		{"openai", "/v1/chat/completions", true}, {"openai", "/openai/v1/chat/completions", false},
		{"pexels", "/v1/search", false}, {"pexels", "/", false}, {"generic", "/x", false},
	} {
		p, _ := provider.Lookup(c.api)
		if got := p.Native(c.path); got != c.want {
			t.Errorf("%s Native(%q) = %v, want %v", c.api, c.path, got, c.want)
		}
	}
	for api, want := range map[string][]string{
		"youtube": {"/youtube/", "/upload/", "/resumable/"}, "groq": {"/openai/"}, "openai": {"/v1/"}, "pexels": nil,
	} {
		p, _ := provider.Lookup(api)
		if got := p.NativePrefixes(); !slices.Equal(got, want) {
			t.Errorf("%s NativePrefixes() = %q, want %q", api, got, want)
		}
	}
}

func TestContinues(t *testing.T) {
	yt, _ := provider.Lookup("youtube")
	for q, want := range map[string]bool{
		"uploadType=resumable&part=snippet&upload_id=AB12": true, "upload_id=x": true, "": false,
		"uploadType=resumable&part=snippet": false, "xupload_id=1": false, "part=upload_id": false,
	} {
		if got := yt.Continues(q); got != want {
			t.Errorf("youtube Continues(%q) = %v, want %v", q, got, want)
		}
	}
	groq, _ := provider.Lookup("groq")
	if groq.Continues("upload_id=1") {
		t.Error("groq has no upload sessions")
	}
}

// UpstreamPath never leaves the base path or the origin paths, keeps the
// caller's path as its suffix, and is idempotent.
func FuzzUpstreamPath(f *testing.F) {
	for _, c := range pathCases {
		f.Add(c.api, c.in)
	}
	f.Fuzz(func(t *testing.T, api, in string) {
		p, ok := provider.Lookup(api)
		if !ok {
			p, _ = provider.Lookup("youtube")
		}
		up := p.UpstreamPath(in)
		norm := in
		if norm != "" && norm[0] != '/' {
			norm = "/" + norm
		}
		if !strings.HasSuffix(up, norm) {
			t.Fatalf("UpstreamPath(%q) = %q lost the caller's path", in, up)
		}
		u, _ := provider.ParseUpstream(p.Upstream)
		base := ""
		if u != nil {
			base = u.Path
		}
		_, origin := p.CutOrigin(up)
		if !origin && base != "" && up != base && !strings.HasPrefix(up, base+"/") {
			t.Fatalf("UpstreamPath(%q) = %q escapes the base path %q", in, up, base)
		}
		if again := p.UpstreamPath(up); again != up {
			t.Fatalf("not idempotent: %q → %q → %q", in, up, again)
		}
		if !origin && p.Native(up) != (base != "") {
			t.Fatalf("Native(UpstreamPath(%q) = %q) = %v", in, up, p.Native(up))
		}
	})
}
