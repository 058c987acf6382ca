package quotad

import "time"

// Usage resolutions.
const (
	Minute = time.Minute
	Hour   = time.Hour
)

// UsageBucket is the units one channel spent on one API in one period of
// Resolution starting at Start. Channel "" is spend attributed to no channel.
// Buckets are kept per API, model and channel; Units are in the API's unit.
type UsageBucket struct {
	API        string
	Model      string // the model (or bucket) of the calls; "" for none
	Channel    string
	Start      time.Time
	Resolution time.Duration // Minute or Hour
	Units      int64
	Count      int64 // how many spends
	// Cost is what the calls cost in millionths of a US dollar, from the
	// model's price (0 when unknown).
	Cost int64
}

// UsageFilter selects usage buckets; zero fields match everything. Since is
// inclusive, Until exclusive.
type UsageFilter struct {
	API        string
	Channel    string
	Since      time.Time
	Until      time.Time
	Resolution time.Duration // 0 = both resolutions
}

// Usage granularities of UsageQuery.By.
const (
	ByMinute = "minute"
	ByHour   = "hour"
	ByDay    = "day" // calendar days in the engine's Location
)

// DefaultUsageSince is how far back a UsageQuery without Since reads.
const DefaultUsageSince = 24 * time.Hour

// UsageQuery selects usage history. Zero fields take the defaults.
type UsageQuery struct {
	API     string    // "" = every API
	Channel string    // "" = every channel (spend attributed to no channel has channel "")
	Since   time.Time // inclusive; default Until - 24h
	Until   time.Time // exclusive; default now
	By      string    // ByMinute, ByHour (default) or ByDay
}

// UsagePoint is the units one channel spent on one API in one minute, hour
// or day. Every window of an API counts the same units, so usage is kept
// per API: a window's series is its API's series.
type UsagePoint struct {
	Start   time.Time `json:"start"`
	API     string    `json:"api"`
	Model   string    `json:"model,omitempty"` // the model (or bucket) of the calls; absent for none
	Channel string    `json:"channel"`
	Units   int64     `json:"units"`
	Count   int64     `json:"count"`          // how many spends
	Cost    float64   `json:"cost,omitempty"` // what they cost in US dollars, at the model's price
}
