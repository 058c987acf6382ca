package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/sqlite"
)

// globals are the flags every subcommand shares.
type globals struct {
	db       string
	cfgPath  string
	server   string
	token    string
	logLevel string
}

// DefaultDB is the embedded store used when nothing else is named.
const DefaultDB = "./quotad.db"

// DefaultConfigPath is read when present and --config is not given.
const DefaultConfigPath = "./quotad.yaml"

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "quotad",
		Short: "Keep API-driven pipelines running through provider quota limits",
		Long: `quotad meters what each channel (pipeline) spends on each API, recognises quota
errors, pauses exactly the channels that need an exhausted API, resets each quota
on time and resumes those channels - and never lifts a pause a person made.

Start with:  quotad serve            (daemon on ./quotad.db, built-in quotas)
             quotad init             (write a commented ./quotad.yaml)`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", "", "store: a SQLite file path or a postgres:// URL (env QUOTAD_DB; default "+DefaultDB+")")
	pf.StringVar(&g.cfgPath, "config", "", "config file (env QUOTAD_CONFIG; default "+DefaultConfigPath+" if present, else built-in defaults)")
	pf.StringVar(&g.server, "server", "", "operate a running daemon over HTTP at this URL (env QUOTAD_SERVER)")
	pf.StringVar(&g.token, "token", "", "bearer token for --server mutations (env QUOTAD_TOKEN)")
	pf.StringVar(&g.logLevel, "log-level", "info", "diagnostic log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	// Every subcommand, built here and nowhere else (help lists them
	// sorted by name).
	root.AddCommand(
		// The daemon and its setup.
		newServeCmd(g), newInitCmd(g), newTokenCmd(g), newVersionCmd(),
		// What quotad knows: quotas, channels, events, schedules, usage.
		newStatusCmd(g), newChannelsCmd(g), newLogsCmd(g), newScheduleCmd(g), newPlanCmd(g), newUsageCmd(g),
		newProvidersCmd(g), newClassifyCmd(g),
		// What pipelines report and ask: spending, holds, errors, providers.
		newSpendCmd(g), newReserveCmd(g), newCommitCmd(g), newReleaseCmd(g),
		newReportErrorCmd(g), newReportSuccessCmd(g), newPickCmd(g),
		// What a person does: resets, pauses, resumes, runs.
		newResetCmd(g), newPauseCmd(g), newResumeCmd(g), newRunCmd(g),
		// Notifications.
		newNotifyCmd(g),
		// The store: migrations, backups, benchmarks.
		newMigrateCmd(g), newMigrateFromSQLiteCmd(g), newBackupCmd(g), newBenchCmd(g),
		// A month of the channels on a virtual clock.
		newSimulateCmd(g),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage-error exit status.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %d to %d arguments, got %d (see --help)", cmd.CommandPath(), lo, hi, len(args))
		}
		return nil
	}
}

func (g *globals) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// loadConfig reads --config, else ./quotad.yaml when present, else defaults.
func (g *globals) loadConfig() (config.Config, string, error) {
	path := g.cfgPath
	if path == "" {
		path = os.Getenv("QUOTAD_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat(DefaultConfigPath); err == nil {
			path = DefaultConfigPath
		}
	}
	if path == "" {
		return config.DefaultConfig(), "", nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, path, usagef("config file %s does not exist", path)
		}
		return cfg, path, err
	}
	return cfg, path, nil
}

// dsn returns the store to open: --db, else QUOTAD_DB, else the config's db,
// else ./quotad.db.
func (g *globals) dsn(cfg config.Config) string {
	for _, s := range []string{g.db, os.Getenv("QUOTAD_DB"), cfg.DB} {
		if s != "" {
			return s
		}
	}
	return DefaultDB
}

func (g *globals) serverURL() string {
	if g.server != "" {
		return g.server
	}
	return os.Getenv("QUOTAD_SERVER")
}

