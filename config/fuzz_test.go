package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

// FuzzParse checks that Parse never panics, that every error it returns
// is a *ValidationError wrapping quotad.ErrInvalid, and that none is
// yaml.v3's own text: the config finds every value yaml.v3 refuses from the
// node tree (line, path, what was expected), so that a yaml upgrade cannot
// change what it says.
func FuzzParse(f *testing.F) {
	f.Add([]byte(config.Example))
	f.Add([]byte(""))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("apis:\n  g: &a {windows: [{name: d, limit: 1, reset: daily 00:00}]}\n  h: *a\n  <<: {k: {windows: []}}\n"))
	for _, tt := range badConfigs {
		f.Add([]byte(tt.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, "fuzz.yaml")
		if err != nil {
			var ve *config.ValidationError
			if !errors.Is(err, quotad.ErrInvalid) || !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("Parse error %T %v", err, err)
			}
			for _, fe := range ve.Errors {
				if strings.HasPrefix(fe.Message, "invalid value: ") {
					t.Fatalf("yaml.v3 refused a value the node check let through: %v", err)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse succeeded but Validate fails: %v", err)
		}
		c.Domain()
	})
}
