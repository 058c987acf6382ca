// Package sqlite is quotad's embedded default store: one SQLite file in WAL
// mode, opened through the pure-Go driver modernc.org/sqlite.
//
// The file keeps the seed's tables and columns (api_quotas, channels, logs),
// so the documented sqlite3 commands work on it as written, for example
//
//	sqlite3 channels.db "SELECT api_name, quota_remaining, is_exhausted, next_reset FROM api_quotas;"
//
// A Store holds two connection pools on the file: one writer connection whose
// transactions start with BEGIN IMMEDIATE (serialized against every writer in
// this and other processes) and a pool of query-only readers whose
// transactions read a WAL snapshot without blocking the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/quotad/quotad"
	sqlitedriver "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// DriverName is the database/sql driver the store uses.
const DriverName = "sqlite"

// BusyTimeoutMillis is how long a connection waits for a lock held by another
// connection or process before failing with SQLITE_BUSY.
const BusyTimeoutMillis = 5000

const (
	// The writer leaves checkpoints to the checkpointer (checkpoint.go).
	writerParams = "_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(%s)&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(0)"
	checkpointParams = "_pragma=busy_timeout(%d)"
	readerParams     = "_txlock=deferred&_pragma=busy_timeout(%d)&_pragma=query_only(1)"
)

// Durability says what a commit the store acknowledged survives.
type Durability int

const (
	// DurabilityCrash is the default: WAL with synchronous=NORMAL. An
	// acknowledged commit survives a crash of quotad (or of any process
	// using the file); a power loss or an operating-system crash may lose
	// the last commits before the WAL was synced to disk, never corrupting
	// the file.
	DurabilityCrash Durability = iota
	// DurabilityPower is WAL with synchronous=FULL: the WAL is synced to
	// disk before each commit is acknowledged, so it survives a power loss
	// too (on a disk that honours flushes). Each commit costs an fsync;
	// group commit shares it among the operations of one transaction.
	DurabilityPower
)

// String returns the config word for d: "crash" or "power".
func (d Durability) String() string {
	if d == DurabilityPower {
		return "power"
	}
	return "crash"
}

// Synchronous returns SQLite's synchronous setting for d.
func (d Durability) Synchronous() string {
	if d == DurabilityPower {
		return "FULL"
	}
	return "NORMAL"
}

// Option configures Open.
type Option func(*options)

type options struct {
	busy       time.Duration
	durability Durability
}

// WithBusyTimeout sets how long a statement waits for a lock held by
// another connection or process before failing with an error wrapping
// quotad.ErrUnavailable; default BusyTimeoutMillis.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busy = d } }

// WithDurability sets what an acknowledged commit survives (default
// DurabilityCrash).
func WithDurability(d Durability) Option { return func(o *options) { o.durability = d } }

// ErrReadOnly is returned by the write methods of a Tx given to View.
var ErrReadOnly = errors.New("sqlite: write in a read-only (View) transaction")

// Store is the SQLite implementation of quotad.Store. It is safe for
// concurrent use.
type Store struct {
	path       string
	durability Durability
	writer     *sql.DB
	reader     *sql.DB
	ckpt       *checkpointer // its own connection; see checkpoint.go
	wstmts     stmtSet       // every statement, prepared on the writer
	rstmts     stmtSet       // read statements, prepared on the reader pool
	// adopted is set for a file adopted from the seed's daemon (Adopt);
	// logZone is then the zone of its zone-less logs.timestamp text.
	adopted bool
	logZone *time.Location

	closeOnce sync.Once
	closeErr  error
}

var _ quotad.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, runs
// migrations, and returns the store. Two processes may open the same file at
// once; migrations are serialized and applied once.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := checkNotSeed(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	o := options{busy: BusyTimeoutMillis * time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	busy := max(o.busy.Milliseconds(), 1)
	s := &Store{path: path, durability: o.durability}
	var err error
	s.writer, err = sql.Open(DriverName, path+"?"+fmt.Sprintf(writerParams, busy, o.durability.Synchronous()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := connect(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, classify(err))
	}
	if s.logZone, s.adopted, err = adoptedZone(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: read adoption: %w", path, err)
	}
	s.reader, err = sql.Open(DriverName, path+"?"+fmt.Sprintf(readerParams, busy))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s (readers): %w", path, err)
	}
	n := min(max(runtime.GOMAXPROCS(0), 4), 16)
	s.reader.SetMaxOpenConns(n)
	s.reader.SetMaxIdleConns(n)
	s.reader.SetConnMaxLifetime(0)
	s.reader.SetConnMaxIdleTime(0)
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ckdb, err := sql.Open(DriverName, path+"?"+fmt.Sprintf(checkpointParams, busy))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s (checkpoints): %w", path, err)
	}
	ckdb.SetMaxOpenConns(1)
	s.ckpt = newCheckpointer(ckdb, slog.Default().With("db", path))
	return s, nil
}

