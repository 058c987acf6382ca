package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/dashboard"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
	"github.com/quotad/quotad/store/sqlite"
)

// streamServer serves EventStream(e, opts) and reports each handler's end
// on ended.
type streamServer struct {
	ts     *httptest.Server
	ended  chan struct{}
	client *http.Client
}

func newStreamServer(t *testing.T, e *engine.Engine, opts dashboard.Options) *streamServer {
	t.Helper()
	h := dashboard.EventStream(e, opts)
	s := &streamServer{ended: make(chan struct{}, 16)}
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { s.ended <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	tr := &http.Transport{}
	s.client = &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		s.ts.Close()
	})
	return s
}

// open starts a stream and returns its blocks and a function that drops it.
func (s *streamServer) open(t *testing.T, headers ...string) (<-chan sse, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ts.URL+dashboard.StreamPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, body(t, resp))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	blocks := readSSE(resp.Body)
	// The first block says the stream is open (and asks for a retry delay).
	next(t, blocks, 5*time.Second, "the opening comment", func(b sse) bool { return len(b.comments) > 0 })
	return blocks, func() { cancel(); resp.Body.Close() }
}

func (s *streamServer) waitEnded(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatalf("the stream handler did not return after %s", what)
	}
}

func decodeEvent(t *testing.T, b sse) quotad.EventStatus {
	t.Helper()
	var ev quotad.EventStatus
	if err := json.Unmarshal([]byte(b.data), &ev); err != nil {
		t.Fatalf("event data %q: %v", b.data, err)
	}
	if strconv.FormatInt(ev.ID, 10) != b.id {
		t.Errorf("id: line %q, JSON %d", b.id, ev.ID)
	}
	return ev
}

func TestStreamDeliversEvents(t *testing.T) {
	e := newEngine(t)
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	blocks, stop := s.open(t)
	defer stop()

	ctx := context.Background()
	if _, err := e.Spend(ctx, "youtube", 10000, "Shorts"); err != nil {
		t.Fatal(err)
	}
	var cats []string
	var lastID int64
	b := next(t, blocks, 5*time.Second, "the exhaustion event", func(b sse) bool {
		if b.event != dashboard.EventName {
			return false
		}
		ev := decodeEvent(t, b)
		if ev.ID <= lastID {
			t.Errorf("event %d after %d: not in order", ev.ID, lastID)
		}
		lastID = ev.ID
		cats = append(cats, ev.Category+"/"+ev.Channel)
		return ev.Category == quotad.CategoryQuota && ev.Channel == "Shorts"
	})
	if ev := decodeEvent(t, b); ev.Fields["api"] != "youtube" || ev.Level != quotad.LevelWarning {
		t.Errorf("pause event %+v", ev)
	}
	t.Logf("events: %v", cats)

	// A person's resume arrives too.
	if _, err := e.Resume(ctx, "Shorts"); err != nil {
		t.Fatal(err)
	}
	next(t, blocks, 5*time.Second, "the resume event", func(b sse) bool {
		return b.event == dashboard.EventName && decodeEvent(t, b).Category == quotad.CategoryResume
	})
}

func TestStreamPingsAndSeesOtherWriters(t *testing.T) {
	e, st := newEngineStoreAt(t, t.TempDir()+"/q.db")
	s := newStreamServer(t, e, dashboard.Options{PingInterval: 50 * time.Millisecond})
	blocks, stop := s.open(t)
	defer stop()
	next(t, blocks, 5*time.Second, "a ping", func(b sse) bool { return len(b.comments) > 0 && b.comments[0] == "ping" })

	// An event written to the store by another process does not go through
	// this engine's Subscribe; the ping's read of the log finds it.
	err := st.Update(context.Background(), func(tx quotad.Tx) error {
		return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Channel: "Shorts", Category: quotad.CategoryResume, Message: "resumed elsewhere"})
	})
	if err != nil {
		t.Fatal(err)
	}
	next(t, blocks, 5*time.Second, "the other process's event", func(b sse) bool {
		return b.event == dashboard.EventName && decodeEvent(t, b).Message == "resumed elsewhere"
	})
}

