package quotad

import "time"

// Usage resolutions.
const (
	Minute = time.Minute
	Hour   = time.Hour
)

// UsageBucket is the units one channel spent on one API in one period of
// Resolution starting at Start. Channel "" is spend attributed to no channel.
// Every window of an API counts the same units, so buckets are kept per API.
type UsageBucket struct {
	API        string
	Channel    string
	Start      time.Time
	Resolution time.Duration // Minute or Hour
	Units      int64
	Count      int64 // how many spends
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
