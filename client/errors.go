package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Errors of the transport that have no quotad sentinel.
var (
	// ErrUnauthorized: the server refused the bearer token (401), or
	// refused the request as cross-origin or for its host name (403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnavailable: the daemon is shutting down or not ready (503).
	ErrUnavailable = errors.New("quotad server unavailable")
	// ErrServer: any other failure of the server (500, an unknown endpoint,
	// an answer that is not quotad's).
	ErrServer = errors.New("quotad server error")
)

// Error is an error answer of the server. Its message is the server's, and
// it unwraps to the matching quotad sentinel (ErrUnknownAPI, ErrInvalid, …),
// to a *quotad.ExhaustedError for 429, or to one of this package's errors.
type Error struct {
	StatusCode int    // HTTP status
	Code       string // the error code of the JSON body, such as "unknown_api"
	Message    string
	// RetryAfter is the server's Retry-After for a 429, else zero.
	RetryAfter time.Duration
	err        error
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel or *quotad.ExhaustedError the answer means.
func (e *Error) Unwrap() error { return e.err }

// errorBody is server.ErrorBody (not imported, to keep the client light).
type errorBody struct {
	Error struct {
		Code     string     `json:"code"`
		Message  string     `json:"message"`
		API      string     `json:"api"`
		Window   string     `json:"window"`
		Until    *time.Time `json:"until"`
		Kind     string     `json:"kind"`
		Channel  string     `json:"channel"`
		Priority string     `json:"priority"`
	} `json:"error"`
}

// decodeError turns a non-2xx answer into an *Error.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body errorBody
	_ = json.Unmarshal(raw, &body) // not quotad's JSON: fall back on the status
	d := body.Error
	e := &Error{StatusCode: resp.StatusCode, Code: d.Code, Message: d.Message}
	if e.Message == "" {
		e.Message = "quotad server: " + resp.Status
		if text := strings.TrimSpace(string(raw)); text != "" && len(text) < 200 {
			e.Message += ": " + text
		}
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	code := d.Code
	if code == "" {
		code = codeOfStatus(resp.StatusCode)
	}
	switch code {
	case "unknown_api":
		e.err = quotad.ErrUnknownAPI
	case "unknown_channel":
		e.err = quotad.ErrUnknownChannel
	case "unknown_reservation":
		e.err = quotad.ErrUnknownReservation
	case "invalid", "too_large":
		e.err = quotad.ErrInvalid
	case "conflict":
		e.err = quotad.ErrConflict
	case "exhausted":
		ee := &quotad.ExhaustedError{API: d.API, Window: d.Window, Kind: d.Kind, Channel: d.Channel, Priority: quotad.Priority(d.Priority)}
		switch {
		case d.Until != nil:
			ee.Until = *d.Until
		case e.RetryAfter > 0:
			ee.Until = time.Now().Add(e.RetryAfter).UTC().Truncate(time.Second)
		}
		e.err = ee
	case "unauthorized", "forbidden":
		e.err = ErrUnauthorized
	case "unavailable":
		e.err = errors.Join(ErrUnavailable, quotad.ErrUnavailable)
	case "storage_full":
		e.err = quotad.ErrStorageFull
	case "idempotency_mismatch":
		e.err = quotad.ErrIdempotencyMismatch
	default:
		e.err = ErrServer
	}
	return e
}

// codeOfStatus guesses the code of an answer without quotad's JSON body
// (from a proxy, say).
func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "exhausted"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "unavailable"
	}
	return fmt.Sprintf("http_%d", status)
}
