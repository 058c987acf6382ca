package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/quotad/quotad"
	"go.yaml.in/yaml/v3"
)

// Load reads and parses the configuration file at path (see Parse). A
// missing file is an error wrapping fs.ErrNotExist.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a configuration document: it starts from DefaultConfig,
// decodes the YAML strictly over it (unknown keys and wrong types are
// errors; an "apis" mapping replaces the built-in APIs), and validates the
// result. filename is used in error messages. The error is a
// *ValidationError listing every problem with its line; errors.Is(err,
// quotad.ErrInvalid) is true for it.
func Parse(data []byte, filename string) (Config, error) {
	fail := func(errs []FieldError) (Config, error) {
		sortErrors(errs)
		return Config{}, &ValidationError{File: filename, Errors: errs}
	}
	root, errs := parseDocument(data)
	if errs != nil {
		return fail(errs)
	}
	c, d := decode(data, root)
	errs = d.errs
	if d.fatal {
		return fail(errs)
	}
	for _, p := range c.problems() {
		line, found := lineOf(root, p.path)
		if d.hides(p.path, found) {
			continue // a decode error already reports this value
		}
		errs = append(errs, FieldError{Path: p.path.String(), Line: line, Message: p.msg})
	}
	if len(errs) > 0 {
		return fail(errs)
	}
	return c, nil
}

// decoded is the outcome of the strict decode.
type decoded struct {
	errs []FieldError
	// fatal is set when the decoded values must not be validated: decoding
	// stopped, or dropped a map entry or list item (so later items moved).
	fatal bool
	// fields are the paths of values that failed to decode; the rest of
	// the structure is intact.
	fields []fieldPath
	// unknownIn are the parents of unknown keys: a missing value there is
	// probably the misspelled key's.
	unknownIn []fieldPath
}

// hides reports whether a validation problem at p follows from a decode
// error; found says whether p is in the document.
func (d *decoded) hides(p fieldPath, found bool) bool {
	for _, q := range d.fields {
		if p.hasPrefix(q) {
			return true
		}
	}
	for _, q := range d.unknownIn {
		if !found && p.hasPrefix(q) {
			return true
		}
	}
	return false
}

// parseDocument parses data into a node tree, reporting YAML syntax errors
// and a second document. It returns a nil root for an empty document.
func parseDocument(data []byte) (*yaml.Node, []FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, []FieldError{parseError(err, data)}
	}
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if err == io.EOF {
			return resolve(&doc), nil
		} else if err != nil {
			return nil, []FieldError{parseError(err, data)}
		}
		n := resolve(&extra)
		if n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" {
			continue // an empty document after a trailing "---"
		}
		return nil, []FieldError{{Line: n.Line, Message: "a second YAML document (after ---); expected exactly one"}}
	}
}

// parseError converts an error of the YAML parser, finding the line that
// yaml.v3 leaves out: a bad character's (reader errors), else the first (it
// omits line 1).
func parseError(err error, data []byte) FieldError {
	fe := syntaxError(err)
	if fe.Line == 0 {
		fe.Line = 1
		reader := strings.Contains(fe.Message, "UTF-8") || strings.Contains(fe.Message, "Unicode") ||
			strings.Contains(fe.Message, "control characters")
		if l := badCharLine(data); reader && l > 0 {
			fe.Line = l
		}
	}
	return fe
}

// badCharLine returns the line of the first character YAML does not allow
// (invalid UTF-8, control characters), or 0.
func badCharLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		ok := r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) || r == 0x85 ||
			(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd && !(r == utf8.RuneError && size == 1)) ||
			(r >= 0x10000 && r <= 0x10ffff) || r == 0xfeff
		if !ok {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return 0
}

// syntaxError converts an error of the YAML parser or decoder.
func syntaxError(err error) FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := reLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &line)
		msg = m[2]
	}
	return FieldError{Line: line, Message: "invalid YAML: " + msg}
}

// Raw shapes of the document: what yaml.v3 decodes strictly. Config itself
// holds the plain settings; APIs and channels are mappings whose order comes
// from the node tree.
type (
	rawConfig struct {
		Config   `yaml:",inline"`
		APIs     map[string]rawAPI     `yaml:"apis"`
		Channels map[string]rawChannel `yaml:"channels"`
		rawExtra `yaml:",inline"`      // thresholds, usage, notifiers (notify.go)
	}
	rawAPI struct {
		Unit        string                      `yaml:"unit"`
		Keywords    []string                    `yaml:"keywords"`
		AutoResume  *bool                       `yaml:"auto_resume"`
		Windows     []WindowConfig              `yaml:"windows"`
		Reserve     *ReserveConfig              `yaml:"reserve"`     // needs.go
		Pace        string                      `yaml:"pace"`        // needs.go
		Provider    string                      `yaml:"provider"`    // providers.go
		Upstream    string                      `yaml:"upstream"`    // providers.go
		Costs       map[string]string           `yaml:"costs"`       // providers.go
		Models      map[string]map[string]int64 `yaml:"models"`      // models.go
		Credentials map[string]CredentialConfig `yaml:"credentials"` // models.go
		Prices      map[string]PriceConfig      `yaml:"prices"`      // models.go
		Listen      string                      `yaml:"listen"`      // providers.go
	}
	rawChannel struct {
		APIs      []string               `yaml:"apis"`
		Priority  quotad.Priority        `yaml:"priority"`
		Job       *rawJob                `yaml:"job"`
		Budgets   map[string]budgetValue `yaml:"budgets"`   // needs.go
		Fallbacks map[string][]string    `yaml:"fallbacks"` // needs.go
	}
	rawJob struct {
		Command  command           `yaml:"command"`
		Dir      string            `yaml:"dir"`
		Env      map[string]string `yaml:"env"`
		Schedule string            `yaml:"schedule"`
		Timeout  *Duration         `yaml:"timeout"`
		Estimate map[string]int64  `yaml:"estimate"`
		Simulate *SimulateConfig   `yaml:"simulate"` // simulate.go
	}
)