func (g *globals) tokenValue(cfg config.Config) string {
	for _, s := range []string{g.token, os.Getenv("QUOTAD_TOKEN"), cfg.Server.Token} {
		if s != "" {
			return s
		}
	}
	return ""
}

// openStore opens the store a DSN names: a postgres:// URL, else a SQLite
// file. timeout bounds its waits (PostgreSQL's lock and statement timeouts,
// SQLite's busy timeout); 0 takes the stores' defaults. extra are options of
// a SQLite store (its durability: PostgreSQL commits are as durable as the
// server's synchronous_commit).
func openStore(ctx context.Context, dsn string, timeout time.Duration, log *slog.Logger, extra ...sqlite.Option) (quotad.Store, error) {
	if isPostgresDSN(dsn) {
		s, err := postgres.Open(ctx, dsn, postgres.WithTimeout(timeout), postgres.WithLogger(log))
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	opts := append([]sqlite.Option(nil), extra...)
	if timeout > 0 {
		opts = append(opts, sqlite.WithBusyTimeout(timeout))
	}
	s, err := sqlite.Open(ctx, path, opts...)
	if errors.Is(err, sqlite.ErrSeedDatabase) {
		return nil, fmt.Errorf("%w; nothing was changed.\n"+
			"Adopt it first (it copies the file before changing it; --dry-run shows the plan):\n  quotad migrate --db %s", err, path)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sqliteOptions returns the SQLite store options cfg asks for.
func sqliteOptions(cfg config.Config) []sqlite.Option {
	if cfg.Durability == config.DurabilityPower {
		return []sqlite.Option{sqlite.WithDurability(sqlite.DurabilityPower)}
	}
	return nil
}

// isPostgresDSN reports whether dsn names a PostgreSQL store.
func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openConfigured opens the store the flags and cfg name, and returns its DSN.
func (g *globals) openConfigured(ctx context.Context, cfg config.Config) (quotad.Store, string, error) {
	dsn := g.dsn(cfg)
	st, err := openStore(ctx, dsn, time.Duration(cfg.Store.Timeout), g.logger(), sqliteOptions(cfg)...)
	if err != nil {
		return nil, dsn, fmt.Errorf("open store %s: %w", redactDSN(dsn), err)
	}
	return st, dsn, nil
}

// local is a direct connection to the store with an engine on it.
type local struct {
	cfg    config.Config
	store  quotad.Store
	engine *engine.Engine
	dsn    string
}

func (l *local) Close() error {
	l.engine.Close()
	return l.store.Close()
}

// openLocal opens the store cfg names and an engine. When the store has
// never been configured (no APIs), the config is applied so that every
// command works on a fresh machine; `quotad serve` always applies it.
func (g *globals) openLocal(ctx context.Context, cfg config.Config) (*local, error) {
	st, dsn, err := g.openConfigured(ctx, cfg)
	if err != nil {
		return nil, err
	}
	e := engine.New(st, g.engineOptions(cfg))
	l := &local{cfg: cfg, store: st, engine: e, dsn: dsn}
	var empty bool
	if err := st.View(ctx, func(tx quotad.Tx) error {
		apis, err := tx.APIs()
		empty = len(apis) == 0
		return err
	}); err != nil {
		l.Close()
		return nil, fmt.Errorf("read store: %w", err)
	}
	if empty {
		apis, chans := cfg.Domain()
		if _, err := e.Configure(ctx, apis, chans); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// redactDSN hides a password in a URL-shaped DSN.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}

// engineOptions returns the engine options the config asks for, in the
// daemon and in every CLI command: the zone and error threshold, the
// thresholds and the notifications' outbox (notify.go). The channels' job
// views are built over the engine (jobs.go).
func (g *globals) engineOptions(cfg config.Config) engine.Options {
	o := engine.Options{Location: cfg.Location(), ErrorThreshold: cfg.ErrorThreshold, Logger: g.logger(),
		StoreTimeout: time.Duration(cfg.Store.Timeout)}
	notifyEngineOptions(cfg, &o)
	return o
}
