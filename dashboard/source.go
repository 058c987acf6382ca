package dashboard

import (
	"context"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
)

// Source is what the dashboard reads: the event log and its live commits,
// usage history, and the clock and zone it shows times in. *engine.Engine
// is one; the dashboard depends on nothing more, so it compiles without the
// engine or a store.
type Source interface {
	// Subscribe calls fn with the events of every committed transaction
	// and returns the function that unsubscribes; fn must not block.
	Subscribe(fn func([]quotad.Event)) (unsubscribe func())
	// Logs returns events matching f, newest first.
	Logs(ctx context.Context, f quotad.EventFilter) ([]quotad.EventStatus, error)
	// Usage returns usage history aggregated as q asks.
	Usage(ctx context.Context, q quotad.UsageQuery) ([]quotad.UsagePoint, error)
	// Clock returns the clock the dashboard reads now from.
	Clock() clock.Clock
	// Location returns the zone times are shown in.
	Location() *time.Location
}
