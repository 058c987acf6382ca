package storetest

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var jobTests = []subtest{{"RoundTrip", testJobRoundTrip}, {"ReserveFallbacksBudgets", testNeedsRoundTrip}}

var usageTests = []subtest{{"AddRollupPrune", testUsage}}

var notificationTests = []subtest{{"OutboxAndOnce", testOutbox}, {"Counts", testNotificationCounts}}

var t0 = time.Date(2026, 1, 11, 18, 30, 0, 0, time.UTC)

func testJobRoundTrip(t *testing.T, e *env) {
	var got quotad.JobState
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		got, err = tx.JobState("RankRiot")
		return err
	})
	if got != (quotad.JobState{Channel: "RankRiot"}) {
		t.Fatalf("missing job state = %+v, want an empty record", got)
	}
	want := quotad.JobState{Channel: "RankRiot", NextRun: t0.Add(time.Hour), LastStart: t0, LastEnd: t0.Add(time.Minute),
		LastResult: quotad.JobQuota, LastDetail: "groq 429", Runs: 7, Holder: "host:1", LeaseUntil: t0.Add(2 * time.Minute)}
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveJobState(want); err != nil {
			return err
		}
		return tx.SaveJobState(quotad.JobState{Channel: "Another"})
	})
	var list []quotad.JobState
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		if got, err = tx.JobState("RankRiot"); err != nil {
			return err
		}
		list, err = tx.JobStates()
		return err
	})
	if !got.NextRun.Equal(want.NextRun) || !got.LeaseUntil.Equal(want.LeaseUntil) || got.Runs != 7 || got.Holder != "host:1" || got.LastResult != quotad.JobQuota || got.LastDetail != "groq 429" {
		t.Fatalf("round trip: got %+v, want %+v", got, want)
	}
	if len(list) != 2 || list[0].Channel != "Another" || list[1].Channel != "RankRiot" {
		t.Fatalf("JobStates = %+v", list)
	}
	// Releasing the lease clears the holder.
	want.Holder, want.LeaseUntil = "", time.Time{}
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveJobState(want) })
	view(t, e.s, func(tx quotad.Tx) error { var err error; got, err = tx.JobState("RankRiot"); return err })
	if got.Holder != "" || !got.LeaseUntil.IsZero() {
		t.Fatalf("after release: %+v", got)
	}
}

func testUsage(t *testing.T, e *env) {
	m := func(api, ch string, minute int, units int64) quotad.UsageBucket {
		return quotad.UsageBucket{API: api, Channel: ch, Start: t0.Truncate(time.Hour).Add(time.Duration(minute) * time.Minute), Resolution: quotad.Minute, Units: units, Count: 1}
	}
	update(t, e.s, func(tx quotad.Tx) error {
		return tx.AddUsage(m("groq", "A", 0, 100), m("groq", "A", 0, 50), m("groq", "A", 59, 10), m("groq", "", 61, 5), m("youtube", "A", 1, 7))
	})
	var got []quotad.UsageBucket
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		got, err = tx.Usage(quotad.UsageFilter{API: "groq", Channel: "A"})
		return err
	})
	if len(got) != 2 || got[0].Units != 150 || got[0].Count != 2 || got[1].Units != 10 {
		t.Fatalf("minute buckets = %+v", got)
	}
	// Fold everything before the second hour into hours.
	var folded, pruned int
	update(t, e.s, func(tx quotad.Tx) error {
		var err error
		folded, err = tx.RollupUsage(t0.Truncate(time.Hour).Add(time.Hour))
		return err
	})
	if folded != 3 {
		t.Fatalf("folded %d minute buckets, want 3", folded)
	}
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		got, err = tx.Usage(quotad.UsageFilter{Resolution: quotad.Hour})
		return err
	})
	if len(got) != 2 || got[0].API != "groq" || got[0].Units != 160 || got[0].Count != 3 || !got[0].Start.Equal(t0.Truncate(time.Hour)) || got[1].API != "youtube" {
		t.Fatalf("hour buckets = %+v", got)
	}
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		got, err = tx.Usage(quotad.UsageFilter{Resolution: quotad.Minute})
		return err
	})
	if len(got) != 1 || got[0].Channel != "" || got[0].Units != 5 {
		t.Fatalf("minute buckets left = %+v", got)
	}
	update(t, e.s, func(tx quotad.Tx) error {
		var err error
		pruned, err = tx.PruneUsage(t0.Add(24 * time.Hour))
		return err
	})
	if pruned != 2 {
		t.Fatalf("pruned %d hour buckets, want 2", pruned)
	}
}

func testOutbox(t *testing.T, e *env) {
	n := quotad.Notification{Notifier: "slack", Key: "exhausted/groq/1", Kind: "exhausted", Payload: `{"api":"groq"}`, NextAttempt: t0, CreatedAt: t0}
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.EnqueueNotifications(n, n); err != nil { // a duplicate is skipped
			return err
		}
		later := n
		later.Key, later.NextAttempt = "later", t0.Add(time.Hour)
		return tx.EnqueueNotifications(later)
	})
	var due []quotad.Notification
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		due, err = tx.DueNotifications(t0, 10)
		return err
	})
	if len(due) != 1 || due[0].Key != n.Key || due[0].State != quotad.NotifyPending || due[0].ID == 0 || due[0].Payload != n.Payload {
		t.Fatalf("due = %+v", due)
	}
	d := due[0]
	d.State, d.Attempts, d.LastError = quotad.NotifySent, 1, ""
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveNotification(d) })
	var all []quotad.Notification
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		if due, err = tx.DueNotifications(t0.Add(2*time.Hour), 10); err != nil {
			return err
		}
		all, err = tx.Notifications(10)
		return err
	})
	if len(due) != 1 || due[0].Key != "later" || len(all) != 2 || all[1].State != quotad.NotifySent {
		t.Fatalf("after sending: due %+v all %+v", due, all)
	}
	var first, second bool
	update(t, e.s, func(tx quotad.Tx) error {
		var err error
		if first, err = tx.Once("forecast/groq/daily/x", t0); err != nil {
			return err
		}
		second, err = tx.Once("forecast/groq/daily/x", t0)
		return err
	})
	if !first || second {
		t.Fatalf("Once: first %v second %v, want true then false", first, second)
	}
}

