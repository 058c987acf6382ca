// Package config reads quotad's YAML configuration file.
//
// The file is read in three steps, in the style of litestream: DefaultConfig
// gives the built-in settings (the seed's table: groq, youtube and pexels),
// the YAML document is decoded strictly over them (unknown keys and wrong
// types are errors), and Validate checks every value. Every error names the
// file, the line and what was expected, and all problems are reported at
// once. Every error from Load, Parse and Validate about the content of the
// file satisfies errors.Is(err, quotad.ErrInvalid).
package config

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // the binary works on machines without a zone database

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// Defaults.
const (
	DefaultTimezone       = "America/Los_Angeles" // YouTube's documented reset zone
	DefaultErrorThreshold = 20
	DefaultSafetyTick     = Duration(time.Hour)
	DefaultPollInterval   = Duration(time.Second)
	DefaultListen         = "127.0.0.1:8080"
	DefaultMaxConcurrent  = 4
	DefaultUnit           = "units"
	DefaultJobTimeout     = Duration(time.Hour)
)

// Durability settings ("durability" key).
const (
	// DurabilityCrash keeps every acknowledged change through a crash of
	// any process (SQLite WAL, synchronous=NORMAL); a power loss may lose
	// the last ones.
	DurabilityCrash = "crash"
	// DurabilityPower keeps them through a power loss too (SQLite
	// synchronous=FULL: an fsync per commit).
	DurabilityPower = "power"
)

// Config is the content of quotad's configuration file.
type Config struct {
	// Timezone is the default zone of reset rules and job schedules.
	Timezone string `yaml:"timezone"`
	// ErrorThreshold is the number of consecutive non-quota errors after
	// which a channel gets an "errors" pause.
	ErrorThreshold int `yaml:"error_threshold"`
	// SafetyTick is the interval of the full catch-up pass.
	SafetyTick Duration `yaml:"safety_tick"`
	// PollInterval is how often the daemon checks the store for changes
	// made by other processes.
	PollInterval Duration `yaml:"poll_interval"`
	// DB is the store: a SQLite path or a postgres:// URL; "" lets the CLI
	// decide.
	DB string `yaml:"db"`
	// Durability is what an acknowledged change survives in a SQLite store:
	// DurabilityCrash (default) or DurabilityPower. PostgreSQL ignores it.
	Durability string       `yaml:"durability"`
	Server     ServerConfig `yaml:"server"`
	Runner     RunnerConfig `yaml:"runner"`
	Store      StoreConfig  `yaml:"store"`
	// APIs come from the "apis" mapping, in document order; Name is the
	// key. When the file has the mapping, it replaces the built-in APIs.
	APIs []APIConfig `yaml:"-"`
	// Channels come from the "channels" mapping, in document order; Name is
	// the key.
	Channels []ChannelConfig `yaml:"-"`
	// Thresholds are the fractions of a window's limit whose crossing emits
	// a "threshold" event ("thresholds" key; default 0.8 and 0.95; an empty
	// list means none).
	Thresholds []float64 `yaml:"-"`
	// Usage says how long usage history is kept ("usage" key).
	Usage UsageConfig `yaml:"-"`
	// Notifiers come from the "notifiers" mapping, in document order; Name
	// is the key.
	Notifiers []NotifierConfig `yaml:"-"`
}

