package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/quotad/quotad"
)

// consumerBuffer is how many batches of events a stream may have waiting
// for its client; a stream whose client falls that far behind is dropped
// (its client reconnects with Last-Event-ID and catches up from the log).
const consumerBuffer = 64

// minGap is the least time between two reads of the log: under a burst of
// commits the streams get a batch of events every minGap instead of a
// write per commit each. A stream's cost is mostly per batch (a wake-up, a
// write and a flush for each stream, and a read of the log), so the gap is
// what keeps 64 streams cheap (BenchmarkSpendWithStreams: with 50 ms, 64
// streams took about 20% of the engine's throughput when every operation
// wrote an event; with 250 ms, 1–7%). The first event after a quiet spell
// goes out at once.
const minGap = 250 * time.Millisecond

// hub reads the event log once for every stream: woken by the engine's
// commits, and every PollInterval for the commits of other processes
// (the CLI, another daemon on a shared store), it reads the events after
// the newest it has, encodes each once, and hands the batch to every
// stream. It never waits for a stream: one whose buffer is full is dropped.
// It runs while at least one stream is open.
type hub struct {
	e    Source
	opts Options

	mu    sync.Mutex
	subs  []*consumer   // oldest first
	last  int64         // the newest event id handed out
	quit  chan struct{} // closed to stop the running loop; nil when none runs
	ready chan struct{} // closed once the running loop has read last
	wake  chan struct{}
}

// consumer is one stream's place in the hub.
type consumer struct {
	batches chan []byte   // encoded SSE frames, a read of the log each
	gone    chan struct{} // closed when the hub drops the stream
	why     string        // why it was dropped; set before gone closes
	cut     func()        // ends a write in progress (the client does not read)
}

func newHub(e Source, opts Options) *hub {
	return &hub{e: e, opts: opts, wake: make(chan struct{}, 1)}
}

// join adds a stream and returns it with the id of the newest event the
// hub handed out before it joined: the stream gets every later one. At
// MaxStreams the stream open longest is dropped to make room (its client
// reconnects), so that clients that hold streams without reading cannot
// lock others out.
//
// cut is called when the hub drops the stream: it should end a write that
// is blocked on a client that does not read.
func (h *hub) join(ctx context.Context, cut func()) (*consumer, int64, error) {
	for {
		h.mu.Lock()
		if h.quit == nil {
			h.quit, h.ready = make(chan struct{}), make(chan struct{})
			go h.run(h.quit, h.ready)
		}
		ready := h.ready
		select {
		case <-ready:
			c := &consumer{batches: make(chan []byte, consumerBuffer), gone: make(chan struct{}), cut: cut}
			for len(h.subs) >= h.opts.MaxStreams {
				h.dropLocked(h.subs[0], "replaced by a newer stream: at most "+strconv.Itoa(h.opts.MaxStreams)+" streams are served")
			}
			h.subs = append(h.subs, c)
			last := h.last
			h.mu.Unlock()
			return c, last, nil
		default:
		}
		h.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// leave removes a stream (a no-op for one already dropped).
func (h *hub) leave(c *consumer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func (h *hub) dropLocked(c *consumer, why string) {
	if h.removeLocked(c) {
		c.why = why
		close(c.gone)
		if c.cut != nil {
			c.cut()
		}
	}
}

// removeLocked removes c and stops the loop when no stream is left. It
// reports whether c was there.
func (h *hub) removeLocked(c *consumer) bool {
	i := slices.Index(h.subs, c)
	if i < 0 {
		return false
	}
	h.subs = slices.Delete(h.subs, i, i+1)
	if len(h.subs) == 0 && h.quit != nil {
		close(h.quit)
		h.quit, h.ready = nil, nil
	}
	return true
}

// run is the hub's loop while streams are open.
func (h *hub) run(quit, ready chan struct{}) {
	unsubscribe := h.e.Subscribe(func([]quotad.Event) {
		select { // never block the engine's writer: one pending wake-up is enough
		case h.wake <- struct{}{}:
		default:
		}
	})
	defer unsubscribe()
	// Subscribed first, then the newest id: nothing committed after it can
	// be missed.
	var newest int64
	for {
		latest, err := h.read(quotad.EventFilter{Limit: 1})
		if err == nil {
			if len(latest) > 0 {
				newest = latest[0].ID
			}
			break
		}
		h.opts.Logger.Warn("dashboard: reading the event log failed; retrying", "err", err)
		select {
		case <-quit:
			return
		case <-time.After(h.opts.PollInterval):
		}
	}
	h.mu.Lock()
	if h.quit == quit {
		h.last = newest
	}
	h.mu.Unlock()
	close(ready)

	poll := time.NewTicker(h.opts.PollInterval)
	defer poll.Stop()
	var lastRead time.Time
	for {
		select {
		case <-quit:
			return
		case <-h.wake:
		case <-poll.C:
		}
		if wait := minGap - time.Since(lastRead); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-quit:
				t.Stop()
				return
			case <-t.C:
			}
		}
		lastRead = time.Now()
		if err := h.fanOut(quit); err != nil {
			h.opts.Logger.Warn("dashboard: reading the event log failed; streams wait for the next read", "err", err)
		}
	}
}

// fanOut reads the events after the newest handed out, oldest first, and
// hands them to every stream.
func (h *hub) fanOut(quit chan struct{}) error {
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	for {
		evs, err := h.read(quotad.EventFilter{After: last, Limit: tailLimit})
		if err != nil || len(evs) == 0 {
			return err
		}
		slices.Reverse(evs) // the log answers newest first
		batch, newest, err := encodeEvents(evs)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if h.quit != quit { // stopped while reading
			h.mu.Unlock()
			return nil
		}
		h.last, last = newest, newest
		for _, c := range slices.Clone(h.subs) {
			select {
			case c.batches <- batch:
			default:
				h.dropLocked(c, fmt.Sprintf("the client fell %d reads behind", consumerBuffer))
			}
		}
		h.mu.Unlock()
		if len(evs) < tailLimit {
			return nil
		}
	}
}

func (h *hub) read(f quotad.EventFilter) ([]quotad.EventStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return h.e.Logs(ctx, f)
}

// encodeEvents returns the SSE frames of evs (oldest first) and the id of
// the newest.
func encodeEvents(evs []quotad.EventStatus) ([]byte, int64, error) {
	var buf []byte
	var newest int64
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, 0, fmt.Errorf("event %d: %w", ev.ID, err)
		}
		buf = fmt.Appendf(buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, EventName, b)
		newest = max(newest, ev.ID)
	}
	return buf, newest, nil
}
