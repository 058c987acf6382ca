package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// Error codes of the JSON error body. Clients map them back to the quotad
// sentinel errors (see package client).
const (
	codeInvalid            = "invalid"              // 400: bad input (quotad.ErrInvalid)
	codeUnauthorized       = "unauthorized"         // 401: missing or wrong bearer token
	codeForbidden          = "forbidden"            // 403: cross-origin browser request, or a host name without a token
	codeUnknownAPI         = "unknown_api"          // 404: quotad.ErrUnknownAPI
	codeUnknownChannel     = "unknown_channel"      // 404: quotad.ErrUnknownChannel
	codeUnknownReservation = "unknown_reservation"  // 404: quotad.ErrUnknownReservation
	codeNotFound           = "not_found"            // 404: no such endpoint
	codeMethodNotAllowed   = "method_not_allowed"   // 405
	codeConflict           = "conflict"             // 409: quotad.ErrConflict
	codeTooLarge           = "too_large"            // 413: body over the limit
	codeExhausted          = "exhausted"            // 429: *quotad.ExhaustedError
	codeInternal           = "internal"             // 500: store failure; details only in the log
	codeUnavailable        = "unavailable"          // 503: store busy or down, engine closed, request cancelled
	codeIdempotency        = "idempotency_mismatch" // 422: an Idempotency-Key reused with another request
	codeStorageFull        = "storage_full"         // 507: the store's disk is full
)

// RetryAfterUnavailable is the Retry-After (seconds) of a 503 answer.
const RetryAfterUnavailable = 1

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong. API, Window, Until and Kind are set for
// "exhausted" (429): the API refused, the window, when it is expected to
// serve again, and whose hold it is: "window" (the API's), "budget" (the
// channel's own budget) or "reserve" (the part kept for Priority and
// above); Channel is the channel held by a budget or a reserve.
type ErrorDetail struct {
	Code     string     `json:"code"`
	Message  string     `json:"message"`
	API      string     `json:"api,omitempty"`
	Window   string     `json:"window,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	Kind     string     `json:"kind,omitempty"`
	Channel  string     `json:"channel,omitempty"`
	Priority string     `json:"priority,omitempty"`
}

// httpError is an error with its status and code decided by the server.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidf reports bad input as quotad.ErrInvalid does: "invalid input: …".
func invalidf(format string, args ...any) error { return quotad.Invalidf(format, args...) }

// writeError writes err as a JSON error response with a fitting status.
// Failures the client cannot fix are logged with their details and answered
// with a generic message; 503s are logged at level info.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.describe(err)
	if status == http.StatusTooManyRequests && body.Error.Until != nil {
		secs := math.Ceil(body.Error.Until.Sub(s.now()).Seconds())
		w.Header().Set("Retry-After", strconv.FormatInt(int64(max(1, min(secs, math.MaxInt32))), 10))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterUnavailable))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="quotad"`)
	}
	switch {
	case status == http.StatusInternalServerError:
		s.log.Error("http: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	case status == http.StatusInsufficientStorage:
		s.log.Error("http: request failed: the store's disk is full", "method", r.Method, "path", r.URL.Path, "err", err)
	case status > 500: // the store busy or down, shutting down, a cancelled request, no job runner: not a fault of quotad
		s.log.Info("http: request not served", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, body)
}

// describe maps an error to a status and body.
func (s *Server) describe(err error) (int, ErrorBody) {
	var (
		he  *httpError
		mbe *http.MaxBytesError
		ee  *quotad.ExhaustedError
	)
	detail := func(code, msg string) ErrorBody { return ErrorBody{ErrorDetail{Code: code, Message: clip(msg)}} }
	switch {
	case errors.As(err, &he):
		return he.status, detail(he.code, he.msg)
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, detail(codeTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit))
	case errors.As(err, &ee):
		b := detail(codeExhausted, err.Error())
		b.Error.API, b.Error.Window, b.Error.Until = ee.API, ee.Window, quotad.TimePtr(ee.Until)
		b.Error.Kind, b.Error.Channel, b.Error.Priority = ee.HoldKind(), ee.Channel, string(ee.Priority)
		return http.StatusTooManyRequests, b
	case errors.Is(err, quotad.ErrUnknownReservation):
		return http.StatusNotFound, detail(codeUnknownReservation, err.Error())
	case errors.Is(err, quotad.ErrUnknownChannel):
		return http.StatusNotFound, detail(codeUnknownChannel, err.Error())
	case errors.Is(err, quotad.ErrUnknownAPI):
		return http.StatusNotFound, detail(codeUnknownAPI, err.Error())
	case errors.Is(err, quotad.ErrInvalid):
		return http.StatusBadRequest, detail(codeInvalid, err.Error())
	case errors.Is(err, quotad.ErrConflict):
		return http.StatusConflict, detail(codeConflict, err.Error())
	case errors.Is(err, quotad.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, detail(codeIdempotency, err.Error())
	case errors.Is(err, quotad.ErrStorageFull):
		return http.StatusInsufficientStorage, detail(codeStorageFull, "the store's disk is full: nothing was changed; free space and retry ("+err.Error()+")")
	case errors.Is(err, quotad.ErrUnavailable):
		return http.StatusServiceUnavailable, detail(codeUnavailable, "the store is unavailable: nothing acknowledged was changed; retry shortly ("+err.Error()+")")
	case errors.Is(err, ErrNoJobs):
		return http.StatusServiceUnavailable, detail(codeUnavailable, err.Error())
	case errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable, detail(codeUnavailable, "quotad is shutting down")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, detail(codeUnavailable, "request cancelled before it completed")
	}
	return http.StatusInternalServerError, detail(codeInternal, "internal error (store failure); the details are in quotad's log")
}

// internalBody is the answer when a response cannot be encoded.
const internalBody = `{"error":{"code":"internal","message":"internal error: the answer could not be encoded"}}` + "\n"

var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the JSON response body with the given status. It
// encodes v before writing anything, so that a value that cannot be
// encoded (a time past year 9999, say) is a 500 with an error body, never
// a 200 with an empty one.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(internalBody)
	}
	h := w.Header()
	h["Content-Type"] = contentJSON
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client went away: nothing to do
}

// Header values shared by every JSON answer (never modified).
var (
	contentJSON = []string{"application/json"}
	noStore     = []string{"no-store"}
	noSniff     = []string{"nosniff"}
)

// maxEcho is how much of a message an error body carries: messages repeat
// the caller's input (a channel name, a Host), which may be huge.
const maxEcho = 512

// clip cuts an error message to maxEcho bytes (on a rune boundary), saying
// how much was cut.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}