// ServerConfig configures the HTTP server of `quotad serve`.
type ServerConfig struct {
	// Listen is the host:port to listen on.
	Listen string `yaml:"listen"`
	// Token is the bearer token that mutations need; the CLI lets
	// QUOTAD_TOKEN override it.
	Token string `yaml:"token"`
	// AllowedHosts are names, besides loopback names and addresses and the
	// listen host, that requests may carry in their Host header: a reverse
	// proxy's public name. Others are refused (a web page rebinding its DNS
	// name to 127.0.0.1 sends its own).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// StoreConfig configures waits on the store.
type StoreConfig struct {
	// Timeout bounds every wait for the store (a lock held by another
	// process, a database that is down): past it a request fails with 503
	// and Retry-After. PostgreSQL's lock_timeout and statement_timeout and
	// SQLite's busy timeout are set to it. Default DefaultStoreTimeout.
	Timeout Duration `yaml:"timeout"`
}

// DefaultStoreTimeout is the default of store.timeout.
const DefaultStoreTimeout = Duration(5 * time.Second)

// Limits of store.timeout.
const (
	MinStoreTimeout = Duration(100 * time.Millisecond)
	MaxStoreTimeout = Duration(time.Minute)
)

// RunnerConfig configures the job runner.
type RunnerConfig struct {
	// MaxConcurrent is the global limit of concurrently running jobs.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// APIConfig is one API of the "apis" mapping.
type APIConfig struct {
	Name       string
	Unit       string   // "units" when absent
	Keywords   []string // lower-cased on load
	AutoResume bool     // true when absent
	Windows    []WindowConfig
	// Reserve keeps the last Units of every window for channels at or
	// above Priority ("reserve" key, needs.go); nil keeps nothing.
	Reserve *ReserveConfig
	// Pace is PaceNone (default) or PaceEven: the runner spreads each
	// window's quota over its period ("pace" key, needs.go).
	Pace string
	// Provider names a built-in provider profile ("provider" key,
	// providers.go): it supplies the unit, keywords and windows the API
	// leaves out, and lets the metering proxy forward its calls.
	Provider string
	// Upstream overrides the profile's base URL ("upstream" key).
	Upstream string
	// Costs overrides the profile's cost table ("costs" key):
	// "METHOD /path" → "N" or "WINDOW:N".
	Costs map[string]string
	// Listen is a host:port where quotad serve serves this API's proxy at
	// the root ("listen" key, providers.go): for SDKs that keep only the
	// origin of their endpoint setting when two APIs share a provider.
	Listen string
	// Models gives models their own windows ("models" key, models.go):
	// model → window name → limit. With a per-model provider (groq,
	// openai) it overrides the provider's table; otherwise each names
	// windows of the API, whose reset and meter it takes.
	Models map[string]map[string]int64
	// Credentials name credential scopes ("credentials" key, models.go).
	Credentials []CredentialConfig
	// Prices override the provider's prices per model ("prices" key).
	Prices map[string]PriceConfig
}

// WindowConfig is one quota window of an API.
type WindowConfig struct {
	Name  string `yaml:"name"`
	Limit int64  `yaml:"limit"`
	// Reset is the reset rule as written; its zone defaults to Timezone.
	Reset string `yaml:"reset"`
	// Meter is what the window counts: requests, tokens or units (the
	// API's unit); "" takes the provider's, else units.
	Meter string `yaml:"meter"`
}

// ChannelConfig is one channel of the "channels" mapping.
type ChannelConfig struct {
	Name     string
	APIs     []string
	Priority quotad.Priority // normal when absent
	Job      *JobConfig      // nil when the channel has no job
	// Budgets cap what the channel may spend of an API per window
	// ("budgets" key, needs.go), sorted by API and window.
	Budgets []BudgetConfig
	// Fallbacks are needs any one of several APIs satisfies ("fallbacks"
	// key, needs.go), sorted by capability name.
	Fallbacks []quotad.Capability
}

// JobConfig is the command quotad runs for a channel.
type JobConfig struct {
	// Command is the argv; a YAML string s becomes ["sh", "-c", s].
	Command []string
	// Shell is true when the YAML gave the command as a string.
	Shell bool
	Dir   string
	Env   map[string]string
	// Schedule is a reset-rule-syntax schedule ("" = run on demand only);
	// after Validate it is the canonical rule text, naming its zone.
	Schedule string
	Timeout  Duration // 1h when absent
	// Estimate is the expected units per run per API.
	Estimate map[string]int64
	// Simulate describes the job by what it calls, for `quotad simulate`
	// (nil: the job cannot be simulated).
	Simulate *SimulateConfig
}

// DefaultConfig returns the built-in configuration: the seed's table of
// APIs, no channels, and the default settings.
func DefaultConfig() Config {
	daily := func(limit int64) []WindowConfig {
		return []WindowConfig{{Name: "daily", Limit: limit, Reset: "daily 00:00"}}
	}
	return Config{
		Timezone:       DefaultTimezone,
		ErrorThreshold: DefaultErrorThreshold,
		SafetyTick:     DefaultSafetyTick,
		PollInterval:   DefaultPollInterval,
		Durability:     DurabilityCrash,
		Server:         ServerConfig{Listen: DefaultListen},
		Runner:         RunnerConfig{MaxConcurrent: DefaultMaxConcurrent},
		Store:          StoreConfig{Timeout: DefaultStoreTimeout},
		Thresholds:     DefaultThresholds(),
		Usage:          UsageConfig{Minutes: DefaultUsageMinutes, Hours: DefaultUsageHours},
		APIs: []APIConfig{
			{Name: "groq", Unit: "tokens", Keywords: []string{"groq", "llama"}, AutoResume: true, Windows: daily(100000)},
			{Name: "youtube", Unit: "units", Keywords: []string{"youtube", "google"}, AutoResume: true, Windows: daily(10000)},
			{Name: "pexels", Unit: "requests", Keywords: []string{"pexels"}, AutoResume: true, Windows: []WindowConfig{
				{Name: "hourly", Limit: 200, Reset: "every 1h"},
				{Name: "monthly", Limit: 20000, Reset: "monthly 1 00:00"},
			}},
		},
	}
}

// Location returns the loaded Timezone. Validate guarantees that it loads;
// for an invalid zone Location returns UTC.
func (c Config) Location() *time.Location {
	loc, err := loadZone(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// API returns the API with the given name and whether it exists.
func (c Config) API(name string) (APIConfig, bool) {
	for _, a := range c.APIs {
		if a.Name == name {
			return a, true
		}
	}
	return APIConfig{}, false
}

// Channel returns the channel with the given name and whether it exists.
func (c Config) Channel(name string) (ChannelConfig, bool) {
	for _, ch := range c.Channels {
		if ch.Name == name {
			return ch, true
		}
	}
	return ChannelConfig{}, false
}

// Domain converts the config to domain values: APIs whose windows carry the
// canonical rule text (rule.Parse(reset, c.Location()).String(), so the
// stored rule names its zone) and zero state, and channels with Priority
// defaulted to normal and no pauses. Call it on a validated config; a rule
// that does not parse is passed through as written.
func (c Config) Domain() ([]quotad.API, []quotad.Channel) {
	loc := c.Location()
	apis := make([]quotad.API, 0, len(c.APIs))
	for _, a := range c.APIs {
		d := quotad.API{
			Name:       a.Name,
			Unit:       a.Unit,
			Keywords:   lowerAll(a.Keywords),
			AutoResume: a.AutoResume,
			Reserve:    a.Reserve.domain(),
			Prices:     a.domainPrices(),
		}
		d.Windows = a.domainWindows(func(reset string) string {
			if r, err := rule.Parse(reset, loc); err == nil {
				return r.String()
			}
			return reset
		})
		apis = append(apis, d)
	}
	channels := make([]quotad.Channel, 0, len(c.Channels))
	for _, ch := range c.Channels {
		p := ch.Priority
		if p == "" {
			p = quotad.PriorityNormal
		}
		channels = append(channels, quotad.Channel{
			Name:         ch.Name,
			Priority:     p,
			APIs:         append([]string(nil), ch.APIs...),
			Fallbacks:    cloneCapabilities(ch.Fallbacks),
			Budgets:      domainBudgets(ch.Budgets),
			StoredActive: true, // no pauses: active, and stored so
		})
	}
	return apis, channels
}

func lowerAll(s []string) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s))
	for i, k := range s {
		out[i] = strings.ToLower(k)
	}
	return out
}

// loadZone loads an IANA zone. It refuses "" and "Local", which would make
// the meaning of rules depend on the machine.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA zone name", name)
	}
	return time.LoadLocation(name)
}
