package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/quotad/quotad"
	"go.yaml.in/yaml/v3"
)

// FieldError is one problem in a configuration file.
type FieldError struct {
	// Path names the setting, like "apis.groq.windows[0].reset"; keys that
	// are not plain words are quoted: `channels["Rank Riot"].apis`. It is ""
	// for problems of the document as a whole (YAML syntax).
	Path string
	// Line is the 1-based line of the offending node; 0 when unknown (a
	// built-in default, or a Config built in Go).
	Line int
	// Message says what is wrong and what was expected.
	Message string
}

// String returns "line: path: message", leaving out what is unknown.
func (e FieldError) String() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationError lists every problem found in a configuration. Load, Parse
// and Validate return it as a *ValidationError; errors.Is(err,
// quotad.ErrInvalid) is true for it.
type ValidationError struct {
	File   string // the file name given to Parse or Load; "" for Validate
	Errors []FieldError
}

// Error returns one line per problem: "quotad.yaml:12: apis.groq.windows[0].reset: message".
func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Errors))
	for _, fe := range e.Errors {
		switch {
		case e.File != "" && fe.Line > 0:
			lines = append(lines, e.File+":"+fe.String())
		case e.File != "":
			lines = append(lines, e.File+": "+fe.String())
		case fe.Line > 0:
			lines = append(lines, "line "+fe.String())
		default:
			lines = append(lines, fe.String())
		}
	}
	if len(lines) == 0 {
		return "invalid configuration"
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns quotad.ErrInvalid.
func (e *ValidationError) Unwrap() error { return quotad.ErrInvalid }

// Is reports whether target is quotad.ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == quotad.ErrInvalid }

// sortErrors orders problems by line, keeping the order of problems on the
// same line; problems without a line come last.
func sortErrors(errs []FieldError) {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// fieldPath names a node of the document: string elements are mapping
// keys, int elements are sequence indexes.
type fieldPath []any

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// String formats the path as in FieldError.Path.
func (p fieldPath) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if !plainKey.MatchString(s) {
				fmt.Fprintf(&b, "[%q]", s)
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// to returns a new path with more elements.
func (p fieldPath) to(more ...any) fieldPath {
	out := make(fieldPath, 0, len(p)+len(more))
	return append(append(out, p...), more...)
}

// hasPrefix reports whether q is p or an ancestor of p.
func (p fieldPath) hasPrefix(q fieldPath) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// problem is a validation failure before its line is known.
type problem struct {
	path fieldPath
	msg  string
}

// lineOf returns the line of the node that path names in the document root:
// the key's line for mapping entries, the item's line for sequence items.
// When the path leaves the document (a default or missing value), it
// returns the line of the deepest node on the way (0 when the first element
// is missing) and found is false.
func lineOf(root *yaml.Node, path fieldPath) (line int, found bool) {
	n := root
	for _, s := range path {
		n = resolve(n)
		if n == nil {
			return line, false
		}
		switch s := s.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line, false
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == s {
					line, next = k.Line, n.Content[i+1]
				}
			}
			if next == nil {
				return line, false
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return line, false
			}
			n = n.Content[s]
			line = n.Line
		}
	}
	return line, n != nil
}

// resolve follows an alias (one step: yaml.v3 aliases never name aliases)
// and unwraps a document node.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
