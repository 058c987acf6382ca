package simulate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quotad/quotad/config"
)

// Report is what a simulated month did, under one set of rules.
type Report struct {
	Rules string    `json:"rules"` // "quotad" or "seed"
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Days  int       `json:"days"`
	Seed  int64     `json:"seed"`
	// Channels are per channel: totals and each day.
	Channels map[string]*ChannelReport `json:"channels"`
	// Windows are the providers' windows (the truth the fakes keep).
	Windows []WindowReport `json:"windows"`
	// Interventions are pauses a person would have had to lift: a pause
	// quotad never lifts by itself (errors, manual), or one that kept a
	// channel off for more than InterventionAfter in one stretch while its
	// providers would have served a whole run of it.
	Interventions []Intervention `json:"interventions"`
	// Overspent lists quotad's own windows seen above their limits (quotad
	// rules only; it must stay empty).
	Overspent []string `json:"overspent,omitempty"`
	// MissedDays counts channel-days without a single finished run.
	MissedDays int `json:"missed_days"`
	// Baseline is the same month under the seed's rules.
	Baseline *Report `json:"baseline,omitempty"`
}

// ChannelReport is one channel's month.
type ChannelReport struct {
	Runs Counts      `json:"runs"`
	Days []DayReport `json:"days"`
}

// Counts are runs and pauses over a period.
type Counts struct {
	Started  int `json:"started"`
	Finished int `json:"finished"` // ended well
	Failed   int `json:"failed"`
	// Held counts scheduling passes that held a due run, by hold kind
	// (runner.Hold kinds; "paused" for the seed's inactive channels).
	Held map[string]int `json:"held,omitempty"`
	// PausedOutMinutes is paused time while the providers would not have
	// served the channel (quota truly out); PausedAvailableMinutes paused
	// time while they would have (the waste).
	PausedOutMinutes       float64 `json:"paused_out_minutes"`
	PausedAvailableMinutes float64 `json:"paused_available_minutes"`
	// HeldAvailableMinutes is time a due run was held (its channel
	// active) while the providers would have served it.
	HeldAvailableMinutes float64 `json:"held_available_minutes"`
}

// DayReport is one channel's day (in the config's zone).
type DayReport struct {
	Date string `json:"date"`
	Counts
}

// WindowReport is one provider window over the month.
type WindowReport struct {
	Window  string `json:"window"` // provider/[model/]name
	Limit   int64  `json:"limit"`
	Used    int64  `json:"used"`    // summed over its periods
	Periods int    `json:"periods"` // periods begun in the month
	// Utilization is Used over Limit × Periods.
	Utilization float64 `json:"utilization"`
	// BestPeriod is the highest used/limit of one period.
	BestPeriod float64 `json:"best_period"`
	// Exhausted are the instants the window was seen used up.
	Exhausted []time.Time `json:"exhausted,omitempty"`
	// Overspent is true when a period used more than the limit.
	Overspent bool `json:"overspent,omitempty"`
}

// Intervention is a pause a person would have had to lift.
type Intervention struct {
	Channel string    `json:"channel"`
	Since   time.Time `json:"since"`
	Reason  string    `json:"reason"`
	Why     string    `json:"why"`
}

// recorder accumulates a report from samples taken at each pass.
type recorder struct {
	cfg    config.Config
	opts   Options
	loc    *time.Location
	world  *world
	rep    *Report
	last   time.Time
	wins   []provWindow
	wstate []winState
	pause  map[string]*pauseEp
	prev   map[string]chanState // the last sample's paused or held channels
}

type winState struct {
	periodUsed int64
	lastUsed   int64
	seenOut    bool
}

type pauseEp struct {
	since     time.Time
	reason    string
	available time.Duration
	counted   bool
}

func newRecorder(cfg config.Config, opts Options, rules string, w *world) *recorder {
	r := &recorder{cfg: cfg, opts: opts, loc: cfg.Location(), world: w, pause: map[string]*pauseEp{}, prev: map[string]chanState{},
		rep: &Report{Rules: rules, Start: opts.Start, Days: opts.Days, Seed: opts.Seed, Channels: map[string]*ChannelReport{}, Interventions: []Intervention{}}}
	for _, ch := range cfg.Channels {
		cr := &ChannelReport{}
		day := opts.Start.In(r.loc)
		for i := range opts.Days {
			d := time.Date(day.Year(), day.Month(), day.Day()+i, 0, 0, 0, 0, r.loc)
			cr.Days = append(cr.Days, DayReport{Date: d.Format(time.DateOnly)})
		}
		r.rep.Channels[ch.Name] = cr
	}
	r.wins = w.windows(cfg)
	r.wstate = make([]winState, len(r.wins))
	for _, pw := range r.wins {
		r.rep.Windows = append(r.rep.Windows, WindowReport{Window: pw.key(), Limit: pw.limit, Periods: 1})
	}
	return r
}

