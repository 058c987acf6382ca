package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/quotad/quotad"
)

// txn is the working state of one store transaction. It loads rows once,
// lets many operations change them in memory, and writes back only what
// changed. Operations validate before they mutate, so an operation that
// returns an error leaves the txn as it found it.
type txn struct {
	e   *Engine
	tx  quotad.Tx
	now time.Time

	apis      map[string]*quotad.API
	allAPIs   bool
	dirtyWin  map[string]map[string]bool // api → window → dirty
	dirtyAPI  map[string]bool            // whole API (SaveAPI)
	deleted   map[string]bool            // deleted APIs
	chans     map[string]*quotad.Channel
	allChans  bool
	dirtyChan map[string]bool
	delChan   map[string]bool
	events    []quotad.Event
	usage     map[usageKey]*quotad.UsageBucket
	paused    []string                            // channels that went from active to paused, in order
	quiet     []string                            // APIs of window resets that wrote no event (counted in Counters.Resets)
	cache     *rowCache                           // rows committed last, unchanged since; nil reads the store
	idem      map[string]quotad.IdempotencyRecord // idempotency keys saved in this transaction

	fatal error // a store failure: the whole transaction must be abandoned
}

func newTxn(e *Engine, tx quotad.Tx, now time.Time) *txn {
	return &txn{
		e: e, tx: tx, now: now,
		apis: map[string]*quotad.API{}, dirtyWin: map[string]map[string]bool{}, dirtyAPI: map[string]bool{},
		deleted: map[string]bool{}, chans: map[string]*quotad.Channel{}, dirtyChan: map[string]bool{}, delChan: map[string]bool{},
	}
}

// storeErr records err as fatal unless it is a caller mistake (unknown name).
func (t *txn) storeErr(err error) error {
	if err != nil && !errors.Is(err, quotad.ErrUnknownAPI) && !errors.Is(err, quotad.ErrUnknownChannel) && !errors.Is(err, quotad.ErrUnknownReservation) && t.fatal == nil {
		t.fatal = err
	}
	return err
}

func (t *txn) api(name string) (*quotad.API, error) {
	if a, ok := t.apis[name]; ok {
		return a, nil
	}
	if t.allAPIs || t.deleted[name] {
		return nil, fmt.Errorf("%w: %q", quotad.ErrUnknownAPI, name)
	}
	if t.cache != nil {
		if a, ok := t.cache.apis[name]; ok {
			a = cloneAPI(a)
			t.apis[name] = a
			return a, nil
		}
		if t.cache.allAPIs {
			return nil, fmt.Errorf("%w: %q", quotad.ErrUnknownAPI, name)
		}
	}
	a, err := t.tx.API(name)
	if err != nil {
		return nil, t.storeErr(err)
	}
	t.apis[name] = &a
	return &a, nil
}

