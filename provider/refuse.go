package provider

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Hold is why quotad answers a call itself instead of forwarding it: an
// exhausted window of the API, or a hold of the calling channel (its
// budget, or the API's reserve for higher priorities).
type Hold struct {
	Window string    // the exhausted window, or the channel's pause reason ("budget:groq")
	Until  time.Time // when the call may be sent again; zero unknown; year 9999 until a person acts
	Short  bool      // a provider's short block (rate limit), not the window's reset
	// Paused is set when the channel is paused (manual, errors): Detail
	// then says by whom, why and since when, and the call is never retried.
	Paused bool
	Detail string
}

// MaxRetryWait is the longest block a refusal lets clients retry after:
// a longer one says "do not retry" (x-should-retry: false).
const MaxRetryWait = time.Minute

// HeaderShouldRetry is the header Stainless-generated SDKs (openai-node,
// groq-sdk, openai-python, groq-python) obey over their own retry rules.
const HeaderShouldRetry = "X-Should-Retry"

// Billing reports whether only a person's reset lifts the hold.
func (h Hold) Billing() bool { return h.Until.Year() >= 9999 }

// Blocking returns the hold an API's state puts on calls at now: among its
// exhausted windows that are still blocked, the one serving again last.
// ok is false when every window serves (an exhausted window whose time has
// passed serves: the monitor is about to clear it).
func Blocking(api quotad.API, now time.Time) (Hold, bool) {
	var h Hold
	found := false
	for _, w := range api.Windows {
		if !w.Exhausted {
			continue
		}
		u := w.Until()
		if !u.IsZero() && !u.After(now) {
			continue
		}
		if !found || u.IsZero() || (!h.Until.IsZero() && u.After(h.Until)) {
			h = Hold{Window: w.Name, Until: u, Short: !w.BlockedUntil.IsZero() && w.BlockedUntil.Before(w.NextReset)}
			found = true
		}
	}
	return h, found
}

