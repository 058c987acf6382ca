package classify

import (
	"strings"
	"time"
)

// KindHold is quotad's own refusal echoed by a caller (a job printing what
// `quotad spend` said): not a provider's quota error. It tells nothing new
// about the provider, so it exhausts no API and pauses no other channel;
// see Hold for whose hold it was.
const KindHold Kind = "quotad_hold"

// holdMarker is quotad.HoldMarker (not imported: classify is pure and reads
// text only). The format is documented in docs/budgets-and-scheduling.md.
const holdMarker = "[quotad-hold "

// Hold is what the marker of quotad's own refusal says.
type Hold struct {
	Kind     string    // "window", "budget", "reserve" or "paused"
	API      string    // the API refused
	Channel  string    // the channel held (budget, reserve)
	Window   string    // the window, when one was named
	Priority string    // the reserve's priority
	Until    time.Time // when the hold lifts; zero when unknown
}

// ChannelLevel reports whether the hold was the channel's own (its budget, a
// reserve for higher priorities, its pause), not the API's.
func (h Hold) ChannelLevel() bool {
	return h.Kind == "budget" || h.Kind == "reserve" || h.Kind == "paused"
}

// FindHold returns the last marker of quotad's own refusal in text,
// "[quotad-hold kind=budget api=youtube channel=Norm window=daily
// until=2026-12-05T08:00:00Z]", and whether there was one. Unknown keys are
// ignored; a marker without kind or api is not one.
func FindHold(text string) (Hold, bool) {
	for rest := text; ; {
		i := strings.LastIndex(rest, holdMarker)
		if i < 0 {
			return Hold{}, false
		}
		body := rest[i+len(holdMarker):]
		rest = rest[:i]
		end := strings.IndexByte(body, ']')
		if end < 0 {
			continue
		}
		var h Hold
		for _, f := range strings.Fields(body[:end]) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			switch k {
			case "kind":
				h.Kind = v
			case "api":
				h.API = v
			case "channel":
				h.Channel = v
			case "window":
				h.Window = v
			case "priority":
				h.Priority = v
			case "until":
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					h.Until = t
				}
			}
		}
		if h.Kind != "" && h.API != "" {
			return h, true
		}
	}
}

// holdVerdict is the verdict on a message carrying quotad's own refusal.
func holdVerdict(h Hold) Verdict {
	ev := "quotad's own hold (" + h.Kind + " of " + h.API
	if h.Channel != "" {
		ev += " for channel " + h.Channel
	}
	ev += "), not the provider's"
	return Verdict{Kind: KindHold, API: h.API, Until: h.Until, Evidence: ev}
}