// connect opens db's first connection. Its pragmas switch a new file to
// WAL, which takes an exclusive lock; when two processes open the same new
// file at once SQLite answers one of them SQLITE_BUSY at once, without
// waiting (waiting could deadlock). connect tries again until
// BusyTimeoutMillis have passed, as any other lock would wait.
func connect(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeoutMillis * time.Millisecond)
	wait := 2 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		var se *sqlitedriver.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// checkPath refuses names that would not reach one shared file: the two
// pools of an in-memory database would each see their own database.
func checkPath(path string) error {
	switch {
	case path == "":
		return fmt.Errorf("sqlite: open: %w: empty path", quotad.ErrInvalid)
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: open %s: %w: give a file path (no :memory: or file: URI)", path, quotad.ErrInvalid)
	case strings.ContainsRune(path, '?'):
		return fmt.Errorf("sqlite: open %s: %w: '?' is not allowed in the path", path, quotad.ErrInvalid)
	}
	return nil
}

func (s *Store) prepare(ctx context.Context) error {
	for id := range numStmts {
		st, err := s.writer.PrepareContext(ctx, stmtSQL[id])
		if err != nil {
			return fmt.Errorf("prepare %s: %w", stmtSQL[id], err)
		}
		s.wstmts[id] = st
		if stmtWrites[id] {
			continue
		}
		if st, err = s.reader.PrepareContext(ctx, stmtSQL[id]); err != nil {
			return fmt.Errorf("prepare %s: %w", stmtSQL[id], err)
		}
		s.rstmts[id] = st
	}
	return nil
}

// SharedChannels reports whether the channels table also belongs to another
// program: a file adopted from the seed's daemon (Adopt), whose channels
// quotad must never delete because the config does not list them.
func (s *Store) SharedChannels() bool { return s.adopted }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// DB returns the writer handle, for tests and tools. A statement run on it
// waits for the writer connection, so do not use it inside Update.
func (s *Store) DB() *sql.DB { return s.writer }

// Durability returns what the store's acknowledged commits survive.
func (s *Store) Durability() Durability { return s.durability }

// Update runs fn in one read-write transaction (BEGIN IMMEDIATE) and commits
// it when fn returns nil; fn's error is returned as is after rolling back.
// The commit is as durable as the store's Durability: with the default
// DurabilityCrash it survives a crash of the process, not a power loss.
// fn must not call Update or View on the same Store.
func (s *Store) Update(ctx context.Context, fn func(quotad.Tx) error) error {
	return s.run(ctx, s.writer, &s.wstmts, true, fn)
}

// View runs fn in a read-only transaction over one WAL snapshot.
func (s *Store) View(ctx context.Context, fn func(quotad.Tx) error) error {
	return s.run(ctx, s.reader, &s.rstmts, false, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, set *stmtSet, write bool, fn func(quotad.Tx) error) (err error) {
	what := "view"
	if write {
		what = "update"
	}
	sqlTx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", what, classify(err))
	}
	t := &tx{ctx: ctx, sqlTx: sqlTx, set: set, write: write, adopted: s.adopted, logZone: s.logZone}
	done := false
	defer func() {
		if !done { // fn panicked
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(t); err != nil {
		done = true
		_ = sqlTx.Rollback()
		return classify(err)
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", what, classify(err))
	}
	if write && s.ckpt != nil {
		s.ckpt.committed()
	}
	return nil
}

// Ping checks that both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*sql.DB{s.writer, s.reader} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			return fmt.Errorf("sqlite: ping %s: %w", s.path, classify(err))
		}
	}
	return nil
}

// Close closes both pools. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.ckpt != nil {
			s.ckpt.close()
			errs = append(errs, s.ckpt.db.Close())
		}
		for _, set := range []*stmtSet{&s.wstmts, &s.rstmts} {
			for _, st := range set {
				if st != nil {
					errs = append(errs, st.Close())
				}
			}
		}
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		errs = append(errs, s.writer.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
