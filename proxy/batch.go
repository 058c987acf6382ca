package proxy

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
)

// batcher coalesces the accounting of successful calls: per API and
// channel, charges are summed and the latest figures of each window kept,
// and every Coalesce one engine.Meter per API and channel commits them (the
// engine group-commits those into one transaction). A store commit costs
// more than the rest of the proxy; this way a burst of calls costs one.
type batcher struct {
	p     *Proxy
	delay time.Duration

	mu      sync.Mutex
	pending map[batchKey]*engine.Metered
	order   []batchKey
	timer   *time.Timer
}

type batchKey struct{ api, channel, model, scope string }

func newBatcher(p *Proxy, delay time.Duration) *batcher {
	return &batcher{p: p, delay: delay, pending: map[batchKey]*engine.Metered{}}
}

// add queues a successful call's accounting. m.Observations come from the
// call's own response, so they are newer than any queued for its windows.
func (b *batcher) add(m engine.Metered) {
	b.p.pending.add()
	b.mu.Lock()
	k := batchKey{m.API, m.Channel, m.Model, m.Scope}
	agg, ok := b.pending[k]
	if !ok {
		agg = &engine.Metered{API: m.API, Model: m.Model, Scope: m.Scope, Channel: m.Channel, Charges: map[string]int64{}}
		b.pending[k] = agg
		b.order = append(b.order, k)
	}
	for w, u := range m.Charges {
		agg.Charges[w] += u
	}
	agg.Usage += m.Usage
	agg.Cost += m.Cost
	agg.Calls += max(m.Calls, 1)
	for _, o := range m.Observations {
		agg.Observations = replaceObservation(agg.Observations, o)
	}
	for _, w := range m.Learn {
		if !slices.ContainsFunc(agg.Learn, func(l quotad.Window) bool { return l.HasKey(w.Key()) }) {
			agg.Learn = append(agg.Learn, w)
		}
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.delay, func() { b.flush(nil) })
	}
	b.mu.Unlock()
}

// replaceObservation puts o in place of an observation of the same window.
func replaceObservation(obs []provider.Observation, o provider.Observation) []provider.Observation {
	for i := range obs {
		if obs[i].Window == o.Window {
			obs[i] = o
			return obs
		}
	}
	return append(obs, o)
}

// flush commits what is queued (only the API's when api is not nil) and
// returns when it is committed.
func (b *batcher) flush(api *string) {
	b.mu.Lock()
	var take []*engine.Metered
	var keep []batchKey
	for _, k := range b.order {
		if api != nil && k.api != *api {
			keep = append(keep, k)
			continue
		}
		take = append(take, b.pending[k])
		delete(b.pending, k)
	}
	b.order = keep
	if len(b.order) == 0 && b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.mu.Unlock()
	if len(take) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, m := range take {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.p.meter(context.Background(), *m, nil)
			for range m.Calls {
				b.p.pending.done()
			}
		}()
	}
	wg.Wait()
}
