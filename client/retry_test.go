package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/client"
)

// breakAfter is a transport that delivers requests to the server but, for
// the first n POSTs, loses the answer as a connection broken mid-response
// would: the server applied the request, the client saw no answer.
type breakAfter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    int
	keys []string
}

func (b *breakAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if r.Method != http.MethodPost {
		return resp, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keys = append(b.keys, r.Header.Get(client.IdempotencyHeader))
	if b.n > 0 && err == nil {
		b.n--
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("read tcp: connection reset by peer")
	}
	return resp, err
}

func youtubeUsed(t *testing.T, f *fixture) int64 {
	t.Helper()
	a, err := f.eng.API(context.Background(), "youtube")
	if err != nil {
		t.Fatal(err)
	}
	return a.Windows[0].Used
}

// TestRetryCountsOnce: a spend whose answer is lost after the server
// committed it is retried with the same Idempotency-Key and counts once.
func TestRetryCountsOnce(t *testing.T) {
	f := newFixture(t)
	tr := &breakAfter{next: f.ts.Client().Transport, n: 2}
	c, err := client.New(f.ts.URL, client.WithToken(token), client.WithHTTPClient(&http.Client{Transport: tr}),
		client.WithRetries(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Spend(t.Context(), "youtube", 7, "Shorts")
	if err != nil {
		t.Fatalf("spend with two lost answers: %v", err)
	}
	if res.API != "youtube" {
		t.Fatalf("answer %+v", res)
	}
	if got := youtubeUsed(t, f); got != 7 {
		t.Fatalf("youtube used %d after one spend retried twice, want 7", got)
	}
	if len(tr.keys) != 3 || tr.keys[0] == "" || tr.keys[1] != tr.keys[0] || tr.keys[2] != tr.keys[0] {
		t.Fatalf("keys sent %q: want one key, the same on every attempt", tr.keys)
	}
	// A new call gets a new key.
	tr.n = 0
	if _, err := c.Spend(t.Context(), "youtube", 1, "Shorts"); err != nil {
		t.Fatal(err)
	}
	if tr.keys[3] == tr.keys[0] {
		t.Fatal("a second spend reused the first one's key")
	}
	if got := youtubeUsed(t, f); got != 8 {
		t.Fatalf("youtube used %d, want 8", got)
	}
	// Retries are bounded: an answer lost every time gives the error.
	tr.n = 100
	if _, err := c.Spend(t.Context(), "youtube", 1, "Shorts"); err == nil {
		t.Fatal("a spend whose answers were all lost succeeded")
	}
	if got := youtubeUsed(t, f); got != 9 {
		t.Fatalf("youtube used %d after one spend whose answers were all lost, want 9 (applied once)", got)
	}
}

// TestRetry503: a 503 with Retry-After is retried; other errors are not.
func TestRetry503(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	calls := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":"unavailable","message":"the store is unavailable"}}`)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, f.ts.URL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := f.ts.Client().Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer front.Close()
	c, _ := client.New(front.URL, client.WithToken(token), client.WithRetries(2, time.Millisecond))
	if _, err := c.Spend(t.Context(), "youtube", 3, "Shorts"); err != nil {
		t.Fatalf("spend after one 503: %v", err)
	}
	if calls != 2 {
		t.Fatalf("%d calls, want 2", calls)
	}
	_, err := c.Spend(t.Context(), "nope", 3, "")
	if !errors.Is(err, quotad.ErrUnknownAPI) || calls != 3 {
		t.Fatalf("unknown API: %v after %d calls; a 404 is not retried", err, calls)
	}
	c0, _ := client.New(front.URL, client.WithToken(token), client.WithRetries(0, 0))
	mu.Lock()
	calls = 0
	mu.Unlock()
	if _, err := c0.Spend(t.Context(), "youtube", 3, "Shorts"); !errors.Is(err, client.ErrUnavailable) || !errors.Is(err, quotad.ErrUnavailable) {
		t.Fatalf("503 without retries: %v, want ErrUnavailable", err)
	}
}