// day returns the day report of a channel at t (nil outside the month).
func (r *recorder) day(channel string, t time.Time) *Counts {
	cr := r.rep.Channels[channel]
	d := t.In(r.loc).Format(time.DateOnly)
	for i := range cr.Days {
		if cr.Days[i].Date == d {
			return &cr.Days[i].Counts
		}
	}
	return nil
}

func (r *recorder) both(channel string, t time.Time, f func(c *Counts)) {
	f(&r.rep.Channels[channel].Runs)
	if d := r.day(channel, t); d != nil {
		f(d)
	}
}

func (r *recorder) started(channel string, t time.Time) {
	r.both(channel, t, func(c *Counts) { c.Started++ })
}

func (r *recorder) ended(channel string, t time.Time, ok bool) {
	r.both(channel, t, func(c *Counts) {
		if ok {
			c.Finished++
		} else {
			c.Failed++
		}
	})
}

// sample records the state at now: paused channels (name → reasons),
// held due runs (name → kind), quotad's overspent windows, and the
// providers' windows.
func (r *recorder) sample(now time.Time, paused, held map[string]string, overspent []string) {
	for _, o := range overspent {
		if !slices.Contains(r.rep.Overspent, o) {
			r.rep.Overspent = append(r.rep.Overspent, o)
		}
	}
	for ch, kind := range held {
		if _, ok := r.rep.Channels[ch]; ok {
			r.both(ch, now, func(c *Counts) {
				if c.Held == nil {
					c.Held = map[string]int{}
				}
				c.Held[kind]++
			})
		}
	}
	// The span since the last sample is in the state seen then: pauses
	// change only at passes, which are samples.
	span := now.Sub(r.last)
	for name, st := range r.prev {
		r.both(name, r.last, func(c *Counts) {
			switch {
			case st.paused && st.avail:
				c.PausedAvailableMinutes += span.Minutes()
			case st.paused:
				c.PausedOutMinutes += span.Minutes()
			case st.held && st.avail:
				c.HeldAvailableMinutes += span.Minutes()
			}
		})
		if ep := r.pause[name]; st.paused && ep != nil {
			if st.avail {
				ep.available += span
			} else {
				ep.available = 0 // the stretch counted is one without a break
			}
		}
	}
	r.last = now
	r.checkInterventions()
	clear(r.prev)
	for _, ch := range r.cfg.Channels {
		name := ch.Name
		reason, isPaused := paused[name]
		_, isHeld := held[name]
		if !isPaused {
			delete(r.pause, name)
		} else if ep := r.pause[name]; ep == nil || ep.reason != reason {
			r.pause[name] = &pauseEp{since: now, reason: reason}
		}
		if isPaused || isHeld {
			r.prev[name] = chanState{paused: isPaused, held: isHeld, avail: r.world.serves(r.cfg, ch.Job.Simulate.Calls)}
		}
	}
	r.checkInterventions()
	for i, pw := range r.wins {
		used := r.world.fake.Used(pw.provider, pw.scope, pw.name)
		st := &r.wstate[i]
		wr := &r.rep.Windows[i]
		if used < st.lastUsed { // a new period began
			wr.Used += st.periodUsed
			wr.BestPeriod = max(wr.BestPeriod, float64(st.periodUsed)/float64(pw.limit))
			wr.Periods++
			st.periodUsed, st.seenOut = 0, false
		}
		st.lastUsed, st.periodUsed = used, max(st.periodUsed, used)
		if used > pw.limit {
			wr.Overspent = true
		}
		if used >= pw.limit && !st.seenOut {
			st.seenOut = true
			wr.Exhausted = append(wr.Exhausted, now)
		}
	}
}

// checkInterventions counts each pause episode that needs a person, once.
func (r *recorder) checkInterventions() {
	for _, name := range sortedKeys(r.pause) {
		ep := r.pause[name]
		if ep.counted {
			continue
		}
		why := ""
		switch {
		case r.rep.Rules == "quotad" && !autoClears(ep.reason):
			why = "only a person lifts a pause for " + ep.reason
		case ep.available > InterventionAfter:
			why = fmt.Sprintf("paused more than %s while the providers would serve it", InterventionAfter)
		}
		if why != "" {
			ep.counted = true
			r.rep.Interventions = append(r.rep.Interventions, Intervention{Channel: name, Since: ep.since, Reason: ep.reason, Why: why})
		}
	}
}

// chanState is what a sample saw of a channel that was not simply active.
type chanState struct{ paused, held, avail bool }

// autoClears reports whether quotad lifts every pause reason in reasons
// by itself (quota and budget reasons; not errors or manual).
func autoClears(reasons string) bool {
	for _, r := range strings.Split(reasons, ",") {
		if r == "errors" || r == "manual" {
			return false
		}
	}
	return true
}

// report closes the month at end.
func (r *recorder) report(end time.Time) *Report {
	rep := r.rep
	rep.End = end
	for i, pw := range r.wins {
		st, wr := r.wstate[i], &rep.Windows[i]
		wr.Used += st.periodUsed
		wr.BestPeriod = max(wr.BestPeriod, float64(st.periodUsed)/float64(pw.limit))
		wr.Utilization = float64(wr.Used) / float64(wr.Limit*int64(wr.Periods))
	}
	for _, cr := range rep.Channels {
		for _, d := range cr.Days {
			if d.Finished == 0 {
				rep.MissedDays++
			}
		}
	}
	return rep
}

