package hostcheck_test

import (
	"testing"

	"github.com/quotad/quotad/internal/hostcheck"
)

func TestAllowed(t *testing.T) {
	cases := []struct {
		listen string
		extra  []string
		host   string
		want   bool
	}{
		{"127.0.0.1:8080", nil, "127.0.0.1:8080", true},
		{"127.0.0.1:8080", nil, "localhost:8080", true},
		{"127.0.0.1:8080", nil, "LOCALHOST.", true},
		{"127.0.0.1:8080", nil, "app.localhost", true},
		{"127.0.0.1:8080", nil, "[::1]:8080", true},
		{"127.0.0.1:8080", nil, "127.8.9.10", true},
		{"127.0.0.1:8080", nil, "evil.example:8080", false},
		{"127.0.0.1:8080", nil, "localhost.evil.example", false},
		{"127.0.0.1:8080", nil, "192.168.1.2:8080", false},
		{"127.0.0.1:8080", nil, "", false},
		{"127.0.0.1:8080", []string{"quotad.internal"}, "Quotad.Internal:443", true},
		{"127.0.0.1:8080", []string{"quotad.internal:443"}, "quotad.internal", true},
		{"192.168.1.2:8080", nil, "192.168.1.2:8080", true},
		{"192.168.1.2:8080", nil, "192.168.1.3:8080", false},
		{"myhost:8080", nil, "myhost:8080", true},
		{"0.0.0.0:8080", nil, "10.0.0.7:8080", true},
		{"[::]:8080", nil, "[fe80::1]:8080", true},
		{":8080", nil, "10.0.0.7", true},
		{":8080", nil, "evil.example", false},
	}
	for _, c := range cases {
		if got := hostcheck.New(c.listen, c.extra).Allowed(c.host); got != c.want {
			t.Errorf("listen %s %v, Host %q: %v, want %v", c.listen, c.extra, c.host, got, c.want)
		}
	}
}

func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"localhost:80", "[::1]:1", "evil.example", "0.0.0.0", "[", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a := hostcheck.New("127.0.0.1:8080", []string{"quotad.internal"})
		if a.Allowed(host) && !a.Allowed(hostcheck.Name(host)) {
			t.Fatalf("%q allowed but its name %q is not", host, hostcheck.Name(host))
		}
	})
}
