package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

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

// Adopt turns the unadopted seed database at path into a quotad store, in
// place, in one transaction: all of it or nothing. Before changing anything
// it writes a consistent copy of the file (VACUUM INTO, which reads the
// committed state, WAL included) to PATH.before-quotad-TIME and returns its
// name. plan turns what the file holds into the state to write; it runs
// under the write lock, on what the file holds at that moment.
//
// Adoption keeps every table, column, index, view, trigger and row of the
// daemon: channels and logs keep their rows and ids and gain quotad's
// columns; api_quotas is kept as api_quotas_seed and a new api_quotas holds
// one row per (API, window); quotad's other tables are created; quotad's
// schema migrations are recorded as applied. A failure removes the copy and
// leaves the file as it was.
func Adopt(ctx context.Context, path string, now time.Time, plan func(Seed) (Adoption, error)) (AdoptResult, error) {
	if err := checkPath(path); err != nil {
		return AdoptResult{}, err
	}
	if _, err := os.Stat(path); err != nil {
		return AdoptResult{}, fmt.Errorf("sqlite: adopt %s: %w", path, err)
	}
	// foreign_keys off and legacy_alter_table on: moving channels aside and
	// back (see reshape) leaves the daemon's views, triggers and REFERENCES
	// channels(id) as they are, and a daemon view that no longer parses
	// does not stop it.
	db, err := sql.Open(DriverName, path+"?_txlock=immediate&_pragma=busy_timeout(5000)"+
		"&_pragma=foreign_keys(0)&_pragma=legacy_alter_table(1)")
	if err != nil {
		return AdoptResult{}, fmt.Errorf("sqlite: adopt %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return AdoptResult{}, fmt.Errorf("sqlite: adopt %s: %w", path, err)
	}
	defer conn.Close()
	// Another process may commit between the copy and the lock; then the
	// copy is not what was adopted, so take it again.
	for attempt := 0; ; attempt++ {
		res, retry, err := adoptOnce(ctx, conn, path, now, plan)
		if err == nil && !retry {
			return res, nil
		}
		if err != nil {
			return AdoptResult{}, fmt.Errorf("sqlite: adopt %s: %w", path, err)
		}
		if attempt == 4 {
			return AdoptResult{}, fmt.Errorf("sqlite: adopt %s: the file kept changing while it was copied; stop the daemon for a moment and run this again", path)
		}
	}
}

func adoptOnce(ctx context.Context, conn *sql.Conn, path string, now time.Time, plan func(Seed) (Adoption, error)) (res AdoptResult, retry bool, err error) {
	ok, err := seedShaped(ctx, conn)
	if err != nil {
		return res, false, err
	}
	if !ok {
		return res, false, ErrNotSeed
	}
	var before int64
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&before); err != nil {
		return res, false, err
	}
	backup, err := backupName(path, now)
	if err != nil {
		return res, false, err
	}
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, backup); err != nil {
		return res, false, fmt.Errorf("copy to %s: %w", backup, err)
	}
	if afterCopy != nil {
		afterCopy()
	}
	defer func() {
		if err != nil || retry {
			os.Remove(backup)
		}
	}()
	sqlTx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return res, false, err
	}
	defer func() {
		if err != nil || retry {
			_ = sqlTx.Rollback()
		}
	}()
	var after int64
	if err := sqlTx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&after); err != nil {
		return res, false, err
	}
	if after != before {
		return res, true, nil
	}
	seed, err := readSeed(ctx, sqlTx, path)
	if err != nil {
		return res, false, err
	}
	a, err := plan(seed)
	if err != nil {
		return res, false, err
	}
	fkBefore, err := foreignKeyProblems(ctx, sqlTx)
	if err != nil {
		return res, false, err
	}
	if err := reshape(ctx, sqlTx, now); err != nil {
		return res, false, err
	}
	if err := writeAdoption(ctx, sqlTx, a, backup, now); err != nil {
		return res, false, err
	}
	fkAfter, err := foreignKeyProblems(ctx, sqlTx)
	if err != nil {
		return res, false, err
	}
	if fkAfter > fkBefore {
		return res, false, fmt.Errorf("adoption would break %d foreign key reference(s) (PRAGMA foreign_key_check); nothing was changed", fkAfter-fkBefore)
	}
	if err := sqlTx.Commit(); err != nil {
		return res, false, fmt.Errorf("commit: %w", err)
	}
	return AdoptResult{Seed: seed, Backup: backup}, false, nil
}

