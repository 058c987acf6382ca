// Package fakeprovider answers exactly like Groq, OpenAI, YouTube and
// Pexels do — their paths, limits, headers, bodies, streams, uploads and
// refusals — so that quotad's tests (and a later `quotad simulate`) can run
// the providers' own SDKs through quotad without calling a real provider.
//
// Each provider is an http.Handler serving the provider's paths at its
// origin (Groq at /openai/v1/…, OpenAI at /v1/…, YouTube at /youtube/v3/…
// and /upload/youtube/v3/…, Pexels at /v1/… and /videos/…). Limits are the
// providers' published ones by default and configurable; time comes from
// an injected clock. Every call is recorded (path, model, tokens or units
// charged, status) so a test can assert that quotad's metering is exact.
package fakeprovider

import (
	"net/http"
	"sync"
	"time"
)

// Clock tells the fake providers the time (clock.Clock satisfies it).
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Call is one call a fake provider received.
type Call struct {
	Provider string `json:"provider"` // groq, openai, youtube, pexels
	Method   string `json:"method"`
	Path     string `json:"path"` // as received, at the provider's origin
	Query    string `json:"query,omitempty"`
	Status   int    `json:"status"`
	// Model is the chat model called (groq, openai).
	Model  string `json:"model,omitempty"`
	Stream bool   `json:"stream,omitempty"`
	// Tokens is what the response's usage figures reported (groq, openai).
	Tokens int64 `json:"tokens,omitempty"`
	// Bucket and Units are the YouTube quota bucket charged and by how much
	// (0 for a refused call and a resumable upload's later chunks).
	Bucket string `json:"bucket,omitempty"`
	Units  int64  `json:"units,omitempty"`
}

// Options configure a Fake. Zero values take the providers' defaults.
type Options struct {
	Clock        Clock                  // default the real clock
	GroqModels   map[string]ModelLimits // default GroqModels
	OpenAIModels map[string]ModelLimits // default OpenAIModels
	YouTube      YouTubeLimits          // default DefaultYouTube
	Pexels       PexelsLimits           // default DefaultPexels
	// CompletionTokens is how many tokens every completion has; default 24.
	CompletionTokens int64
}

// Fake is the set of fake providers sharing a clock and a call record. It
// is safe for concurrent use.
type Fake struct {
	opts Options

	mu      sync.Mutex
	calls   []Call
	windows map[string]*window // by provider/scope/name
	uploads map[string]string  // resumable upload id → part
	nextID  int
}

// New returns fake providers with the given options.
func New(opts Options) *Fake {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.GroqModels == nil {
		opts.GroqModels = GroqModels
	}
	if opts.OpenAIModels == nil {
		opts.OpenAIModels = OpenAIModels
	}
	if opts.YouTube == (YouTubeLimits{}) {
		opts.YouTube = DefaultYouTube
	}
	if opts.Pexels == (PexelsLimits{}) {
		opts.Pexels = DefaultPexels
	}
	if opts.CompletionTokens <= 0 {
		opts.CompletionTokens = 24
	}
	return &Fake{opts: opts, windows: map[string]*window{}, uploads: map[string]string{}}
}

// Calls returns every call received so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// CallsTo returns the calls one provider received.
func (f *Fake) CallsTo(provider string) []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Provider == provider {
			out = append(out, c)
		}
	}
	return out
}

// Used returns how much of a window is used now: provider "groq" or
// "openai" with scope a model and name rpm, rpd, tpm or tpd; "youtube" with
// scope "" and name daily, search.list or videos.insert; "pexels" with
// scope "" and name hourly or monthly.
func (f *Fake) Used(provider, scope, name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.windows[provider+"/"+scope+"/"+name]
	if w == nil {
		return 0
	}
	w.roll(f.opts.Clock.Now())
	return w.used
}

// Exhaust uses up a window now, as if the quota had been spent elsewhere.
func (f *Fake) Exhaust(provider, scope, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := f.windowLocked(provider, scope, name); w != nil {
		w.roll(f.opts.Clock.Now())
		w.used = w.limit
	}
}

func (f *Fake) record(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// window is one fixed quota window: its limit, and how much is used in the
// period that started at start.
type window struct {
	limit  int64
	period func(t time.Time) (start, next time.Time)
	start  time.Time
	used   int64
}

// roll starts a new period when now is past the current one.
func (w *window) roll(now time.Time) {
	if s, _ := w.period(now); !s.Equal(w.start) {
		w.start, w.used = s, 0
	}
}

func (w *window) left(now time.Time) int64 {
	w.roll(now)
	return max(w.limit-w.used, 0)
}

func (w *window) next(now time.Time) time.Time {
	_, n := w.period(now)
	return n
}

// Periods of the windows.
func perMinute(t time.Time) (time.Time, time.Time) {
	s := t.Truncate(time.Minute)
	return s, s.Add(time.Minute)
}

func perHour(t time.Time) (time.Time, time.Time) {
	s := t.Truncate(time.Hour)
	return s, s.Add(time.Hour)
}

func perDayIn(loc *time.Location) func(time.Time) (time.Time, time.Time) {
	return func(t time.Time) (time.Time, time.Time) {
		l := t.In(loc)
		s := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
		return s, time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
	}
}

func perMonthUTC(t time.Time) (time.Time, time.Time) {
	u := t.UTC()
	s := time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC)
	return s, s.AddDate(0, 1, 0)
}

// pacific is YouTube's quota day.
var pacific = func() *time.Location {
	l, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return l
}()

// windowLocked returns (creating) a known window, nil for an unknown one.
func (f *Fake) windowLocked(provider, scope, name string) *window {
	key := provider + "/" + scope + "/" + name
	if w := f.windows[key]; w != nil {
		return w
	}
	var w *window
	switch provider {
	case "groq", "openai":
		models := f.opts.GroqModels
		if provider == "openai" {
			models = f.opts.OpenAIModels
		}
		m, ok := models[scope]
		if !ok {
			return nil
		}
		switch name {
		case "rpm":
			w = &window{limit: m.RPM, period: perMinute}
		case "rpd":
			w = &window{limit: m.RPD, period: perDayIn(time.UTC)}
		case "tpm":
			w = &window{limit: m.TPM, period: perMinute}
		case "tpd":
			w = &window{limit: m.TPD, period: perDayIn(time.UTC)}
		}
	case "youtube":
		day := perDayIn(pacific)
		switch name {
		case "daily":
			w = &window{limit: f.opts.YouTube.Daily, period: day}
		case "search.list":
			w = &window{limit: f.opts.YouTube.Search, period: day}
		case "videos.insert":
			w = &window{limit: f.opts.YouTube.Insert, period: day}
		}
	case "pexels":
		switch name {
		case "hourly":
			w = &window{limit: f.opts.Pexels.Hourly, period: perHour}
		case "monthly":
			w = &window{limit: f.opts.Pexels.Monthly, period: perMonthUTC}
		}
	}
	if w == nil || w.limit <= 0 {
		return nil
	}
	f.windows[key] = w
	return w
}

func (f *Fake) now() time.Time { return f.opts.Clock.Now() }

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if fl, ok := s.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
