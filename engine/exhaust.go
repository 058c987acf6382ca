package engine

// Exhaustion: marking windows exhausted and pausing the channels that need
// them.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// exhaust marks windows of a as exhausted (until the provider's stated time
// when known) and pauses the channels that need them: a channel whose need
// (an API, a model or a bucket of it) counts one of them, and the channel
// whose call to tg exhausted them (its calls use that model and scope).
func (t *txn) exhaust(a *quotad.API, idx []int, until time.Time, detail, channel string, tg quotad.Target) {
	var newly []int
	before := map[int]time.Time{}
	for _, i := range idx {
		w := &a.Windows[i]
		before[i] = w.Until()
		if w.Exhaust(until, t.now) {
			newly = append(newly, i)
		}
		t.touchWindow(a.Name, w.Key())
	}
	at := time.Time{}
	moved := false
	names := make([]string, 0, len(idx))
	for _, i := range idx {
		w := a.Windows[i]
		names = append(names, w.Key())
		if w.Until().After(at) {
			at = w.Until()
		}
		moved = moved || !w.Until().Equal(before[i])
	}
	x := quotad.Exhaustion{API: a.Name, Windows: names, Until: at, Detail: detail}
	label := strings.ToUpper(a.Name) + windowsPart(a, idx)
	switch {
	case len(newly) > 0:
		x.Model = windowsModel(a, idx)
		t.emit(quotad.LevelWarning, channel, quotad.CategoryQuota,
			fmt.Sprintf("%s quota exhausted at %s - will auto-resume at %s", label, t.e.human(t.now), t.e.humanOr(at, "a person's reset")), x.Fields())
		t.pauseForWindows(a, newly, detail, channel, tg)
	case moved:
		t.emit(quotad.LevelWarning, channel, quotad.CategoryQuota,
			fmt.Sprintf("%s quota still exhausted - now until %s", label, t.e.humanOr(at, "a person's reset")), x.Fields())
	}
}

// windowsModel returns the model of the first of the windows that has one.
func windowsModel(a *quotad.API, idx []int) string {
	for _, i := range idx {
		if m := a.Windows[i].Model; m != "" {
			return m
		}
	}
	return ""
}

// windowsPart names the model, bucket and scope of windows for event
// texts: " llama-3.3-70b-versatile", " videos.insert", " (scope shorts)";
// "" for the API's own windows.
func windowsPart(a *quotad.API, idx []int) string {
	part, scope := "", ""
	for _, i := range idx {
		w := a.Windows[i]
		switch {
		case w.Model != "":
			part = " " + w.Model
		case w.Bucket && part == "":
			part = " " + w.Name
		}
		if w.Scope != "" {
			scope = " (scope " + w.Scope + ")"
		}
	}
	return part + scope
}

// pauseForWindows gives quota:<need> to every channel not held by a person
// whose need counts one of the newly exhausted windows idx of a, and
// quota:<tg> to the channel whose call to tg exhausted them when it needs
// the API as a whole (its calls use tg's model and scope). Channels that
// need none of them but have a fallback need left without a provider get
// capability:<name>.
func (t *txn) pauseForWindows(a *quotad.API, idx []int, detail, channel string, tg quotad.Target) {
	chans, err := t.allChannels()
	if err != nil {
		return
	}
	for _, c := range chans {
		if heldByPerson(c) {
			continue
		}
		needs := false
		for _, need := range c.APIs {
			nt := quotad.ParseTarget(need)
			if nt.API != a.Name {
				continue
			}
			needs = true
			hit := intersect(a.NeedWindows(nt), idx)
			if len(hit) == 0 {
				continue
			}
			reason := need
			if nt.Model == "" && allBuckets(a, hit) {
				reason = nt.API + "/" + a.Windows[hit[0]].Name // quota:youtube/videos.insert: only the bucket is out
			}
			t.pauseFor(c, a, quotad.ParseTarget(reason), detail)
		}
		if needs && c.Name == channel && tg.API == a.Name && (tg.Model != "" || tg.Scope != "") {
			// The windows of the call's own model or scope, which no need
			// of the channel names.
			for _, i := range intersect(a.Selected(tg), idx) {
				if w := a.Windows[i]; w.Model != "" || w.Scope != "" {
					t.pauseFor(c, a, tg, detail)
					break
				}
			}
		}
		if !needs {
			t.pauseForCapabilities(c, a, idx, detail)
		}
	}
}

// pauseFor gives c the pause quota:<tg>, with its event.
func (t *txn) pauseFor(c *quotad.Channel, a *quotad.API, tg quotad.Target, detail string) {
	reason := quotad.QuotaReason(tg.String())
	if t.addPause(c, reason, detail) {
		name := titleCase(a.Name)
		if part := strings.TrimPrefix(tg.String(), a.Name); part != "" {
			name += " " + strings.TrimLeft(part, "/")
		}
		t.emit(quotad.LevelWarning, c.Name, quotad.CategoryQuota,
			fmt.Sprintf("%s API quota exhausted - channel paused, will auto-resume at %s", name, t.e.humanOr(a.NeedAvailableAt(tg), "a person's reset")),
			quotad.Paused{Reason: reason, API: a.Name}.Fields())
	}
}

// intersect returns the elements of a that are in b.
func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// allBuckets reports whether every window idx of a is a bucket.
func allBuckets(a *quotad.API, idx []int) bool {
	for _, i := range idx {
		if !a.Windows[i].Bucket {
			return false
		}
	}
	return len(idx) > 0
}

// addPause gives c the pause reason (since now, without an end) unless it
// has it already, and reports whether that paused an active channel, which
// it then records in t.paused.
func (t *txn) addPause(c *quotad.Channel, reason quotad.Reason, detail string) bool {
	if _, ok := c.Paused(reason); ok {
		return false
	}
	wasActive := c.Active()
	c.Pauses = append(c.Pauses, quotad.Pause{Reason: reason, Since: t.now, Detail: detail})
	t.touchChannel(c.Name)
	if !wasActive {
		return false
	}
	t.paused = append(t.paused, c.Name)
	return true
}

func heldByPerson(c *quotad.Channel) bool {
	for _, p := range c.Pauses {
		if p.Reason.ByPerson() {
			return true
		}
	}
	return false
}
