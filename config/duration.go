package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("1h", "30m", "1s", "1h30m"); the unit "d" means 24 hours ("1d", "1d12h").
type Duration time.Duration

// String returns the duration as a Go duration string without trailing zero
// units: "1h", "30m", "1h30m", "1.5s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalYAML writes the duration as a string, as String does.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration string (see ParseDuration).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "config.Duration")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return typeError(n, "config.Duration")
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration string, also accepting the unit "d"
// for 24 hours ("1d", "1.5d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%w: invalid duration %q; expected a duration like 30s, 5m, 1h30m or 1d", quotad.ErrInvalid, s)
	}
	rest, neg := s, false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "0" {
		return 0, nil
	}
	if rest == "" {
		return bad()
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || ('0' <= rest[i] && rest[i] <= '9')) {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		if num == "" || unit == "" {
			return bad()
		}
		var part time.Duration
		var err error
		if unit == "d" {
			part, err = time.ParseDuration(num + "h")
			if err == nil && part > math.MaxInt64/24 {
				err = errors.New("overflow")
			}
			part *= 24
		} else {
			part, err = time.ParseDuration(num + unit)
		}
		if err != nil || part < 0 || total > math.MaxInt64-part {
			return bad()
		}
		total += part
		rest = rest[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}

// typeError reports a node that cannot be decoded into goType, in the form
// yaml.v3 uses, so that decode errors are translated in one place.
func typeError(n *yaml.Node, goType string) error {
	value := ""
	if n.Kind == yaml.ScalarNode {
		value = " `" + n.Value + "`"
	}
	return &yaml.TypeError{Errors: []string{
		fmt.Sprintf("line %d: cannot unmarshal %s%s into %s", n.Line, n.ShortTag(), value, goType),
	}}
}
