// Package postgres is quotad's PostgreSQL store: several daemons and workers
// on several machines sharing one set of quotas.
//
// The database keeps the same tables and columns as the SQLite store
// (api_quotas, apis, channels, channel_pauses, logs, reservations, jobs,
// usage, notifications, once_keys) with native types: timestamptz (NULL for
// an unset time, microsecond precision), bigint, boolean and jsonb. The
// seed's queries work as written, for example
//
//	psql "$QUOTAD_DB" -c "SELECT api_name, quota_remaining, is_exhausted, next_reset FROM api_quotas"
//
// Serialization: every Update begins a READ COMMITTED transaction and first
// takes a transaction-scoped advisory lock, so writers in every process on
// every machine run one at a time and each decides on what the previous one
// committed. A View is a REPEATABLE READ READ ONLY transaction (one
// snapshot) and never waits for writers. After an Update that changed
// something commits, the store's NOTIFY on channel quotad_changes wakes the
// other instances; Changes exposes those notifications.
//
// Schema migrations are versioned in schema_migrations and applied by Open,
// each in a transaction holding a migration advisory lock, so any number of
// instances may start at once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quotad/quotad"
)

// NotifyChannel is the LISTEN/NOTIFY channel on which committed changes are
// announced. Its payload names the store (see Store.Changes); a NOTIFY with an
// empty payload (a person's `NOTIFY quotad_changes` in psql) wakes every
// instance.
const NotifyChannel = "quotad_changes"

// LockClass is the first key of the two-key transaction-scoped advisory lock
// that every Update takes: pg_advisory_xact_lock(LockClass, oid), where oid
// is the object id of the store's api_quotas table. Every process that
// writes the same tables takes the same lock; stores in other schemas of the
// same database do not contend.
const LockClass int32 = 0x71756f74 // "quot"

// DefaultConnectTimeout bounds each connection attempt when the DSN sets no
// connect_timeout (and the store's timeout is not shorter).
const DefaultConnectTimeout = 10 * time.Second

// ErrReadOnly is returned by the write methods of a Tx given to View.
var ErrReadOnly = errors.New("postgres: write in a read-only (View) transaction")

// Watcher is quotad.Watcher, which Store implements.
type Watcher = quotad.Watcher

// Store is the PostgreSQL implementation of quotad.Store. It is safe for
// concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	scope string // oid of api_quotas: the write lock's second key and the NOTIFY payload

	beginWrite []queued // BEGIN, SET LOCAL and the advisory lock, sent with the first statement
	beginRead  []queued // BEGIN and SET LOCAL of a View
	conn       connSettings
	// earlyRelease: a write transaction commits with synchronous_commit =
	// off, releasing its advisory lock without waiting for the WAL flush,
	// and Update then waits for durability with a synchronous commit of its
	// own (sqlFlush). The next writer, in this process or another, takes
	// the lock meanwhile, so daemons sharing the database flush in parallel
	// (PostgreSQL groups concurrent flushes) instead of one after the other.
	// Every commit a later transaction can see precedes that transaction's
	// own commit record in the WAL, so nothing acknowledged depends on
	// anything not yet durable. Off when the server refuses sqlFlush.
	earlyRelease bool
	timeout      time.Duration
	warnOnce     sync.Once // the "no LISTEN behind a pooler" notice

	changes    chan struct{} // what Changes returns
	heard      chan struct{} // notifications heard, before rate limiting
	mu         sync.Mutex    // guards listening and closed
	listening  bool
	closed     bool
	listenCtx  context.Context
	stopListen context.CancelFunc
	listenWG   sync.WaitGroup

	closeOnce sync.Once
}

var (
	_ quotad.Store = (*Store)(nil)
	_ Watcher      = (*Store)(nil)
)

// Option configures Open.
type Option func(*options)

type options struct {
	log     *slog.Logger
	timeout time.Duration
}

// WithTimeout bounds every wait of a transaction (lock_timeout and
// statement_timeout, set with SET LOCAL); default DefaultTimeout. A wait
// past it fails with an error wrapping quotad.ErrUnavailable.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogger sets the logger for the store's diagnostics (the LISTEN
// connection's reconnects). The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string; pgxpool settings such as pool_max_conns and a
// search_path are honoured; pooler=transaction for a transaction pooler, see
// PoolerParam), applies migrations, and returns the store.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{log: slog.Default(), timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		o.timeout = DefaultTimeout
	}
	s, err := open(ctx, dsn, o, false)
	if refusedStartupParam(err) {
		o.log.Info("postgres: the server refused a startup parameter as PgBouncer does; using transaction-pooler mode (say so with pooler=transaction in the URL)", "err", err)
		s, err = open(ctx, dsn, o, true)
	}
	return s, err
}

