package quotad

import "time"

// Event levels, as the seed prints them.
const (
	LevelInfo    = "INFO"
	LevelWarning = "WARNING"
	LevelError   = "ERROR"
)

// Event categories. The seed's queries select on category LIKE '%quota%'.
const (
	CategoryQuota      = "quota"       // an API exhausted or blocked
	CategoryQuotaReset = "quota_reset" // a window refilled (timer or person)
	CategoryAutoResume = "auto_resume" // a channel resumed after a reset
	CategoryResume     = "resume"      // a person resumed a channel
	CategoryPause      = "pause"       // a channel paused (person, errors, quota)
	CategoryError      = "error"       // a reported non-quota error
	CategoryConfig     = "config"      // config applied to the store
	CategoryJob        = "job"         // a channel's job ran
	CategoryBudget     = "budget"      // a channel passed its own budget
	CategoryThreshold  = "threshold"   // a window passed a fraction of its limit
	CategoryForecast   = "forecast"    // a window is projected to run out before its reset
	CategoryNotify     = "notify"      // a notification was given up
)

// Event is one row of the logs table. Every state change writes one.
type Event struct {
	ID       int64
	Time     time.Time
	Level    string
	Channel  string // "" when the event concerns no single channel
	Category string
	Message  string
	Fields   map[string]string // structured details: api, window, until, ...
}

// EventFilter selects events; zero fields match everything. Events are
// returned newest first.
type EventFilter struct {
	Category string // exact match, or a LIKE pattern when it contains '%'
	Channel  string
	Level    string
	Before   int64 // only events with ID < Before (paging); 0 = no bound
	After    int64 // only events with ID > After (tailing); 0 = no bound
	Limit    int   // 0 means 100
}
