package quotad

import "time"

// A window's state changes in few ways, each a method below: time passes
// (Advance: its reset comes, a provider's retry time ends), it runs out
// (Exhaust), its own count frees it (Release), a person resets it (Reset),
// or it starts a period (Start). The engine decides when; these say what.

// Schedule is a window's reset rule as its transitions need it: the rule's
// instants around a time. rule.Rule is one.
type Schedule interface {
	// Prev returns the latest instant of the rule at or before t.
	Prev(t time.Time) time.Time
	// Next returns the earliest instant of the rule after t.
	Next(t time.Time) time.Time
}

// TimerStep is what time alone did to a window (Window.Advance).
type TimerStep int

// Timer steps.
const (
	TimerNone       TimerStep = iota // nothing was due
	TimerScheduled                   // it had no next reset: one was set
	TimerReset                       // its reset came: nothing used, and not exhausted unless a provider's retry time is still ahead
	TimerUnblocked                   // a provider's retry time passed: available again
	TimerBlockEnded                  // a provider's retry time passed but its own count is spent: exhausted until its reset
)

// Advanced says what Window.Advance did.
type Advanced struct {
	Step TimerStep
	// For TimerReset: whether the window was exhausted before, the instant
	// of the reset applied (the rule's latest, or the stored one when the
	// clock stepped back past it), and the reset that was due (earlier
	// than Due when resets were missed while nothing ran).
	WasExhausted bool
	Due, Missed  time.Time
}

// Advance applies what time alone changes in the window at now: its reset,
// once however many were missed, or the end of a provider's retry time. It
// changes nothing when nothing is due, so calling it twice at one instant
// is the same as once.
func (w *Window) Advance(s Schedule, now time.Time) Advanced {
	blockOver := w.Exhausted && !w.BlockedUntil.IsZero() && !w.BlockedUntil.After(now)
	switch {
	case w.NextReset.IsZero():
		w.NextReset = s.Next(now)
		return Advanced{Step: TimerScheduled}
	case !w.NextReset.After(now):
		a := Advanced{Step: TimerReset, WasExhausted: w.Exhausted, Due: s.Prev(now), Missed: w.NextReset}
		if a.Due.Before(w.NextReset) { // the clock stepped back past the rule: honour the stored instant
			a.Due = w.NextReset
		}
		w.Used, w.LastReset, w.NextReset = 0, a.Due, s.Next(now)
		if w.Exhausted && !w.BlockedUntil.After(now) {
			w.unexhaust()
		}
		return a
	case blockOver && w.Used >= w.Limit:
		w.BlockedUntil = time.Time{}
		return Advanced{Step: TimerBlockEnded}
	case blockOver:
		w.unexhaust()
		return Advanced{Step: TimerUnblocked}
	}
	return Advanced{}
}

// Exhaust marks the window exhausted at now, until the provider's stated
// retry time when until is not zero (else until its reset), and reports
// whether it was available before. A later call moves the retry time.
func (w *Window) Exhaust(until, now time.Time) (newly bool) {
	if !w.Exhausted {
		w.Exhausted, w.ExhaustedAt, newly = true, now, true
	}
	if !until.IsZero() {
		w.BlockedUntil = until
	}
	return newly
}

// Release ends an exhaustion its own count decided (no provider retry time
// holds it) once the count is below the limit again (a raised limit, a
// provider reporting units left), and reports whether it did.
func (w *Window) Release() bool {
	if !w.Exhausted || !w.BlockedUntil.IsZero() || w.Used >= w.Limit {
		return false
	}
	w.unexhaust()
	return true
}

// Reset empties the window at now, as a person's reset does: nothing used,
// available, its period restarted now (its next reset stays).
func (w *Window) Reset(now time.Time) {
	w.Used, w.LastReset = 0, now
	w.unexhaust()
}

// Start gives a new window its first period at now: nothing used or
// reserved, available, from the rule's latest instant to its next.
func (w *Window) Start(s Schedule, now time.Time) {
	w.Used, w.Reserved = 0, 0
	w.unexhaust()
	w.LastReset, w.NextReset = s.Prev(now), s.Next(now)
}

func (w *Window) unexhaust() {
	w.Exhausted, w.ExhaustedAt, w.BlockedUntil = false, time.Time{}, time.Time{}
}
