package postgres_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/sqlite"
)

var t0 = time.Date(2026, 1, 11, 18, 30, 45, 123456000, time.UTC)

// snapshot is everything a store can list through the Tx interface.
type snapshot struct {
	APIs          []quotad.API
	Channels      []quotad.Channel
	Events        []quotad.Event
	Reservations  []quotad.Reservation
	Jobs          []quotad.JobState
	Usage         []quotad.UsageBucket
	Notifications []quotad.Notification
}

func readSnapshot(t *testing.T, s quotad.Store) snapshot {
	t.Helper()
	var sn snapshot
	err := s.View(t.Context(), func(tx quotad.Tx) (err error) {
		if sn.APIs, err = tx.APIs(); err != nil {
			return err
		}
		if sn.Channels, err = tx.Channels(); err != nil {
			return err
		}
		if sn.Events, err = tx.Events(quotad.EventFilter{Limit: 1 << 20}); err != nil {
			return err
		}
		if sn.Reservations, err = tx.ExpiredReservations(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		if sn.Jobs, err = tx.JobStates(); err != nil {
			return err
		}
		if sn.Usage, err = tx.Usage(quotad.UsageFilter{}); err != nil {
			return err
		}
		sn.Notifications, err = tx.Notifications(1 << 20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// fillSQLite writes some of everything, with event ID gaps, an outside edit
// of is_active and a sent notification.
func fillSQLite(t *testing.T, s *sqlite.Store) {
	t.Helper()
	err := s.Update(t.Context(), func(tx quotad.Tx) error {
		apis := []quotad.API{
			{Name: "youtube", Unit: "units", Keywords: []string{"youtube", "google"}, AutoResume: false,
				Windows: []quotad.Window{{Name: "daily", Limit: 10000, Rule: "daily 00:00", Used: 10000, Reserved: 50,
					LastReset: t0.Add(-time.Hour), NextReset: t0.Add(5 * time.Hour), Exhausted: true, ExhaustedAt: t0}}},
			{Name: "groq", Unit: "tokens", Keywords: []string{"groq"}, AutoResume: true,
				Windows: []quotad.Window{
					{Name: "minute", Limit: 6000, Rule: "every 1m", Used: 12, NextReset: t0.Add(time.Minute), BlockedUntil: t0.Add(7 * time.Second)},
					{Name: "daily", Limit: 100000, Rule: "daily 00:00", Used: 12, NextReset: t0.Add(5 * time.Hour)},
				}},
		}
		for _, a := range apis {
			if err := tx.SaveAPI(a); err != nil {
				return err
			}
		}
		for _, c := range []quotad.Channel{
			{Name: "RankRiot", Priority: quotad.PriorityHigh, APIs: []string{"youtube", "groq"}, ConsecutiveErrors: 3,
				Pauses: []quotad.Pause{{Reason: quotad.ReasonOf("quota:youtube"), Since: t0, Detail: "limit reached"}, {Reason: quotad.ReasonManual, Since: t0.Add(time.Second), Detail: "vacation"}}},
			{Name: "Calm", Priority: quotad.PriorityLow, APIs: []string{"groq"}},
		} {
			if err := tx.SaveChannel(c); err != nil {
				return err
			}
		}
		var evs []quotad.Event
		for i := range 30 {
			evs = append(evs, quotad.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Level: quotad.LevelInfo,
				Channel: []string{"", "Calm"}[i%2], Category: quotad.CategoryJob, Message: fmt.Sprintf("m%02d", i),
				Fields: map[string]string{"i": fmt.Sprint(i)}})
		}
		if err := tx.AppendEvents(evs...); err != nil {
			return err
		}
		for _, r := range []quotad.Reservation{
			{ID: "r1", API: "youtube", Channel: "RankRiot", Units: 50, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)},
			{ID: "r2", API: "groq", Units: 1, CreatedAt: t0}, // no expiry: only the raw read finds it
		} {
			if err := tx.SaveReservation(r); err != nil {
				return err
			}
		}
		if err := tx.SaveJobState(quotad.JobState{Channel: "Calm", NextRun: t0.Add(time.Hour), LastStart: t0, LastEnd: t0.Add(time.Minute),
			LastResult: quotad.JobOK, Runs: 4}); err != nil {
			return err
		}
		if err := tx.AddUsage(quotad.UsageBucket{API: "groq", Channel: "Calm", Start: t0.Truncate(time.Minute), Resolution: quotad.Minute, Units: 12, Count: 2},
			quotad.UsageBucket{API: "youtube", Start: t0.Truncate(time.Hour), Resolution: quotad.Hour, Units: 10000, Count: 7}); err != nil {
			return err
		}
		if err := tx.EnqueueNotifications(
			quotad.Notification{Notifier: "slack", Key: "k1", Kind: "exhausted", Payload: `{"api": "youtube"}`, NextAttempt: t0, CreatedAt: t0},
			quotad.Notification{Notifier: "slack", Key: "k2", Kind: "reset", Payload: `{}`, NextAttempt: t0, CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.SaveNotification(quotad.Notification{ID: 1, State: quotad.NotifySent, Attempts: 2, NextAttempt: t0, LastError: "x"}); err != nil {
			return err
		}
		_, err := tx.Once("forecast/groq/daily/1", t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// ID gaps, and the seed's outside edit of is_active.
	for _, q := range []string{"DELETE FROM logs WHERE id IN (3, 4, 17)", "UPDATE channels SET is_active = 1 WHERE name = 'RankRiot'"} {
		if _, err := s.DB().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCopyFromSQLite(t *testing.T) {
	src, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "quotad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fillSQLite(t, src)
	dst := openT(t)
	defer dst.Close()

	extra := postgres.CopyOptions{
		Reservations: []quotad.Reservation{{ID: "r2", API: "groq", Units: 1, CreatedAt: t0}},
		OnceKeys:     map[string]time.Time{"forecast/groq/daily/1": t0},
	}
	n, err := dst.CopyFrom(t.Context(), src, extra)
	if err != nil {
		t.Fatal(err)
	}
	want := postgres.CopyCounts{APIs: 2, Windows: 3, Channels: 2, Pauses: 2, Events: 27, Reservations: 2, JobStates: 1, UsageBuckets: 2, Notifications: 2, OnceKeys: 1}
	if n != want {
		t.Errorf("counts = %+v, want %+v", n, want)
	}
	from, to := readSnapshot(t, src), readSnapshot(t, dst)
	if !reflect.DeepEqual(from, to) {
		t.Errorf("copy differs:\n from %+v\n to   %+v", from, to)
	}
	if len(to.Channels) != 2 || !to.Channels[1].StoredActive || to.Channels[1].Active() {
		t.Errorf("the outside edit of is_active was not kept: %+v", to.Channels)
	}
	err = dst.View(t.Context(), func(tx quotad.Tx) error {
		r, err := tx.Reservation("r2")
		if err != nil || r.Units != 1 {
			t.Errorf("reservation without expiry: %+v, %v", r, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// New rows continue after the copied IDs; the one-shot key is known.
	err = dst.Update(t.Context(), func(tx quotad.Tx) error {
		if err := tx.AppendEvents(quotad.Event{Time: t0, Level: quotad.LevelInfo, Category: "x", Message: "after"}); err != nil {
			return err
		}
		if err := tx.EnqueueNotifications(quotad.Notification{Notifier: "slack", Key: "k3", CreatedAt: t0}); err != nil {
			return err
		}
		if fresh, err := tx.Once("forecast/groq/daily/1", t0); err != nil || fresh {
			t.Errorf("Once of a copied key = %v, %v; want false", fresh, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := readSnapshot(t, dst)
	if got, last := after.Events[0].ID, from.Events[0].ID; got <= last {
		t.Errorf("new event ID %d, want above the copied %d", got, last)
	}
	if got := after.Notifications[0].ID; got != 3 {
		t.Errorf("new notification ID %d, want 3", got)
	}

	// A second copy is refused without Force and replaces everything with it.
	if _, err := dst.CopyFrom(t.Context(), src, extra); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Errorf("second copy without Force: %v, want ErrNotEmpty", err)
	}
	extra.Force = true
	if _, err := dst.CopyFrom(t.Context(), src, extra); err != nil {
		t.Fatalf("copy with Force: %v", err)
	}
	if again := readSnapshot(t, dst); !reflect.DeepEqual(from, again) {
		t.Errorf("forced copy differs:\n from %+v\n to   %+v", from, again)
	}
	// Copying a store onto itself is refused (it would wait for itself).
	if _, err := dst.CopyFrom(t.Context(), dst, extra); !errors.Is(err, quotad.ErrInvalid) {
		t.Errorf("copy onto itself: %v, want ErrInvalid", err)
	}
}
