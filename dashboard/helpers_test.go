package dashboard_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/server"
	"github.com/quotad/quotad/store/sqlite"
)

const testToken = "dash-s3cret"

// testChannels: RankRiot needs groq and youtube, Shorts youtube, Footage pexels.
var testChannels = []quotad.Channel{
	{Name: "RankRiot", APIs: []string{"groq", "youtube"}, Priority: quotad.PriorityHigh},
	{Name: "Shorts", APIs: []string{"youtube"}},
	{Name: "Footage", APIs: []string{"pexels"}, Priority: quotad.PriorityLow},
}

// newEngine returns an engine over a temporary SQLite store with the default
// APIs (groq, youtube, pexels) and testChannels, on the real clock. Both are
// closed when the test ends.
func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	return newEngineAt(t, t.TempDir()+"/q.db")
}

// newEngineAt is newEngine on the SQLite file at path.
func newEngineAt(t testing.TB, path string) *engine.Engine {
	t.Helper()
	e, _ := newEngineStoreAt(t, path)
	return e
}

// newEngineStoreAt is newEngineAt that also returns the store, for tests
// that write to it as another program would.
func newEngineStoreAt(t testing.TB, path string) (*engine.Engine, quotad.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(st, engine.Options{Logger: quietLogger()})
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, testChannels); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		st.Close()
	})
	return e, st
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sse is one block of an event stream.
type sse struct {
	id, event, data string
	comments        []string
}

// readSSE parses the stream r into blocks on the returned channel, closed
// when the stream ends.
func readSSE(r io.Reader) <-chan sse {
	out := make(chan sse, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		var cur sse
		var data []string
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				cur.data = strings.Join(data, "\n")
				out <- cur
				cur, data = sse{}, nil
				continue
			}
			if c, ok := strings.CutPrefix(line, ":"); ok {
				cur.comments = append(cur.comments, strings.TrimSpace(c))
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				cur.id = value
			case "event":
				cur.event = value
			case "data":
				data = append(data, value)
			}
		}
	}()
	return out
}

// next returns the next block that satisfies ok, failing the test after d.
func next(t *testing.T, ch <-chan sse, d time.Duration, what string, ok func(sse) bool) sse {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case b, open := <-ch:
			if !open {
				t.Fatalf("stream ended while waiting for %s", what)
			}
			if ok(b) {
				return b
			}
		case <-timer.C:
			t.Fatalf("no %s within %s", what, d)
		}
	}
}

// get sends a GET with the given headers ("Name: value").
func get(t *testing.T, c *http.Client, url string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		if k == "Host" {
			req.Host = strings.TrimSpace(v)
			continue
		}
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mounted serves h at pattern on an API server with the given token and
// read protection, as cmd/quotad mounts the dashboard's read endpoints.
func mounted(t *testing.T, e *engine.Engine, token string, protectReads bool, pattern string, h http.Handler) *httptest.Server {
	t.Helper()
	srv := server.New(e, server.Options{Token: token, ProtectReads: protectReads, Logger: quietLogger()})
	srv.HandleRead(pattern, h)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}
