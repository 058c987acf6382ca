package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// gateStore holds every Update at a gate while it is closed, as a table
// locked by another session would.
type gateStore struct {
	quotad.Store
	entered chan struct{} // a value each time an Update waits at the closed gate
	gate    chan struct{} // closed: Updates pass
}

func (g *gateStore) Update(ctx context.Context, fn func(quotad.Tx) error) error {
	select {
	case <-g.gate:
	default:
		g.entered <- struct{}{}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Store.Update(ctx, fn)
}

func newGated(t *testing.T, timeout time.Duration) (*engine.Engine, *gateStore) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	g := &gateStore{Store: st, entered: make(chan struct{}, 16), gate: make(chan struct{})}
	close(g.gate)
	e := engine.New(g, engine.Options{StoreTimeout: timeout})
	t.Cleanup(func() { e.Close(); st.Close() })
	api := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 1000, Rule: "daily 00:00 UTC"}}}
	if _, err := e.Configure(context.Background(), []quotad.API{api}, nil); err != nil {
		t.Fatal(err)
	}
	g.gate = make(chan struct{}) // closed from now on until the test opens it
	return e, g
}

func used(t *testing.T, e *engine.Engine) int64 {
	t.Helper()
	a, err := e.API(context.Background(), "groq")
	if err != nil {
		t.Fatal(err)
	}
	return a.Windows[0].Used
}

// TestCallerDeadlineHonoured: a caller whose deadline passes while its
// operation waits for the store gets its error at once; an operation still
// queued then is never applied, one already in a transaction may be.
func TestCallerDeadlineHonoured(t *testing.T) {
	e, g := newGated(t, time.Minute)
	// A's operation enters a transaction that waits at the gate.
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { _, err := e.Spend(ctxA, "groq", 1, ""); errA <- err }()
	<-g.entered
	// B's operation is queued behind it.
	ctxB, cancelB := context.WithCancel(context.Background())
	errB := make(chan error, 1)
	go func() { _, err := e.Spend(ctxB, "groq", 10, ""); errB <- err }()
	cancelB()
	if err := <-errB; !errors.Is(err, context.Canceled) {
		t.Fatalf("B: %v, want its cancellation at once", err)
	}
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Fatalf("A: %v, want its cancellation at once although its transaction runs", err)
	}
	close(g.gate)
	if _, err := e.Spend(context.Background(), "groq", 100, ""); err != nil {
		t.Fatal(err)
	}
	// A ran (its answer was discarded), B never did.
	if got := used(t, e); got != 101 {
		t.Fatalf("used %d, want 101: the queued operation whose caller left must not be applied", got)
	}
}

// TestStoreTimeoutBounds: with no deadline of its own, a caller waits at
// most the engine's StoreTimeout and gets quotad.ErrUnavailable; the store
// is then reported unhealthy until a write succeeds.
func TestStoreTimeoutBounds(t *testing.T) {
	e, g := newGated(t, 200*time.Millisecond)
	start := time.Now()
	_, err := e.Spend(context.Background(), "groq", 1, "")
	if !errors.Is(err, quotad.ErrUnavailable) {
		t.Fatalf("spend while the store hangs: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("spend waited %v with a 200ms StoreTimeout", took)
	}
	t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
	// Readiness's probe write fails while the store hangs, and the last
	// write is reported failed.
	if err := e.CheckWrites(context.Background()); !errors.Is(err, quotad.ErrUnavailable) {
		t.Fatalf("CheckWrites while the store hangs: %v", err)
	}
	if e.WriteHealth() == nil {
		t.Fatal("WriteHealth is nil after failed writes")
	}
	close(g.gate)
	if err := e.CheckWrites(context.Background()); err != nil {
		t.Fatalf("CheckWrites once the store is back: %v", err)
	}
	if err := e.WriteHealth(); err != nil {
		t.Fatalf("WriteHealth after a successful write: %v", err)
	}
}
