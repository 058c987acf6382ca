package sdktest_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// Two YouTube APIs (two Google Cloud projects, say): a path at quotad's
// root cannot tell them apart, and the SDK's error names the fix; a
// listener of the API's own serves it at its root, and the SDK works with
// its documented rootUrl set to it.
func TestSDKListener(t *testing.T) {
	needNode(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := newWorldWith(t, fmt.Sprintf("  shorts:\n    provider: youtube\n    upstream: YOUTUBE/youtube/v3\n    listen: %q\n", addr))

	r := w.youtube(w.url+"/", "global")
	if r.OK || r.Status != 421 || !strings.Contains(r.Error, "listen: 127.0.0.1:8091") || !strings.Contains(r.Error, "shorts and youtube") {
		t.Fatalf("an ambiguous root path: %+v", r)
	}
	if n := len(w.fake.CallsTo("youtube")); n != 0 {
		t.Fatalf("%d ambiguous calls reached YouTube", n)
	}
	if r = w.youtube("http://"+addr+"/", "global"); !r.OK || r.Search != 2 || r.Videos != 2 {
		t.Fatalf("global rootUrl at the API's listener: %+v", r)
	}
	if r = w.youtube("http://"+addr+"/", "percall"); !r.OK || r.Uploaded == "" {
		t.Fatalf("per-call rootUrl at the API's listener: %+v", r)
	}
	want := map[string]int{"GET /youtube/v3/search": 2, "GET /youtube/v3/videos": 2, "GET /youtube/v3/channels": 2,
		"GET /youtube/v3/playlistItems": 2, "POST /upload/youtube/v3/videos": 1}
	if got := w.paths("youtube", 0); !sameCounts(got, want) {
		t.Fatalf("the fake YouTube received %v, want %v", got, want)
	}
	w.waitUsed("shorts", w.fakeUnits())
	w.waitUsed("youtube", map[string]int64{"daily": 0, "search.list": 0, "videos.insert": 0})
}