// command is a job command: a YAML list (argv) or a string (sh -c).
type command struct {
	argv  []string
	shell bool
}

// UnmarshalYAML accepts a list of scalars or one scalar.
func (c *command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = command{argv: []string{"sh", "-c", n.Value}, shell: true}
		return nil
	case yaml.SequenceNode:
		argv := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item = resolve(item); item == nil || item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
				return typeError(n, "config.command")
			}
			argv = append(argv, item.Value)
		}
		*c = command{argv: argv}
		return nil
	}
	return typeError(n, "config.command")
}

// decode decodes the document strictly over DefaultConfig.
func decode(data []byte, root *yaml.Node) (c Config, d decoded) {
	raw := rawConfig{Config: DefaultConfig(), rawExtra: defaultExtra()}
	if root != nil {
		// The node tree says what is wrong and where; yaml.v3 then decodes
		// what it can (its type errors are the same problems again).
		found := checkNode(root, rawType, nil, false)
		for _, ne := range found {
			d.errs = append(d.errs, ne.FieldError)
			switch ne.kind {
			case unknownKey:
				d.unknownIn = append(d.unknownIn, parent(ne.path))
			case badField:
				d.fields = append(d.fields, ne.path)
			default:
				d.fatal = true
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err := dec.Decode(&raw)
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te) && len(found) == 0:
			// yaml.v3 refused what checkNode let through: a gap in
			// checkNode (FuzzParse looks for one). Its words, as they are.
			for _, s := range te.Errors {
				d.errs = append(d.errs, FieldError{Line: root.Line, Message: "invalid value: " + s})
			}
			d.fatal = true
		case errors.As(err, &te):
		case err != nil && err != io.EOF:
			d.errs, d.fatal = []FieldError{syntaxError(err)}, true
			return c, d
		}
	}
	c = raw.Config
	if raw.APIs != nil {
		c.APIs = make([]APIConfig, 0, len(raw.APIs))
		for _, name := range orderedKeys(root, "apis", raw.APIs) {
			a := raw.APIs[name]
			api := APIConfig{Name: name, Unit: a.Unit, Keywords: lowerAll(a.Keywords), AutoResume: true, Windows: a.Windows,
				Provider: a.Provider, Upstream: a.Upstream, Costs: a.Costs, Models: a.Models,
				Credentials: decodeCredentials(a.Credentials), Prices: a.Prices, Listen: a.Listen}
			applyProfile(&api)
			if api.Unit == "" {
				api.Unit = DefaultUnit
			}
			if a.AutoResume != nil {
				api.AutoResume = *a.AutoResume
			}
			api.Reserve, api.Pace = a.Reserve, a.Pace
			c.APIs = append(c.APIs, api)
		}
	}
	for _, name := range orderedKeys(root, "channels", raw.Channels) {
		ch := raw.Channels[name]
		cc := ChannelConfig{Name: name, APIs: ch.APIs, Priority: ch.Priority,
			Budgets: decodeBudgets(ch.Budgets), Fallbacks: decodeFallbacks(ch.Fallbacks)}
		if cc.Priority == "" {
			cc.Priority = quotad.PriorityNormal
		}
		if j := ch.Job; j != nil {
			cc.Job = &JobConfig{
				Command: j.Command.argv, Shell: j.Command.shell, Dir: j.Dir, Env: j.Env,
				Schedule: j.Schedule, Timeout: DefaultJobTimeout, Estimate: j.Estimate, Simulate: j.Simulate,
			}
			if j.Timeout != nil {
				cc.Job.Timeout = *j.Timeout
			}
		}
		c.Channels = append(c.Channels, cc)
	}
	decodeExtra(root, raw.rawExtra, &c, &d)
	return c, d
}

// orderedKeys returns the keys of m in the order of the mapping under the
// top-level key; keys the node tree does not show in order (merged with
// "<<") follow, sorted.
func orderedKeys[V any](root *yaml.Node, key string, m map[string]V) []string {
	keys := make([]string, 0, len(m))
	seen := make(map[string]bool, len(m))
	if n := resolve(nodeAt(root, key)); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			var k string
			if n.Content[i].Decode(&k) != nil {
				continue
			}
			if _, ok := m[k]; ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// nodeAt returns the value of a top-level key, or nil.
func nodeAt(root *yaml.Node, key string) *yaml.Node {
	if root = resolve(root); root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			v = root.Content[i+1]
		}
	}
	return v
}
