package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/adopt"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/sqlite"
)

// migrateResult is the answer of `quotad migrate --json`.
type migrateResult struct {
	Store   string `json:"store"`
	Version int    `json:"version"`
	// Adopted is set when the store was a seed database adopted (or, with
	// --dry-run, to be adopted) by this run.
	Adopted *adoptResult `json:"adopted,omitempty"`
}

func newMigrateCmd(g *globals) *cobra.Command {
	var asJSON, dryRun bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations, or adopt the seed daemon's channels.db",
		Long: `Apply every schema migration the store (--db, QUOTAD_DB or the config's db) does
not have yet, and print the schema version it is at. Every command applies
migrations when it opens the store; this one does only that, for deployment
scripts. It is safe while other instances run or start: migrations are
applied once, under a lock.

When the store is a channels.db made by the seed's Python daemon
(quota_manager.py: api_quotas with one row per API), migrate adopts it in
place: it first copies the file to FILE.before-quotad-TIME, then, in one
transaction, keeps every table, column, index and row of the daemon (channel
ids included), turns api_quotas into quotad's windows (the config's, carrying
each API's used units, exhausted state and next reset), adds quotad's columns
to channels (an inactive channel becomes quota:<api> when an API it needs is
exhausted, else manual "inactive when adopted") and keeps logs, whose
zone-less times are read in the config's timezone. --dry-run prints the plan
and changes nothing. The daemon can keep using the file afterwards.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := postgresCmdContext(cmd)
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			if dsn := g.dsn(cfg); !isPostgresDSN(dsn) {
				path := strings.TrimPrefix(dsn, "sqlite://")
				seed, err := sqlite.IsSeed(ctx, path)
				if err != nil {
					return fmt.Errorf("inspect %s: %w", path, err)
				}
				if seed {
					return adoptSeed(cmd, cfg, path, dryRun, asJSON)
				}
			}
			if dryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is not a seed database: nothing to adopt. "+
					"Run quotad migrate without --dry-run to apply quotad's schema migrations.\n", redactDSN(g.dsn(cfg)))
				return nil
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
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what adopting a seed database would do, and change nothing")
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
			if errors.Is(err, sqlite.ErrSeedDatabase) {
				return fmt.Errorf("open SQLite store %s: %w; nothing was changed.\n"+
					"Adopt it first, then copy it:\n  quotad migrate --db %s", file, err, file)
			}
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
				"   %d reservation(s), %d job state(s), %d usage bucket(s), %d notification(s), %d one-shot key(s),\n"+
				"   %d idempotency key(s)\n",
				file, redactDSN(dsn), n.APIs, n.Windows, n.Channels, n.Pauses, n.Events,
				n.Reservations, n.JobStates, n.UsageBuckets, n.Notifications, n.OnceKeys, n.Idempotency)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace everything the target store holds")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// sqliteExtras reads what the Tx interface cannot list: reservations
// without an expiry, one-shot keys and idempotency keys.
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
	if opts.IdempotencyKeys, err = src.IdempotencyRecords(ctx); err != nil {
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

// adoptResult is the adoption part of `quotad migrate --json`.
type adoptResult struct {
	DryRun bool     `json:"dry_run"`
	Backup string   `json:"backup,omitempty"`
	Plan   []string `json:"plan"`
}

// adoptSeed adopts (or, dry, plans adopting) the seed database at path.
func adoptSeed(cmd *cobra.Command, cfg config.Config, path string, dry, asJSON bool) error {
	ctx := postgresCmdContext(cmd)
	out := cmd.OutOrStdout()
	apis, chans := cfg.Domain()
	in := adopt.Input{APIs: apis, Channels: chans, Zone: cfg.Location(), Now: time.Now()}
	if dry {
		seed, err := sqlite.ReadSeed(ctx, path)
		if err != nil {
			return err
		}
		p, err := adopt.Make(seed, in)
		if err != nil {
			return fmt.Errorf("plan the adoption of %s: %w", path, err)
		}
		if asJSON {
			return printJSON(out, migrateResult{Store: path, Adopted: &adoptResult{DryRun: true, Plan: p.Lines}})
		}
		for _, l := range p.Lines {
			fmt.Fprintln(out, l)
		}
		fmt.Fprintf(out, "Dry run: nothing was changed, no copy was made. To adopt it (it copies the file first):\n  quotad migrate --db %s\n", path)
		return nil
	}
	var lines []string
	res, err := sqlite.Adopt(ctx, path, in.Now, func(seed sqlite.Seed) (sqlite.Adoption, error) {
		p, err := adopt.Make(seed, in)
		lines = p.Lines
		return p.Adoption, err
	})
	if err != nil {
		return fmt.Errorf("%w\nNothing was changed. Fix what the message says, then run quotad migrate --db %s again", err, path)
	}
	// Opening it as a store checks the result and switches it to WAL, so
	// that quotad's readers never block the daemon's writes.
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("adopted %s, but it does not open as a store: %w\nThe file as it was is %s", path, err, res.Backup)
	}
	defer st.Close()
	v, err := schemaVersion(ctx, st)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(out, migrateResult{Store: path, Version: v, Adopted: &adoptResult{Backup: res.Backup, Plan: lines}})
	}
	for i, l := range lines {
		if i == 1 { // "first: copy it to ...": it was
			l = fmt.Sprintf("  [OK] copied it to %s before any change", res.Backup)
		}
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "[OK] adopted %s: schema version %d\n"+
		"Next: run quotad serve --db %s beside the daemon (it applies missed resets when it starts);\n"+
		"      quotad status --db %s shows the quotas and channels.\n"+
		"To undo: stop quotad and the daemon, then\n"+
		"      rm -f %s-wal %s-shm && mv %s %s\n",
		path, v, path, path, path, path, res.Backup, path)
	return nil
}