// allAPIList returns every API, sorted by name.
func (t *txn) allAPIList() ([]*quotad.API, error) {
	if !t.allAPIs && t.cache != nil && t.cache.allAPIs {
		for name, a := range t.cache.apis {
			if _, ok := t.apis[name]; !ok && !t.deleted[name] {
				t.apis[name] = cloneAPI(a)
			}
		}
		t.allAPIs = true
	}
	if !t.allAPIs {
		list, err := t.tx.APIs()
		if err != nil {
			return nil, t.storeErr(err)
		}
		for i := range list {
			if _, ok := t.apis[list[i].Name]; !ok && !t.deleted[list[i].Name] {
				a := list[i]
				t.apis[a.Name] = &a
			}
		}
		t.allAPIs = true
	}
	out := make([]*quotad.API, 0, len(t.apis))
	for _, a := range t.apis {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (t *txn) channel(name string) (*quotad.Channel, error) {
	if c, ok := t.chans[name]; ok {
		return c, nil
	}
	if t.allChans || t.delChan[name] {
		return nil, fmt.Errorf("%w: %q", quotad.ErrUnknownChannel, name)
	}
	if t.cache != nil {
		if c, ok := t.cache.chans[name]; ok {
			c = cloneChannel(c)
			t.chans[name] = c
			return c, nil
		}
		if t.cache.allChans {
			return nil, fmt.Errorf("%w: %q", quotad.ErrUnknownChannel, name)
		}
	}
	c, err := t.tx.Channel(name)
	if err != nil {
		return nil, t.storeErr(err)
	}
	t.chans[name] = &c
	return &c, nil
}

func (t *txn) allChannels() ([]*quotad.Channel, error) {
	if !t.allChans && t.cache != nil && t.cache.allChans {
		for name, c := range t.cache.chans {
			if _, ok := t.chans[name]; !ok && !t.delChan[name] {
				t.chans[name] = cloneChannel(c)
			}
		}
		t.allChans = true
	}
	if !t.allChans {
		list, err := t.tx.Channels()
		if err != nil {
			return nil, t.storeErr(err)
		}
		for i := range list {
			if _, ok := t.chans[list[i].Name]; !ok && !t.delChan[list[i].Name] {
				c := list[i]
				t.chans[c.Name] = &c
			}
		}
		t.allChans = true
	}
	out := make([]*quotad.Channel, 0, len(t.chans))
	for _, c := range t.chans {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (t *txn) touchWindow(api, window string) {
	m := t.dirtyWin[api]
	if m == nil {
		m = map[string]bool{}
		t.dirtyWin[api] = m
	}
	m[window] = true
}

func (t *txn) touchAPI(name string)     { t.dirtyAPI[name] = true; delete(t.deleted, name) }
func (t *txn) touchChannel(name string) { t.dirtyChan[name] = true; delete(t.delChan, name) }

func (t *txn) deleteAPI(name string) {
	delete(t.apis, name)
	delete(t.dirtyAPI, name)
	delete(t.dirtyWin, name)
	t.deleted[name] = true
}

func (t *txn) deleteChannel(name string) {
	delete(t.chans, name)
	delete(t.dirtyChan, name)
	t.delChan[name] = true
}

func (t *txn) emit(level, channel, category, msg string, fields map[string]string) {
	t.events = append(t.events, quotad.Event{Time: t.now, Level: level, Channel: channel, Category: category, Message: msg, Fields: fields})
}

// flush writes every change back to the store.
func (t *txn) flush() error {
	if t.fatal != nil {
		return t.fatal
	}
	for _, name := range slices.Sorted(maps.Keys(t.deleted)) {
		if err := t.tx.DeleteAPI(name); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.dirtyAPI)) {
		if err := t.tx.SaveAPI(*t.apis[name]); err != nil {
			return err
		}
	}
	for _, api := range slices.Sorted(maps.Keys(t.dirtyWin)) {
		if t.dirtyAPI[api] || t.deleted[api] {
			continue
		}
		a, dirty := t.apis[api], t.dirtyWin[api]
		for _, w := range a.Windows {
			for key := range dirty {
				if w.HasKey(key) {
					if err := t.tx.SaveWindow(api, w); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.delChan)) {
		if err := t.tx.DeleteChannel(name); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.dirtyChan)) {
		if err := t.tx.SaveChannel(*t.chans[name]); err != nil {
			return err
		}
	}
	if len(t.usage) > 0 {
		buckets := make([]quotad.UsageBucket, 0, len(t.usage))
		for _, b := range t.usage {
			buckets = append(buckets, *b)
		}
		sort.Slice(buckets, func(i, j int) bool {
			a, b := buckets[i], buckets[j]
			if a.API != b.API {
				return a.API < b.API
			}
			if a.Channel != b.Channel {
				return a.Channel < b.Channel
			}
			if a.Model != b.Model {
				return a.Model < b.Model
			}
			return a.Start.Before(b.Start)
		})
		if err := t.tx.AddUsage(buckets...); err != nil {
			return err
		}
	}
	if len(t.events) > 0 {
		if err := t.tx.AppendEvents(t.events...); err != nil {
			return err
		}
		if t.e.opts.Outbox != nil {
			if ns := t.e.opts.Outbox(t.events); len(ns) > 0 {
				if err := t.tx.EnqueueNotifications(ns...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type usageKey struct {
	api, model, channel string
	start               int64
}

// recordUsage adds units spent in a number of calls on a model ("" none),
// and what they cost (millionths of a dollar), to this transaction's
// per-minute usage bucket. A window of the API that reset within the
// current minute splits it: the bucket starts at that reset (to the second),
// so what a channel spent since a reset is exact even for windows shorter
// than a minute (budgets count it so).
func (t *txn) recordUsage(api, model, channel string, units, calls, cost int64) {
	start := t.now.UTC().Truncate(time.Minute)
	if a, err := t.api(api); err == nil {
		for _, w := range a.Windows {
			if r := w.LastReset.UTC().Truncate(time.Second); r.After(start) && !r.After(t.now) {
				start = r
			}
		}
	}
	k := usageKey{api, model, channel, start.Unix()}
	if t.usage == nil {
		t.usage = map[usageKey]*quotad.UsageBucket{}
	}
	b := t.usage[k]
	if b == nil {
		b = &quotad.UsageBucket{API: api, Model: model, Channel: channel, Start: start, Resolution: quotad.Minute}
		t.usage[k] = b
	}
	b.Units += units
	b.Count += calls
	b.Cost += cost
}