func TestStreamResumesFromLastEventID(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, ch := range []string{"Shorts", "RankRiot", "Footage"} {
		if _, err := e.Pause(ctx, ch, "test "+ch); err != nil {
			t.Fatal(err)
		}
	}
	logs, err := e.Logs(ctx, quotad.EventFilter{Category: quotad.CategoryPause})
	if err != nil || len(logs) != 3 {
		t.Fatalf("logs %v %v", logs, err)
	}
	first := logs[2].ID // oldest of the three
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	blocks, stop := s.open(t, "Last-Event-ID: "+strconv.FormatInt(first, 10))
	defer stop()
	var got []string
	for range 2 {
		b := next(t, blocks, 5*time.Second, "a replayed event", func(b sse) bool { return b.event == dashboard.EventName })
		got = append(got, decodeEvent(t, b).Channel)
	}
	if strings.Join(got, ",") != "RankRiot,Footage" {
		t.Errorf("replayed %v, want the two pauses after the first, oldest first", got)
	}

	// Without Last-Event-ID, or with one beyond the log (the store was
	// replaced), history is not replayed and new events arrive.
	blocks2, stop2 := s.open(t)
	defer stop2()
	blocks3, stop3 := s.open(t, "Last-Event-ID: 999999")
	defer stop3()
	if _, err := e.Resume(ctx, "Footage"); err != nil {
		t.Fatal(err)
	}
	for _, bs := range []<-chan sse{blocks2, blocks3} {
		b := next(t, bs, 5*time.Second, "an event", func(b sse) bool { return b.event == dashboard.EventName })
		if ev := decodeEvent(t, b); ev.Category != quotad.CategoryResume {
			t.Errorf("first event of a fresh stream: %+v, want the resume", ev)
		}
	}
}

func TestStreamEndsWhenClientLeaves(t *testing.T) {
	e := newEngine(t)
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	_, stop := s.open(t)
	stop()
	s.waitEnded(t, "the client went away")
}

func TestStreamEndsOnShutdown(t *testing.T) {
	e := newEngine(t)
	done := make(chan struct{})
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour, Done: done})
	blocks, stop := s.open(t)
	defer stop()
	close(done)
	s.waitEnded(t, "Done was closed")
	for b := range blocks { // the client sees the end of the stream
		_ = b
	}
}

// TestStreamOutlivesServerTimeouts serves the stream from an http.Server
// with quotad's kind of read and write timeouts, much shorter: the stream
// must keep going past them.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	e := newEngine(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: dashboard.EventStream(e, dashboard.Options{PingInterval: 40 * time.Millisecond}),
		ReadTimeout: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond}
	go hs.Serve(ln)
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+dashboard.StreamPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	blocks := readSSE(resp.Body)
	time.Sleep(500 * time.Millisecond) // past both timeouts
	if _, err := e.Pause(context.Background(), "Shorts", "late"); err != nil {
		t.Fatal(err)
	}
	next(t, blocks, 5*time.Second, "an event after the server's timeouts", func(b sse) bool { return b.event == dashboard.EventName })
}

func TestStreamAccess(t *testing.T) {
	e := newEngine(t)
	for _, tc := range []struct {
		name    string
		token   string
		protect bool
		headers []string
		status  int
	}{
		{"loopback without token", "", false, nil, 200},
		{"no token, DNS name", "", false, []string{"Host: evil.example"}, 403},
		{"no token, protected", "", true, nil, 401},
		{"token, reads open", testToken, false, nil, 200},
		{"token, protected, none sent", testToken, true, nil, 401},
		{"token, protected, wrong", testToken, true, []string{"Authorization: Bearer nope"}, 401},
		{"token, protected, right", testToken, true, []string{"Authorization: Bearer " + testToken}, 200},
		{"bad Last-Event-ID", "", false, []string{"Last-Event-ID: x"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := mounted(t, e, tc.token, tc.protect, "GET "+dashboard.StreamPath, dashboard.EventStream(e, dashboard.Options{}))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+dashboard.StreamPath, nil)
			for _, h := range tc.headers {
				k, v, _ := strings.Cut(h, ":")
				if k == "Host" {
					req.Host = strings.TrimSpace(v)
				} else {
					req.Header.Set(k, strings.TrimSpace(v))
				}
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				var eb struct {
					Error struct{ Code, Message string }
				}
				if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error.Code == "" {
					t.Errorf("error body: %v %+v", err, eb)
				}
			}
			cancel()
		})
	}
}

// At MaxStreams a new stream replaces the one open longest: clients that
// open streams and never read cannot lock a dashboard out. The replaced
// stream ends (its client reconnects with Last-Event-ID); the others go on.
func TestStreamLimitReplacesOldest(t *testing.T) {
	e := newEngine(t)
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour, MaxStreams: 2})
	first, stop1 := s.open(t)
	defer stop1()
	second, stop2 := s.open(t)
	defer stop2()
	third, stop3 := s.open(t)
	defer stop3()
	s.waitEnded(t, "a third stream replaced the first")
	for range first { // the first stream's connection ends
	}
	if _, err := e.Pause(context.Background(), "Shorts", "limit test"); err != nil {
		t.Fatal(err)
	}
	for i, b := range []<-chan sse{second, third} {
		next(t, b, 5*time.Second, fmt.Sprintf("the pause on stream %d", i+2), func(b sse) bool {
			return b.event == dashboard.EventName && decodeEvent(t, b).Category == quotad.CategoryPause
		})
	}
}

