package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad/internal/bench"
	"github.com/quotad/quotad/store/sqlite"
)

// benchParts are the measurements `quotad bench` can run, in order.
var benchParts = []string{"spend", "baseline", "latency", "scale", "pgscale"}

func newBenchCmd(g *globals) *cobra.Command {
	var only []string
	var daemons int
	var d time.Duration
	var callers, latencyN, apis, channels int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure quotad's speed targets on this machine",
		Long: `Measure quotad's speed targets on this machine, each on a fresh store in a
temporary directory:

  spend     acknowledged spends through the engine (group commit), N concurrent
            callers, with durability crash (synchronous=NORMAL, the default) and
            power (synchronous=FULL)
  baseline  one transaction per spend, synchronous=NORMAL and FULL, same callers
  latency   how long after a reset instant a paused channel is active again
  scale     10,000 channels over 100 APIs: the reset that resumes them all,
            status --json, resident memory
  pgscale   PostgreSQL only (--db postgres://…, a fresh schema): spends through
            one daemon, then through --daemons daemons sharing the database,
            the same callers spread over them, through the engine and then
            over HTTP; skipped without --db postgres://…`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range only {
				if !slices.Contains(benchParts, p) {
					return usagef("--only takes %s, got %q", strings.Join(benchParts, ", "), p)
				}
			}
			if len(only) == 0 {
				only = benchParts
			}
			dsn := g.db
			if dsn == "" {
				dsn = os.Getenv("QUOTAD_DB")
			}
			dir, err := os.MkdirTemp("", "quotad-bench")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var results []bench.Result
			emit := func(rs ...bench.Result) {
				results = append(results, rs...)
				if !asJSON {
					for _, r := range rs {
						fmt.Fprintln(out, r)
					}
				}
			}
			for _, p := range only {
				switch p {
				case "spend":
					for _, dur := range []sqlite.Durability{sqlite.DurabilityCrash, sqlite.DurabilityPower} {
						r, err := bench.Spend(ctx, dir, callers, d, dur)
						if err != nil {
							return err
						}
						emit(r)
					}
				case "baseline":
					for _, mode := range []string{"NORMAL", "FULL"} {
						r, err := bench.Baseline(ctx, dir, mode, callers, d)
						if err != nil {
							return err
						}
						emit(r)
					}
				case "latency":
					r, err := bench.Latency(ctx, dir, latencyN)
					if err != nil {
						return err
					}
					emit(r)
				case "scale":
					rs, err := bench.Scale(ctx, dir, apis, channels)
					if err != nil {
						return err
					}
					emit(rs...)
				case "pgscale":
					if !isPostgresDSN(dsn) {
						if len(only) == 1 {
							return usagef("bench --only pgscale needs --db postgres://… (an empty schema)")
						}
						continue
					}
					for _, overHTTP := range []bool{false, true} {
						for _, n := range []int{1, daemons} {
							r, err := bench.PostgresScaleOut(ctx, dsn, n, callers, d, overHTTP)
							if err != nil {
								return err
							}
							emit(r)
						}
					}
				}
			}
			if asJSON {
				return json.NewEncoder(out).Encode(results)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&only, "only", nil, "run only these parts ("+strings.Join(benchParts, ",")+")")
	cmd.Flags().DurationVar(&d, "duration", 3*time.Second, "how long each throughput measurement runs")
	cmd.Flags().IntVar(&callers, "callers", 64, "concurrent callers for spend and baseline")
	cmd.Flags().IntVar(&latencyN, "resets", 50, "resets to measure for latency")
	cmd.Flags().IntVar(&apis, "apis", 100, "APIs for scale")
	cmd.Flags().IntVar(&channels, "channels", 10000, "channels for scale")
	cmd.Flags().IntVar(&daemons, "daemons", 3, "daemons sharing the database for pgscale")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
