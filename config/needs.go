package config

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/quotad/quotad"
	"go.yaml.in/yaml/v3"
)

// This file holds what a channel may use beyond the APIs it needs: an API's
// reserve for higher priorities and its pacing, a channel's budgets and its
// fallback providers.

// Pacing of an API (APIConfig.Pace).
const (
	PaceNone = "none" // spend as fast as jobs come (the default)
	PaceEven = "even" // spread each window's limit evenly over its period
)

// ReserveConfig is the "reserve" of an API: the last Units of every window
// are kept for channels at or above Priority.
type ReserveConfig struct {
	Priority quotad.Priority `yaml:"priority"`
	Units    int64           `yaml:"units"`
}

// domain returns the reserve as a domain value; nil keeps nothing.
func (r *ReserveConfig) domain() quotad.Reserve {
	if r == nil {
		return quotad.Reserve{}
	}
	return quotad.Reserve{Priority: r.Priority, Units: r.Units}
}

// BudgetConfig is one entry of a channel's "budgets": what it may spend of
// an API (or of one window of it, "youtube/daily") per window period.
type BudgetConfig struct {
	API    string
	Window string // "" = every window of the API
	// Value is the budget as written: units ("2000") or a share of each
	// window's limit ("25%").
	Value string
}

// Money returns a money budget's amount in millionths of a US dollar and its
// period ("$5/day" → 5000000, "day"); ok is false when Value is not money.
func (b BudgetConfig) Money() (micros int64, per string, ok bool, err error) {
	v := strings.TrimSpace(b.Value)
	rest, isMoney := strings.CutPrefix(v, "$")
	if !isMoney {
		return 0, "", false, nil
	}
	amount, per, hasPer := strings.Cut(rest, "/")
	per = strings.TrimSpace(per)
	if !hasPer {
		per = "day"
	}
	f, perr := strconv.ParseFloat(strings.TrimSpace(amount), 64)
	switch {
	case perr != nil || f <= 0 || f > 1e9:
		return 0, "", true, fmt.Errorf("invalid budget %q; expected dollars per period, like \"$5/day\"", b.Value)
	case per != "hour" && per != "day" && per != "week" && per != "month":
		return 0, "", true, fmt.Errorf("invalid budget %q: unknown period %q; expected hour, day, week or month, like \"$5/day\"", b.Value, per)
	case b.Window != "":
		return 0, "", true, fmt.Errorf("budget %q: a money budget is the API's, not a window's; write it under %s", b.Value, b.API)
	}
	return int64(math.Round(f * 1e6)), per, true, nil
}

// Parse returns the budget's units, or its share of a window's limit (0 <
// share <= 1) when Value is a percentage. A money budget ("$5/day") gives
// neither (see Money).
func (b BudgetConfig) Parse() (units int64, share float64, err error) {
	if _, _, ok, err := b.Money(); ok {
		return 0, 0, err
	}
	v := strings.TrimSpace(b.Value)
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || f <= 0 || f > 100 {
			return 0, 0, fmt.Errorf("invalid budget %q; expected a percentage above 0%% and at most 100%%, like \"25%%\"", b.Value)
		}
		return 0, f / 100, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, 0, fmt.Errorf("invalid budget %q; expected units from 1 to %d, or a percentage of each window's limit like \"25%%\"", b.Value, int64(MaxLimit))
	}
	return n, 0, nil
}

// budgetValue is a budget as written in YAML: an integer or a string.
type budgetValue string

// UnmarshalYAML accepts one non-null scalar.
func (v *budgetValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return typeError(n, "config.budget")
	}
	*v = budgetValue(n.Value)
	return nil
}

func decodeBudgets(m map[string]budgetValue) []BudgetConfig {
	var out []BudgetConfig
	for _, k := range slices.Sorted(maps.Keys(m)) {
		api, window, _ := strings.Cut(k, "/")
		out = append(out, BudgetConfig{API: api, Window: window, Value: string(m[k])})
	}
	return out
}

func decodeFallbacks(m map[string][]string) []quotad.Capability {
	var out []quotad.Capability
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, quotad.Capability{Name: k, Providers: append([]string{}, m[k]...)})
	}
	return out
}

func cloneCapabilities(cs []quotad.Capability) []quotad.Capability {
	if cs == nil {
		return nil
	}
	out := make([]quotad.Capability, len(cs))
	for i, c := range cs {
		out[i] = quotad.Capability{Name: c.Name, Providers: append([]string(nil), c.Providers...)}
	}
	return out
}

// domainBudgets converts budgets; one that does not parse (an unvalidated
// config) is left out.
func domainBudgets(bs []BudgetConfig) []quotad.Budget {
	var out []quotad.Budget
	for _, b := range bs {
		if micros, per, ok, err := b.Money(); ok {
			if err == nil {
				out = append(out, quotad.Budget{API: b.API, Micros: micros, Per: per})
			}
			continue
		}
		units, share, err := b.Parse()
		if err != nil {
			continue
		}
		out = append(out, quotad.Budget{API: b.API, Window: b.Window, Units: units, Share: share})
	}
	return out
}