func open(ctx context.Context, dsn string, o options, forcePooled bool) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w: %v", quotad.ErrInvalid, err)
	}
	cs, err := takePooler(cfg, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w: %v", quotad.ErrInvalid, err)
	}
	cs.pooled = cs.pooled || forcePooled
	if cs.pooled {
		applyPooler(cfg, &cs)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "quotad"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = min(DefaultConnectTimeout, o.timeout)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", classify(err))
	}
	if err := migrate(ctx, pool, cs.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", classify(err))
	}
	var oid uint32
	if err := inTx(ctx, pool, cs.schema, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT 'api_quotas'::regclass::oid`).Scan(&oid)
	}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: find api_quotas: %w", classify(err))
	}
	s := &Store{
		pool: pool, log: o.log, scope: strconv.FormatUint(uint64(oid), 10), conn: cs, timeout: o.timeout,
		changes: make(chan struct{}, 1), heard: make(chan struct{}, 1),
	}
	s.earlyRelease = flushWorks(ctx, pool, o.log)
	set, args := setLocal(cs.schema, o.timeout)
	writeSet, writeArgs := set, args
	if s.earlyRelease {
		writeSet += `, set_config('synchronous_commit', 'off', true)`
	}
	// oid is an unsigned 32-bit number; the lock takes two int4 keys.
	s.beginWrite = []queued{
		{what: "begin", sql: "BEGIN ISOLATION LEVEL READ COMMITTED"},
		{what: "begin", sql: writeSet, args: writeArgs},
		{what: "write lock", sql: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, %d)", LockClass, int32(oid))},
	}
	s.beginRead = []queued{
		{what: "begin", sql: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
		{what: "begin", sql: set, args: args},
	}
	s.listenCtx, s.stopListen = context.WithCancel(context.Background())
	return s, nil
}

// Pooled reports whether the store runs in transaction-pooler mode (see
// PoolerParam): no LISTEN, search_path set per transaction.
func (s *Store) Pooled() bool { return s.conn.pooled }

// Pool returns the connection pool, for tests and tools. A statement run on
// it is outside any Update: it does not take the write lock.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Version returns the schema version recorded in the database.
func (s *Store) Version(ctx context.Context) (int, error) {
	v, err := s.appliedVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", classify(err))
	}
	return v, nil
}

// Update runs fn in one READ COMMITTED transaction that first takes the
// store's advisory lock, so it is serialized against every other writer on
// the database; it commits when fn returns nil and returns once the commit is
// done (durable as the server's synchronous_commit makes it). fn's error is
// returned as is after rolling back. fn must not call Update or View on the
// same Store.
func (s *Store) Update(ctx context.Context, fn func(quotad.Tx) error) error {
	return s.run(ctx, true, func(t *tx) error { return fn(t) })
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: one snapshot,
// taken at its first read, that no concurrent commit changes.
func (s *Store) View(ctx context.Context, fn func(quotad.Tx) error) error {
	return s.run(ctx, false, func(t *tx) error { return fn(t) })
}

func (s *Store) run(ctx context.Context, write bool, fn func(*tx) error) (err error) {
	what, begin, notify := "view", s.beginRead, ""
	if write {
		what, begin, notify = "update", s.beginWrite, s.scope
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s: connect: %w", what, classify(err))
	}
	// Release destroys a connection left inside a transaction (a failed
	// rollback, a cancelled query), which makes the server roll it back.
	defer c.Release()
	conn := c.Conn()
	t := newTx(ctx, conn, write, begin)
	done := false
	defer func() {
		if !done && t.begun { // fn panicked
			rollback(conn)
		}
	}()
	if err := fn(t); err != nil {
		done = true
		if t.begun {
			rollback(conn)
		}
		return classify(err)
	}
	done = true
	if conn.PgConn().TxStatus() == 'E' { // a statement failed and fn carried on
		rollback(conn)
		return fmt.Errorf("postgres: %s: the transaction was rolled back: an earlier statement failed and fn returned nil", what)
	}
	// Once COMMIT is sent, a cancelled context must not make the outcome
	// ambiguous: the commit itself is not cancelled.
	t.ctx = context.WithoutCancel(ctx)
	wrote := t.changed
	if err := t.finish(notify); err != nil {
		if conn.PgConn().TxStatus() != 'I' {
			rollback(conn)
		}
		return fmt.Errorf("postgres: %s: commit: %w", what, classify(err))
	}
	if write && wrote && s.earlyRelease {
		// The commit above did not wait for its WAL flush (so the write
		// lock was released at once); this synchronous commit's flush
		// covers it, and runs beside other daemons' (see earlyRelease).
		if _, err := conn.Exec(ctx, sqlFlush); err != nil {
			return fmt.Errorf("postgres: %s: commit: wait for the commit to be durable: %w", what, classify(err))
		}
	}
	return nil
}

// rollback ends the transaction on conn; when that fails the connection is
// closed (the pool then discards it and the server rolls back).
func rollback(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.PgConn().Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
		_ = conn.Close(ctx)
	}
}

// Ping checks that the database is reachable and migrated.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.appliedVersion(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", classify(err))
	}
	return nil
}

// Close stops the LISTEN connection and closes the pool. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.stopListen()
		s.listenWG.Wait()
		s.pool.Close()
	})
	return nil
}