// testNotificationCounts checks NotificationCounts: one count per
// (notifier, state) with notifications, in byte order ("Zed" before
// "alpha", whatever the database's collation), within View.
func testNotificationCounts(t *testing.T, e *env) {
	counts := func() []quotad.NotificationCount {
		t.Helper()
		var got []quotad.NotificationCount
		view(t, e.s, func(tx quotad.Tx) error {
			var err error
			got, err = tx.NotificationCounts()
			return err
		})
		return got
	}
	if got := counts(); len(got) != 0 {
		t.Fatalf("counts of an empty outbox = %+v, want none", got)
	}
	var ns []quotad.Notification
	add := func(notifier, state string, n int) {
		for i := range n {
			ns = append(ns, quotad.Notification{Notifier: notifier, Key: state + "/" + strconv.Itoa(i), Kind: "exhausted",
				Payload: `{"api":"groq"}`, State: state, NextAttempt: t0, CreatedAt: t0})
		}
	}
	add("alpha", quotad.NotifySent, 3)
	add("Zed", quotad.NotifyPending, 2)
	add("alpha", quotad.NotifyDead, 1)
	add("alpha", quotad.NotifyPending, 1)
	update(t, e.s, func(tx quotad.Tx) error { return tx.EnqueueNotifications(ns...) })
	want := []quotad.NotificationCount{
		{Notifier: "Zed", State: quotad.NotifyPending, Count: 2},
		{Notifier: "alpha", State: quotad.NotifyDead, Count: 1},
		{Notifier: "alpha", State: quotad.NotifyPending, Count: 1},
		{Notifier: "alpha", State: quotad.NotifySent, Count: 3},
	}
	if got := counts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
	// A pending notification that is sent moves from one count to the other.
	var due []quotad.Notification
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		due, err = tx.DueNotifications(t0, 1)
		return err
	})
	if len(due) != 1 || due[0].Notifier != "Zed" {
		t.Fatalf("due = %+v", due)
	}
	d := due[0]
	d.State, d.Attempts = quotad.NotifySent, 1
	update(t, e.s, func(tx quotad.Tx) error { return tx.SaveNotification(d) })
	want = append([]quotad.NotificationCount{{Notifier: "Zed", State: quotad.NotifyPending, Count: 1}, {Notifier: "Zed", State: quotad.NotifySent, Count: 1}}, want[1:]...)
	if got := counts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("counts after sending one = %+v, want %+v", got, want)
	}
}

// testNeedsRoundTrip checks the fields of per-channel budgets, fallbacks and
// an API's priority reserve.
func testNeedsRoundTrip(t *testing.T, e *env) {
	a := quotad.API{Name: "youtube", Unit: "units", AutoResume: true, Reserve: quotad.Reserve{Priority: quotad.PriorityHigh, Units: 2000},
		Windows: []quotad.Window{{Name: "daily", Limit: 10000, Rule: "daily 00:00 America/Los_Angeles"}}}
	c := quotad.Channel{Name: "Writer", Priority: quotad.PriorityLow, APIs: []string{"youtube"},
		Fallbacks: []quotad.Capability{{Name: "llm", Providers: []string{"groq", "openai"}}},
		Budgets:   []quotad.Budget{{API: "youtube", Units: 2000}, {API: "groq", Window: "daily", Share: 0.25}}}
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveAPI(a); err != nil {
			return err
		}
		return tx.SaveChannel(c)
	})
	var ga quotad.API
	var gc quotad.Channel
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		if ga, err = tx.API("youtube"); err != nil {
			return err
		}
		gc, err = tx.Channel("Writer")
		return err
	})
	if ga.Reserve != a.Reserve {
		t.Fatalf("reserve %+v, want %+v", ga.Reserve, a.Reserve)
	}
	if len(gc.Fallbacks) != 1 || gc.Fallbacks[0].Name != "llm" || len(gc.Fallbacks[0].Providers) != 2 || gc.Fallbacks[0].Providers[1] != "openai" {
		t.Fatalf("fallbacks %+v", gc.Fallbacks)
	}
	if len(gc.Budgets) != 2 || gc.Budgets[0] != c.Budgets[0] || gc.Budgets[1] != c.Budgets[1] {
		t.Fatalf("budgets %+v, want %+v", gc.Budgets, c.Budgets)
	}
	// Clearing them clears them.
	a.Reserve, c.Fallbacks, c.Budgets = quotad.Reserve{}, nil, nil
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveAPI(a); err != nil {
			return err
		}
		return tx.SaveChannel(c)
	})
	view(t, e.s, func(tx quotad.Tx) error {
		var err error
		if ga, err = tx.API("youtube"); err != nil {
			return err
		}
		gc, err = tx.Channel("Writer")
		return err
	})
	if ga.Reserve != (quotad.Reserve{}) || len(gc.Fallbacks) != 0 || len(gc.Budgets) != 0 {
		t.Fatalf("after clearing: %+v %+v", ga.Reserve, gc)
	}
}
