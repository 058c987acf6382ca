package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

var channelTests = []subtest{
	{"RoundTrip", testChannelRoundTrip},
	{"Replace", testChannelReplace},
	{"Delete", testDeleteChannel},
	{"Missing", testChannelMissing},
	{"Invalid", testChannelInvalid},
	{"OutOfSync", testChannelsOutOfSync},
}

// rankRiot is the seed's channel, paused three ways, pauses in an order that
// is neither alphabetical nor by time.
func rankRiot() quotad.Channel {
	return quotad.Channel{
		Name: "RankRiot", Priority: quotad.PriorityHigh, APIs: []string{"youtube", "groq", "pexels"},
		Pauses: []quotad.Pause{
			{Reason: quotad.QuotaReason("groq"), Since: at(-time.Minute), Detail: "429 from groq", Until: at(5 * time.Hour)},
			{Reason: quotad.ReasonManual, Since: at(-time.Hour), Detail: "vacation"},
			{Reason: quotad.ReasonErrors, Since: at(-30 * time.Second)},
		},
		ConsecutiveErrors: 20,
	}
}

func calm() quotad.Channel {
	return quotad.Channel{Name: "Calm", Priority: quotad.PriorityNormal, APIs: []string{"groq"}}
}

// withStored returns c with StoredActive as a store must read it back after
// SaveChannel: equal to Active().
func withStored(c quotad.Channel) quotad.Channel {
	c.StoredActive = c.Active()
	return c
}

