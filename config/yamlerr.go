package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reLine reads the line of a YAML syntax error ("line N: ..."): yaml.v3's
// parser errors carry no position of their own. Type errors never go
// through it: checkNode finds them from the node tree.
var reLine = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// Kinds of decode errors.
const (
	unknownKey = iota // the rest of the mapping decoded
	badField          // one value failed; the structure around it is intact
	structural        // a mapping or list item was dropped
)

// nodeError is one problem checkNode found: where (the path and the node's
// line), what was expected, and its kind.
type nodeError struct {
	FieldError
	path fieldPath // the node concerned (for an unknown key: the key's)
	kind int
}

// checkNode checks the node tree of a document against the raw shapes
// before yaml.v3 decodes it, and reports every key that is unknown or
// repeated and every value that does not fit its Go type (each leaf is
// decoded alone with yaml.v3's own rules; a number with a fraction where
// an integer belongs, which yaml.v3 truncates, is refused). Every error is
// built from node positions and the schema, never from the text of
// yaml.v3's messages, so a library upgrade cannot change what it says.
// intact says whether a failed leaf at n leaves the structure around it
// whole (a struct field, or an entry of a map of scalars).
func checkNode(n *yaml.Node, t reflect.Type, p fieldPath, intact bool) []nodeError {
	c := checker{following: map[*yaml.Node]bool{}, budget: 100*countNodes(n) + 10000}
	out := c.node(n, t, p, intact)
	if c.budget < 0 && n != nil {
		out = append(out, nodeError{FieldError: FieldError{Line: n.Line,
			Message: "aliases expand to too many values; expected a document that does not repeat its anchors so often"}, kind: structural})
	}
	return out
}

// checker walks a node tree. following are the aliases being followed, to
// refuse one inside its own anchor's value (as yaml.v3 does) instead of
// walking it for ever; budget bounds the nodes visited, so that aliases of
// aliases ("billion laughs") cannot make the walk exponential.
type checker struct {
	following map[*yaml.Node]bool
	budget    int
}

// countNodes counts the nodes of a tree without following aliases.
func countNodes(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	total := 1
	for _, c := range n.Content {
		total += countNodes(c)
	}
	return total
}

func (c *checker) node(n *yaml.Node, t reflect.Type, p fieldPath, intact bool) []nodeError {
	if c.budget--; c.budget < 0 {
		return nil
	}
	if n != nil && n.Kind == yaml.AliasNode {
		if c.following[n] {
			return []nodeError{{FieldError: FieldError{Path: p.String(), Line: n.Line,
				Message: fmt.Sprintf("alias *%s is inside the value of its own anchor; expected a value that does not contain itself", n.Value)}, path: p, kind: structural}}
		}
		c.following[n] = true
		defer delete(c.following, n)
	}
	n = resolve(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || n.ShortTag() == "!!null" {
		return nil // yaml.v3 leaves the zero value (or the default)
	}
	mismatch := func() []nodeError {
		kind := structural
		if intact && isLeaf(t) {
			kind = badField
		}
		return []nodeError{{FieldError: FieldError{Path: p.String(), Line: n.Line,
			Message: fmt.Sprintf("expected %s, got %s", want(t), got(n))}, path: p, kind: kind}}
	}
	if isLeaf(t) {
		v := reflect.New(t)
		if n.Kind != yaml.ScalarNode && !reflect.PointerTo(t).Implements(unmarshalerType) || n.Decode(v.Interface()) != nil {
			return mismatch()
		}
		if isInt(t) && n.ShortTag() == "!!float" {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f != math.Trunc(f) {
				return []nodeError{{FieldError: FieldError{Path: p.String(), Line: n.Line,
					Message: "expected an integer, got the number " + n.Value}, path: p, kind: badField}}
			}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			return mismatch()
		}
		return c.mapping(n, t, p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return mismatch()
		}
		var out []nodeError
		for i, item := range n.Content {
			out = append(out, c.node(item, t.Elem(), p.to(i), false)...)
		}
		return out
	}
	return mismatch()
}

// mapping checks the entries of a mapping node against a struct or
// map type: unknown and repeated keys, then each value. Merged mappings
// ("<<: *anchor") are checked as the same type.
func (c *checker) mapping(n *yaml.Node, t reflect.Type, p fieldPath) []nodeError {
	var out []nodeError
	first := map[string]int{} // key → line of its first definition
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			if m := resolve(v); m != nil && m.Kind == yaml.SequenceNode {
				for _, item := range m.Content {
					out = append(out, c.node(item, t, p, false)...)
				}
			} else {
				out = append(out, c.node(v, t, p, false)...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			out = append(out, nodeError{FieldError: FieldError{Path: p.String(), Line: k.Line,
				Message: fmt.Sprintf("expected a key, got %s", got(k))}, path: p, kind: structural})
			continue
		}
		if line, dup := first[k.Value]; dup {
			out = append(out, nodeError{FieldError: FieldError{Path: p.String(), Line: k.Line,
				Message: fmt.Sprintf("duplicate key %q (first defined at line %d); expected each key once", k.Value, line)}, path: p.to(k.Value), kind: structural})
			continue
		}
		first[k.Value] = k.Line
		if t.Kind() == reflect.Map {
			out = append(out, c.node(v, t.Elem(), p.to(k.Value), isLeaf(t.Elem()))...)
			continue
		}
		fs := fields(t)
		j := slices.IndexFunc(fs, func(f reflect.StructField) bool { return f.Name == k.Value })
		if j < 0 {
			out = append(out, nodeError{FieldError: FieldError{Path: p.String(), Line: k.Line,
				Message: fmt.Sprintf("unknown key %q; expected one of: %s", k.Value, strings.Join(keysOf(t), ", "))}, path: p.to(k.Value), kind: unknownKey})
			continue
		}
		out = append(out, c.node(v, fs[j].Type, p.to(k.Value), true)...)
	}
	return out
}

// isInt reports whether t is an integer type.
func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// isLeaf reports whether t is decoded from a scalar (or by its own
// UnmarshalYAML) rather than being a collection of other values.
func isLeaf(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice:
		return reflect.PointerTo(t).Implements(unmarshalerType)
	}
	return true
}