// Paced reports whether the API spreads its windows evenly (pace: even).
func (a APIConfig) Paced() bool { return a.Pace == PaceEven }

// PacedAPIs returns the names of the APIs with pace: even.
func (c Config) PacedAPIs() []string {
	var out []string
	for _, a := range c.APIs {
		if a.Paced() {
			out = append(out, a.Name)
		}
	}
	return out
}

// Providers returns the APIs of the channel's fallback needs, each once, in
// order.
func (ch ChannelConfig) Providers() []string {
	var out []string
	for _, capb := range ch.Fallbacks {
		for _, p := range capb.Providers {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// capabilityRE is the syntax of capability names.
var capabilityRE = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// apiNeedsProblems checks an API's reserve and pace.
func (a APIConfig) needsProblems(p fieldPath) []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	switch a.Pace {
	case "", PaceNone, PaceEven:
	default:
		add(p.to("pace"), "unknown pace %q; expected even or none", a.Pace)
	}
	if r := a.Reserve; r != nil {
		rp := p.to("reserve")
		switch r.Priority.Rank() {
		case 1, 2:
		case 0:
			add(rp.to("priority"), "a reserve for low priority keeps nothing from anyone; expected normal or high")
		default:
			add(rp.to("priority"), "unknown priority %q; expected normal or high", r.Priority)
		}
		for _, w := range a.Windows {
			if r.Units <= 0 || r.Units >= w.Limit {
				add(rp.to("units"), "expected units above 0 and below every window's limit (%s: %d), got %d", w.Name, w.Limit, r.Units)
				break
			}
		}
		if len(a.Windows) == 0 && r.Units <= 0 {
			add(rp.to("units"), "expected units above 0, got %d", r.Units)
		}
	}
	return ps
}

// channelNeedsProblems checks a channel's budgets and fallbacks against
// the configured APIs.
func (c *Config) channelNeedsProblems(p fieldPath, ch ChannelConfig) []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	for _, capb := range ch.Fallbacks {
		cp := p.to("fallbacks", capb.Name)
		switch {
		case !capabilityRE.MatchString(capb.Name):
			add(cp, "invalid capability name %q; expected lower-case letters, digits and '_', like llm or stock", capb.Name)
		case slices.Contains(ch.APIs, capb.Name):
			add(cp, "capability %q has the name of an API the channel needs; expected another name, like llm", capb.Name)
		}
		if len(capb.Providers) == 0 {
			add(cp, "no providers; expected a list of APIs, most preferred first, like [groq, openai]")
		}
		for i, prov := range capb.Providers {
			_, ok := c.API(quotad.ParseTarget(prov).API) // an API, or a model of one
			switch {
			case !ok:
				add(cp.to(i), "unknown API %q; expected one of: %s", prov, strings.Join(apiNames(c.APIs), ", "))
			case slices.Index(capb.Providers, prov) < i:
				add(cp.to(i), "duplicate provider %q; expected each API once", prov)
			}
		}
	}
	providers := ch.Providers()
	for _, b := range ch.Budgets {
		key := b.API
		if b.Window != "" {
			key += "/" + b.Window
		}
		bp := p.to("budgets", key)
		a, ok := c.API(b.API)
		switch {
		case !slices.ContainsFunc(append(slices.Clone(ch.APIs), providers...), func(n string) bool { return quotad.ParseTarget(n).API == b.API }):
			add(bp, "%q is not an API this channel needs or a fallback provider of it; expected one of: %s",
				b.API, strings.Join(append(append([]string(nil), ch.APIs...), providers...), ", "))
			continue
		case !ok:
			continue // reported at apis or fallbacks
		}
		if b.Window != "" {
			if _, ok := windowOf(a, b.Window); !ok {
				add(bp, "unknown window %q of %s; expected one of: %s", b.Window, b.API, strings.Join(windowNames(a), ", "))
				continue
			}
		}
		if _, _, money, err := b.Money(); money {
			if err != nil {
				add(bp, "%s", err.Error())
			} else if len(a.domainPrices()) == 0 {
				add(bp, "a money budget of %s, which has no prices; expected a provider with prices or a \"prices\" key on the API", b.API)
			}
			continue
		}
		units, _, err := b.Parse()
		if err != nil {
			add(bp, "%s", err.Error())
			continue
		}
		for _, w := range a.Windows {
			if (b.Window == "" || b.Window == w.Name) && units > w.Limit {
				add(bp, "budget of %d exceeds the limit of %s/%s (%d); expected at most the limit", units, b.API, w.Name, w.Limit)
				break
			}
		}
	}
	return ps
}

func windowOf(a APIConfig, name string) (WindowConfig, bool) {
	for _, w := range a.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return WindowConfig{}, false
}

func windowNames(a APIConfig) []string {
	out := make([]string, 0, len(a.Windows))
	for _, w := range a.Windows {
		out = append(out, w.Name)
	}
	sort.Strings(out)
	return out
}
