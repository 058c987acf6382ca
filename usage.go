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
