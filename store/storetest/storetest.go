// Package storetest is the contract suite every quotad.Store implementation
// must pass unchanged. A store's own tests call Run with a function that
// opens a new, empty, migrated store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) quotad.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "q.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.WithRawExec(func(t *testing.T, s quotad.Store, sql string) {
//			if _, err := s.(*sqlite.Store).DB().ExecContext(t.Context(), sql); err != nil {
//				t.Fatal(err)
//			}
//		}))
//	}
//
// Run it with -race: the suite checks that concurrent Updates lose no update
// and that a View reads one consistent snapshot.
package storetest

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// Option configures Run.
type Option func(*config)

type config struct {
	rawExec func(t *testing.T, s quotad.Store, sql string)
}

// WithRawExec gives the suite a way to execute one raw SQL statement on the
// store's database outside any transaction, the way another program (the
// sqlite3 CLI, psql) would. The suite uses it to change channels.is_active
// behind the store's back, with statements such as
//
//	UPDATE channels SET is_active = TRUE WHERE name = 'RankRiot'
//
// (TRUE/FALSE rather than 1/0 so that the same text runs on SQLite and
// PostgreSQL). Subtests that need it are skipped when it is not given.
func WithRawExec(fn func(t *testing.T, s quotad.Store, sql string)) Option {
	return func(c *config) { c.rawExec = fn }
}

// env is what a subtest gets: a fresh store and the options.
type env struct {
	s   quotad.Store
	cfg config
}

type subtest struct {
	name string
	fn   func(t *testing.T, e *env)
}

type group struct {
	name  string
	tests []subtest
}

// Run runs the contract suite. open returns a new, empty, migrated store for
// each subtest; Run closes it.
func Run(t *testing.T, open func(t *testing.T) quotad.Store, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	groups := []group{
		{"API", apiTests},
		{"Channel", channelTests},
		{"Event", eventTests},
		{"Reservation", reservationTests},
		{"DueAt", dueAtTests},
		{"Tx", txTests},
		{"Concurrency", concurrencyTests},
		{"Job", jobTests},
		{"Usage", usageTests},
		{"Notification", notificationTests},
		{"Idempotency", idempotencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					st.fn(t, &env{s: s, cfg: cfg})
				})
			}
		})
	}
}

// update runs fn in s.Update and fails the test on error.
func update(t *testing.T, s quotad.Store, fn func(tx quotad.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test on error.
func view(t *testing.T, s quotad.Store, fn func(tx quotad.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// base is the suite's reference instant: not UTC, with nanoseconds, so that
// a round trip must keep the instant (to the millisecond) rather than the
// wall-clock text.
var base = time.Date(2026, 1, 11, 18, 30, 45, 123456789, time.FixedZone("PST", -8*60*60))

// at returns base + d.
func at(d time.Duration) time.Time { return base.Add(d) }

// normTime maps every zero time to time.Time{} and every other time to its
// instant in UTC rounded to the millisecond: the precision the contract
// promises.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(time.Millisecond).UTC()
}

func normStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

func normAPI(a quotad.API) quotad.API {
	a.Keywords = normStrings(a.Keywords)
	ws := a.Windows
	a.Windows = nil
	for _, w := range ws {
		w.LastReset, w.NextReset = normTime(w.LastReset), normTime(w.NextReset)
		w.ExhaustedAt, w.BlockedUntil = normTime(w.ExhaustedAt), normTime(w.BlockedUntil)
		a.Windows = append(a.Windows, w)
	}
	return a
}

func normChannel(c quotad.Channel) quotad.Channel {
	c.APIs = normStrings(c.APIs)
	ps := c.Pauses
	c.Pauses = nil
	for _, p := range ps {
		p.Since, p.Until = normTime(p.Since), normTime(p.Until)
		c.Pauses = append(c.Pauses, p)
	}
	return c
}

func normEvent(e quotad.Event) quotad.Event {
	e.Time = normTime(e.Time)
	if len(e.Fields) == 0 {
		e.Fields = nil
	}
	return e
}

func normReservation(r quotad.Reservation) quotad.Reservation {
	r.CreatedAt, r.ExpiresAt = normTime(r.CreatedAt), normTime(r.ExpiresAt)
	return r
}

// equal compares got and want after norm and reports a difference.
func equal[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

// equalList compares two lists element by element with equal.
func equalList[T any](t *testing.T, what string, got, want []T, norm func(T) T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d items, want %d:\n got  %+v\n want %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		equal(t, what+"["+strconv.Itoa(i)+"]", got[i], want[i], norm)
	}
}
