package proxy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
)

// CacheTTL bounds how long the proxy trusts its copy of an API's state and
// a channel's holds. Changes this engine commits invalidate the copy at
// once (its events, and the proxy's own results); changes made by other
// processes (the CLI, another daemon, sqlite3) are seen within CacheTTL.
const CacheTTL = 250 * time.Millisecond

// stateCache keeps what the pre-check of every call reads: the API's state
// (exhausted windows, window names and limits) and the calling channel's
// existence and holds. Reading them from the store on every call would
// cost more than the rest of the proxy.
type stateCache struct {
	gen   atomic.Uint64 // bumped by every committed event of the engine
	mu    sync.Mutex
	apis  map[string]cachedAPI
	chans map[string]cachedChan
}

type cachedAPI struct {
	a   quotad.API
	gen uint64
	at  time.Time
}

type cachedChan struct {
	c   quotad.Channel
	gen uint64
	at  time.Time
}

func newStateCache() *stateCache {
	return &stateCache{apis: map[string]cachedAPI{}, chans: map[string]cachedChan{}}
}

// invalidate makes every copy stale.
func (s *stateCache) invalidate() { s.gen.Add(1) }

// load returns the API's state and the channel (when named), from the
// cache when fresh, else from the store. now is the engine's clock, so a
// simulation on a virtual clock sees the copy age in virtual time.
func (s *stateCache) load(ctx context.Context, st quotad.Reader, api, channel string, now time.Time) (quotad.API, *quotad.Channel, error) {
	gen := s.gen.Load()
	s.mu.Lock()
	ca, okA := s.apis[api]
	cc, okC := s.chans[channel]
	s.mu.Unlock()
	fresh := func(g uint64, at time.Time) bool { return g == gen && now.Sub(at) < CacheTTL }
	needA := !okA || !fresh(ca.gen, ca.at)
	needC := channel != "" && (!okC || !fresh(cc.gen, cc.at))
	if !needA && !needC {
		if channel == "" {
			return ca.a, nil, nil
		}
		c := cc.c
		return ca.a, &c, nil
	}
	var a quotad.API
	var c quotad.Channel
	err := st.Read(ctx, func(tx quotad.ReadTx) error {
		var err error
		if a, err = tx.API(api); err != nil {
			return err
		}
		if channel != "" {
			c, err = tx.Channel(channel)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, quotad.ErrUnknownChannel) {
			s.mu.Lock()
			delete(s.chans, channel)
			s.mu.Unlock()
		}
		return a, nil, err
	}
	s.mu.Lock()
	if len(s.apis) > 4096 || len(s.chans) > 4096 { // names come from callers: bound the memory
		s.apis, s.chans = map[string]cachedAPI{}, map[string]cachedChan{}
	}
	s.apis[api] = cachedAPI{a, gen, now}
	if channel != "" {
		s.chans[channel] = cachedChan{c, gen, now}
	}
	s.mu.Unlock()
	if channel == "" {
		return a, nil, nil
	}
	return a, &c, nil
}

// inflight counts accounting still running after responses.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

func (f *inflight) add() {
	f.mu.Lock()
	if f.n == 0 {
		f.zero = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
}

func (f *inflight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 {
		close(f.zero)
	}
	f.mu.Unlock()
}

func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	ch := f.zero
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
