package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/quotad/quotad"
)

// Usage granularities of UsageQuery.By; see quotad.ByMinute.
const (
	ByMinute = quotad.ByMinute
	ByHour   = quotad.ByHour
	ByDay    = quotad.ByDay
)

// DefaultUsageSince is how far back a UsageQuery without Since reads.
const DefaultUsageSince = quotad.DefaultUsageSince

// UsageQuery is quotad.UsageQuery.
type UsageQuery = quotad.UsageQuery

// UsagePoint is quotad.UsagePoint.
type UsagePoint = quotad.UsagePoint

// Usage returns usage history aggregated into points of q.By, ordered by
// Start, API and Channel. Minute buckets older than the usage retention
// have been rolled up into hours: asked by minute, that part of the range
// comes as one point per hour. Days are calendar days of the engine's
// Location (23 or 25 hours long on DST changes). Naming an API or channel
// that is neither configured nor in the history is an error wrapping
// ErrUnknownAPI or ErrUnknownChannel.
func (e *Engine) Usage(ctx context.Context, q UsageQuery) ([]UsagePoint, error) {
	if q.By == "" {
		q.By = ByHour
	}
	if q.By != ByMinute && q.By != ByHour && q.By != ByDay {
		return nil, quotad.Invalidf("usage by %q; expected minute, hour or day", q.By)
	}
	if q.Until.IsZero() {
		q.Until = e.clock.Now()
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-DefaultUsageSince)
	}
	if !q.Since.Before(q.Until) {
		return nil, quotad.Invalidf("usage since %s is not before %s", fmtRFC(q.Since), fmtRFC(q.Until))
	}
	var buckets []quotad.UsageBucket
	err := e.store.View(ctx, func(tx quotad.Tx) error {
		var err error
		// An hour bucket that starts before Since may still hold minutes
		// after it; it is read and kept only when it starts in the range.
		buckets, err = tx.Usage(quotad.UsageFilter{API: q.API, Channel: q.Channel, Since: q.Since, Until: q.Until})
		if err != nil || len(buckets) > 0 {
			return err
		}
		if q.API != "" {
			if _, err := tx.API(q.API); err != nil {
				return err
			}
		}
		if q.Channel != "" {
			if _, err := tx.Channel(q.Channel); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, quotad.ErrUnknownAPI) || errors.Is(err, quotad.ErrUnknownChannel) {
			return nil, err
		}
		return nil, fmt.Errorf("usage: %w", err)
	}
	return e.aggregate(buckets, q.By), nil
}

// aggregate sums buckets into points of the given granularity.
func (e *Engine) aggregate(buckets []quotad.UsageBucket, by string) []UsagePoint {
	type key struct {
		start               int64
		api, model, channel string
	}
	sums := map[key]*UsagePoint{}
	micros := map[key]int64{}
	for _, b := range buckets {
		start := e.pointStart(b.Start, by)
		k := key{start.UnixNano(), b.API, b.Model, b.Channel}
		p := sums[k]
		if p == nil {
			p = &UsagePoint{Start: start, API: b.API, Model: b.Model, Channel: b.Channel}
			sums[k] = p
		}
		p.Units += b.Units
		p.Count += b.Count
		micros[k] += b.Cost
	}
	out := make([]UsagePoint, 0, len(sums))
	for k, p := range sums {
		p.Cost = float64(micros[k]) / 1e6
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if a.API != b.API {
			return a.API < b.API
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Channel < b.Channel
	})
	return out
}

// pointStart returns the start of the point that holds a bucket starting
// at t, in the engine's Location.
func (e *Engine) pointStart(t time.Time, by string) time.Time {
	t = t.In(e.opts.Location)
	switch by {
	case ByMinute:
		return t.Truncate(time.Minute)
	case ByHour:
		return t.Truncate(time.Hour)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, e.opts.Location)
}

// UsageRetention says how long usage history is kept.
type UsageRetention struct {
	Minutes time.Duration // minute buckets older than this are rolled up into hours
	Hours   time.Duration // hour buckets older than this are deleted
}

// CompactResult says what CompactUsage did.
type CompactResult struct {
	RolledUp int `json:"rolled_up"` // minute buckets folded into hours
	Pruned   int `json:"pruned"`    // hour buckets deleted
	// Keys counts idempotency keys deleted: those older than
	// quotad.IdempotencyTTL.
	Keys int `json:"idempotency_keys_pruned"`
}

// CompactUsage rolls minute buckets older than r.Minutes up into hour
// buckets and deletes hour buckets older than r.Hours, in one store
// transaction beside the engine's own (both boundaries are whole hours, so
// an hour is rolled up in one piece). A zero duration skips its step. It
// also deletes idempotency keys older than quotad.IdempotencyTTL.
func (e *Engine) CompactUsage(ctx context.Context, r UsageRetention) (CompactResult, error) {
	now := e.clock.Now()
	var res CompactResult
	ctx, cancel := context.WithTimeout(ctx, e.batchBound())
	defer cancel()
	err := e.store.Update(ctx, func(tx quotad.Tx) error {
		var err error
		if res.Keys, err = tx.PruneIdempotency(now.Add(-quotad.IdempotencyTTL)); err != nil {
			return err
		}
		if r.Minutes > 0 {
			if res.RolledUp, err = tx.RollupUsage(now.Add(-r.Minutes).Truncate(time.Hour)); err != nil {
				return err
			}
		}
		if r.Hours > 0 {
			if res.Pruned, err = tx.PruneUsage(now.Add(-r.Hours).Truncate(time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact usage: %w", err)
	}
	return res, nil
}

// channelCostSince returns what a channel's calls of an API cost since an
// instant, in millionths of a dollar: stored usage plus this transaction's.
func (t *txn) channelCostSince(channel, api string, since time.Time) (int64, error) {
	since = since.UTC().Truncate(time.Second) // buckets split at resets (recordUsage)
	buckets, err := t.tx.Usage(quotad.UsageFilter{API: api, Channel: channel, Since: since})
	if err != nil {
		return 0, t.storeErr(err)
	}
	var sum int64
	for _, b := range buckets {
		sum += b.Cost
	}
	for k, b := range t.usage {
		if k.api == api && k.channel == channel && !b.Start.Before(since) {
			sum += b.Cost
		}
	}
	return sum, nil
}

// channelUsedSince returns the units a channel spent on an API since an
// instant: stored usage buckets plus this transaction's pending ones.
func (t *txn) channelUsedSince(channel, api string, since time.Time) (int64, error) {
	sum, err := usedSince(t.tx, channel, api, since)
	if err != nil {
		return 0, t.storeErr(err)
	}
	since = since.UTC().Truncate(time.Second) // buckets split at resets (recordUsage)
	for k, b := range t.usage {
		if k.api == api && k.channel == channel && !b.Start.Before(since) {
			sum += b.Units
		}
	}
	return sum, nil
}

// usedSince returns the units a channel spent on an API since an instant
// (a window's last reset), from the store's usage buckets, which are split
// at resets (recordUsage).
func usedSince(tx quotad.Tx, channel, api string, since time.Time) (int64, error) {
	since = since.UTC().Truncate(time.Second) // buckets split at resets (recordUsage)
	buckets, err := tx.Usage(quotad.UsageFilter{API: api, Channel: channel, Since: since})
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, b := range buckets {
		sum += b.Units
	}
	return sum, nil
}
