package postgres_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
)

// waitChange waits up to d for a value on ch.
func waitChange(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// drain empties ch and reports whether it held a value.
func drain(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestChanges(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	defer a.Close()
	defer b.Close()
	var w postgres.Watcher = b // the optional interface
	ch := w.Changes()
	if !waitChange(ch, 5*time.Second) {
		t.Fatal("no value after the LISTEN connection came up")
	}

	// A write by another Store reaches b within a second.
	start := time.Now()
	api := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 10, Rule: "daily 00:00"}}}
	if err := a.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(api) }); err != nil {
		t.Fatal(err)
	}
	if !waitChange(ch, time.Second) {
		t.Fatal("no change announced within 1s of another store's Update")
	}
	t.Logf("change seen %v after the Update began", time.Since(start))

	// An Update that writes nothing, a rolled-back one and a View announce nothing.
	_ = a.Update(t.Context(), func(tx quotad.Tx) error { _, err := tx.APIs(); return err })
	_ = a.Update(t.Context(), func(tx quotad.Tx) error {
		if err := tx.SaveAPI(api); err != nil {
			return err
		}
		return errBoom
	})
	_ = a.View(t.Context(), func(tx quotad.Tx) error { _, err := tx.APIs(); return err })
	if waitChange(ch, 300*time.Millisecond) {
		t.Error("a change was announced for Updates that committed nothing")
	}

	// A store in another schema of the same database does not wake b.
	other := openT(t)
	defer other.Close()
	if err := other.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(api) }); err != nil {
		t.Fatal(err)
	}
	if waitChange(ch, 300*time.Millisecond) {
		t.Error("an Update in another schema woke this store")
	}

	// A person's edit of is_active in psql wakes it (a trigger announces it).
	drain(ch)
	c := quotad.Channel{Name: "RankRiot", APIs: []string{"groq"}, Pauses: []quotad.Pause{{Reason: quotad.ReasonManual, Since: time.Now()}}}
	if err := a.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveChannel(c) }); err != nil {
		t.Fatal(err)
	}
	waitChange(ch, time.Second)
	time.Sleep(2 * postgres.ChangesMinGap)
	drain(ch)
	pgtest.Exec(t, dsn, "UPDATE channels SET is_active = TRUE WHERE name = 'RankRiot'")
	if !waitChange(ch, time.Second) {
		t.Error("UPDATE channels SET is_active in psql did not wake the store")
	}

	// A person's NOTIFY with no payload wakes it.
	pgtest.Exec(t, dsn, "NOTIFY "+postgres.NotifyChannel)
	if !waitChange(ch, time.Second) {
		t.Error("NOTIFY quotad_changes from psql did not wake the store")
	}

	// The LISTEN connection comes back after the server drops it, and says
	// so (changes may have been missed meanwhile).
	pgtest.Exec(t, dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+postgres.ListenAppName(b.Scope())+"'")
	if !waitChange(ch, 5*time.Second) {
		t.Fatal("no value after the LISTEN connection was terminated and came back")
	}
	drain(ch)
	w2 := api
	w2.Windows[0].Used = 3
	if err := a.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveWindow("groq", w2.Windows[0]) }); err != nil {
		t.Fatal(err)
	}
	if !waitChange(ch, time.Second) {
		t.Error("no change announced after the LISTEN connection reconnected")
	}

	// A burst of commits wakes the consumer at most once per ChangesMinGap,
	// and the end of the burst is announced.
	drain(ch)
	burst := time.Now()
	for i := range 40 {
		w2.Windows[0].Used = int64(i)
		if err := a.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveWindow("groq", w2.Windows[0]) }); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(burst)
	wakes := 0
	for waitChange(ch, 2*postgres.ChangesMinGap+200*time.Millisecond) {
		wakes++
	}
	if limit := int(took/postgres.ChangesMinGap) + 3; wakes == 0 || wakes > limit {
		t.Errorf("40 commits in %v woke the consumer %d times, want 1 to %d", took, wakes, limit)
	}
	t.Logf("40 commits in %v: %d wakes", took, wakes)

	// Close stops the listener; Changes after Close does not restart it.
	b.Close()
	_ = b.Changes()
}