func parent(p fieldPath) fieldPath {
	if len(p) == 0 {
		return nil
	}
	return p[:len(p)-1]
}

// want describes a Go type of the raw shapes in words.
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	goType := t.String()
	switch goType {
	case "int", "int64":
		return "an integer"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "quotad.Priority":
		return "low, normal or high"
	case "[]string":
		return "a list of strings"
	case "config.Duration":
		return "a duration like 30s, 5m, 1h30m or 1d"
	case "config.budgetValue":
		return `units or a percentage of each window's limit, like 500 or "25%"`
	case "config.command":
		return `a command: a list like ["python3", "make_video.py"] or a string run with sh -c`
	case "[]config.WindowConfig":
		return `a list of windows like [{name: daily, limit: 100000, reset: "daily 00:00"}]`
	case "map[string]config.rawAPI":
		return "a mapping of API names to their settings"
	case "map[string]config.rawChannel":
		return "a mapping of channel names to their settings"
	case "map[string]string":
		return "a mapping of names to strings"
	case "map[string]int64":
		return "a mapping of API names to integers"
	case "float64":
		return "a number"
	case "[]float64":
		return "a list of fractions like [0.8, 0.95]"
	case "map[string]config.rawNotifier":
		return "a mapping of notifier names to their settings"
	}
	if keys := keysOf(t); len(keys) > 0 {
		return "a mapping with the keys " + strings.Join(keys, ", ")
	}
	return goType
}

// got describes a YAML node in words.
func got(n *yaml.Node) string {
	tag, value := n.ShortTag(), ""
	if n.Kind == yaml.ScalarNode {
		value = n.Value
		if len(value) > 80 {
			value = value[:77] + "..."
		}
	}
	switch tag {
	case "!!str":
		return strconv.Quote(value)
	case "!!int":
		return "the integer " + value
	case "!!float":
		return "the number " + value
	case "!!bool":
		return "the boolean " + value
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "null"
	case "!!binary":
		return "binary data"
	}
	if value == "" {
		return tag
	}
	return tag + " " + strconv.Quote(value)
}

var (
	rawType         = reflect.TypeOf(rawConfig{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// fields returns the YAML keys of a struct type and their types, in order,
// flattening ",inline" fields as yaml.v3 does.
func fields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case strings.Contains(opts, "inline"):
			out = append(out, fields(f.Type)...)
		default:
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			f.Name = name
			out = append(out, f)
		}
	}
	return out
}

// keysOf lists the YAML keys of a struct type (none for other types).
func keysOf(t reflect.Type) []string {
	var keys []string
	if t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType) {
		for _, f := range fields(t) {
			keys = append(keys, f.Name)
		}
	}
	return keys
}
