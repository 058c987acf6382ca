package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/quotad/quotad/rule"
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
// for 24 hours ("1d", "1.5d", "1d12h"): rule.ParseDuration, which the CLI's
// --since and the dashboard's ?since= use too.
func ParseDuration(s string) (time.Duration, error) { return rule.ParseDuration(s) }

// typeError reports a node that cannot be decoded into goType as a
// *yaml.TypeError, so that yaml.v3 goes on decoding the rest of the
// document. Its text is never read: checkNode reports the problem from the
// node itself.
func typeError(n *yaml.Node, goType string) error {
	value := ""
	if n.Kind == yaml.ScalarNode {
		value = " `" + n.Value + "`"
	}
	return &yaml.TypeError{Errors: []string{
		fmt.Sprintf("line %d: cannot unmarshal %s%s into %s", n.Line, n.ShortTag(), value, goType),
	}}
}