// Window returns the report of a provider window by key, and whether the
// report has it.
func (r *Report) Window(key string) (WindowReport, bool) {
	for _, w := range r.Windows {
		if w.Window == key {
			return w, true
		}
	}
	return WindowReport{}, false
}

// WriteText writes the report as tables a person reads: with a baseline,
// quotad's and the seed's figures side by side.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	b := r.Baseline
	fmt.Fprintf(tw, "Simulated %d days from %s, seed %d.\n\n", r.Days, r.Start.Format(time.DateOnly), r.Seed)
	names := sortedKeys(r.Channels)
	if b == nil {
		fmt.Fprintln(tw, "CHANNEL\tSTARTED\tFINISHED\tFAILED\tHELD\tPAUSED OUT\tPAUSED, QUOTA AVAILABLE\tDAYS MISSED")
		for _, n := range names {
			c := r.Channels[n]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\n", n, c.Runs.Started, c.Runs.Finished, c.Runs.Failed, heldText(c.Runs.Held),
				minutes(c.Runs.PausedOutMinutes), minutes(c.Runs.PausedAvailableMinutes), missed(c))
		}
	} else {
		fmt.Fprintln(tw, "CHANNEL\tFINISHED quotad | seed\tFAILED\tPAUSED OUT\tPAUSED, QUOTA AVAILABLE\tDAYS MISSED\tHELD (quotad)")
		for _, n := range names {
			c, s := r.Channels[n], b.Channels[n]
			fmt.Fprintf(tw, "%s\t%d | %d\t%d | %d\t%s | %s\t%s | %s\t%d | %d\t%s\n", n, c.Runs.Finished, s.Runs.Finished, c.Runs.Failed, s.Runs.Failed,
				minutes(c.Runs.PausedOutMinutes), minutes(s.Runs.PausedOutMinutes), minutes(c.Runs.PausedAvailableMinutes), minutes(s.Runs.PausedAvailableMinutes),
				missed(c), missed(s), heldText(c.Runs.Held))
		}
	}
	fmt.Fprintln(tw)
	if b == nil {
		fmt.Fprintln(tw, "WINDOW\tLIMIT\tUSED\tUTILIZATION\tBEST PERIOD\tEXHAUSTED")
	} else {
		fmt.Fprintln(tw, "WINDOW\tLIMIT\tUTILIZATION quotad | seed\tBEST PERIOD\tEXHAUSTED quotad | seed")
	}
	for i, wr := range r.Windows {
		if b == nil {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%.1f%%\t%s\n", wr.Window, wr.Limit, wr.Used, 100*wr.Utilization, 100*wr.BestPeriod, exhausted(wr))
			continue
		}
		sw := b.Windows[i]
		fmt.Fprintf(tw, "%s\t%d\t%.1f%% | %.1f%%\t%.1f%% | %.1f%%\t%s | %s\n", wr.Window, wr.Limit, 100*wr.Utilization, 100*sw.Utilization,
			100*wr.BestPeriod, 100*sw.BestPeriod, exhausted(wr), exhausted(sw))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "Interventions needed: quotad %d", len(r.Interventions))
	if b != nil {
		fmt.Fprintf(tw, ", seed's rules %d", len(b.Interventions))
	}
	fmt.Fprintln(tw, ".")
	for _, rr := range []*Report{r, b} {
		if rr == nil {
			continue
		}
		for i, in := range rr.Interventions {
			if i == 5 {
				fmt.Fprintf(tw, "  %s: … and %d more\n", rr.Rules, len(rr.Interventions)-5)
				break
			}
			fmt.Fprintf(tw, "  %s: %s paused (%s) at %s: %s\n", rr.Rules, in.Channel, in.Reason, in.Since.In(r.Start.Location()).Format("2006-01-02 15:04"), in.Why)
		}
	}
	if len(r.Overspent) > 0 {
		fmt.Fprintf(tw, "quotad's windows overspent: %s\n", strings.Join(r.Overspent, "; "))
	}
	return tw.Flush()
}

func missed(c *ChannelReport) int {
	n := 0
	for _, d := range c.Days {
		if d.Finished == 0 {
			n++
		}
	}
	return n
}

func heldText(h map[string]int) string {
	if len(h) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range sortedKeys(h) {
		parts = append(parts, fmt.Sprintf("%s %d", k, h[k]))
	}
	return strings.Join(parts, ", ")
}

func minutes(m float64) string {
	d := time.Duration(m * float64(time.Minute)).Round(time.Minute)
	if d == 0 {
		return "0"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

func exhausted(w WindowReport) string {
	if len(w.Exhausted) == 0 {
		return "never"
	}
	return fmt.Sprintf("%d× (first %s)", len(w.Exhausted), w.Exhausted[0].Format("01-02 15:04"))
}
