package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var reservationTests = []subtest{
	{"RoundTrip", testReservationRoundTrip},
	{"Expired", testReservationsExpired},
}

var dueAtTests = []subtest{
	{"Empty", testDueAtEmpty},
	{"Minimum", testDueAtMinimum},
}

func saveReservations(t *testing.T, s quotad.Store, rs ...quotad.Reservation) {
	t.Helper()
	update(t, s, func(tx quotad.Tx) error {
		for _, r := range rs {
			if err := tx.SaveReservation(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func readReservation(t *testing.T, s quotad.Store, id string) (quotad.Reservation, error) {
	t.Helper()
	var r quotad.Reservation
	var rerr error
	view(t, s, func(tx quotad.Tx) error { r, rerr = tx.Reservation(id); return nil })
	return r, rerr
}

func testReservationRoundTrip(t *testing.T, e *env) {
	r1 := quotad.Reservation{ID: "res-1", API: "groq", Channel: "RankRiot", Units: 500, CreatedAt: base, ExpiresAt: at(5 * time.Minute)}
	r2 := quotad.Reservation{ID: "res-2", API: "youtube", Units: 1600, CreatedAt: at(time.Second)}
	saveReservations(t, e.s, r1, r2)
	for _, want := range []quotad.Reservation{r1, r2} {
		got, err := readReservation(t, e.s, want.ID)
		if err != nil {
			t.Fatalf("Reservation(%s): %v", want.ID, err)
		}
		equal(t, "Reservation("+want.ID+")", got, want, normReservation)
	}

	// Replace.
	r1.Units, r1.ExpiresAt, r1.Channel = 700, at(10*time.Minute), "Calm"
	saveReservations(t, e.s, r1)
	got, err := readReservation(t, e.s, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replaced reservation", got, r1, normReservation)

	// Delete, and delete again.
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.DeleteReservation("res-2"); err != nil {
			return err
		}
		return tx.DeleteReservation("res-2")
	})
	if _, err := readReservation(t, e.s, "res-2"); !errors.Is(err, quotad.ErrUnknownReservation) {
		t.Errorf("Reservation of a deleted one: err = %v, want ErrUnknownReservation", err)
	}
	if _, err := readReservation(t, e.s, "never"); !errors.Is(err, quotad.ErrUnknownReservation) {
		t.Errorf("Reservation(never): err = %v, want ErrUnknownReservation", err)
	}
	if _, err := readReservation(t, e.s, "res-1"); err != nil {
		t.Errorf("the other reservation: %v", err)
	}
}

func testReservationsExpired(t *testing.T, e *env) {
	saveReservations(t, e.s,
		quotad.Reservation{ID: "c", API: "groq", Units: 3, CreatedAt: base, ExpiresAt: at(3 * time.Minute)},
		quotad.Reservation{ID: "a", API: "groq", Units: 1, CreatedAt: base, ExpiresAt: at(time.Minute)},
		quotad.Reservation{ID: "b", API: "groq", Units: 2, CreatedAt: base, ExpiresAt: at(2 * time.Minute)},
		quotad.Reservation{ID: "never", API: "groq", Units: 4, CreatedAt: base}, // no expiry
	)
	expired := func(now time.Time) string {
		var list []quotad.Reservation
		view(t, e.s, func(tx quotad.Tx) (err error) { list, err = tx.ExpiredReservations(now); return err })
		ids := []string{}
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return strings.Join(ids, ",")
	}
	cases := []struct {
		now  time.Time
		want string
	}{
		{base, ""},
		{at(time.Minute - time.Millisecond), ""},
		{at(time.Minute), "a"}, // ExpiresAt <= now
		{at(2 * time.Minute), "a,b"},
		{at(time.Hour), "a,b,c"},
		{at(24 * time.Hour).In(time.UTC), "a,b,c"},
	}
	for _, c := range cases {
		if got := expired(c.now); got != c.want {
			t.Errorf("ExpiredReservations(base+%v) = [%s], want [%s]", c.now.Sub(base), got, c.want)
		}
	}
}

func dueAt(t *testing.T, s quotad.Store) time.Time {
	t.Helper()
	var d time.Time
	view(t, s, func(tx quotad.Tx) (err error) { d, err = tx.DueAt(); return err })
	return d
}

func testDueAtEmpty(t *testing.T, e *env) {
	if d := dueAt(t, e.s); !d.IsZero() {
		t.Errorf("DueAt of an empty store = %v, want zero", d)
	}
	// Things with no time set are not due.
	saveAPIs(t, e.s, pexelsAPI())
	saveChannels(t, e.s, calm(), quotad.Channel{Name: "M", Pauses: []quotad.Pause{{Reason: quotad.ReasonManual, Since: base}}})
	saveReservations(t, e.s, quotad.Reservation{ID: "r", API: "pexels", Units: 1, CreatedAt: base})
	if d := dueAt(t, e.s); !d.IsZero() {
		t.Errorf("DueAt with nothing timed = %v, want zero", d)
	}
}

func testDueAtMinimum(t *testing.T, e *env) {
	check := func(what string, want time.Time) {
		t.Helper()
		if got := dueAt(t, e.s); !normTime(got).Equal(normTime(want)) {
			t.Errorf("DueAt %s = %v, want %v", what, got, want)
		}
	}
	a := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{
		// Exhausted until a provider-stated time before its reset.
		{Name: "minute", Limit: 10, Used: 10, NextReset: at(time.Minute), Exhausted: true, BlockedUntil: at(42 * time.Second)},
		// Not exhausted: its stale blocked_until does not count.
		{Name: "daily", Limit: 100, NextReset: at(5 * time.Hour), BlockedUntil: at(time.Second)},
	}}
	saveAPIs(t, e.s, a)
	check("with an exhausted window blocked until +42s", at(42*time.Second))

	w := a.Windows[0]
	w.Exhausted, w.Used = false, 0
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveWindow("groq", w) })
	check("once no window is exhausted (next_reset)", at(time.Minute))

	c := quotad.Channel{Name: "RankRiot", Pauses: []quotad.Pause{
		{Reason: quotad.ReasonManual, Since: base},
		{Reason: quotad.ReasonChannelLimit, Since: base, Until: at(30 * time.Second)},
	}}
	saveChannels(t, e.s, c)
	check("with a pause until +30s", at(30*time.Second))

	saveReservations(t, e.s, quotad.Reservation{ID: "r", API: "groq", Units: 1, CreatedAt: base, ExpiresAt: at(10 * time.Second)})
	check("with a reservation expiring at +10s", at(10*time.Second))

	update(t, e.s, func(tx quotad.Tx) error { return tx.DeleteReservation("r") })
	check("after deleting the reservation", at(30*time.Second))
	update(t, e.s, func(tx quotad.Tx) error { return tx.DeleteChannel("RankRiot") })
	check("after deleting the channel", at(time.Minute))
	update(t, e.s, func(tx quotad.Tx) error { return tx.DeleteAPI("groq") })
	check("after deleting the API", time.Time{})
}
