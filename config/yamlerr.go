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

// Messages of yaml.v3, rewritten into FieldErrors with a path and a
// sentence saying what was expected.
var (
	reLine    = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	reUnknown = regexp.MustCompile(`(?s)^field (.*) not found in type (\S+)$`)
	reSet     = regexp.MustCompile(`(?s)^field (.*) already set in type (\S+)$`)
	reDup     = regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	reType    = regexp.MustCompile("(?s)^cannot unmarshal (!!\\S+)(?: `(.*)`)? into (.+)$")
)

// Kinds of decode errors.
const (
	unknownKey = iota // the rest of the mapping decoded
	badField          // one value failed; the structure around it is intact
	structural        // a mapping or list item was dropped
)

// translate converts one yaml.v3 type error ("line N: ...") and returns the
// path of the node concerned (nil when unknown) and the kind of error.
func translate(s string, root *yaml.Node) (FieldError, fieldPath, int) {
	m := reLine.FindStringSubmatch(s)
	if m == nil {
		return FieldError{Message: s}, nil, structural
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	fe := FieldError{Line: line, Message: msg}
	keyAt := func(key string) fieldPath {
		return find(root, func(_ fieldPath, k, _ *yaml.Node) bool {
			return k != nil && k.Line == line && k.Value == key
		})
	}
	switch {
	case reUnknown.MatchString(msg):
		sm := reUnknown.FindStringSubmatch(msg)
		p := keyAt(sm[1])
		fe.Path = parent(p).String()
		fe.Message = fmt.Sprintf("unknown key %q; expected one of: %s", sm[1], strings.Join(keysOf(sm[2]), ", "))
		return fe, p, unknownKey
	case reDup.MatchString(msg), reSet.MatchString(msg):
		key, first := "", ""
		if sm := reDup.FindStringSubmatch(msg); sm != nil {
			key, _ = strconv.Unquote(sm[1])
			first = " (first defined at line " + sm[2] + ")"
		} else {
			key = reSet.FindStringSubmatch(msg)[1]
		}
		p := keyAt(key)
		fe.Path = parent(p).String()
		fe.Message = fmt.Sprintf("duplicate key %q%s; expected each key once", key, first)
		return fe, p, structural
	case reType.MatchString(msg):
		sm := reType.FindStringSubmatch(msg)
		tag, value, goType := sm[1], sm[2], sm[3]
		// The node on that line with that tag and value; when several
		// match (flow style), the one whose Go type is goType.
		var p fieldPath
		var found *yaml.Node
		find(root, func(q fieldPath, _, v *yaml.Node) bool {
			if v.Line != line || v.ShortTag() != tag || v.Kind == yaml.ScalarNode && v.Value != value &&
				!(strings.HasSuffix(value, "...") && strings.HasPrefix(v.Value, strings.TrimSuffix(value, "..."))) {
				return false
			}
			t, ok := schemaType(q)
			if found == nil || ok && t.String() == goType {
				p, found = q, v
			}
			return ok && t.String() == goType
		})
		if found != nil && found.Kind == yaml.ScalarNode {
			value = found.Value
		}
		fe.Path = p.String()
		fe.Message = fmt.Sprintf("expected %s, got %s", want(goType), got(tag, value))
		// A scalar that failed in a struct field or a map of scalars leaves
		// the rest intact; anything else drops or empties a collection.
		kind := structural
		c, okc := schemaType(parent(p))
		t, okt := schemaType(p)
		if len(p) > 0 && okc && okt && isLeaf(t) &&
			(c.Kind() == reflect.Struct || c.Kind() == reflect.Map && isLeaf(c.Elem())) {
			kind = badField
		}
		return fe, p, kind
	}
	return fe, nil, structural
}

// schemaType returns the Go type of the raw shapes at path p.
func schemaType(p fieldPath) (reflect.Type, bool) {
	t := rawType
	for _, s := range p {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch s := s.(type) {
		case string:
			switch {
			case t.Kind() == reflect.Map:
				t = t.Elem()
			case t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType):
				i := slices.IndexFunc(fields(t), func(f reflect.StructField) bool { return f.Name == s })
				if i < 0 {
					return nil, false
				}
				t = fields(t)[i].Type
			default:
				return nil, false
			}
		case int:
			if t.Kind() != reflect.Slice {
				return nil, false
			}
			t = t.Elem()
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
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

// find returns the path of the first node, in document order, for which
// match is true; key is nil for sequence items. Aliases are not followed.
func find(root *yaml.Node, match func(p fieldPath, key, val *yaml.Node) bool) fieldPath {
	var walk func(n *yaml.Node, p fieldPath) fieldPath
	walk = func(n *yaml.Node, p fieldPath) fieldPath {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				q := p.to(k.Value)
				if match(q, k, v) {
					return q
				}
				if r := walk(v, q); r != nil {
					return r
				}
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				q := p.to(i)
				if match(q, nil, v) {
					return q
				}
				if r := walk(v, q); r != nil {
					return r
				}
			}
		}
		return nil
	}
	if root == nil {
		return nil
	}
	if match(fieldPath{}, nil, root) {
		return fieldPath{}
	}
	return walk(root, fieldPath{})
}

// want describes a Go type of the raw shapes in words.
func want(goType string) string {
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
	if keys := keysOf(goType); len(keys) > 0 {
		return "a mapping with the keys " + strings.Join(keys, ", ")
	}
	return goType
}

// got describes a YAML value in words.
func got(tag, value string) string {
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
	structTypes     = map[string]reflect.Type{}
)

func init() { register(rawType) }

// register records the struct types reachable from t by name, for keysOf.
func register(t reflect.Type) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		register(t.Elem())
	case reflect.Struct:
		if _, ok := structTypes[t.String()]; ok || reflect.PointerTo(t).Implements(unmarshalerType) {
			return
		}
		structTypes[t.String()] = t
		for _, f := range fields(t) {
			register(f.Type)
		}
	}
}

// keysOf lists the YAML keys of a struct type named as yaml.v3 names it.
func keysOf(goType string) []string {
	var keys []string
	if t, ok := structTypes[goType]; ok {
		for _, f := range fields(t) {
			keys = append(keys, f.Name)
		}
	}
	return keys
}

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

// checkIntegers reports numbers with a fraction where an integer belongs:
// yaml.v3 silently truncates "limit: 1.5" to 1. Aliases are not followed.
func checkIntegers(n *yaml.Node, t reflect.Type, p fieldPath) []problem {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	var out []problem
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			var f float64
			if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && f != math.Trunc(f) {
				out = append(out, problem{p, "expected an integer, got the number " + n.Value})
			}
		}
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			fs := fields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				for _, f := range fs {
					if f.Name == n.Content[i].Value {
						out = append(out, checkIntegers(n.Content[i+1], f.Type, p.to(f.Name))...)
					}
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				out = append(out, checkIntegers(n.Content[i+1], t.Elem(), p.to(n.Content[i].Value))...)
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				out = append(out, checkIntegers(item, t.Elem(), p.to(i))...)
			}
		}
	}
	return out
}
