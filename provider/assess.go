package provider

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// Response is what the proxy saw of one upstream response.
type Response struct {
	Method string      // the call's method
	Path   string      // the call's path below the proxy's API root
	Status int         // the upstream's status
	Header http.Header // the upstream's response headers; its rate-limit headers (RateHeaders) suffice
	Body   []byte      // an error response's body (capped and already redacted); nil for successes
}

// Assessment is what a response means for an API's quota.
type Assessment struct {
	// Observations are the figures the response's headers state.
	Observations []Observation
	// Verdict classifies an error response (status >= 400); its Kind is ""
	// for other responses.
	Verdict classify.Verdict
	// Window is the window the provider refused, when the profile's rules
	// pinpoint it ("" otherwise), and Until when it serves again (zero:
	// its next reset). Only for quota and rate-limit verdicts.
	Window string
	Until  time.Time
}

// Refused reports whether the provider refused the call for quota: a
// quota, rate-limit, billing or channel-limit verdict.
func (a Assessment) Refused() bool { return a.Verdict.Quota }

// Assess reads a response of a call to the API named apiName, whose current
// state is api: the figures its headers state, and for an error response
// its classification by quotad's rules (classify) refined by the
// provider's rules, which may pinpoint the refused window.
func (p *Profile) Assess(apiName string, api quotad.API, r Response, now time.Time) Assessment {
	a := Assessment{Observations: p.Observations(r.Header, r.Status, api, now)}
	if r.Status < 400 {
		return a
	}
	ev := classify.Evidence{API: apiName, Status: r.Status, Headers: r.Header, Message: string(r.Body)}
	a.Verdict = classify.Classify(ev, []classify.APIInfo{{Name: apiName, Keywords: api.Keywords}}, now)
	v := &a.Verdict
	switch p.errs {
	case styleGoogle:
		if v.Kind == classify.KindQuota {
			// The bucket this call was charged to is the one used up.
			if rule, ok := p.Cost(r.Method, r.Path); ok {
				a.Window = p.costWindow(api, rule.Window)
			}
			if a.Window != "" {
				v.Evidence += "; the call's bucket is " + a.Window
			}
		}
	case styleOpenAI:
		if v.Kind == classify.KindQuota || v.Kind == classify.KindRateLimit {
			if m := windowAbbrRE.FindStringSubmatch(string(r.Body)); m != nil {
				if w := strings.ToLower(m[1]); hasWindow(api, w) {
					a.Window, a.Until = w, v.Until
					v.Evidence += "; window " + w + " (" + m[1] + ")"
				}
			}
		}
	case stylePexels:
		if r.Status == http.StatusTooManyRequests && v.Kind != classify.KindBilling {
			// No Retry-After and no figures on a 429: the monthly window
			// when its last stated remaining was 0, else the hourly one.
			w := pickWindow(api, "monthly", func(w quotad.Window) bool { return w.Remaining() == 0 })
			if w == "" {
				w = pickWindow(api, "hourly", nil)
			}
			if w == "" && len(api.Windows) > 0 {
				w = api.Windows[0].Name
			}
			a.pinTo(api, w, time.Time{}, now, "pexels states no retry time: until the window's reset")
		}
	case stylePixabay:
		if r.Status == http.StatusTooManyRequests {
			w := pickWindow(api, "minute", nil)
			if w == "" && len(api.Windows) > 0 {
				w = api.Windows[0].Name
			}
			var until time.Time
			for _, o := range a.Observations {
				if o.Window == w && !o.Reset.IsZero() {
					until = o.Reset
				}
			}
			a.pinTo(api, w, until, now, "x-ratelimit-reset (seconds remaining) or the window's reset")
		}
	}
	// Figures saying a window has nothing left pinpoint it, for every
	// provider.
	if a.Window == "" && (v.Kind == classify.KindQuota || v.Kind == classify.KindRateLimit) {
		for _, o := range a.Observations {
			if o.Remaining == 0 {
				a.Window = o.Window
				a.Until = o.Reset
				if v.Until.After(a.Until) {
					a.Until = v.Until
				}
				v.Evidence += "; window " + o.Window + " has 0 remaining"
				break
			}
		}
	}
	return a
}

