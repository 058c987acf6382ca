// Package adopt turns a channels.db made by the seed's Python daemon
// (quota_manager.py) into a quotad store, in place: `quotad migrate --db
// channels.db`. Make is pure: what the file holds, the config's APIs and
// channels, the zone and the time in, the state to write and a plan a
// person can read out. store/sqlite's Adopt does the file work (backup,
// schema, one transaction).
package adopt

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
	"github.com/quotad/quotad/store/sqlite"
)

// Input is what Make needs besides the seed.
type Input struct {
	APIs     []quotad.API     // the config's APIs (windows with name, limit and rule)
	Channels []quotad.Channel // the config's channels
	// Zone is the config's timezone: the seed's daemon wrote its times as
	// local "YYYY-MM-DD HH:MM:SS" text without a zone, and the config's
	// timezone is the best knowledge of where it ran.
	Zone *time.Location
	Now  time.Time
}

// Plan is what adopting the seed will write, and its description.
type Plan struct {
	Adoption sqlite.Adoption
	Lines    []string // the plan, one line each, for a person
}

// ReasonAdopted is the detail of the manual pause of a channel that was
// inactive in the seed's table for no reason quotad can see.
const ReasonAdopted = "inactive when adopted"

// Make maps the seed onto the config. Each seed api_quotas row goes to one
// window of the config's API of that name: the window with the same limit,
// else the API's first window. That window takes the row's used units,
// exhausted state and exhausted_at, and its next_reset when it is not later
// than the rule's own (a next_reset already past is kept, so the monitor's
// start-up catch-up applies the missed reset). The config's limits and rules
// win; the plan says where the seed's differ. A channel inactive in the seed
// becomes quota:<api> for each exhausted API it needs (it resumes at that
// API's reset), else manual ("inactive when adopted").
func Make(seed sqlite.Seed, in Input) (Plan, error) {
	loc := in.Zone
	if loc == nil {
		loc = time.UTC
	}
	now := in.Now
	var p Plan
	say := func(format string, args ...any) { p.Lines = append(p.Lines, fmt.Sprintf(format, args...)) }
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }

	say("Adopting %s, made by the seed's quota manager, in place:", seed.Path)
	say("  first: copy it to %s%sTIME (the way back)", seed.Path, sqlite.BackupSuffix)

	seedRows := map[string]sqlite.SeedQuota{}
	for _, q := range seed.Quotas {
		seedRows[q.API] = q
	}
	nWindows := 0
	for _, a := range in.APIs {
		nWindows += len(a.Windows)
	}
	say("  api_quotas: %d seed row(s) become %d window row(s) of %d API(s); the seed's table is kept as %s",
		len(seed.Quotas), nWindows, len(in.APIs), sqlite.SeedQuotasTable)
	exhaustedAt := map[string]time.Time{}
	apis := make([]quotad.API, 0, len(in.APIs))
	for _, def := range in.APIs {
		a := def
		a.Windows = slices.Clone(def.Windows)
		for i := range a.Windows {
			w := &a.Windows[i]
			r, err := rule.Parse(w.Rule, loc)
			if err != nil {
				return Plan{}, fmt.Errorf("API %s window %s: %w", a.Name, w.Name, err)
			}
			w.Used, w.Reserved, w.Exhausted = 0, 0, false
			w.LastReset, w.NextReset = r.Prev(now), r.Next(now)
		}
		q, ok := seedRows[a.Name]
		if !ok || len(a.Windows) == 0 {
			for _, w := range a.Windows {
				say("    %s/%s: new, limit %d, resets %s", a.Name, w.Name, w.Limit, when(w.NextReset))
			}
			apis = append(apis, a)
			continue
		}
		i := slices.IndexFunc(a.Windows, func(w quotad.Window) bool { return w.Limit == q.Limit })
		if i < 0 {
			i = 0
		}
		for j := range a.Windows {
			w := &a.Windows[j]
			if j != i {
				say("    %s/%s: new, limit %d, resets %s", a.Name, w.Name, w.Limit, when(w.NextReset))
				continue
			}
			w.Used = max(q.Used, 0)
			if t, ok := parseSeedTime(q.NextReset, loc); ok && !t.After(w.NextReset) {
				w.NextReset = t
			} else if q.NextReset != "" && !ok {
				say("    %s: next_reset %q is not a time; the rule's %s is used", a.Name, q.NextReset, when(w.NextReset))
			}
			if t, ok := parseSeedTime(q.LastReset, loc); ok && !t.After(now) {
				w.LastReset = t
			}
			if q.Exhausted || w.Used >= w.Limit {
				w.Exhausted = true
				w.ExhaustedAt = now
				if t, ok := parseSeedTime(q.ExhaustedAt, loc); ok {
					w.ExhaustedAt = t
				}
				exhaustedAt[a.Name] = w.ExhaustedAt
			}
			line := fmt.Sprintf("    %s/%s: limit %d, used %d", a.Name, w.Name, w.Limit, w.Used)
			if w.Exhausted {
				line += ", exhausted since " + when(w.ExhaustedAt)
			}
			if w.NextReset.After(now) {
				line += ", resets " + when(w.NextReset)
			} else {
				line += fmt.Sprintf(", its reset at %s was missed: applied when quotad serve starts", when(w.NextReset))
			}
			say("%s", line)
			if q.Limit != w.Limit {
				say("      the seed's limit was %d; the config's %d wins (set limit: %d in quotad.yaml to keep the seed's)", q.Limit, w.Limit, q.Limit)
			}
		}
		if !q.AutoResume && a.AutoResume {
			say("      the seed had auto_resume off for %s; the config's auto_resume: true wins (set auto_resume: false to keep it off)", a.Name)
		}
		apis = append(apis, a)
	}
	for _, q := range seed.Quotas {
		if !slices.ContainsFunc(in.APIs, func(a quotad.API) bool { return a.Name == q.API }) {
			say("    %s: not in the config, not carried over (its row stays in %s; add it to quotad.yaml's apis to meter it)", q.API, sqlite.SeedQuotasTable)
		}
	}

	allAPIs := make([]string, 0, len(apis))
	for _, a := range apis {
		allAPIs = append(allAPIs, a.Name)
	}
	sort.Strings(allAPIs)
	extra := ""
	if len(seed.ChannelColumns) > 0 {
		extra = " and columns (" + strings.Join(seed.ChannelColumns, ", ") + ")"
	}
	say("  channels: %d row(s) keep their ids%s; quotad's columns are added", len(seed.Channels), extra)
	byName := map[string]quotad.Channel{}
	for _, c := range in.Channels {
		byName[c.Name] = c
	}
	var chans []quotad.Channel
	paused := 0
	for _, sc := range seed.Channels {
		c := quotad.Channel{Name: sc.Name, Priority: quotad.PriorityNormal, APIs: slices.Clone(allAPIs)}
		source := "not in the config: needs every API"
		if def, ok := byName[sc.Name]; ok {
			c.Priority, c.APIs = def.Priority, slices.Clone(def.APIs)
			c.Fallbacks, c.Budgets = slices.Clone(def.Fallbacks), slices.Clone(def.Budgets)
			if c.Priority == "" {
				c.Priority = quotad.PriorityNormal
			}
			source = "needs " + strings.Join(c.APIs, ", ")
			if len(c.APIs) == 0 {
				source = "needs no API"
			}
		}
		if sc.Active {
			c.StoredActive = true
			say("    %s (id %d): active, %s", sc.Name, sc.ID, source)
			chans = append(chans, c)
			continue
		}
		paused++
		var out []string
		for _, api := range c.APIs {
			if at, ok := exhaustedAt[api]; ok {
				c.Pauses = append(c.Pauses, quotad.Pause{Reason: quotad.QuotaReason(api), Since: at,
					Detail: ReasonAdopted + "; " + api + " was exhausted"})
				out = append(out, api)
			}
		}
		if len(out) > 0 {
			say("    %s (id %d): inactive, %s -> paused quota:%s, resumes by itself when %s resets",
				sc.Name, sc.ID, source, strings.Join(out, ", quota:"), strings.Join(out, " and "))
		} else {
			c.Pauses = []quotad.Pause{{Reason: quotad.ReasonManual, Since: now, Detail: ReasonAdopted}}
			say("    %s (id %d): inactive, %s, no exhausted API -> paused manual (%q); resume it with: quotad resume %s",
				sc.Name, sc.ID, source, ReasonAdopted, sc.Name)
		}
		chans = append(chans, c)
	}
	var later []string
	for _, c := range in.Channels {
		if !slices.ContainsFunc(seed.Channels, func(sc sqlite.SeedChannel) bool { return sc.Name == c.Name }) {
			later = append(later, c.Name)
		}
	}
	if len(later) > 0 {
		say("    %s: in the config, not in the seed's table: added when quotad serve starts (create them in the daemon first if it inserts them itself)",
			strings.Join(later, ", "))
	}
	say("  logs: %d row(s) kept and shown by quotad logs; their zone-less times are read as %s (the config's timezone)", seed.Logs, loc)
	if len(seed.Tables) > 0 {
		say("  kept as they are: %s", strings.Join(seed.Tables, ", "))
	}
	p.Adoption = sqlite.Adoption{
		APIs: apis, Channels: chans, Zone: loc.String(),
		Event: quotad.Event{Time: now, Level: quotad.LevelInfo, Category: quotad.CategoryConfig,
			Message: fmt.Sprintf("Adopted the seed's database: %d API(s), %d channel(s) (%d paused), %d log row(s) kept",
				len(apis), len(chans), paused, seed.Logs)},
	}
	return p, nil
}

// seedLayouts are the forms of time the seed's daemon writes: Python's
// str(datetime) and strftime("%Y-%m-%d %H:%M:%S"), SQLite's datetime().
var seedLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseSeedTime reads a seed time: zone-less text is local time in loc;
// text with an offset (RFC 3339) keeps it.
func parseSeedTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	for _, l := range seedLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
