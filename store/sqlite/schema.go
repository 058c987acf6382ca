package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew is returned by Open for a file migrated by a newer quotad
// than this one: it may hold data this version would misread or damage.
var ErrSchemaTooNew = errors.New("database schema is newer than this quotad supports")

// A migration moves the schema from version-1 to version. Its statements run
// in one transaction together with the row recording it.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations are applied in order; never edit one that has shipped, append.
var migrations = []migration{
	{1, "initial schema", []string{
		// The seed's tables and columns, one api_quotas row per (API, window).
		`CREATE TABLE apis (
			name        TEXT PRIMARY KEY,
			unit        TEXT,
			keywords    TEXT,    -- JSON array of lower-case words
			auto_resume BOOLEAN,
			position    INTEGER  -- order of first insertion
		)`,
		`CREATE TABLE api_quotas (
			id              INTEGER PRIMARY KEY,
			api_name        TEXT NOT NULL REFERENCES apis(name) ON DELETE CASCADE,
			window_name     TEXT NOT NULL,
			position        INTEGER,
			quota_limit     INTEGER,
			quota_used      INTEGER,
			quota_remaining INTEGER,  -- max(0, quota_limit - quota_used)
			quota_reserved  INTEGER,
			last_reset      TEXT,     -- times: UTC, 2006-01-02T15:04:05.000000Z, NULL when unset
			next_reset      TEXT,
			is_exhausted    BOOLEAN,
			exhausted_at    TEXT,
			blocked_until   TEXT,
			auto_resume     BOOLEAN DEFAULT 1,  -- copied from apis.auto_resume
			reset_rule      TEXT,
			UNIQUE (api_name, window_name)
		)`,
		`CREATE INDEX api_quotas_position ON api_quotas (api_name, position)`,
		`CREATE TABLE channels (
			id                 INTEGER PRIMARY KEY,
			name               TEXT UNIQUE NOT NULL,
			is_active          BOOLEAN NOT NULL DEFAULT 1,
			priority           TEXT,
			apis               TEXT,  -- JSON array of API names
			consecutive_errors INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE channel_pauses (
			channel  TEXT NOT NULL REFERENCES channels(name) ON DELETE CASCADE,
			reason   TEXT NOT NULL,
			since    TEXT,
			detail   TEXT,
			until    TEXT,
			position INTEGER,
			PRIMARY KEY (channel, reason)
		)`,
		`CREATE INDEX channel_pauses_position ON channel_pauses (channel, position)`,
		`CREATE TABLE logs (
			id        INTEGER PRIMARY KEY AUTOINCREMENT,
			timestamp TEXT NOT NULL,
			level     TEXT,
			channel   TEXT,
			category  TEXT,
			message   TEXT,
			fields    TEXT  -- JSON object
		)`,
		`CREATE INDEX logs_category ON logs (category)`,
		`CREATE INDEX logs_channel ON logs (channel)`,
		`CREATE TABLE reservations (
			id         TEXT PRIMARY KEY,
			api_name   TEXT,
			channel    TEXT,
			units      INTEGER,
			created_at TEXT,
			expires_at TEXT
		)`,
		`CREATE INDEX reservations_expires_at ON reservations (expires_at)`,
	}},
}

// SchemaVersion returns the newest schema version this package knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate applies every migration not yet recorded in schema_migrations,
// each in its own BEGIN IMMEDIATE transaction that first re-reads the
// applied versions, so two processes opening the file at once apply each
// migration exactly once.
func migrate(ctx context.Context, db *sql.DB) error {
	// A file already at this version needs no write lock: a CLI command
	// opening it while another process writes does not wait for that.
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err == nil && v.Int64 == int64(SchemaVersion()) {
		return nil
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) (err error) {
	tx, err := db.BeginTx(ctx, nil) // the writer's _txlock=immediate
	if err != nil {
		return fmt.Errorf("migration %d (%s): begin: %w", m.version, m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT
	)`); err != nil {
		return fmt.Errorf("migration %d (%s): create schema_migrations: %w", m.version, m.name, err)
	}
	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migration %d (%s): read versions: %w", m.version, m.name, err)
	}
	if known := SchemaVersion(); newest.Int64 > int64(known) {
		return fmt.Errorf("%w: the file is at schema version %d, this build knows up to %d; upgrade quotad",
			ErrSchemaTooNew, newest.Int64, known)
	}
	var applied int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&applied); err != nil {
		return fmt.Errorf("migration %d (%s): read versions: %w", m.version, m.name, err)
	}
	if applied > 0 {
		return tx.Commit()
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %d (%s): %w (was this file created by another program?)", m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, time.Now().UTC().Format(timeLayout)); err != nil {
		return fmt.Errorf("migration %d (%s): record: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d (%s): commit: %w", m.version, m.name, err)
	}
	return nil
}
