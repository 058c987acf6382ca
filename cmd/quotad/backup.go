package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/store/sqlite"
)

// backupResult is the answer of `quotad backup --json`.
type backupResult struct {
	Store  string `json:"store"`
	Backup string `json:"backup"`
	Bytes  int64  `json:"bytes"`
	// Schema is the backup's schema version; 0 for a file quotad has not
	// migrated yet (a seed's channels.db).
	Schema int `json:"schema"`
}

func newBackupCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup PATH",
		Short: "Copy the SQLite store to PATH, consistently, while quotad runs",
		Long: `Write a consistent copy of the SQLite store (--db, QUOTAD_DB or the config's db)
to PATH, which must not exist. It is safe while "quotad serve" and other
commands use the store: the copy is one snapshot (SQLite's VACUUM INTO, a
read transaction that blocks no writer), checked with PRAGMA integrity_check
and synced to disk before it gets its name. It neither migrates nor changes
the store, so it is the step to take before an upgrade.

To restore: stop quotad serve, move the store and its -wal and -shm files
aside, copy the backup to the store's path, start quotad serve.

A PostgreSQL store is backed up with pg_dump (see docs/operations.md).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dsn, err := g.backupSource()
			if err != nil {
				return err
			}
			if isPostgresDSN(dsn) {
				return usagef("quotad backup copies a SQLite store; for PostgreSQL use pg_dump: " +
					"pg_dump --format=custom --file=quotad.dump 'postgres://…' (restore with pg_restore; see docs/operations.md)")
			}
			res, err := backupSQLite(cmd.Context(), strings.TrimPrefix(dsn, "sqlite://"), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			schema := fmt.Sprintf("schema version %d", res.Schema)
			if res.Schema == 0 {
				schema = "not migrated by quotad yet"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[OK] Backup of %s written to %s (%d bytes, %s, integrity ok)\n", res.Store, res.Backup, res.Bytes, schema)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// backupSource returns the store to back up: --db or QUOTAD_DB without
// reading the config (a broken config must not prevent a backup), else the
// config's db, else the default.
func (g *globals) backupSource() (string, error) {
	for _, s := range []string{g.db, os.Getenv("QUOTAD_DB")} {
		if s != "" {
			return s, nil
		}
	}
	cfg, _, err := g.loadConfig()
	if err != nil {
		return "", err
	}
	return g.dsn(cfg), nil
}

// backupSQLite copies the database at src to dst with VACUUM INTO through
// a read-only connection: it neither creates, migrates nor writes src. The
// copy is written to a temporary name beside dst, checked, synced and then
// renamed, so that dst is complete whenever it exists.
func backupSQLite(ctx context.Context, src, dst string) (backupResult, error) {
	res := backupResult{Store: src, Backup: dst}
	if _, err := os.Stat(src); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("backup: there is no store at %s (give the store with --db)", src)
		}
		return res, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return res, usagef("backup: %s already exists; choose a new name (a backup never overwrites a file)", dst)
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".partial")
	os.Remove(tmp) // left by an interrupted backup
	defer os.Remove(tmp)
	db, err := sql.Open(sqlite.DriverName, src+"?_pragma=busy_timeout(5000)") // not query_only: it forbids VACUUM INTO, which writes only dst
	if err != nil {
		return res, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return res, fmt.Errorf("backup: copy %s to %s: %w", src, dst, err)
	}
	if res.Schema, err = checkCopy(ctx, tmp); err != nil {
		return res, fmt.Errorf("backup: the copy of %s does not check out: %w", src, err)
	}
	if err := syncFile(tmp); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return res, fmt.Errorf("backup: %s appeared while the backup was written; it is left alone", dst)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(dst))
	if fi, err := os.Stat(dst); err == nil {
		res.Bytes = fi.Size()
	}
	return res, nil
}

// checkCopy runs PRAGMA integrity_check on the copy at path and returns its
// schema version (0 when quotad has not migrated it).
func checkCopy(ctx context.Context, path string) (int, error) {
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&verdict); err != nil {
		return 0, err
	}
	if verdict != "ok" {
		return 0, fmt.Errorf("integrity_check: %s", verdict)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil || tables == 0 {
		return 0, err
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// syncDir makes a rename in dir durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