// A client that stops reading does not hold the others back: its stream
// is dropped once it falls behind, while a reading stream gets every event.
func TestStreamDropsClientThatDoesNotRead(t *testing.T) {
	e, st := newEngineStoreAt(t, t.TempDir()+"/q.db")
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	reader, stop := s.open(t)
	defer stop()

	// The stuck client: asks for the stream with a tiny receive buffer and
	// never reads.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	conn, err := d.Dial("tcp", s.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", dashboard.StreamPath, s.ts.Listener.Addr())

	// Big events, one log read each (the reader has each before the next
	// is written), until the stuck stream's handler gives up on it.
	msg := strings.Repeat("x", 16<<10)
	ctx := context.Background()
	for i := 0; ; i++ {
		if i == 5000 {
			t.Fatal("the stream of a client that does not read was never dropped")
		}
		err := st.Update(ctx, func(tx quotad.Tx) error {
			return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Category: "test", Message: fmt.Sprint(i, msg)})
		})
		if err != nil {
			t.Fatal(err)
		}
		// A commit of this engine wakes the streams (the big event is
		// read with it).
		if i%2 == 0 {
			_, err = e.Pause(ctx, "Footage", "wake")
		} else {
			_, err = e.Resume(ctx, "Footage")
		}
		if err != nil {
			t.Fatal(err)
		}
		next(t, reader, 5*time.Second, fmt.Sprint("event ", i), func(b sse) bool {
			return b.event == dashboard.EventName && strings.HasPrefix(decodeEvent(t, b).Message, fmt.Sprint(i, "x"))
		})
		select {
		case <-s.ended:
			t.Logf("dropped after %d events", i+1)
			// The reader goes on.
			if _, err := e.Pause(ctx, "Shorts", "after the drop"); err != nil {
				t.Fatal(err)
			}
			next(t, reader, 5*time.Second, "the pause after the drop", func(b sse) bool {
				return b.event == dashboard.EventName && decodeEvent(t, b).Category == quotad.CategoryPause
			})
			return
		default:
		}
	}
}

// An event another process writes to the store (here: a second handle on
// the same SQLite file, as the CLI has) reaches an open stream without any
// commit of this engine.
func TestStreamSeesOtherProcess(t *testing.T) {
	path := t.TempDir() + "/q.db"
	e := newEngineAt(t, path)
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	blocks, stop := s.open(t)
	defer stop()

	other, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = other.Update(context.Background(), func(tx quotad.Tx) error {
		return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Channel: "Shorts", Category: quotad.CategoryPause, Message: "paused from the CLI"})
	})
	if err != nil {
		t.Fatal(err)
	}
	next(t, blocks, 5*time.Second, "the other process's event", func(b sse) bool {
		return b.event == dashboard.EventName && decodeEvent(t, b).Message == "paused from the CLI"
	})
}

// TestStreamNoGoroutineLeak opens many streams, some dropped by their
// clients and the rest ended by shutdown, with events flowing, and checks
// that the goroutine count comes back to where it was.
func TestStreamNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("streams", func(t *testing.T) {
		e := newEngine(t)
		done := make(chan struct{})
		s := newStreamServer(t, e, dashboard.Options{PingInterval: 20 * time.Millisecond, Done: done})
		var stops []context.CancelFunc
		var all []<-chan sse
		for range 8 {
			b, stop := s.open(t)
			stops = append(stops, stop)
			all = append(all, b)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				ch := testChannels[i%len(testChannels)].Name
				e.Pause(context.Background(), ch, "leak test")
				e.Resume(context.Background(), ch)
			})
		}
		wg.Wait()
		for _, b := range all[:4] {
			next(t, b, 5*time.Second, "an event", func(b sse) bool { return b.event == dashboard.EventName })
		}
		for _, stop := range stops[:4] { // clients that leave
			stop()
		}
		for range 4 {
			s.waitEnded(t, "clients left")
		}
		close(done) // and the daemon stops
		for range 4 {
			s.waitEnded(t, "shutdown")
		}
		for _, stop := range stops[4:] {
			stop()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// On PostgreSQL, an event another daemon commits (here: another Store on
// the same schema) reaches an open stream without a commit of this engine.
func TestStreamSeesOtherDaemonOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := engine.New(st, engine.Options{Logger: quietLogger()})
	defer e.Close()
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, testChannels); err != nil {
		t.Fatal(err)
	}
	s := newStreamServer(t, e, dashboard.Options{PingInterval: time.Hour})
	blocks, stop := s.open(t)
	defer stop()

	other, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = other.Update(ctx, func(tx quotad.Tx) error {
		return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Channel: "Shorts", Category: quotad.CategoryPause, Message: "paused by the other daemon"})
	})
	if err != nil {
		t.Fatal(err)
	}
	next(t, blocks, 5*time.Second, "the other daemon's event", func(b sse) bool {
		return b.event == dashboard.EventName && decodeEvent(t, b).Message == "paused by the other daemon"
	})
}
