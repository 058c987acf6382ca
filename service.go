package quotad

import (
	"context"
	"time"

	"github.com/quotad/quotad/classify"
)

// Service is every operation quotad offers, as implemented by the engine
// (over a store) and by the HTTP client package (over a running daemon), so
// that the CLI and embedding programs can use either. It and its requests
// and results live here, beside the domain types, so that a program that
// only talks to a daemon compiles neither the engine nor a store.
type Service interface {
	Status(ctx context.Context) (Status, error)
	API(ctx context.Context, name string) (APIStatus, error)
	Channel(ctx context.Context, name string) (ChannelStatus, error)
	Spend(ctx context.Context, api string, units int64, channel string) (SpendResult, error)
	Reserve(ctx context.Context, api string, units int64, channel string, ttl time.Duration) (ReserveResult, error)
	Commit(ctx context.Context, id string, units int64) (SpendResult, error)
	Release(ctx context.Context, id string) error
	ReportError(ctx context.Context, r ErrorReport) (ReportResult, error)
	ReportSuccess(ctx context.Context, channel string) (ChannelStatus, error)
	Classify(ctx context.Context, r ErrorReport) (classify.Verdict, error)
	Reset(ctx context.Context, apis ...string) (ResetResult, error)
	ResetAll(ctx context.Context) (ResetResult, error)
	Resume(ctx context.Context, channels ...string) (ResumeResult, error)
	ResumeAll(ctx context.Context) (ResumeResult, error)
	ResumeEligible(ctx context.Context) (ResumeResult, error)
	Pause(ctx context.Context, channel, reason string) (ChannelStatus, error)
	Logs(ctx context.Context, f EventFilter) ([]EventStatus, error)
	Pick(ctx context.Context, channel, capability string) (Pick, error)
}

// SpendResult is the outcome of a spend or a commit.
type SpendResult struct {
	API       string `json:"api"`
	Model     string `json:"model,omitempty"` // the model or bucket charged, when one was named
	Scope     string `json:"scope,omitempty"` // the credential scope, when not the default
	Channel   string `json:"channel,omitempty"`
	Units     int64  `json:"units"`
	Exhausted bool   `json:"exhausted"` // a window the operation was charged to is exhausted after it
	// Windows are the windows the operation was charged to, each by its
	// meter (a requests window 1, the others the units).
	Windows []WindowStatus `json:"windows"`
}

// ReserveResult is a grant of units returned by Reserve (the stored
// record of it is a Reservation).
type ReserveResult struct {
	ID        string    `json:"id"`
	API       string    `json:"api"`
	Model     string    `json:"model,omitempty"`
	Scope     string    `json:"scope,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Units     int64     `json:"units"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ErrorReport is what a channel's failed call reported.
type ErrorReport struct {
	Channel string `json:"channel,omitempty"`
	// Model is the model (or bucket) the failed call used, Scope its
	// credential scope: a quota error then exhausts only the windows a call
	// to it is charged to. Evidence.API may also be written
	// API/MODEL[@SCOPE]. A Groq or OpenAI 429 text naming its model
	// ("for model `llama-3.3-70b-versatile`") names it when Model is "".
	Model string `json:"model,omitempty"`
	Scope string `json:"scope,omitempty"`
	classify.Evidence
}

// ReportResult says how a reported error was classified and what it changed.
type ReportResult struct {
	Verdict           classify.Verdict `json:"verdict"`
	Paused            []string         `json:"paused"`        // channels that were paused by this report
	APIExhausted      bool             `json:"api_exhausted"` // the attributed API is exhausted after it
	ConsecutiveErrors int              `json:"consecutive_errors"`
}

// ResetResult says what a manual reset did.
type ResetResult struct {
	APIs    []string `json:"apis"`
	Resumed []string `json:"resumed"`
}

// ResumeResult says what a resume did.
type ResumeResult struct {
	Resumed       []string `json:"resumed"`
	AlreadyActive []string `json:"already_active"`
}

// Pick is the answer to "which provider should this channel use now for a
// capability": the first available one in the channel's order of preference.
type Pick struct {
	Channel    string   `json:"channel"`
	Capability string   `json:"capability"`
	Provider   string   `json:"provider"`  // "" when every provider is exhausted
	Providers  []string `json:"providers"` // the order of preference
	Available  []string `json:"available"` // those available now
	// Until is when the first provider is expected back, when none is
	// available.
	Until *time.Time `json:"until"`
}
