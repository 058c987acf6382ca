package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var txTests = []subtest{
	{"Ping", testPing},
	{"Rollback", testRollback},
	{"ViewRejectsWrites", testViewRejectsWrites},
	{"ViewReturnsError", testViewReturnsError},
	{"CanceledContext", testCanceledContext},
}

var errBoom = errors.New("boom")

func testPing(t *testing.T, e *env) {
	if err := e.s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// state is everything the suite can read back, to compare before and after.
type state struct {
	APIs     []quotad.API
	Channels []quotad.Channel
	Events   []quotad.Event
	Res      []quotad.Reservation
	Due      time.Time
	Jobs     []quotad.JobState
	Usage    []quotad.UsageBucket
	Notes    []quotad.Notification
}

func readState(t *testing.T, s quotad.Store) state {
	t.Helper()
	var st state
	view(t, s, func(tx quotad.Tx) (err error) {
		if st.APIs, err = tx.APIs(); err != nil {
			return err
		}
		if st.Channels, err = tx.Channels(); err != nil {
			return err
		}
		if st.Events, err = tx.Events(quotad.EventFilter{Limit: 1000}); err != nil {
			return err
		}
		if st.Res, err = tx.ExpiredReservations(at(1000 * time.Hour)); err != nil {
			return err
		}
		if st.Jobs, err = tx.JobStates(); err != nil {
			return err
		}
		if st.Usage, err = tx.Usage(quotad.UsageFilter{}); err != nil {
			return err
		}
		if st.Notes, err = tx.Notifications(1000); err != nil {
			return err
		}
		st.Due, err = tx.DueAt()
		return err
	})
	return st
}

func normJob(j quotad.JobState) quotad.JobState {
	j.NextRun, j.LastStart, j.LastEnd, j.LeaseUntil = normTime(j.NextRun), normTime(j.LastStart), normTime(j.LastEnd), normTime(j.LeaseUntil)
	return j
}

func normUsage(b quotad.UsageBucket) quotad.UsageBucket {
	b.Start = normTime(b.Start)
	return b
}

func normNotification(n quotad.Notification) quotad.Notification {
	n.NextAttempt, n.CreatedAt = normTime(n.NextAttempt), normTime(n.CreatedAt)
	return n
}

func equalState(t *testing.T, what string, got, want state) {
	t.Helper()
	equalList(t, what+": APIs", got.APIs, want.APIs, normAPI)
	equalList(t, what+": channels", got.Channels, want.Channels, normChannel)
	equalList(t, what+": events", got.Events, want.Events, normEvent)
	equalList(t, what+": reservations", got.Res, want.Res, normReservation)
	equal(t, what+": DueAt", got.Due, want.Due, normTime)
	equalList(t, what+": job states", got.Jobs, want.Jobs, normJob)
	equalList(t, what+": usage", got.Usage, want.Usage, normUsage)
	equalList(t, what+": notifications", got.Notes, want.Notes, normNotification)
}

// seed writes one of everything.
func seed(t *testing.T, s quotad.Store) {
	t.Helper()
	saveAPIs(t, s, groqAPI(), youtubeAPI())
	saveChannels(t, s, rankRiot(), calm())
	appendEvents(t, s, quotad.Event{Time: base, Level: quotad.LevelInfo, Category: quotad.CategoryConfig, Message: "seeded"})
	saveReservations(t, s, quotad.Reservation{ID: "r1", API: "groq", Channel: "Calm", Units: 9, CreatedAt: base, ExpiresAt: at(time.Hour)})
	update(t, s, func(tx quotad.Tx) error {
		if err := tx.SaveJobState(quotad.JobState{Channel: "Calm", NextRun: at(time.Hour), Runs: 1}); err != nil {
			return err
		}
		if err := tx.AddUsage(quotad.UsageBucket{API: "groq", Channel: "Calm", Start: base.Truncate(time.Minute),
			Resolution: quotad.Minute, Units: 9, Count: 1}); err != nil {
			return err
		}
		if err := tx.EnqueueNotifications(quotad.Notification{Notifier: "slack", Key: "seeded", Kind: "exhausted",
			Payload: `{"api":"groq"}`, State: quotad.NotifyPending, CreatedAt: base}); err != nil {
			return err
		}
		_, err := tx.Once("seeded", base)
		return err
	})
}

// write is one call of a write method of Tx.
type write struct {
	name string
	fn   func(tx quotad.Tx) error
}

// writes calls every write method of Tx, changing every table.
func writes() []write {
	w := groqAPI().Windows[1]
	w.Used = 99999
	c := calm()
	c.Pauses = []quotad.Pause{{Reason: quotad.ReasonManual, Since: base}}
	return []write{
		{"SaveAPI", func(tx quotad.Tx) error { return tx.SaveAPI(pexelsAPI()) }},
		{"SaveWindow", func(tx quotad.Tx) error { return tx.SaveWindow("groq", w) }},
		{"DeleteAPI", func(tx quotad.Tx) error { return tx.DeleteAPI("youtube") }},
		{"SaveChannel", func(tx quotad.Tx) error { return tx.SaveChannel(c) }},
		{"DeleteChannel", func(tx quotad.Tx) error { return tx.DeleteChannel("RankRiot") }},
		{"AppendEvents", func(tx quotad.Tx) error {
			return tx.AppendEvents(quotad.Event{Time: base, Level: quotad.LevelInfo, Category: quotad.CategoryJob, Message: "x"})
		}},
		{"SaveReservation", func(tx quotad.Tx) error {
			return tx.SaveReservation(quotad.Reservation{ID: "r2", API: "groq", Units: 1, CreatedAt: base, ExpiresAt: at(time.Second)})
		}},
		{"DeleteReservation", func(tx quotad.Tx) error { return tx.DeleteReservation("r1") }},
		{"SaveJobState", func(tx quotad.Tx) error {
			return tx.SaveJobState(quotad.JobState{Channel: "Calm", Runs: 2, Holder: "me", LeaseUntil: at(time.Minute)})
		}},
		{"AddUsage", func(tx quotad.Tx) error {
			return tx.AddUsage(quotad.UsageBucket{API: "groq", Channel: "Calm", Start: base.Truncate(time.Minute),
				Resolution: quotad.Minute, Units: 1, Count: 1})
		}},
		{"RollupUsage", func(tx quotad.Tx) error { _, err := tx.RollupUsage(at(24 * time.Hour)); return err }},
		{"PruneUsage", func(tx quotad.Tx) error { _, err := tx.PruneUsage(at(48 * time.Hour)); return err }},
		{"EnqueueNotifications", func(tx quotad.Tx) error {
			return tx.EnqueueNotifications(quotad.Notification{Notifier: "slack", Key: "new", State: quotad.NotifyPending, CreatedAt: base})
		}},
		{"SaveNotification", func(tx quotad.Tx) error {
			list, err := tx.Notifications(1)
			if err != nil || len(list) == 0 {
				return fmt.Errorf("no notification to save: %v", err)
			}
			n := list[0]
			n.State, n.Attempts, n.LastError = quotad.NotifySent, 1, ""
			return tx.SaveNotification(n)
		}},
		{"Once", func(tx quotad.Tx) error {
			if _, err := tx.Once("fresh", base); err != nil {
				return err
			}
			fresh, err := tx.Once("fresh", base)
			if err == nil && fresh {
				return errors.New("Once reported the same key new twice in one transaction")
			}
			return err
		}},
	}
}

func testRollback(t *testing.T, e *env) {
	seed(t, e.s)
	before := readState(t, e.s)
	err := e.s.Update(t.Context(), func(tx quotad.Tx) error {
		for _, w := range writes() {
			if err := w.fn(tx); err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
		}
		// Writes are visible inside the transaction...
		if _, err := tx.API("youtube"); !errors.Is(err, quotad.ErrUnknownAPI) {
			t.Errorf("deleted API visible in its own transaction: %v", err)
		}
		if a, err := tx.API("groq"); err != nil || a.Windows[1].Used != 99999 {
			t.Errorf("SaveWindow not visible in its own transaction: %+v, %v", a, err)
		}
		return fmt.Errorf("fn failed: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want fn's error (errors.Is errBoom)", err)
	}
	// ...and none of them outlive the rollback.
	equalState(t, "after a rolled-back Update", readState(t, e.s), before)

	// A panic rolls back too, and the store stays usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("panic in fn did not propagate")
			}
		}()
		_ = e.s.Update(t.Context(), func(tx quotad.Tx) error {
			for _, w := range writes() {
				_ = w.fn(tx)
			}
			panic("fn panicked")
		})
	}()
	equalState(t, "after a panicking Update", readState(t, e.s), before)
	update(t, e.s, func(tx quotad.Tx) error {
		// The rolled-back Once keys are new again; the committed one is not.
		if fresh, err := tx.Once("fresh", base); err != nil || !fresh {
			t.Errorf("Once(fresh) after rollbacks = %v, %v; want true", fresh, err)
		}
		if fresh, err := tx.Once("seeded", base); err != nil || fresh {
			t.Errorf("Once(seeded) = %v, %v; want false", fresh, err)
		}
		return tx.DeleteReservation("r1")
	})
}

func testViewRejectsWrites(t *testing.T, e *env) {
	seed(t, e.s)
	before := readState(t, e.s)
	view(t, e.s, func(tx quotad.Tx) error {
		for _, w := range writes() {
			if err := w.fn(tx); err == nil {
				t.Errorf("%s inside View succeeded", w.name)
			}
		}
		return nil
	})
	equalState(t, "after writes inside View", readState(t, e.s), before)
}

func testViewReturnsError(t *testing.T, e *env) {
	err := e.s.View(t.Context(), func(tx quotad.Tx) error { return errBoom })
	if !errors.Is(err, errBoom) {
		t.Errorf("View returned %v, want fn's error", err)
	}
}

func testCanceledContext(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := e.s.Update(ctx, func(tx quotad.Tx) error { return tx.SaveAPI(groqAPI()) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: err = %v, want context.Canceled", err)
	}
	if got := readAPIs(t, e.s); len(got) != 0 {
		t.Errorf("Update with a canceled context wrote %+v", got)
	}
}