func saveChannels(t *testing.T, s quotad.Store, chans ...quotad.Channel) {
	t.Helper()
	update(t, s, func(tx quotad.Tx) error {
		for _, c := range chans {
			if err := tx.SaveChannel(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func readChannel(t *testing.T, s quotad.Store, name string) quotad.Channel {
	t.Helper()
	var c quotad.Channel
	view(t, s, func(tx quotad.Tx) (err error) { c, err = tx.Channel(name); return err })
	return c
}

func readChannels(t *testing.T, s quotad.Store) []quotad.Channel {
	t.Helper()
	var list []quotad.Channel
	view(t, s, func(tx quotad.Tx) (err error) { list, err = tx.Channels(); return err })
	return list
}

func readOutOfSync(t *testing.T, s quotad.Store) []quotad.Channel {
	t.Helper()
	var list []quotad.Channel
	view(t, s, func(tx quotad.Tx) (err error) { list, err = tx.ChannelsOutOfSync(); return err })
	return list
}

func testChannelRoundTrip(t *testing.T, e *env) {
	bare := quotad.Channel{Name: "Bare"}
	// StoredActive on the argument is ignored: the store writes Active().
	lying := rankRiot()
	lying.StoredActive = true
	saveChannels(t, e.s, lying, calm(), bare)

	equal(t, "Channel(RankRiot)", readChannel(t, e.s, "RankRiot"), withStored(rankRiot()), normChannel)
	equal(t, "Channel(Calm)", readChannel(t, e.s, "Calm"), withStored(calm()), normChannel)
	equal(t, "Channel(Bare)", readChannel(t, e.s, "Bare"), withStored(bare), normChannel)
	equalList(t, "Channels() in name order", readChannels(t, e.s),
		[]quotad.Channel{withStored(bare), withStored(calm()), withStored(rankRiot())}, normChannel)
	if got := readChannel(t, e.s, "RankRiot"); got.StoredActive || got.Active() {
		t.Errorf("paused channel read back active: %+v", got)
	}
	if got := readChannel(t, e.s, "Calm"); !got.StoredActive {
		t.Errorf("active channel read back with StoredActive false")
	}
	if got := readOutOfSync(t, e.s); len(got) != 0 {
		t.Errorf("ChannelsOutOfSync after SaveChannel = %+v, want none", got)
	}
}

func testChannelReplace(t *testing.T, e *env) {
	saveChannels(t, e.s, rankRiot(), calm())

	// Remove one pause, add one, reorder, change everything else.
	c := rankRiot()
	c.Priority, c.APIs, c.ConsecutiveErrors = quotad.PriorityLow, []string{"groq"}, 3
	c.Pauses = []quotad.Pause{
		{Reason: quotad.ReasonErrors, Since: at(time.Second), Detail: "20 consecutive errors"},
		{Reason: quotad.QuotaReason("youtube"), Since: at(2 * time.Second), Until: at(time.Hour)},
		c.Pauses[0],
	}
	saveChannels(t, e.s, c)
	equal(t, "channel after replacing pauses", readChannel(t, e.s, "RankRiot"), withStored(c), normChannel)

	// No pause left: active again.
	c.Pauses, c.ConsecutiveErrors = nil, 0
	saveChannels(t, e.s, c)
	got := readChannel(t, e.s, "RankRiot")
	equal(t, "channel after clearing pauses", got, withStored(c), normChannel)
	if !got.Active() || !got.StoredActive {
		t.Errorf("channel with no pauses: Active %v StoredActive %v, want both true", got.Active(), got.StoredActive)
	}
	equal(t, "other channel", readChannel(t, e.s, "Calm"), withStored(calm()), normChannel)
}

func testDeleteChannel(t *testing.T, e *env) {
	saveChannels(t, e.s, rankRiot(), calm())
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.DeleteChannel("RankRiot"); err != nil {
			return err
		}
		return tx.DeleteChannel("nope")
	})
	view(t, e.s, func(tx quotad.Tx) error {
		if _, err := tx.Channel("RankRiot"); !errors.Is(err, quotad.ErrUnknownChannel) {
			t.Errorf("Channel of a deleted channel: err = %v, want ErrUnknownChannel", err)
		}
		if at, err := tx.DueAt(); err != nil || !at.IsZero() {
			t.Errorf("DueAt after deleting the only paused channel = %v, %v; want zero (pauses deleted)", at, err)
		}
		return nil
	})
	equalList(t, "Channels after delete", readChannels(t, e.s), []quotad.Channel{withStored(calm())}, normChannel)

	// Saved again, it has none of the old pauses.
	again := rankRiot()
	again.Pauses, again.ConsecutiveErrors = nil, 0
	saveChannels(t, e.s, again)
	equal(t, "channel saved again after delete", readChannel(t, e.s, "RankRiot"), withStored(again), normChannel)
}

func testChannelMissing(t *testing.T, e *env) {
	if got := readChannels(t, e.s); len(got) != 0 {
		t.Errorf("Channels of an empty store = %+v", got)
	}
	check := func(tx quotad.Tx) error {
		if _, err := tx.Channel("nope"); !errors.Is(err, quotad.ErrUnknownChannel) {
			t.Errorf("Channel(nope): err = %v, want ErrUnknownChannel", err)
		}
		return nil
	}
	view(t, e.s, check)
	update(t, e.s, check)
}

func testChannelInvalid(t *testing.T, e *env) {
	saveChannels(t, e.s, calm())
	update(t, e.s, func(tx quotad.Tx) error {
		if err := tx.SaveChannel(quotad.Channel{Priority: quotad.PriorityHigh}); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("SaveChannel with an empty name: err = %v, want ErrInvalid", err)
		}
		dup := calm()
		dup.Priority = quotad.PriorityHigh
		dup.Pauses = []quotad.Pause{{Reason: quotad.ReasonManual, Since: base}, {Reason: quotad.ReasonManual, Since: base}}
		if err := tx.SaveChannel(dup); !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("SaveChannel with a duplicate pause reason: err = %v, want ErrInvalid", err)
		}
		return nil
	})
	equalList(t, "Channels after invalid saves (nothing changed)", readChannels(t, e.s),
		[]quotad.Channel{withStored(calm())}, normChannel)
}

func testChannelsOutOfSync(t *testing.T, e *env) {
	if e.cfg.rawExec == nil {
		t.Skip("needs storetest.WithRawExec to change is_active behind the store's back")
	}
	saveChannels(t, e.s, rankRiot(), calm())
	if got := readOutOfSync(t, e.s); len(got) != 0 {
		t.Fatalf("ChannelsOutOfSync before any outside edit = %+v", got)
	}

	// The seed's "Manually reactivate channel": the pauses stay in the store.
	e.cfg.rawExec(t, e.s, "UPDATE channels SET is_active = TRUE WHERE name = 'RankRiot'")
	stale := rankRiot()
	stale.StoredActive = true
	equalList(t, "ChannelsOutOfSync after is_active set behind the store", readOutOfSync(t, e.s),
		[]quotad.Channel{stale}, normChannel)
	got := readChannel(t, e.s, "RankRiot")
	equal(t, "Channel after the outside edit", got, stale, normChannel)
	if !got.StoredActive || got.Active() {
		t.Errorf("StoredActive %v Active %v, want true and false", got.StoredActive, got.Active())
	}

	// A person pausing by hand: is_active = 0 with no pause.
	e.cfg.rawExec(t, e.s, "UPDATE channels SET is_active = FALSE WHERE name = 'Calm'")
	paused := calm()
	paused.StoredActive = false
	equalList(t, "ChannelsOutOfSync after two outside edits", readOutOfSync(t, e.s),
		[]quotad.Channel{paused, stale}, normChannel)

	// Saving the channels reconciles the column.
	saveChannels(t, e.s, rankRiot(), calm())
	if got := readOutOfSync(t, e.s); len(got) != 0 {
		t.Errorf("ChannelsOutOfSync after SaveChannel = %+v, want none", got)
	}
}
