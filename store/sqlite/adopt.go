package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/quotad/quotad"
)

// This file adopts, in place, a channels.db made by the seed's Python daemon
// (quota_manager.py): its api_quotas (one row per API, api_name UNIQUE),
// channels (name, is_active) and logs tables become quotad's, everything
// else of the daemon's stays as it is.

// ErrSeedDatabase is returned (wrapped) by Open for a file made by the
// seed's daemon that has not been adopted: opening it as a store would fail
// half-way or change it, so Open changes nothing and says so.
var ErrSeedDatabase = errors.New("the file was made by the seed's quota manager (api_quotas without quotad's windows) and has not been adopted")

// ErrNotSeed is returned by ReadSeed and Adopt for a file that is not an
// unadopted seed database: a quotad store (adopted or not), or another file.
var ErrNotSeed = errors.New("not a seed database")

// AdoptedTable is the table Adopt creates to record the adoption. Its
// timezone column is the zone of the seed's zone-less times.
const AdoptedTable = "quotad_adopted"

// SeedQuotasTable is the name the seed's api_quotas table is kept under.
const SeedQuotasTable = "api_quotas_seed"

// The seed's tables that become quotad's.
var seedTables = []string{"api_quotas", "channels", "logs"}

// Seed is what an unadopted seed database holds that matters to adoption.
type Seed struct {
	Path     string
	Quotas   []SeedQuota   // api_quotas rows, in id order
	Channels []SeedChannel // channels rows, in id order
	Logs     int           // rows of logs
	// Tables are the daemon's other tables, kept as they are.
	Tables []string
	// ChannelColumns are the daemon's own columns of channels (besides
	// id, name and is_active), kept as they are.
	ChannelColumns []string
	JournalMode    string
}

// SeedQuota is one row of the seed's api_quotas. Times are the stored text
// (the daemon writes local "YYYY-MM-DD HH:MM:SS"); "" is NULL.
type SeedQuota struct {
	API                               string
	Limit, Used, Remaining            int64
	LastReset, NextReset, ExhaustedAt string
	Exhausted                         bool
	AutoResume                        bool
}

// SeedChannel is one row of the seed's channels.
type SeedChannel struct {
	ID     int64
	Name   string
	Active bool
}

// Adoption is what Adopt writes besides the schema: every API with its
// windows' state, quotad's columns and pauses of every seed channel (by
// name; the daemon's columns and ids are left alone), and the zone of the
// seed's zone-less times.
type Adoption struct {
	APIs     []quotad.API
	Channels []quotad.Channel
	Zone     string // IANA name, e.g. America/Los_Angeles
	Event    quotad.Event
}

// AdoptResult says what Adopt did.
type AdoptResult struct {
	Seed   Seed
	Backup string // path of the copy taken before any change
}

// afterCopy, when set (by tests), runs between the copy and the lock.
var afterCopy func()

// BackupSuffix starts the name of Adopt's copy: PATH.before-quotad-TIME.
const BackupSuffix = ".before-quotad-"

// queryer is a *sql.DB, *sql.Conn or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// seedShaped reports whether q's database is an unadopted seed database:
// no schema_migrations, and the seed's api_quotas, channels or logs, with
// api_quotas (when present) lacking quotad's window_name.
func seedShaped(ctx context.Context, q queryer) (bool, error) {
	tables, err := tableNames(ctx, q)
	if err != nil {
		return false, err
	}
	if slices.Contains(tables, "schema_migrations") {
		return false, nil
	}
	found := false
	for _, name := range seedTables {
		found = found || slices.Contains(tables, name)
	}
	if !found {
		return false, nil
	}
	if slices.Contains(tables, "api_quotas") {
		cols, err := columns(ctx, q, "api_quotas")
		if err != nil {
			return false, err
		}
		if cols.has("window_name") {
			return false, nil
		}
	}
	return true, nil
}

// checkNotSeed refuses, without changing it, an existing file that is an
// unadopted seed database. It reads through a query-only connection that
// leaves the file's journal mode alone.
func checkNotSeed(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // a new file, or an error Open reports itself
	}
	db, err := openSeedReader(path)
	if err != nil {
		return err
	}
	defer db.Close()
	seed, err := seedShaped(ctx, db)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	if seed {
		return ErrSeedDatabase
	}
	return nil
}

func openSeedReader(path string) (*sql.DB, error) {
	db, err := sql.Open(DriverName, path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// IsSeed reports whether the file at path is an unadopted seed database.
func IsSeed(ctx context.Context, path string) (bool, error) {
	if err := checkPath(path); err != nil {
		return false, err
	}
	err := checkNotSeed(ctx, path)
	if errors.Is(err, ErrSeedDatabase) {
		return true, nil
	}
	return false, err
}

// ReadSeed reads an unadopted seed database without changing it (dry runs).
func ReadSeed(ctx context.Context, path string) (Seed, error) {
	if err := checkPath(path); err != nil {
		return Seed{}, err
	}
	if _, err := os.Stat(path); err != nil {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, err)
	}
	db, err := openSeedReader(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, err)
	}
	defer tx.Rollback()
	ok, err := seedShaped(ctx, tx)
	if err != nil {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, err)
	}
	if !ok {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, ErrNotSeed)
	}
	s, err := readSeed(ctx, tx, path)
	if err != nil {
		return Seed{}, fmt.Errorf("sqlite: read %s: %w", path, err)
	}
	return s, nil
}

