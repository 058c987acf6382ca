package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// ConfigureResult says what applying a configuration changed.
type ConfigureResult struct {
	Changed bool     `json:"changed"`
	Notes   []string `json:"notes"`
}

// Configure makes the store's APIs and channels match the given definitions
// (typically config.Domain()). Limits, rules, units, keywords, priorities and
// needs are updated; usage, exhaustion, pauses and error counts are kept. A
// window whose rule changed gets its next reset from the new rule. APIs,
// windows and channels that are no longer defined are removed. Every rule is
// checked before anything changes.
func (e *Engine) Configure(ctx context.Context, apis []quotad.API, channels []quotad.Channel) (ConfigureResult, error) {
	for _, a := range apis {
		if a.Name == "" || len(a.Windows) == 0 {
			return ConfigureResult{}, quotad.Invalidf("API %q needs a name and at least one window", a.Name)
		}
		for _, w := range a.Windows {
			if _, err := e.rule(w.Rule); err != nil {
				return ConfigureResult{}, fmt.Errorf("API %s window %s: %w", a.Name, w.Name, err)
			}
			if w.Limit <= 0 {
				return ConfigureResult{}, quotad.Invalidf("API %s window %s: limit must be positive", a.Name, w.Name)
			}
		}
	}
	v, err := e.do(ctx, func(t *txn) (any, error) { return t.configure(apis, channels) })
	if err != nil {
		return ConfigureResult{}, fmt.Errorf("apply config: %w", err)
	}
	return v.(ConfigureResult), nil
}

func (t *txn) configure(apis []quotad.API, channels []quotad.Channel) (ConfigureResult, error) {
	var notes []string
	existing, err := t.allAPIList()
	if err != nil {
		return ConfigureResult{}, err
	}
	if _, err := t.allChannels(); err != nil {
		return ConfigureResult{}, err
	}
	want := map[string]bool{}
	for _, def := range apis {
		want[def.Name] = true
		cur, ok := t.apis[def.Name]
		if !ok {
			a := def
			a.Windows = slices.Clone(def.Windows)
			for i := range a.Windows {
				t.initWindow(&a.Windows[i])
			}
			t.apis[a.Name] = &a
			t.touchAPI(a.Name)
			notes = append(notes, "added API "+a.Name)
			continue
		}
		if n := t.mergeAPI(cur, def); len(n) > 0 {
			notes = append(notes, n...)
		}
	}
	for _, a := range existing {
		if !want[a.Name] {
			t.deleteAPI(a.Name)
			notes = append(notes, "removed API "+a.Name)
		}
	}
	wantCh := map[string]bool{}
	for _, def := range channels {
		wantCh[def.Name] = true
		if def.Priority == "" {
			def.Priority = quotad.PriorityNormal
		}
		cur, ok := t.chans[def.Name]
		if !ok {
			c := quotad.Channel{Name: def.Name, Priority: def.Priority, APIs: slices.Clone(def.APIs), StoredActive: true,
				Fallbacks: slices.Clone(def.Fallbacks), Budgets: slices.Clone(def.Budgets)}
			t.chans[c.Name] = &c
			t.touchChannel(c.Name)
			notes = append(notes, "added channel "+c.Name)
			continue
		}
		if cur.Priority != def.Priority || !slices.Equal(cur.APIs, def.APIs) || !equalFallbacks(cur.Fallbacks, def.Fallbacks) || !slices.Equal(cur.Budgets, def.Budgets) {
			cur.Priority, cur.APIs, cur.Fallbacks, cur.Budgets = def.Priority, slices.Clone(def.APIs), slices.Clone(def.Fallbacks), slices.Clone(def.Budgets)
			t.touchChannel(cur.Name)
			notes = append(notes, "updated channel "+cur.Name)
		}
	}
	for name := range t.chans {
		if !wantCh[name] && !sharesChannels(t.e.store) {
			t.deleteChannel(name)
			notes = append(notes, "removed channel "+name)
		}
	}
	// Quota pauses of removed APIs, and limits raised above usage, may free channels.
	if _, err := t.resumeCleared(false); err != nil {
		return ConfigureResult{}, err
	}
	res := ConfigureResult{Changed: len(notes) > 0, Notes: notes}
	if res.Notes == nil {
		res.Notes = []string{}
	}
	if res.Changed {
		t.emit(quotad.LevelInfo, "", quotad.CategoryConfig, "Config applied: "+strings.Join(notes, "; "), nil)
	}
	return res, nil
}

// initWindow gives a new window its schedule: the current period started at
// the rule's previous instant and ends at its next one.
func (t *txn) initWindow(w *quotad.Window) {
	r, _ := t.e.rule(w.Rule) // checked by Configure
	w.Start(r, t.now)
}

