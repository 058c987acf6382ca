package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthWithToken(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken})
	spend := `{"units": 1}`
	r := ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: -")
	ev.wantError(r, http.StatusUnauthorized, codeUnauthorized, "Authorization: Bearer")
	if r.header.Get("WWW-Authenticate") != `Bearer realm="quotad"` {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: Bearer wrong"), http.StatusUnauthorized, codeUnauthorized, "wrong bearer token")
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: Basic "+testToken), http.StatusUnauthorized, codeUnauthorized)
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: Bearer "+testToken+"x"), http.StatusUnauthorized, codeUnauthorized)
	ev.wantError(ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: Bearer"), http.StatusUnauthorized, codeUnauthorized)
	if r := ev.req("POST", "/api/v1/apis/youtube/spend", spend, "Authorization: bearer "+testToken); r.status != http.StatusOK {
		t.Fatalf("scheme is case-insensitive: %d %s", r.status, r.body)
	}
	// Every mutation needs the token; reads stay open on loopback.
	for _, rt := range ev.srv.routes {
		path := strings.NewReplacer("{api}", "youtube", "{name}", "Shorts", "{id}", "abc", "{capability}", "youtube").Replace(rt.path)
		r := ev.req(rt.method, path, "", "Authorization: -")
		switch rt.access {
		case writer:
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d", rt.method, rt.path, r.status)
			}
		default:
			if r.status == http.StatusUnauthorized {
				t.Errorf("%s %s is a read but needs a token", rt.method, rt.path)
			}
		}
	}
	if strings.Contains(ev.logs.String(), testToken) {
		t.Fatal("the token was logged")
	}
}

func TestAuthProtectReads(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken, ProtectReads: true})
	for _, rt := range ev.srv.routes {
		path := strings.NewReplacer("{api}", "youtube", "{name}", "Shorts", "{id}", "abc", "{capability}", "youtube").Replace(rt.path)
		if rt.path == "/api/v1/schedule" {
			path += "?rule=daily+00:00"
		}
		r := ev.req(rt.method, path, "", "Authorization: -")
		if rt.access == open {
			if r.status != http.StatusOK {
				t.Errorf("%s %s is open but answered %d", rt.method, rt.path, r.status)
			}
			continue
		}
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", rt.method, rt.path, r.status)
		}
		if rt.method == http.MethodGet {
			if r := ev.req(rt.method, path, ""); r.status != http.StatusOK {
				t.Errorf("%s %s with the token: %d %s", rt.method, rt.path, r.status, r.body)
			}
		}
	}
}

func TestNoTokenLoopback(t *testing.T) {
	ev := newEnv(t, Options{})
	if r := ev.req("POST", "/api/v1/apis/youtube/spend", `{"units": 1}`, "Authorization: -"); r.status != http.StatusOK {
		t.Fatalf("no token configured: mutation refused: %d %s", r.status, r.body)
	}
	for _, host := range []string{"localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.1", "quotad.localhost:80"} {
		if r := ev.req("GET", "/api/v1/status", "", "Host: "+host); r.status != http.StatusOK {
			t.Errorf("Host %s: %d %s", host, r.status, r.body)
		}
	}
	// A page that rebinds its DNS name to 127.0.0.1 names itself in Host.
	ev.wantError(ev.req("POST", "/api/v1/channels/Shorts/pause", "", "Host: evil.example:8080"), http.StatusForbidden, codeForbidden, "evil.example")
	ev.wantError(ev.req("GET", "/api/v1/status", "", "Host: evil.example"), http.StatusForbidden, codeForbidden)
	if r := ev.req("GET", "/healthz", "", "Host: evil.example"); r.status != http.StatusOK {
		t.Fatalf("probes stay open: %d", r.status)
	}

	// Behind a reverse proxy that passes its public name: allowed by name.
	proxied := newEnv(t, Options{AllowedHosts: []string{"quotad.internal"}})
	if r := proxied.req("GET", "/api/v1/status", "", "Host: Quotad.Internal:443"); r.status != http.StatusOK {
		t.Errorf("allowed host: %d %s", r.status, r.body)
	}
	proxied.wantError(proxied.req("GET", "/api/v1/status", "", "Host: evil.example"), http.StatusForbidden, codeForbidden, "server.allowed_hosts")

	// No token but reads protected (a misconfiguration): only open routes.
	locked := newEnv(t, Options{ProtectReads: true})
	locked.wantError(locked.req("GET", "/api/v1/status", "", "Authorization: -"), http.StatusUnauthorized, codeUnauthorized, "no token is configured")
	locked.wantError(locked.req("GET", "/api/v1/status", ""), http.StatusUnauthorized, codeUnauthorized)
}

func TestCrossOriginRefused(t *testing.T) {
	ev := newEnv(t, Options{})
	ev.wantError(ev.req("POST", "/api/v1/channels/Shorts/pause", "", "Sec-Fetch-Site: cross-site"), http.StatusForbidden, codeForbidden, "cross-origin")
	ev.wantError(ev.req("POST", "/api/v1/channels/Shorts/pause", "", "Origin: https://evil.example"), http.StatusForbidden, codeForbidden)
	if r := ev.req("POST", "/api/v1/channels/Shorts/pause", "", "Sec-Fetch-Site: same-origin"); r.status != http.StatusOK {
		t.Fatalf("same-origin: %d %s", r.status, r.body)
	}
	if r := ev.req("GET", "/api/v1/status", "", "Sec-Fetch-Site: cross-site"); r.status != http.StatusOK {
		t.Fatalf("cross-site GET: %d", r.status)
	}
}

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		h, token string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"  bearer   abc  ", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{"abc", "", false},
	} {
		token, ok := bearer(c.h)
		if token != c.token || ok != c.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", c.h, token, ok, c.token, c.ok)
		}
	}
}

func TestHandleRead(t *testing.T) {
	ev := newEnv(t, Options{Token: testToken, ProtectReads: true})
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("dashboard")) })
	ev.srv.HandleRead("GET /{$}", page)
	ev.srv.Handle("GET /static/", page)
	ev.wantError(ev.req("GET", "/", "", "Authorization: -"), http.StatusUnauthorized, codeUnauthorized)
	if r := ev.req("GET", "/", ""); r.status != http.StatusOK || string(r.body) != "dashboard" {
		t.Fatalf("HandleRead with the token: %d %q", r.status, r.body)
	}
	if r := ev.req("GET", "/static/app.js", "", "Authorization: -"); r.status != http.StatusOK {
		t.Fatalf("Handle: %d", r.status)
	}
	ev.wantError(ev.req("GET", "/other", ""), http.StatusNotFound, codeNotFound)
	if r := ev.req("GET", "/metrics", ""); !strings.Contains(r.String(), `quotad_http_request_duration_seconds_count{code="200",method="GET",route="/{$}"} 1`) {
		t.Fatal("HandleRead requests are not measured")
	}
}
