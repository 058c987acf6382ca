package config

import (
	"maps"
	"slices"
	"strings"

	"github.com/quotad/quotad/provider"
)

// applyProfile fills the unit, keywords and windows an API with a known
// provider leaves out from that provider's built-in profile. An unknown
// provider is left for Validate to report.
func applyProfile(a *APIConfig) {
	if a.Provider == "" {
		return
	}
	p, ok := provider.Lookup(a.Provider)
	if !ok {
		return
	}
	if a.Unit == "" {
		a.Unit = p.Unit
	}
	if len(a.Keywords) == 0 {
		a.Keywords = append([]string{}, p.Keywords...)
	}
	if len(a.Windows) == 0 && !p.PerModel { // per model: the windows are the models'
		for _, w := range p.Windows {
			a.Windows = append(a.Windows, WindowConfig{Name: w.Name, Limit: w.Limit, Reset: w.Reset})
		}
	}
}

// Listeners returns the API → host:port of every API with a listener of
// its own ("listen" key).
func (c *Config) Listeners() map[string]string {
	out := map[string]string{}
	for _, a := range c.APIs {
		if a.Provider != "" && a.Listen != "" {
			out[a.Name] = a.Listen
		}
	}
	return out
}

// ProviderSpecs returns how each API that names a provider uses its
// profile, for the metering proxy.
func (c *Config) ProviderSpecs() []provider.Spec {
	var out []provider.Spec
	for _, a := range c.APIs {
		if a.Provider != "" {
			out = append(out, provider.Spec{API: a.Name, Provider: a.Provider, Upstream: a.Upstream, Costs: a.Costs, Prices: a.prices()})
		}
	}
	return out
}

// validateProvider reports what is wrong with a's provider settings.
func validateProvider(a APIConfig, p fieldPath, add func(fieldPath, string, ...any)) {
	if a.Provider == "" {
		if a.Upstream != "" {
			add(p.to("upstream"), "upstream without a provider; expected a provider key naming one of: %s", strings.Join(provider.Names(), ", "))
		}
		if len(a.Costs) > 0 {
			add(p.to("costs"), "costs without a provider; expected a provider key naming one of: %s", strings.Join(provider.Names(), ", "))
		}
		if a.Listen != "" {
			add(p.to("listen"), "listen without a provider; only a proxied API has a listener of its own: add a provider key naming one of: %s", strings.Join(provider.Names(), ", "))
		}
		return
	}
	if a.Listen != "" {
		if msg := checkListen(a.Listen); msg != "" {
			add(p.to("listen"), "%s", msg)
		}
	}
	if _, ok := provider.Lookup(a.Provider); !ok {
		add(p.to("provider"), "unknown provider %q; expected one of: %s", a.Provider, strings.Join(provider.Names(), ", "))
		return
	}
	if _, err := provider.Build([]provider.Spec{{API: a.Name, Provider: a.Provider, Upstream: a.Upstream, Costs: a.Costs}}); err != nil {
		add(p, "%s", err.Error())
	}
}

// prices returns the API's price overrides as the provider's.
func (a APIConfig) prices() []provider.Price {
	var out []provider.Price
	for _, m := range slices.Sorted(maps.Keys(a.Prices)) {
		out = append(out, provider.Price{Model: m, Input: a.Prices[m].Input, Output: a.Prices[m].Output})
	}
	return out
}