// windowAbbrRE finds OpenAI's and Groq's window names in 429 texts: "on
// tokens per minute (TPM)", "requests per day (RPD)".
var windowAbbrRE = regexp.MustCompile(`\(([RrTt][Pp][MmDd])\)`)

// pinTo makes the assessment a quota refusal of window w until until (zero:
// the window's next reset): a rate limit when that is within an hour, else
// a quota.
func (a *Assessment) pinTo(api quotad.API, w string, until, now time.Time, why string) {
	if w == "" {
		return
	}
	win, _ := api.Window(w)
	at := until
	if at.IsZero() {
		at = win.NextReset
	}
	kind := classify.KindQuota
	if !at.IsZero() && at.Sub(now) <= time.Hour {
		kind = classify.KindRateLimit
	}
	a.Window, a.Until = w, until
	a.Verdict.Kind, a.Verdict.Quota, a.Verdict.Until = kind, true, at
	a.Verdict.Evidence = "status 429, window " + w + ": " + why
}

// pickWindow returns name when api has that window and ok accepts it.
func pickWindow(api quotad.API, name string, ok func(quotad.Window) bool) string {
	w, found := api.Window(name)
	if !found || (ok != nil && !ok(w)) {
		return ""
	}
	return name
}

func hasWindow(api quotad.API, name string) bool {
	_, ok := api.Window(name)
	return ok
}

// costWindow returns the window a cost rule's charge goes to in api: the
// rule's window, else the first window of api the profile meters by cost.
func (p *Profile) costWindow(api quotad.API, window string) string {
	if hasWindow(api, window) {
		return window
	}
	for _, w := range api.Windows {
		if p.MeterOf(w.Name) == MeterCost {
			return w.Name
		}
	}
	return ""
}

// RateHeaders returns the retry and rate-limit headers of h (Retry-After,
// X-RateLimit-*, RateLimit*): what an assessment and an error report need
// of a response. Nothing else of a response is reported.
func RateHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if lk == "retry-after" || strings.HasPrefix(lk, "x-ratelimit-") || strings.HasPrefix(lk, "ratelimit") {
			out[k] = vs
		}
	}
	return out
}

// Charges returns what a call costs each window of api (windows charged
// nothing are left out) and its usage in the API's unit. status is the
// upstream's status and tokens the tokens its usage figures reported (0
// when none). Requests windows count every answered call; a call the
// provider answered with an error costs at most FailedCost in cost-metered
// windows and no tokens; 5xx and 401 answers cost nothing (the provider
// failed, or could not tell whose quota it was). A call the provider
// refused for quota is not charged: the caller does not ask.
func (p *Profile) Charges(api quotad.API, method, path string, status int, tokens int64) (map[string]int64, int64) {
	charges := make(map[string]int64, len(api.Windows))
	failed := status >= 400
	if tokens < 0 || failed {
		tokens = 0
	}
	if status >= 500 || status == http.StatusUnauthorized {
		// The provider failed, or could not tell whose quota the call was.
		return charges, 0
	}
	for _, w := range api.Windows {
		switch p.MeterOf(w.Name) {
		case MeterRequests:
			charges[w.Name] = 1
		case MeterTokens:
			if tokens > 0 {
				charges[w.Name] = tokens
			}
		}
	}
	var cost int64
	if r, ok := p.Cost(method, path); ok {
		cost = r.Cost
		if failed {
			cost = min(cost, p.FailedCost)
		}
		if w := p.costWindow(api, r.Window); w != "" && cost > 0 {
			charges[w] += cost
		}
	}
	var usage int64
	switch {
	case hasWindow(api, p.UsageWindow):
		usage = charges[p.UsageWindow]
	case p.Unit == "tokens":
		usage = tokens
	case p.DefaultMeter == MeterCost:
		usage = cost
	default:
		usage = 1
	}
	return charges, usage
}
