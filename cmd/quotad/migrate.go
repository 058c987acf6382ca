package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/sqlite"
)

func init() {
	extraCommands = append(extraCommands, newMigrateCmd, newMigrateFromSQLiteCmd)
}

// migrateResult is the answer of `quotad migrate --json`.
type migrateResult struct {
	Store   string `json:"store"`
	Version int    `json:"version"`
}

func newMigrateCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations and print its schema version",
		Long: `Apply every schema migration the store (--db, QUOTAD_DB or the config's db) does
not have yet, and print the schema version it is at. Every command applies
migrations when it opens the store; this one does only that, for deployment
scripts. It is safe while other instances run or start: migrations are
applied once, under a lock.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := postgresCmdContext(cmd)
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			st, dsn, err := g.openConfigured(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := schemaVersion(ctx, st)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), migrateResult{Store: redactDSN(dsn), Version: v})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: schema version %d\n", redactDSN(dsn), v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// schemaVersion reads the version recorded in the store's schema_migrations.
func schemaVersion(ctx context.Context, st quotad.Store) (int, error) {
	switch s := st.(type) {
	case *postgres.Store:
		return s.Version(ctx)
	case *sqlite.Store:
		var v sql.NullInt64
		if err := s.DB().QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		return int(v.Int64), nil
	}
	return 0, fmt.Errorf("this store does not record a schema version")
}

// migrateFromSQLiteResult is the answer of `quotad migrate-from-sqlite --json`.
type migrateFromSQLiteResult struct {
	From   string              `json:"from"`
	To     string              `json:"to"`
	Copied postgres.CopyCounts `json:"copied"`
}

func newMigrateFromSQLiteCmd(g *globals) *cobra.Command {
	var (
		force  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "migrate-from-sqlite FILE",
		Short: "Copy a SQLite store into the PostgreSQL store named by --db",
		Long: `Copy everything an existing SQLite store holds - APIs and their windows' state,
channels and their pauses, every event (ids, timestamps and order kept),
reservations, job states, usage history, notifications and one-shot keys -
into the PostgreSQL store named by --db postgres://... (or QUOTAD_DB), in one
transaction: all of it or nothing.

It refuses a target that already holds APIs, channels or events unless
--force, which replaces everything the target holds. Stop the daemons that use
the SQLite file first: what they write after the copy is not copied.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := postgresCmdContext(cmd)
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			dsn := g.dsn(cfg)
			if !isPostgresDSN(dsn) {
				return usagef("migrate-from-sqlite copies into PostgreSQL: give --db postgres://... (or QUOTAD_DB); the store is %s", redactDSN(dsn))
			}
			file := args[0]
			if _, err := os.Stat(file); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return usagef("SQLite file %s does not exist", file)
				}
				return err
			}
			src, err := sqlite.Open(ctx, file)
			if err != nil {
				return fmt.Errorf("open SQLite store %s: %w", file, err)
			}
			defer src.Close()
			opts, err := sqliteExtras(ctx, src)
			if err != nil {
				return fmt.Errorf("read SQLite store %s: %w", file, err)
			}
			opts.Force = force
			dst, err := postgres.Open(ctx, dsn)
			if err != nil {
				return fmt.Errorf("open store %s: %w", redactDSN(dsn), err)
			}
			defer dst.Close()
			n, err := dst.CopyFrom(ctx, src, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), migrateFromSQLiteResult{From: file, To: redactDSN(dsn), Copied: n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[OK] copied %s to %s:\n"+
				"   %d API(s) with %d window(s), %d channel(s) with %d pause(s), %d event(s),\n"+
				"   %d reservation(s), %d job state(s), %d usage bucket(s), %d notification(s), %d one-shot key(s)\n",
				file, redactDSN(dsn), n.APIs, n.Windows, n.Channels, n.Pauses, n.Events,
				n.Reservations, n.JobStates, n.UsageBuckets, n.Notifications, n.OnceKeys)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace everything the target store holds")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// sqliteExtras reads what the Tx interface cannot list: reservations
// without an expiry and one-shot keys.
func sqliteExtras(ctx context.Context, src *sqlite.Store) (postgres.CopyOptions, error) {
	var opts postgres.CopyOptions
	rows, err := src.DB().QueryContext(ctx, `SELECT key, at FROM once_keys`)
	if err != nil {
		return opts, err
	}
	defer rows.Close()
	opts.OnceKeys = map[string]time.Time{}
	for rows.Next() {
		var (
			key string
			at  sql.NullString
		)
		if err := rows.Scan(&key, &at); err != nil {
			return opts, err
		}
		var t time.Time
		if at.Valid && at.String != "" {
			if t, err = time.Parse(time.RFC3339Nano, at.String); err != nil {
				return opts, fmt.Errorf("once key %q: %w", key, err)
			}
		}
		opts.OnceKeys[key] = t
	}
	if err := rows.Err(); err != nil {
		return opts, err
	}
	var ids []string
	idRows, err := src.DB().QueryContext(ctx, `SELECT id FROM reservations WHERE expires_at IS NULL OR expires_at = ''`)
	if err != nil {
		return opts, err
	}
	defer idRows.Close()
	for idRows.Next() {
		var id string
		if err := idRows.Scan(&id); err != nil {
			return opts, err
		}
		ids = append(ids, id)
	}
	if err := idRows.Err(); err != nil {
		return opts, err
	}
	if len(ids) == 0 {
		return opts, nil
	}
	err = src.View(ctx, func(tx quotad.Tx) error {
		for _, id := range ids {
			r, err := tx.Reservation(id)
			if err != nil {
				return err
			}
			opts.Reservations = append(opts.Reservations, r)
		}
		return nil
	})
	return opts, err
}

// postgresCmdContext returns the command's context, or the background.
func postgresCmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
