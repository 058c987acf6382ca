package server

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

type openAPIDocument struct {
	OpenAPI    string                               `json:"openapi"`
	Paths      map[string]map[string]openAPIOp      `json:"paths"`
	Components struct{ Schemas map[string]schemaT } `json:"components"`
}

type openAPIOp struct {
	OperationID string                      `json:"operationId"`
	Parameters  []struct{ Name, In string } `json:"parameters"`
	Security    []map[string]any            `json:"security"`
	Responses   map[string]any              `json:"responses"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type schemaT struct {
	Properties map[string]any `json:"properties"`
	Required   []string       `json:"required"`
}

func loadOpenAPI(t *testing.T) openAPIDocument {
	t.Helper()
	var doc openAPIDocument
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks that every route the server registers is
// documented with its method, access and path parameters, and that every
// documented operation is served by that route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(nil, Options{})
	wild := regexp.MustCompile(`\{(\w+)\}`)
	served := map[string]bool{}
	for _, rt := range s.routes {
		key := rt.method + " " + rt.path
		served[key] = true
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		var params []string
		for _, p := range op.Parameters {
			if p.In == "path" {
				params = append(params, p.Name)
			}
		}
		var want []string
		for _, m := range wild.FindAllStringSubmatch(rt.path, -1) {
			want = append(want, m[1])
		}
		if !slices.Equal(params, want) {
			t.Errorf("%s: documented path parameters %v, want %v", key, params, want)
		}
		anonymous := slices.ContainsFunc(op.Security, func(m map[string]any) bool { return len(m) == 0 })
		bearer := slices.ContainsFunc(op.Security, func(m map[string]any) bool { _, ok := m["bearerAuth"]; return ok })
		switch rt.access {
		case open:
			if !anonymous || bearer {
				t.Errorf("%s is open; documented security %v", key, op.Security)
			}
		case reader:
			if !anonymous || !bearer {
				t.Errorf("%s is a read (open on loopback, token elsewhere); documented security %v", key, op.Security)
			}
		case writer:
			if anonymous || !bearer {
				t.Errorf("%s is a mutation; documented security %v", key, op.Security)
			}
			for _, code := range []string{"400", "401", "413", "500"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s does not document %s", key, code)
				}
			}
		}
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			if !served[key] {
				t.Errorf("openapi.json documents %s (%s), which the server does not serve", key, op.OperationID)
				continue
			}
			concrete := wild.ReplaceAllString(path, "x")
			if _, pattern := s.mux.Handler(httptest.NewRequest(strings.ToUpper(method), concrete, nil)); pattern != key {
				t.Errorf("%s %s is served by pattern %q, want %q", strings.ToUpper(method), concrete, pattern, key)
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes checks the documented properties against the
// JSON fields of the Go types the server reads and writes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	verdict := []string{"quota", "kind", "api", "until", "evidence"} // classify.Verdict.MarshalJSON
	for name, typ := range map[string]any{
		"Status": quotad.Status{}, "APIStatus": quotad.APIStatus{}, "WindowStatus": quotad.WindowStatus{},
		"ChannelStatus": quotad.ChannelStatus{}, "BudgetStatus": quotad.BudgetStatus{}, "JobStatus": quotad.JobStatus{}, "PauseStatus": quotad.PauseStatus{}, "EventStatus": quotad.EventStatus{},
		"LogsPage": LogsPage{}, "SpendRequest": SpendRequest{}, "SpendResult": quotad.SpendResult{},
		"ReserveRequest": ReserveRequest{}, "Reservation": quotad.ReserveResult{}, "CommitRequest": CommitRequest{},
		"ResetRequest": ResetRequest{}, "ResetResult": quotad.ResetResult{}, "PauseRequest": PauseRequest{},
		"ResumeRequest": ResumeRequest{}, "ResumeResult": quotad.ResumeResult{}, "ErrorReport": ErrorRequest{},
		"ReportResult": quotad.ReportResult{}, "Error": ErrorBody{}, "Verdict": classify.Verdict{}, "Pick": quotad.Pick{},
		"RunRequest": RunRequest{}, "JobStart": quotad.JobStart{},
	} {
		sch, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is missing", name)
			continue
		}
		want := jsonFields(reflect.TypeOf(typ))
		if name == "Verdict" {
			want = verdict
		}
		var got []string
		for p := range sch.Properties {
			got = append(got, p)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
		for _, r := range sch.Required {
			if !slices.Contains(want, r) {
				t.Errorf("schema %s requires unknown property %s", name, r)
			}
		}
	}
	// Every $ref resolves.
	refs := regexp.MustCompile(`"\$ref": "#/components/(schemas|responses)/(\w+)"`).FindAllStringSubmatch(string(OpenAPI()), -1)
	var raw struct {
		Components struct{ Schemas, Responses map[string]any } `json:"components"`
	}
	_ = json.Unmarshal(OpenAPI(), &raw)
	for _, m := range refs {
		set := raw.Components.Schemas
		if m[1] == "responses" {
			set = raw.Components.Responses
		}
		if _, ok := set[m[2]]; !ok {
			t.Errorf("unresolved $ref %s/%s", m[1], m[2])
		}
	}
}

// jsonFields returns the JSON names of a struct's fields, with embedded
// structs flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