func readSeed(ctx context.Context, q queryer, path string) (Seed, error) {
	s := Seed{Path: path}
	if err := q.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&s.JournalMode); err != nil {
		return s, err
	}
	tables, err := tableNames(ctx, q)
	if err != nil {
		return s, err
	}
	for _, t := range tables {
		if !slices.Contains(seedTables, t) && !strings.HasPrefix(t, "sqlite_") {
			s.Tables = append(s.Tables, t)
		}
	}
	if slices.Contains(tables, "api_quotas") {
		cols, err := columns(ctx, q, "api_quotas")
		if err != nil {
			return s, err
		}
		for _, c := range []string{"api_name", "quota_limit", "quota_used"} {
			if !cols.has(c) {
				return s, fmt.Errorf("api_quotas has no column %s: not the seed's table", c)
			}
		}
		col := func(name, ifMissing string) string {
			if cols.has(name) {
				return name
			}
			return ifMissing
		}
		rows, err := q.QueryContext(ctx, `SELECT CAST(api_name AS TEXT), coalesce(quota_limit, 0), coalesce(quota_used, 0), `+
			`coalesce(`+col("quota_remaining", "NULL")+`, -1), `+
			`coalesce(CAST(`+col("last_reset", "NULL")+` AS TEXT), ''), coalesce(CAST(`+col("next_reset", "NULL")+` AS TEXT), ''), `+
			`coalesce(`+col("is_exhausted", "0")+`, 0), coalesce(CAST(`+col("exhausted_at", "NULL")+` AS TEXT), ''), `+
			`coalesce(`+col("auto_resume", "1")+`, 1) FROM api_quotas WHERE api_name IS NOT NULL AND api_name <> '' ORDER BY rowid`)
		if err != nil {
			return s, fmt.Errorf("read api_quotas: %w", err)
		}
		for rows.Next() {
			var r SeedQuota
			var exh, auto int64
			if err := rows.Scan(&r.API, &r.Limit, &r.Used, &r.Remaining, &r.LastReset, &r.NextReset, &exh, &r.ExhaustedAt, &auto); err != nil {
				rows.Close()
				return s, fmt.Errorf("read api_quotas: %w", err)
			}
			r.API = strings.ToLower(strings.TrimSpace(r.API))
			r.Exhausted, r.AutoResume = exh != 0, auto != 0
			s.Quotas = append(s.Quotas, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, fmt.Errorf("read api_quotas: %w", err)
		}
	}
	if slices.Contains(tables, "channels") {
		cols, err := columns(ctx, q, "channels")
		if err != nil {
			return s, err
		}
		if !cols.has("name") {
			return s, errors.New("channels has no column name: not the seed's table")
		}
		for _, c := range cols {
			if c.name != "id" && c.name != "name" && c.name != "is_active" {
				s.ChannelColumns = append(s.ChannelColumns, c.name)
			}
		}
		active := "1"
		if cols.has("is_active") {
			active = "coalesce(is_active, 0)"
		}
		rows, err := q.QueryContext(ctx, `SELECT rowid, name, `+active+` FROM channels ORDER BY rowid`)
		if err != nil {
			return s, fmt.Errorf("read channels: %w", err)
		}
		for rows.Next() {
			var c SeedChannel
			var name sql.NullString
			var act int64
			if err := rows.Scan(&c.ID, &name, &act); err != nil {
				rows.Close()
				return s, fmt.Errorf("read channels: %w", err)
			}
			if !name.Valid || name.String == "" {
				rows.Close()
				return s, fmt.Errorf("channel id %d has no name: give it one (UPDATE channels SET name = ... WHERE id = %d), then migrate again", c.ID, c.ID)
			}
			c.Name, c.Active = name.String, act != 0
			s.Channels = append(s.Channels, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, fmt.Errorf("read channels: %w", err)
		}
		seen := map[string]int64{}
		for _, c := range s.Channels {
			if id, dup := seen[c.Name]; dup {
				return s, fmt.Errorf("channels %d and %d are both named %q; quotad needs unique names: rename one, then migrate again", id, c.ID, c.Name)
			}
			seen[c.Name] = c.ID
		}
	}
	if slices.Contains(tables, "logs") {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM logs`).Scan(&s.Logs); err != nil {
			return s, fmt.Errorf("read logs: %w", err)
		}
	}
	return s, nil
}
