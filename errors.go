package quotad

import (
	"errors"
	"fmt"
	"strings"
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
	// ErrUnavailable reports that the store could not serve in time: a lock
	// held past the store's timeout, a database that is down or refuses
	// writes (a read-only file). Nothing was changed; the same request may
	// succeed shortly (HTTP 503 with Retry-After).
	ErrUnavailable = errors.New("store unavailable")
	// ErrStorageFull reports that the store's disk is full. Nothing was
	// changed; writes succeed again once space is freed (HTTP 507).
	ErrStorageFull = errors.New("store disk full")
	// ErrIdempotencyMismatch reports an idempotency key used before with a
	// different request (HTTP 422). Nothing was changed.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
)

// Kinds of quotad's own refusals (ExhaustedError.Kind).
const (
	// HoldWindow: a window of the API is exhausted (or the spend does not
	// fit what is left of it); every caller of the API is refused.
	HoldWindow = "window"
	// HoldBudget: the calling channel's own budget of the API is spent, or
	// the spend does not fit what is left of it; only that channel is held.
	HoldBudget = "budget"
	// HoldReserve: what is left of the API is kept for channels of a higher
	// priority; only channels below it are held.
	HoldReserve = "reserve"
	// HoldPaused: the calling channel is paused (by a person, or for its
	// errors); the metering proxy refuses its calls so.
	HoldPaused = "paused"
)

// HoldMarker starts the machine-readable part of quotad's own refusals:
// "[quotad-hold kind=budget api=youtube channel=Norm window=daily
// until=2026-12-05T08:00:00Z]". A job that prints such a message was held
// by quotad, not refused by the provider; the classifier recognises the
// marker and never reads it as a provider's quota error.
const HoldMarker = "[quotad-hold "

// ExhaustedError is quotad's refusal of a spend or a reservation. Kind says
// whose hold it is: HoldWindow (the API cannot serve anyone), HoldBudget
// (the channel's own budget) or HoldReserve (the part of the API kept for
// Priority and above). Until is when it is expected to serve again (zero if
// unknown). errors.Is(err, ErrExhausted) holds for every kind.
type ExhaustedError struct {
	API    string
	Window string
	Until  time.Time
	// Kind is HoldWindow, HoldBudget, HoldReserve or HoldPaused; ""
	// means HoldWindow.
	Kind string
	// Channel is the channel held, for HoldBudget and HoldReserve.
	Channel string
	// Priority is the reserve's priority, for HoldReserve.
	Priority Priority
	// Detail is a short account of the numbers: "100 of its budget of 150
	// spent, 100 asked".
	Detail string
}

// HoldKind returns Kind, HoldWindow when it is empty.
func (e *ExhaustedError) HoldKind() string {
	if e.Kind == "" {
		return HoldWindow
	}
	return e.Kind
}

// ChannelLevel reports whether the refusal holds only the calling channel
// (a budget, a reserve, a pause), not every caller of the API.
func (e *ExhaustedError) ChannelLevel() bool {
	k := e.HoldKind()
	return k == HoldBudget || k == HoldReserve || k == HoldPaused
}

// Error implements error: whose hold it is, until when, and the marker.
func (e *ExhaustedError) Error() string {
	var b strings.Builder
	b.WriteString(e.API + ": ")
	switch e.HoldKind() {
	case HoldBudget:
		fmt.Fprintf(&b, "held by quotad: channel %s's budget of %s", e.Channel, e.API)
		if e.Window != "" {
			fmt.Fprintf(&b, " (window %s)", e.Window)
		}
	case HoldReserve:
		fmt.Fprintf(&b, "held by quotad: what is left of %s", e.API)
		if e.Window != "" {
			fmt.Fprintf(&b, " (window %s)", e.Window)
		}
		fmt.Fprintf(&b, " is the reserve for %s priority; channel %s is below it", e.Priority, e.Channel)
	case HoldPaused:
		fmt.Fprintf(&b, "held by quotad: channel %s is paused", e.Channel)
	default:
		if e.Detail != "" { // the window is not exhausted: the units do not fit it
			fmt.Fprintf(&b, "held by quotad: window %s cannot take it", e.Window)
		} else {
			fmt.Fprintf(&b, "%s (window %s)", ErrExhausted, e.Window)
		}
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if !e.Until.IsZero() {
		b.WriteString(" until " + e.Until.UTC().Format(time.RFC3339))
	}
	b.WriteString(" " + e.Marker())
	return b.String()
}

// Marker returns the machine-readable part of the message (HoldMarker ...]).
func (e *ExhaustedError) Marker() string {
	var b strings.Builder
	b.WriteString(HoldMarker + "kind=" + e.HoldKind() + " api=" + markerValue(e.API))
	if e.Channel != "" {
		b.WriteString(" channel=" + markerValue(e.Channel))
	}
	if e.Window != "" {
		b.WriteString(" window=" + markerValue(e.Window))
	}
	if e.Priority != "" {
		b.WriteString(" priority=" + markerValue(string(e.Priority)))
	}
	if !e.Until.IsZero() {
		b.WriteString(" until=" + e.Until.UTC().Format(time.RFC3339))
	}
	b.WriteString("]")
	return b.String()
}

// markerValue keeps a value one token: spaces and brackets become '_'.
func markerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == ']' || r == '[' || r == '=' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

// Is makes errors.Is(err, ErrExhausted) true.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Invalidf returns an error wrapping ErrInvalid with a message.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
