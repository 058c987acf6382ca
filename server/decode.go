package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// decode reads the request body as one JSON object into v (a pointer to a
// struct). An empty body is an empty object. Unknown fields, values of the
// wrong type, malformed JSON and data after the object are refused with
// quotad.ErrInvalid; a body over the limit with *http.MaxBytesError.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return invalidf("request body: data after the JSON object")
	}
	return nil
}

// bodyError explains a decoding error in the terms of the JSON document
// rather than of Go types.
func bodyError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &se):
		return invalidf("request body: malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("request body: JSON ends early")
	case errors.As(err, &te):
		if te.Field == "" {
			return invalidf("request body must be a JSON object, got %s", te.Value)
		}
		return invalidf("request body: field %q must be %s, got %s", te.Field, jsonKind(te.Type), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalidf("request body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalidf("request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON form of a Go type.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// query returns the request's query parameters after refusing any not in
// known and any given twice.
func query(r *http.Request, known ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalidf("query: %v", err)
	}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			return nil, invalidf("unknown query parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, invalidf("query parameter %q given %d times", k, len(vs))
		}
	}
	return q, nil
}
