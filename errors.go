package quotad

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers check with errors.Is.
var (
	// ErrUnknownAPI reports an API name that is not configured.
	ErrUnknownAPI = errors.New("unknown API")
	// ErrUnknownChannel reports a channel name that is not configured.
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrUnknownReservation reports a reservation id that does not exist
	// (never granted, already committed, released or expired).
	ErrUnknownReservation = errors.New("unknown reservation")
	// ErrExhausted reports a spend or reservation refused because the API has
	// no quota left. The error is an *ExhaustedError carrying the retry time.
	ErrExhausted = errors.New("quota exhausted")
	// ErrInvalid reports bad input: negative or absurd units, a malformed
	// rule, an empty name. Nothing was changed.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict reports an operation that contradicts the current state,
	// such as committing more units than a reservation may hold.
	ErrConflict = errors.New("conflict")
)

// ExhaustedError is returned when an API cannot serve a spend or a
// reservation. Until is when it is expected to serve again (zero if unknown).
type ExhaustedError struct {
	API    string
	Window string
	Until  time.Time
}

// Error implements error.
func (e *ExhaustedError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("%s: %s (window %s)", e.API, ErrExhausted, e.Window)
	}
	return fmt.Sprintf("%s: %s (window %s) until %s", e.API, ErrExhausted, e.Window, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrExhausted) true.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Invalidf returns an error wrapping ErrInvalid with a message.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