// backupName returns PATH.before-quotad-TIME, with a counter when a copy
// of that name exists.
func backupName(path string, now time.Time) (string, error) {
	base := path + BackupSuffix + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			return name, nil
		} else if err != nil {
			return "", err
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

func foreignKeyProblems(ctx context.Context, q queryer) (int, error) {
	rows, err := q.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return 0, fmt.Errorf("foreign_key_check: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// reshape gives the seed's tables quotad's shape inside tx. quotad's
// migrations run as on a new file, with the seed's channels and logs moved
// aside; then the seed's tables take the place of quotad's new empty ones
// (keeping their rows, ids, columns, indexes and triggers), gaining the
// columns and indexes quotad's have.
func reshape(ctx context.Context, tx *sql.Tx, now time.Time) error {
	tables, err := tableNames(ctx, tx)
	if err != nil {
		return err
	}
	// Names that a quotad migration creates would collide.
	if slices.Contains(tables, SeedQuotasTable) {
		return fmt.Errorf("the file already has a table %s; rename it, then migrate again", SeedQuotasTable)
	}
	aside := map[string]string{}
	for _, name := range []string{"channels", "logs"} {
		if !slices.Contains(tables, name) {
			continue
		}
		tmp := "quotad_adopting_" + name
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` RENAME TO `+tmp); err != nil {
			return fmt.Errorf("move %s aside: %w", name, err)
		}
		aside[name] = tmp
	}
	if slices.Contains(tables, "api_quotas") {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE api_quotas RENAME TO `+SeedQuotasTable); err != nil {
			return fmt.Errorf("keep api_quotas as %s: %w", SeedQuotasTable, err)
		}
	}
	if err := migrateTx(ctx, tx, now); err != nil {
		return err
	}
	if tmp, ok := aside["channels"]; ok {
		if err := putBack(ctx, tx, "channels", tmp); err != nil {
			return err
		}
		if err := uniqueNames(ctx, tx); err != nil {
			return err
		}
	}
	if tmp, ok := aside["logs"]; ok {
		cols, err := columns(ctx, tx, tmp)
		if err != nil {
			return err
		}
		if c, ok := cols.get("id"); ok && c.pk == 1 && strings.EqualFold(c.typ, "INTEGER") {
			err = putBack(ctx, tx, "logs", tmp)
		} else {
			err = copyInto(ctx, tx, "logs", tmp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateTx applies every migration inside tx and records them.
func migrateTx(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d (%s): %w (does the file have a table of that name? rename it, then migrate again)", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.version, now.UTC().Format(timeLayout)); err != nil {
			return fmt.Errorf("migration %d (%s): record: %w", m.version, m.name, err)
		}
	}
	return nil
}

// putBack replaces quotad's new, empty table name by the seed's table tmp:
// quotad's table is dropped, tmp renamed to name (legacy_alter_table keeps
// every REFERENCES name(...) of the daemon's tables as it is, so they point
// at the seed's rows again), and quotad's columns and indexes that the
// seed's table lacks are added.
func putBack(ctx context.Context, tx *sql.Tx, name, tmp string) error {
	want, err := columns(ctx, tx, name)
	if err != nil {
		return err
	}
	indexes, err := indexSQL(ctx, tx, name)
	if err != nil {
		return err
	}
	have, err := columns(ctx, tx, tmp)
	if err != nil {
		return err
	}
	for _, stmt := range []string{`DROP TABLE ` + name, `ALTER TABLE ` + tmp + ` RENAME TO ` + name} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	for _, c := range want {
		if have.has(c.name) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` ADD COLUMN `+c.definition()); err != nil {
			return fmt.Errorf("adopt %s: add column %s: %w", name, c.name, err)
		}
	}
	for _, stmt := range indexes {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	return nil
}

// copyInto fills quotad's new table name with the rows of the seed's table
// tmp (in rowid order, so ids follow the old order), adding the seed's
// extra columns, then drops tmp and recreates its indexes on name.
func copyInto(ctx context.Context, tx *sql.Tx, name, tmp string) error {
	want, err := columns(ctx, tx, name)
	if err != nil {
		return err
	}
	have, err := columns(ctx, tx, tmp)
	if err != nil {
		return err
	}
	indexes, err := indexSQL(ctx, tx, tmp)
	if err != nil {
		return err
	}
	var names, exprs []string
	for _, c := range have {
		if !want.has(c.name) {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` ADD COLUMN "`+c.name+`" `+c.typ); err != nil {
				return fmt.Errorf("adopt %s: add column %s: %w", name, c.name, err)
			}
		}
		if c.name == "id" {
			continue
		}
		names = append(names, `"`+c.name+`"`)
		expr := `"` + c.name + `"`
		if w, ok := want.get(c.name); ok && w.notNull {
			expr = `coalesce(` + expr + `, '')`
		}
		exprs = append(exprs, expr)
	}
	q := `INSERT INTO ` + name + ` (` + strings.Join(names, ", ") + `) SELECT ` + strings.Join(exprs, ", ") +
		` FROM ` + tmp + ` ORDER BY rowid`
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("adopt %s: copy rows: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+tmp); err != nil {
		return fmt.Errorf("adopt %s: %w", name, err)
	}
	for _, stmt := range indexes {
		stmt = strings.Replace(stmt, tmp, name, 1)
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	return nil
}

// uniqueNames makes channels.name unique (quotad's channel_pauses refer to
// it) when the seed's table does not declare it so.
func uniqueNames(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT il.name FROM pragma_index_list('channels') il WHERE il."unique" = 1`)
	if err != nil {
		return fmt.Errorf("channels indexes: %w", err)
	}
	var idx []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		idx = append(idx, n)
	}
	rows.Close()
	for _, n := range idx {
		var cols []string
		r, err := tx.QueryContext(ctx, `SELECT name FROM pragma_index_info(?)`, n)
		if err != nil {
			return err
		}
		for r.Next() {
			var c sql.NullString
			if err := r.Scan(&c); err != nil {
				r.Close()
				return err
			}
			cols = append(cols, c.String)
		}
		r.Close()
		if len(cols) == 1 && cols[0] == "name" {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX channels_name ON channels (name)`); err != nil {
		return fmt.Errorf("make channel names unique: %w", err)
	}
	return nil
}

// writeAdoption writes a's state and the adoption record inside tx.
func writeAdoption(ctx context.Context, sqlTx *sql.Tx, a Adoption, backup string, now time.Time) error {
	t := &tx{ctx: ctx, sqlTx: sqlTx, write: true}
	for id := range numStmts {
		st, err := sqlTx.PrepareContext(ctx, stmtSQL[id])
		if err != nil {
			return fmt.Errorf("prepare %s: %w", stmtSQL[id], err)
		}
		t.bound[id] = st
	}
	for _, api := range a.APIs {
		if err := t.SaveAPI(api); err != nil {
			return err
		}
	}
	for _, c := range a.Channels {
		if err := t.SaveChannel(c); err != nil {
			return err
		}
	}
	if ev := a.Event; !ev.Time.IsZero() {
		ev.Message += "; the file as it was is " + backup
		ev.Fields = map[string]string{"backup": backup}
		if err := t.AppendEvents(ev); err != nil {
			return err
		}
	}
	if _, err := sqlTx.ExecContext(ctx, `CREATE TABLE `+AdoptedTable+` (
		adopted_at TEXT NOT NULL,
		backup     TEXT,
		timezone   TEXT  -- zone of the seed's zone-less times (logs.timestamp)
	)`); err != nil {
		return fmt.Errorf("record adoption: %w", err)
	}
	if _, err := sqlTx.ExecContext(ctx, `INSERT INTO `+AdoptedTable+` (adopted_at, backup, timezone) VALUES (?, ?, ?)`,
		now.UTC().Format(timeLayout), backup, a.Zone); err != nil {
		return fmt.Errorf("record adoption: %w", err)
	}
	return nil
}

// adoptedZone returns the zone recorded by Adopt, nil for a file never
// adopted.
func adoptedZone(ctx context.Context, db *sql.DB) (*time.Location, bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, AdoptedTable).Scan(&n); err != nil {
		return nil, false, err
	}
	if n == 0 {
		return nil, false, nil
	}
	var zone sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT timezone FROM `+AdoptedTable+` LIMIT 1`).Scan(&zone); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, true, err
	}
	loc, err := time.LoadLocation(zone.String)
	if err != nil || zone.String == "" {
		return time.UTC, true, nil
	}
	return loc, true, nil
}

// column is one row of PRAGMA table_info.
type column struct {
	name, typ string
	notNull   bool
	dflt      sql.NullString
	pk        int
}

// definition is the column's definition for ALTER TABLE ADD COLUMN.
func (c column) definition() string {
	s := `"` + c.name + `"`
	if c.typ != "" {
		s += " " + c.typ
	}
	if c.notNull && c.dflt.Valid {
		s += " NOT NULL"
	}
	if c.dflt.Valid {
		s += " DEFAULT " + c.dflt.String
	}
	return s
}

type columnList []column

func (l columnList) get(name string) (column, bool) {
	for _, c := range l {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}

func (l columnList) has(name string) bool { _, ok := l.get(name); return ok }

func columns(ctx context.Context, q queryer, table string) (columnList, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out columnList
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func tableNames(ctx context.Context, q queryer) ([]string, error) {
	return names(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
}

// indexSQL returns the CREATE INDEX statements of table's explicit indexes.
func indexSQL(ctx context.Context, q queryer, table string) ([]string, error) {
	return names(ctx, q, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, table)
}

func names(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
