package engine

import (
	"slices"
	"time"

	"github.com/quotad/quotad"
)

// rowCache holds the API and channel rows as the engine's last committed
// transaction left them, so that the next transaction need not read them
// again — on the hot path (a spend) those reads cost as much as the rest of
// the transaction. It is used only while the store's version shows that
// nothing was written since (quotad.VersionedTx; SQLite implements it, so
// a write by the CLI, another process or anything else in this one makes
// the next transaction read from the store again). It belongs to the
// engine's writer loop; nothing else touches it.
//
// Cached rows are never changed: a transaction works on copies (clone), so
// results handed to callers may share their slices.
type rowCache struct {
	valid    bool
	version  quotad.StoreVersion
	apis     map[string]*quotad.API
	allAPIs  bool // apis holds every API
	chans    map[string]*quotad.Channel
	allChans bool // chans holds every channel
}

// begin returns the cache for a transaction that sees version v, or nil
// when the store changed since the cache was filled (then the cache is
// emptied).
func (c *rowCache) begin(v quotad.StoreVersion) *rowCache {
	if c.valid && c.version == v {
		return c
	}
	c.reset()
	return nil
}

func (c *rowCache) reset() {
	*c = rowCache{apis: map[string]*quotad.API{}, chans: map[string]*quotad.Channel{}}
}

// commit merges what transaction t read and wrote, which the store now
// holds at version v.
func (c *rowCache) commit(t *txn, v quotad.StoreVersion) {
	if !c.valid {
		c.reset()
	}
	for name := range t.deleted {
		delete(c.apis, name)
	}
	for name, a := range t.apis {
		c.apis[name] = a
	}
	c.allAPIs = c.allAPIs || t.allAPIs
	for name := range t.delChan {
		delete(c.chans, name)
	}
	for name, ch := range t.chans {
		if t.dirtyChan[name] {
			ch.StoredActive = ch.Active() // what SaveChannel wrote
		}
		c.chans[name] = ch
	}
	c.allChans = c.allChans || t.allChans
	c.version, c.valid = v, true
}

// cloneAPI returns a deep copy of a with its times as the store would give
// them back: UTC, without a monotonic clock reading.
func cloneAPI(a *quotad.API) *quotad.API {
	c := *a
	c.Keywords = slices.Clone(a.Keywords)
	c.Windows = slices.Clone(a.Windows)
	c.Prices = slices.Clone(a.Prices)
	for i := range c.Windows {
		w := &c.Windows[i]
		w.LastReset, w.NextReset = storedTime(w.LastReset), storedTime(w.NextReset)
		w.ExhaustedAt, w.BlockedUntil = storedTime(w.ExhaustedAt), storedTime(w.BlockedUntil)
	}
	return &c
}

// cloneChannel returns a deep copy of ch, times as in cloneAPI.
func cloneChannel(ch *quotad.Channel) *quotad.Channel {
	c := *ch
	c.APIs = slices.Clone(ch.APIs)
	c.Fallbacks = slices.Clone(ch.Fallbacks)
	for i := range c.Fallbacks {
		c.Fallbacks[i].Providers = slices.Clone(c.Fallbacks[i].Providers)
	}
	c.Budgets = slices.Clone(ch.Budgets)
	c.Pauses = slices.Clone(ch.Pauses)
	for i := range c.Pauses {
		p := &c.Pauses[i]
		p.Since, p.Until = storedTime(p.Since), storedTime(p.Until)
	}
	return &c
}

func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}
