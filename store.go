package quotad

import (
	"context"
	"time"
)

// Store is the durable state of quotad and its single source of truth.
// Implementations: store/sqlite (embedded default) and store/postgres. Both
// pass the contract suite in store/storetest.
type Store interface {
	// Update runs fn in one read-write transaction and commits it when fn
	// returns nil; any error rolls everything back. Write transactions are
	// serialized against every other writer, in this process and in other
	// processes on the same database (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
	// transaction-scoped advisory lock), so fn may read, decide and write
	// without losing updates. Update returns only once the transaction has
	// committed, as durable as the store is configured to make it: SQLite's
	// default (WAL, synchronous=NORMAL, config "durability: crash") survives
	// a crash of any process but may lose the last commits on a power loss;
	// "durability: power" (synchronous=FULL) survives that too; a PostgreSQL
	// commit is as durable as the server's synchronous_commit makes it.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction over a consistent snapshot.
	// Write methods of the Tx return an error inside View.
	View(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// VersionedTx is implemented by the write transactions of stores that can
// tell cheaply whether anything was written since an earlier point. The
// engine uses it to keep the rows it last committed in memory between
// transactions instead of reading them again.
type VersionedTx interface {
	// Version returns the store's version as this transaction sees it.
	// Two calls in write transactions on the same Store return equal
	// versions only if nothing was written to the store in between, by any
	// connection or process.
	Version() (StoreVersion, error)
}

// Watcher is implemented by stores that announce committed changes made by
// any process. It is optional: a consumer (the monitor) that finds it uses
// it to wake at once, and otherwise polls.
type Watcher interface {
	// Changes returns a channel that receives a value after a change to the
	// store is committed by any process (values coalesce: one receive may
	// stand for many commits). It is never closed.
	Changes() <-chan struct{}
}

// StoreVersion is an opaque version of a store's contents; see VersionedTx.
type StoreVersion struct{ Commits, Changes int64 }

// ReadTx is the reading half of a Tx: everything a transaction can read.
// Consumers that only read (views, the runner's plan, the proxy's cache)
// take a ReadTx, through a Reader.
type ReadTx interface {
	// APIs returns every API with its windows.
	APIs() ([]API, error)
	// API returns one API; a missing one is an error wrapping ErrUnknownAPI.
	API(name string) (API, error)

	// Channels returns every channel with its pauses.
	Channels() ([]Channel, error)
	// Channel returns one channel; a missing one wraps ErrUnknownChannel.
	Channel(name string) (Channel, error)
	// ChannelsOutOfSync returns channels whose stored is_active disagrees
	// with their pause reasons (edited by another program).
	ChannelsOutOfSync() ([]Channel, error)

	// Events returns events matching f, newest first.
	Events(f EventFilter) ([]Event, error)

	// Reservation returns one reservation; a missing one wraps
	// ErrUnknownReservation.
	Reservation(id string) (Reservation, error)
	// ExpiredReservations returns reservations with ExpiresAt <= now.
	ExpiredReservations(now time.Time) ([]Reservation, error)

	// DueAt returns the earliest instant at which time alone changes state:
	// the minimum over windows of next_reset, over exhausted windows of
	// blocked_until, over pauses of until, and over reservations of
	// expires_at. It returns the zero time when nothing is due.
	DueAt() (time.Time, error)

	// JobState returns a channel's job record; a channel with no record yet
	// gives JobState{Channel: channel} and no error.
	JobState(channel string) (JobState, error)
	// JobStates returns every job record, ordered by channel.
	JobStates() ([]JobState, error)

	// Usage returns the buckets matching f, ordered by Start, API, Channel.
	Usage(f UsageFilter) ([]UsageBucket, error)

	// DueNotifications returns up to limit pending notifications whose
	// NextAttempt is at or before now, oldest first.
	DueNotifications(now time.Time, limit int) ([]Notification, error)
	// Notifications returns the newest notifications in any state, up to limit.
	Notifications(limit int) ([]Notification, error)
	// NotificationCounts returns how many notifications are stored per
	// (Notifier, State), ordered by notifier then state (byte order); pairs
	// with no notification are left out. It reads no row.
	NotificationCounts() ([]NotificationCount, error)

	// Idempotency returns the record stored under key and true, or false
	// when there is none.
	Idempotency(key string) (IdempotencyRecord, bool, error)
}

// Tx is the set of reads and writes available inside a transaction. Methods
// use the context given to Update or View. Lists are ordered by name (APIs,
// channels) and windows keep the order in which SaveAPI wrote them. Only
// the engine and the stores' own tools (migrate, adopt) hold a Tx; every
// other writer goes through the engine, which publishes what it writes.
type Tx interface {
	ReadTx

	// SaveAPI inserts or replaces an API's definition (including Reserve)
	// and all its windows' state; windows of that API not in a.Windows are
	// deleted.
	SaveAPI(a API) error
	// SaveWindow writes one window's state (limit, rule, used, reserved,
	// times, flags). A missing API or window wraps ErrUnknownAPI.
	SaveWindow(api string, w Window) error
	// DeleteAPI removes an API and its windows (no error if missing).
	DeleteAPI(name string) error

	// SaveChannel inserts or replaces a channel (including Fallbacks and
	// Budgets), its pauses and its error count; it stores
	// is_active = c.Active().
	SaveChannel(c Channel) error
	// DeleteChannel removes a channel (no error if missing).
	DeleteChannel(name string) error

	// AppendEvents writes events to the logs table, setting nothing on the
	// arguments; IDs are assigned by the store in order.
	AppendEvents(events ...Event) error

	// SaveReservation inserts or replaces a reservation.
	SaveReservation(r Reservation) error
	// DeleteReservation removes a reservation (no error if missing).
	DeleteReservation(id string) error

	// SaveJobState inserts or replaces a job record.
	SaveJobState(s JobState) error

	// AddUsage adds each bucket's Units and Count to the stored bucket with
	// the same (API, Channel, Start, Resolution), creating it if needed.
	AddUsage(buckets ...UsageBucket) error
	// RollupUsage folds minute buckets that start before before into hour
	// buckets (adding to existing ones) and deletes them; it returns how many
	// minute buckets it folded.
	RollupUsage(before time.Time) (int, error)
	// PruneUsage deletes hour buckets that start before before and returns
	// how many it deleted.
	PruneUsage(before time.Time) (int, error)

	// EnqueueNotifications inserts notifications (ID is assigned); one whose
	// (Notifier, Key) is already stored is skipped.
	EnqueueNotifications(ns ...Notification) error
	// SaveNotification updates a stored notification's State, Attempts,
	// NextAttempt and LastError.
	SaveNotification(n Notification) error

	// Once records key and reports whether it was new, so that a one-shot
	// action (a forecast warning once per window per period) happens once
	// across processes.
	Once(key string, at time.Time) (bool, error)

	// SaveIdempotency inserts or replaces the record stored under r.Key.
	SaveIdempotency(r IdempotencyRecord) error
	// PruneIdempotency deletes records created before before and returns
	// how many it deleted.
	PruneIdempotency(before time.Time) (int, error)
}

// JobTx is what a job runner reads and writes in one transaction: every
// read, its job records, and the events of its runs. The engine runs it in
// its own transactions (engine.UpdateJobs) and publishes the events.
type JobTx interface {
	ReadTx
	// SaveJobState inserts or replaces a job record.
	SaveJobState(s JobState) error
	// AppendEvents records events; they are written and published with the
	// transaction's commit.
	AppendEvents(events ...Event) error
}

// OutboxTx is what a notification dispatcher reads and writes in one
// transaction: every read, the state of queued notifications, and the
// events of giving one up. The engine runs it (engine.UpdateOutbox) and
// publishes the events.
type OutboxTx interface {
	ReadTx
	// SaveNotification updates a stored notification's State, Attempts,
	// NextAttempt and LastError.
	SaveNotification(n Notification) error
	// AppendEvents records events; they are written and published with the
	// transaction's commit.
	AppendEvents(events ...Event) error
}

// Reader runs read-only transactions over a consistent snapshot: an engine
// (engine.Engine.Read), or a store opened by a command that runs no engine
// (ReadStore).
type Reader interface {
	Read(ctx context.Context, fn func(ReadTx) error) error
}

// ReadStore returns a Reader over s's View.
func ReadStore(s Store) Reader { return storeReader{s} }

type storeReader struct{ s Store }

func (r storeReader) Read(ctx context.Context, fn func(ReadTx) error) error {
	return r.s.View(ctx, func(tx Tx) error { return fn(tx) })
}

// Reservation holds units of an API for a channel until committed with the
// real amount, released, or expired.
type Reservation struct {
	ID        string
	API       string
	Channel   string
	Units     int64
	CreatedAt time.Time
	ExpiresAt time.Time
}
