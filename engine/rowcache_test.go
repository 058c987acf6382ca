package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// The engine keeps the rows it committed in memory between transactions;
// writes it did not make — an UPDATE on its own store's handle, another
// process (another Store on the same file) — must still be seen by the very
// next operation.
func TestEngineSeesWritesItDidNotMake(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/quotad.db"
	open := func() (*sqlite.Store, *engine.Engine) {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		e := engine.New(st, engine.Options{Clock: clock.NewFake(time.Date(2026, 1, 11, 9, 0, 0, 0, la)), Location: la})
		t.Cleanup(func() { e.Close(); st.Close() })
		return st, e
	}
	st, e := open()
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, []quotad.Channel{{Name: "A", APIs: []string{"groq"}, Priority: quotad.PriorityNormal}}); err != nil {
		t.Fatal(err)
	}
	used := func(r engine.SpendResult) int64 { return r.Windows[0].Used }
	spend := func(e *engine.Engine, units int64) engine.SpendResult {
		t.Helper()
		r, err := e.Spend(ctx, "groq", units, "A")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := spend(e, 10); used(r) != 10 {
		t.Fatalf("used %d", used(r))
	}
	// The same process, bypassing the engine (the writer connection).
	if _, err := st.DB().Exec("UPDATE api_quotas SET quota_used = 5000 WHERE api_name = 'groq'"); err != nil {
		t.Fatal(err)
	}
	if r := spend(e, 1); used(r) != 5001 {
		t.Fatalf("after an UPDATE through the store's handle: used %d, want 5001", used(r))
	}
	// Another process: a second Store and engine on the same file.
	_, other := open()
	if r := spend(other, 100); used(r) != 5101 {
		t.Fatalf("second engine: used %d, want 5101", used(r))
	}
	if r := spend(e, 1); used(r) != 5102 {
		t.Fatalf("after another engine's spend: used %d, want 5102", used(r))
	}
	// A pause made elsewhere holds here at once.
	if _, err := other.Pause(ctx, "A", "by another process"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Resume(ctx, "A")
	if err != nil || len(r.Resumed) != 1 {
		t.Fatalf("resume of a channel another process paused: %+v %v", r, err)
	}
	// And the engine's own writes are read back as they were committed.
	for range 3 {
		spend(e, 1)
	}
	if r := spend(other, 1); used(r) != 5106 {
		t.Fatalf("other engine: used %d, want 5106", used(r))
	}
}
