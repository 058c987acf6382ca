package engine

import (
	"context"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// Service is every operation quotad offers, as implemented by *Engine (over
// a store) and by the HTTP client package (over a running daemon), so that
// the CLI and embedding programs can use either.
type Service interface {
	Status(ctx context.Context) (quotad.Status, error)
	API(ctx context.Context, name string) (quotad.APIStatus, error)
	Channel(ctx context.Context, name string) (quotad.ChannelStatus, error)
	Spend(ctx context.Context, api string, units int64, channel string) (SpendResult, error)
	Reserve(ctx context.Context, api string, units int64, channel string, ttl time.Duration) (Reservation, error)
	Commit(ctx context.Context, id string, units int64) (SpendResult, error)
	Release(ctx context.Context, id string) error
	ReportError(ctx context.Context, r ErrorReport) (ReportResult, error)
	ReportSuccess(ctx context.Context, channel string) (quotad.ChannelStatus, error)
	Classify(ctx context.Context, r ErrorReport) (classify.Verdict, error)
	Reset(ctx context.Context, apis ...string) (ResetResult, error)
	ResetAll(ctx context.Context) (ResetResult, error)
	Resume(ctx context.Context, channels ...string) (ResumeResult, error)
	ResumeAll(ctx context.Context) (ResumeResult, error)
	ResumeEligible(ctx context.Context) (ResumeResult, error)
	Pause(ctx context.Context, channel, reason string) (quotad.ChannelStatus, error)
	Logs(ctx context.Context, f quotad.EventFilter) ([]quotad.EventStatus, error)
	Pick(ctx context.Context, channel, capability string) (Pick, error)
}

var _ Service = (*Engine)(nil)
