package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

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
