package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolerParam is the DSN parameter that says the store is reached through
// a transaction-pooling connection pooler (PgBouncer's pool_mode =
// transaction, what managed PostgreSQL offerings put in front by default):
//
//	postgres://quotad@pgbouncer:6432/quotad?pooler=transaction&search_path=quotad
//
// With it the store prepares no named statements (pgx's exec mode, unless
// default_query_exec_mode says otherwise), sends search_path not as a
// startup parameter (PgBouncer refuses it) but with SET LOCAL at the start of
// every transaction, keeps every setting and lock transaction-scoped, and
// does not LISTEN (notifications do not cross a transaction pooler): other
// processes' changes are seen by polling. The values are "transaction" (or
// "statement") and "none" (the default: a direct connection). A server that
// refuses search_path as a startup parameter, as PgBouncer does, switches
// the store to pooler mode by itself.
const PoolerParam = "pooler"

// DefaultTimeout bounds every wait inside a transaction when WithTimeout is
// not given: lock_timeout and statement_timeout are set to it with SET
// LOCAL, so a table locked by someone else or a stalled server gives an
// error wrapping quotad.ErrUnavailable within it instead of a hang.
const DefaultTimeout = 5 * time.Second

// connSettings are what Open decided from the DSN.
type connSettings struct {
	pooled   bool   // behind a transaction pooler
	schema   string // search_path set per transaction ("" = the server's)
	execMode bool   // the DSN named default_query_exec_mode itself
}

// takePooler removes quotad's own parameters from cfg (pgx would send them
// as startup parameters) and returns the settings they ask for.
func takePooler(cfg *pgxpool.Config, dsn string) (connSettings, error) {
	var cs connSettings
	rp := cfg.ConnConfig.RuntimeParams
	switch v := strings.ToLower(rp[PoolerParam]); v {
	case "", "none", "off", "false":
	case "transaction", "statement", "on", "true":
		cs.pooled = true
	default:
		return cs, fmt.Errorf("%s=%q: expected transaction or none", PoolerParam, rp[PoolerParam])
	}
	delete(rp, PoolerParam)
	cs.execMode = strings.Contains(dsn, "default_query_exec_mode")
	return cs, nil
}

// applyPooler adjusts cfg for a transaction pooler: search_path leaves the
// startup parameters (it is set per transaction instead) and statements are
// not prepared under a name that another client's transaction might find.
func applyPooler(cfg *pgxpool.Config, cs *connSettings) {
	rp := cfg.ConnConfig.RuntimeParams
	if sp, ok := rp["search_path"]; ok {
		cs.schema = sp
		delete(rp, "search_path")
	}
	if !cs.execMode {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
}

// refusedStartupParam reports whether err is PgBouncer's refusal of a startup
// parameter such as search_path.
func refusedStartupParam(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unsupported startup parameter")
}

// setLocal returns the statement that opens each transaction's settings:
// search_path (behind a pooler), lock_timeout and statement_timeout, all
// with SET LOCAL semantics, so they end with the transaction and never leak
// to another client of a pooled server connection.
//
// statement_timeout is a little longer than lock_timeout, so that a wait for
// a lock reports the lock.
func setLocal(schema string, timeout time.Duration) (string, []any) {
	lock := fmt.Sprintf("%dms", max(timeout.Milliseconds(), 1))
	stmt := fmt.Sprintf("%dms", max((timeout+timeout/8).Milliseconds(), 1))
	if schema == "" {
		return `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, []any{lock, stmt}
	}
	return `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), set_config('search_path', $3, true)`, []any{lock, stmt, schema}
}

// inTx runs fn in a transaction on pool with the store's search_path set
// locally (behind a pooler a statement outside a transaction may run on any
// server connection, with any search_path).
func inTx(ctx context.Context, pool *pgxpool.Pool, schema string, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if schema != "" {
			if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, schema); err != nil {
				return fmt.Errorf("set search_path: %w", err)
			}
		}
		return fn(tx)
	})
}

// sqlFlush is a tiny transaction that writes WAL (a transactional logical
// decoding message, which no table keeps) and so, committing with the
// session's synchronous_commit, waits until the WAL up to it, including
// every commit before it, is flushed.
const sqlFlush = `SELECT pg_logical_emit_message(true, 'quotad.flush', '')`

// flushWorks reports whether the server lets this role run sqlFlush (some
// managed offerings revoke pg_logical_emit_message); without it writes
// commit synchronously while holding the write lock. It reads the catalog
// only: no WAL is written, nothing waits for a flush.
func flushWorks(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) bool {
	var ok bool
	// PostgreSQL 17 added a fourth parameter (flush, default false).
	err := pool.QueryRow(ctx, `SELECT coalesce(has_function_privilege(coalesce(
		to_regprocedure('pg_logical_emit_message(boolean, text, text)'),
		to_regprocedure('pg_logical_emit_message(boolean, text, text, boolean)')), 'EXECUTE'), false)`).Scan(&ok)
	if err != nil || !ok {
		log.Info("postgres: pg_logical_emit_message is not available to this role; each write commits synchronously under the write lock (slower with several daemons)", "err", err)
		return false
	}
	return true
}