// mergeAPI updates cur's definition from def, keeping window state.
func (t *txn) mergeAPI(cur *quotad.API, def quotad.API) []string {
	var notes []string
	if cur.Unit != def.Unit || cur.AutoResume != def.AutoResume || !slices.Equal(cur.Keywords, def.Keywords) || cur.Reserve != def.Reserve ||
		!slices.Equal(cur.Prices, def.Prices) {
		cur.Unit, cur.AutoResume, cur.Keywords, cur.Reserve = def.Unit, def.AutoResume, slices.Clone(def.Keywords), def.Reserve
		cur.Prices = slices.Clone(def.Prices)
		notes = append(notes, "updated API "+cur.Name)
	}
	old := map[string]quotad.Window{}
	for _, w := range cur.Windows {
		old[w.Key()] = w
	}
	defined := map[string]quotad.Window{} // key → definition
	models := map[string]bool{}           // models the definition has windows for
	for _, d := range def.Windows {
		defined[d.Key()] = d
		models[d.Model] = true
	}
	changedWindows := false
	windows := make([]quotad.Window, 0, len(def.Windows))
	for _, d := range def.Windows {
		w, ok := old[d.Key()]
		if !ok {
			w = d
			t.initWindow(&w)
			notes = append(notes, fmt.Sprintf("added window %s/%s", cur.Name, d.Key()))
			changedWindows = true
			windows = append(windows, w)
			continue
		}
		if t.mergeWindow(cur.Name, &w, d, &notes) {
			changedWindows = true
		}
		windows = append(windows, w)
	}
	// Windows the configuration does not define but calls made: those of
	// credential scopes (kept while their default-scope window is defined,
	// with its limit and rule) and those of models the configuration does
	// not know, learned from the provider's headers (kept as learned).
	for _, w := range cur.Windows {
		switch _, isDef := defined[w.Key()]; {
		case isDef:
		case w.Scope != "":
			d, ok := defined[quotad.WindowKey(w.Model, w.Name, "")]
			if !ok && (w.Model == "" || models[w.Model]) {
				notes = append(notes, fmt.Sprintf("removed window %s/%s", cur.Name, w.Key()))
				changedWindows = true
				continue
			}
			if ok {
				d.Scope = w.Scope
				if t.mergeWindow(cur.Name, &w, d, &notes) {
					changedWindows = true
				}
			}
			windows = append(windows, w)
		case w.Model != "" && !models[w.Model]:
			windows = append(windows, w)
		default:
			notes = append(notes, fmt.Sprintf("removed window %s/%s", cur.Name, w.Key()))
			changedWindows = true
		}
	}
	if len(windows) != len(cur.Windows) {
		changedWindows = true
	}
	if len(notes) > 0 || changedWindows {
		cur.Windows = windows
		t.touchAPI(cur.Name)
		// A limit lowered to or below usage exhausts the window now.
		var reached []int
		for i, w := range cur.Windows {
			if !w.Exhausted && w.Used >= w.Limit {
				reached = append(reached, i)
			}
		}
		if len(reached) > 0 {
			t.exhaust(cur, reached, time.Time{}, "limit lowered by config", "", quotad.Target{})
		}
	}
	return notes
}

// mergeWindow updates window w's definition from d (limit, rule, meter,
// bucket), keeping its state, and reports whether anything changed.
func (t *txn) mergeWindow(api string, w *quotad.Window, d quotad.Window, notes *[]string) bool {
	changed := false
	if w.Rule != d.Rule {
		r, _ := t.e.rule(d.Rule)
		w.Rule, w.NextReset = d.Rule, r.Next(t.now)
		*notes = append(*notes, fmt.Sprintf("window %s/%s resets %s", api, d.Key(), d.Rule))
		changed = true
	}
	if w.Meter != d.Meter || w.Bucket != d.Bucket {
		w.Meter, w.Bucket = d.Meter, d.Bucket
		*notes = append(*notes, fmt.Sprintf("window %s/%s counts %s", api, d.Key(), meterText(d)))
		changed = true
	}
	if w.Limit != d.Limit {
		w.Limit = d.Limit
		*notes = append(*notes, fmt.Sprintf("window %s/%s limit %d", api, d.Key(), d.Limit))
		changed = true
		// A limit raised above usage frees a window exhausted by count alone.
		w.Release()
	}
	return changed
}

func meterText(w quotad.Window) string {
	m := w.Meter
	if m == "" {
		m = "units"
	}
	if w.Bucket {
		m += " of the calls charged to it"
	}
	return m
}

func equalFallbacks(a, b []quotad.Capability) bool {
	return slices.EqualFunc(a, b, func(x, y quotad.Capability) bool {
		return x.Name == y.Name && slices.Equal(x.Providers, y.Providers)
	})
}

// sharesChannels reports whether the store's channels table also belongs to
// another program (a channels.db adopted from the seed's daemon, whose rows
// the daemon's other tables refer to): Configure then keeps the channels the
// config does not list instead of deleting them.
func sharesChannels(s quotad.Store) bool {
	sh, ok := s.(interface{ SharedChannels() bool })
	return ok && sh.SharedChannels()
}
