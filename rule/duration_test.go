package rule_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"30s", 30 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"7d", 7 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"-2d", -48 * time.Hour},
	} {
		got, err := rule.ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "d", "1", "1x", "h1", "1d-1h", "99999999999999d", "--1h"} {
		if d, err := rule.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		} else if !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("ParseDuration(%q) error %v does not wrap ErrInvalid", bad, err)
		}
	}
}

// FuzzParseDuration checks that ParseDuration never panics and agrees with
// time.ParseDuration wherever the text has no "d" unit.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1d12h", "90m", "1.5d", "-3h", "0", "1h1d", ".5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := rule.ParseDuration(s)
		want, werr := time.ParseDuration(s)
		if werr == nil && err == nil && got != want {
			t.Errorf("ParseDuration(%q) = %v, time.ParseDuration says %v", s, got, want)
		}
	})
}
