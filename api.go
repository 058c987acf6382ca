package quotad

import "time"

// API is a provider that pipelines call (groq, youtube, pexels, ...). It has
// a unit, attribution keywords, an auto-resume switch and one or more quota
// windows. An API is available when none of its windows is exhausted.
type API struct {
	Name       string
	Unit       string
	Keywords   []string // lower-case words that attribute an error text to this API
	AutoResume bool     // clear quota:<api> pauses automatically when available again
	Windows    []Window // at least one; order is the config's
	// Reserve keeps the last Units of every window for channels at or above
	// Priority: lower channels stop there. The zero Reserve keeps nothing.
	Reserve Reserve
}

// Reserve is the part of every window of an API kept for channels at or
// above a priority.
type Reserve struct {
	Priority Priority `json:"priority"`
	Units    int64    `json:"units"`
}

// Available reports whether no window of the API is exhausted.
func (a API) Available() bool {
	for _, w := range a.Windows {
		if w.Exhausted {
			return false
		}
	}
	return true
}

// Window returns the window with the given name and whether it exists.
func (a API) Window(name string) (Window, bool) {
	for _, w := range a.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// AvailableAt returns when the API is expected to be available again: the
// latest "until" among its exhausted windows (blocked_until when a provider
// named a time, else next_reset). It returns the zero time when the API is
// available now.
func (a API) AvailableAt() time.Time {
	var at time.Time
	for _, w := range a.Windows {
		if !w.Exhausted {
			continue
		}
		u := w.Until()
		if u.After(at) {
			at = u
		}
	}
	return at
}

// Window is one quota of an API: a limit and a reset rule, plus its state.
// Zero times mean "not set" (NULL in the store).
type Window struct {
	Name  string
	Limit int64
	Rule  string // reset rule text, e.g. "daily 00:00 America/Los_Angeles"

	Used         int64     // units spent since LastReset
	Reserved     int64     // units held by outstanding reservations
	LastReset    time.Time // when the window last refilled
	NextReset    time.Time // when the window refills next
	Exhausted    bool
	ExhaustedAt  time.Time
	BlockedUntil time.Time // a provider-stated retry time; zero when unknown
}

// Remaining returns the units left before the limit, ignoring reservations:
// the seed's quota_remaining column.
func (w Window) Remaining() int64 {
	if r := w.Limit - w.Used; r > 0 {
		return r
	}
	return 0
}

// Free returns the units that can still be reserved or spent: limit minus
// used minus reserved, never negative.
func (w Window) Free() int64 {
	if r := w.Limit - w.Used - w.Reserved; r > 0 {
		return r
	}
	return 0
}

// Until returns when an exhausted window is expected to serve again:
// BlockedUntil when a provider stated it, else NextReset.
func (w Window) Until() time.Time {
	if !w.BlockedUntil.IsZero() {
		return w.BlockedUntil
	}
	return w.NextReset
}
