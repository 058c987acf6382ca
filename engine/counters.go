package engine

import (
	"sync"
)

// Counters are cumulative counts of what this engine did since it started,
// for metrics. Keys are API names, or "api/kind" for Classified.
type Counters struct {
	Spends        map[string]uint64 // accepted spends and commits per API
	SpendUnits    map[string]uint64 // units in them per API
	Refused       map[string]uint64 // spends and reservations refused per API (exhausted)
	Reservations  map[string]uint64 // reservations granted per API
	Classified    map[string]uint64 // reported errors per "api/kind" ("-/error" when unattributed)
	Resets        map[string]uint64 // window resets per API (timer, retry time, or a person)
	Exhaustions   map[string]uint64 // transitions of an API to exhausted
	Resumes       uint64            // channels resumed (automatically or by a person)
	Pauses        uint64            // pauses added
	Transactions  uint64            // committed group transactions
	Operations    uint64            // operations committed in them
	StoreFailures uint64            // transactions that failed
}

type counterSet struct {
	mu sync.Mutex
	c  Counters
}

func newCounterSet() *counterSet {
	return &counterSet{c: Counters{
		Spends: map[string]uint64{}, SpendUnits: map[string]uint64{}, Refused: map[string]uint64{},
		Reservations: map[string]uint64{}, Classified: map[string]uint64{}, Resets: map[string]uint64{}, Exhaustions: map[string]uint64{},
	}}
}

func (s *counterSet) add(fn func(c *Counters)) {
	s.mu.Lock()
	fn(&s.c)
	s.mu.Unlock()
}

// Counters returns a copy of the engine's counters.
func (e *Engine) Counters() Counters {
	e.counts.mu.Lock()
	defer e.counts.mu.Unlock()
	c := e.counts.c
	for _, m := range []*map[string]uint64{&c.Spends, &c.SpendUnits, &c.Refused, &c.Reservations, &c.Classified, &c.Resets, &c.Exhaustions} {
		cp := make(map[string]uint64, len(*m))
		for k, v := range *m {
			cp[k] = v
		}
		*m = cp
	}
	c.Transactions, c.Operations, c.StoreFailures = e.metrics.batches.Load(), e.metrics.ops.Load(), e.metrics.storeErrors.Load()
	return c
}
