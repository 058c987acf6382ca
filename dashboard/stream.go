package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// Stream framing.
const (
	// EventName is the SSE event type of every quotad event.
	EventName = "quotad"
	// retryMillis is the reconnection delay the stream asks clients for.
	retryMillis = 2000
	// tailLimit caps the events one read of the log sends; a client that
	// resumes (Last-Event-ID) further behind gets the newest tailLimit and
	// reloads the rest from GET /api/v1/logs.
	tailLimit = 500
)

// EventStream returns the handler of GET /api/v1/events/stream (see
// StreamPath): a text/event-stream of every event committed from then on,
//
//	id: 42
//	event: quotad
//	data: {"id":42,"timestamp":"…","level":"WARNING","category":"quota",…}
//
// with the quotad.EventStatus JSON of each event, oldest first, and a
// ": ping" comment every Options.PingInterval. A request with a
// Last-Event-ID header (an event id, as browsers send on reconnecting)
// first gets the events after that id from the log.
//
// The engine's Subscribe only wakes the stream; the events themselves are
// read back from the store's log (ids and all), so every stream sends the
// log in order and without gaps. Each ping also reads the log, so events
// committed by other processes on a shared store arrive within a ping.
//
// The handler returns when the client goes away, when Options.Done is
// closed, when a write does not complete within 10 s, or when the engine's
// store fails; it then holds no goroutine and no subscription. It clears
// the server's read and write deadlines for the stream (quotad's
// http.Server has both) and sets a write deadline per write instead.
func EventStream(e *engine.Engine, opts Options) http.Handler {
	opts = opts.withDefaults()
	s := &streamer{e: e, opts: opts}
	return s
}

type streamer struct {
	e    *engine.Engine
	opts Options
	open atomic.Int64
}

func (s *streamer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path+"; use GET")
		return
	}
	var last int64
	if v := strings.TrimSpace(r.Header.Get("Last-Event-ID")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			writeError(w, http.StatusBadRequest, "invalid", "invalid input: header Last-Event-ID must be an event id, got "+quote(v))
			return
		}
		last = id
	}
	if n := s.open.Add(1); n > int64(s.opts.MaxStreams) {
		s.open.Add(-1)
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("too many event streams open (%d)", s.opts.MaxStreams))
		return
	}
	defer s.open.Add(-1)

	rc := http.NewResponseController(w)
	// quotad's http.Server has a ReadTimeout, which would cancel the request
	// once it passes, and a WriteTimeout, which would cut the stream.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	wake := make(chan struct{}, 1)
	unsubscribe := s.e.Subscribe(func([]quotad.Event) {
		select { // never block the engine's writer: one pending wake-up is enough
		case wake <- struct{}{}:
		default:
		}
	})
	defer unsubscribe()

	// Subscribed first, then the newest id: nothing committed after it can
	// be missed. A Last-Event-ID beyond it (a store that was replaced)
	// counts as none.
	ctx := r.Context()
	latest, err := s.e.Logs(ctx, quotad.EventFilter{Limit: 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var newest int64
	if len(latest) > 0 {
		newest = latest[0].ID
	}
	resume := last > 0 && last < newest
	if !resume {
		last = newest
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	out := &sseWriter{w: w, rc: rc}
	out.printf("retry: %d\n: connected\n\n", retryMillis)
	if err := out.flush(); err != nil {
		return
	}
	if resume {
		select {
		case wake <- struct{}{}:
		default: // already woken
		}
	}

	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Done:
			return
		case <-ping.C:
			out.printf(": ping\n\n")
		case <-wake:
		}
		if last, err = s.tail(ctx, out, last); err != nil {
			if ctx.Err() == nil && !isDone(s.opts.Done) { // else the store saw the request end
				s.opts.Logger.Warn("dashboard: event stream ended", "remote", r.RemoteAddr, "err", err)
			}
			return
		}
		if err := out.flush(); err != nil {
			return
		}
	}
}

// tail writes the events after last, oldest first, and returns the id of
// the newest written.
func (s *streamer) tail(ctx context.Context, out *sseWriter, last int64) (int64, error) {
	evs, err := s.e.Logs(ctx, quotad.EventFilter{After: last, Limit: tailLimit})
	if err != nil {
		return last, err
	}
	slices.Reverse(evs) // the log answers newest first
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return last, err
		}
		out.printf("id: %d\nevent: %s\ndata: %s\n\n", ev.ID, EventName, b)
		last = max(last, ev.ID)
	}
	return last, out.err
}

func (s *streamer) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil || errors.Is(err, context.Canceled) {
		return // the client left while the store answered
	}
	s.opts.Logger.Error("dashboard: event stream", "remote", r.RemoteAddr, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error: the store did not answer; see the daemon's log")
}

// isDone reports whether done is closed (a nil channel never is).
func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// sseWriter writes to a stream, each write bounded by writeTimeout; it
// keeps the first error.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (o *sseWriter) printf(format string, args ...any) {
	if o.err != nil {
		return
	}
	_ = o.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, o.err = fmt.Fprintf(o.w, format, args...)
}

func (o *sseWriter) flush() error {
	if o.err != nil {
		return o.err
	}
	_ = o.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	o.err = o.rc.Flush()
	return o.err
}