// Refusal returns quotad's answer to a call it does not forward, shaped
// like the provider's own refusal so that the caller's client library
// handles it as the provider's: the provider's status (403 for YouTube, as
// Google answers quotaExceeded and rateLimitExceeded; 429 for the others),
// Retry-After in seconds (none for a billing hold or a paused channel),
// X-Quotad-Refused naming the API and window, and a body in the provider's
// error shape. A hold that lasts longer than MaxRetryWait (or has no end a
// client could wait for) also says x-should-retry: false, so that SDKs fail
// at once instead of sleeping through it; a shorter one lets them retry
// after Retry-After.
func (p *Profile) Refusal(apiName string, h Hold, now time.Time) (int, http.Header, []byte) {
	hdr := http.Header{}
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Quotad-Refused", apiName+"/"+h.Window)
	var wait time.Duration
	if !h.Until.IsZero() && !h.Billing() && !h.Paused {
		wait = max(h.Until.Sub(now), 0)
		secs := int64(math.Ceil(wait.Seconds()))
		hdr.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	if h.Paused || h.Until.IsZero() || h.Billing() || wait > MaxRetryWait {
		hdr.Set(HeaderShouldRetry, "false")
	}
	when := "until a person resets it"
	switch {
	case h.Billing():
	case h.Until.IsZero():
		when = "until its next reset"
	default:
		when = "until " + h.Until.UTC().Format(time.RFC3339)
	}
	note := fmt.Sprintf("quotad: %s window %s is exhausted %s; the call was not sent upstream", apiName, h.Window, when)
	// The channel's own hold (paused, budget, reserve) carries quotad's
	// marker: a caller that prints or reports it is never taken for the
	// provider's quota error, which would hold every channel.
	switch {
	case h.Paused:
		note = "quotad: " + h.Detail + "; the call was not sent upstream " + holdMarker(apiName, h)
	case strings.Contains(h.Window, ":"):
		note = fmt.Sprintf("quotad: this channel is held (%s) %s; the call was not sent upstream %s", h.Window, when, holdMarker(apiName, h))
	}
	retry := ""
	if wait > 0 {
		retry = " Please try again in " + roundWait(wait) + "."
	}
	var body any
	ctype := "application/json; charset=UTF-8"
	switch p.errs {
	case styleGoogle:
		// Google answers both with 403 and this body (YouTube Data API
		// errors: quotaExceeded, rateLimitExceeded).
		reason, domain, msg := "quotaExceeded", "youtube.quota", "The request cannot be completed because you have exceeded your quota."
		if h.Short {
			reason, domain, msg = "rateLimitExceeded", "usageLimits", "Rate Limit Exceeded."
		}
		msg += " " + note + "." + retry
		body = map[string]any{"error": map[string]any{
			"code": http.StatusForbidden, "message": msg,
			"errors": []map[string]string{{"message": msg, "domain": domain, "reason": reason}},
		}}
		hdr.Set("Content-Type", ctype)
		b, _ := json.Marshal(body)
		return http.StatusForbidden, hdr, append(b, '\n')
	case styleOpenAI:
		code, typ := "rate_limit_exceeded", dimension(h.Window)
		msg := fmt.Sprintf("Rate limit reached for %s on %s: %s.%s", apiName, windowPhrase(h.Window), note, retry)
		switch {
		case h.Paused:
			code, typ = "channel_paused", "requests"
			msg = note + "."
		case h.Billing():
			code, typ = "insufficient_quota", "insufficient_quota"
			msg = "You exceeded your current quota, please check your plan and billing details. (" + note + ".)"
		}
		body = map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}}
	case stylePexels:
		body = map[string]any{"status": http.StatusTooManyRequests, "error": "Rate limit exceeded. " + note + "." + retry}
	case stylePixabay:
		ctype = "text/plain; charset=utf-8"
		hdr.Set("Content-Type", ctype)
		return http.StatusTooManyRequests, hdr, []byte("API rate limit exceeded\n" + note + "." + retry + "\n")
	default:
		d := map[string]any{"code": "exhausted", "message": note + "." + retry, "api": apiName, "window": h.Window}
		if !h.Until.IsZero() {
			d["until"] = h.Until.UTC().Format(time.RFC3339)
		}
		body = map[string]any{"error": d}
	}
	hdr.Set("Content-Type", ctype)
	b, _ := json.Marshal(body)
	return http.StatusTooManyRequests, hdr, append(b, '\n')
}

// roundWait writes a wait the way OpenAI and Groq do: 8m45.31s, 4.85s.
func roundWait(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	return d.String()
}

// windowBase returns the name of a window key: "llama-3.3-70b-versatile/tpd@org" → "tpd".
func windowBase(key string) string {
	if i := strings.LastIndexByte(key, '@'); i >= 0 {
		key = key[:i]
	}
	return key[strings.LastIndexByte(key, '/')+1:]
}

// dimension is the OpenAI error type of a window: requests or tokens.
func dimension(window string) string {
	window = windowBase(window)
	switch {
	case strings.HasPrefix(window, "r"):
		return "requests"
	case strings.HasPrefix(window, "t"):
		return "tokens"
	}
	return "requests"
}

// windowPhrase names a window the way OpenAI's and Groq's 429 texts do.
func windowPhrase(window string) string {
	switch windowBase(window) {
	case "rpm":
		return "requests per minute (RPM)"
	case "rpd":
		return "requests per day (RPD)"
	case "tpm":
		return "tokens per minute (TPM)"
	case "tpd":
		return "tokens per day (TPD)"
	}
	return "window " + window
}

// holdMarker is the marker of quotad's own refusal (quotad.HoldMarker) for a
// channel's hold (paused, or h.Window "budget:<api>" / "reserve:<api>"): a job that
// prints the refusal is then never taken for the provider's quota error
// (classify.FindHold).
func holdMarker(apiName string, h Hold) string {
	ee := quotad.ExhaustedError{API: apiName, Kind: quotad.HoldWindow, Window: h.Window}
	if kind, _, ok := strings.Cut(h.Window, ":"); ok {
		ee.Kind, ee.Window = kind, ""
	}
	if h.Paused {
		ee.Kind, ee.Window = quotad.HoldPaused, ""
	}
	if !h.Billing() {
		ee.Until = h.Until
	}
	return ee.Marker()
}
