package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
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
// Every stream of a handler shares one reader of the log (see hub): woken
// by the engine's commits and every Options.PollInterval for other
// processes' (the CLI, another daemon on a shared store), it reads the new
// events once, ids and all, and hands them to every stream, so each sends
// the log in order and without gaps, and 64 streams cost the store what
// one does. A stream whose client does not keep up is dropped rather than
// waited for; its client reconnects with Last-Event-ID and catches up from
// the log. At Options.MaxStreams a new stream replaces the one open longest.
//
// The handler returns when the client goes away, when Options.Done is
// closed, when a write does not complete within 10 s, or when the stream is
// dropped; it then holds no goroutine and no subscription. It clears
// the server's read and write deadlines for the stream (quotad's
// http.Server has both) and sets a write deadline per write instead.
func EventStream(e Source, opts Options) http.Handler {
	opts = opts.withDefaults()
	return &streamer{e: e, opts: opts, hub: newHub(e, opts)}
}

type streamer struct {
	e    Source
	opts Options
	hub  *hub
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
			writeError(w, http.StatusBadRequest, "invalid", "invalid input: header Last-Event-ID must be an event id, got "+quote(clipEcho(v)))
			return
		}
		last = id
	}
	ctx := r.Context()
	if r.Method == http.MethodHead {
		s.header(w)
		return
	}
	rc := http.NewResponseController(w)
	jctx, cancel := context.WithTimeout(ctx, writeTimeout)
	c, newest, err := s.hub.join(jctx, func() { _ = rc.SetWriteDeadline(time.Now()) })
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			w.Header().Set("Retry-After", "10")
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the event log cannot be read now; see the daemon's log")
		}
		return
	}
	defer s.hub.leave(c)

	// quotad's http.Server has a ReadTimeout, which would cancel the request
	// once it passes, and a WriteTimeout, which would cut the stream.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	s.header(w)
	out := &sseWriter{w: w, rc: rc}
	out.printf("retry: %d\n: connected\n\n", retryMillis)
	// A Last-Event-ID beyond the newest (a store that was replaced) counts
	// as none; else the events after it up to where the hub took over.
	if last > 0 && last < newest {
		evs, err := s.e.Logs(ctx, quotad.EventFilter{After: last, Before: newest + 1, Limit: tailLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		slices.Reverse(evs) // the log answers newest first
		b, _, err := encodeEvents(evs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.write(b)
	}
	if err := out.flush(); err != nil {
		return
	}

	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Done:
			return
		case <-c.gone:
			s.opts.Logger.Info("dashboard: event stream dropped; its client reconnects and catches up", "remote", r.RemoteAddr, "why", c.why)
			return
		case <-ping.C:
			out.printf(": ping\n\n")
		case b := <-c.batches:
			out.write(b)
		drain:
			for { // what else is waiting goes out in the same flush
				select {
				case b := <-c.batches:
					out.write(b)
				default:
					break drain
				}
			}
		}
		if err := out.flush(); err != nil {
			return
		}
	}
}

func (s *streamer) header(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
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

func (o *sseWriter) write(b []byte) {
	if o.err != nil {
		return
	}
	_ = o.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, o.err = o.w.Write(b)
}

func (o *sseWriter) flush() error {
	if o.err != nil {
		return o.err
	}
	_ = o.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	o.err = o.rc.Flush()
	return o.err
}
