// Package bench measures quotad's speed targets: durable spends through the
// engine (group commit) beside one transaction per operation, resume latency
// after a reset, and scale (10,000 channels over 100 APIs). `quotad bench`
// runs it; every figure it prints says how it was measured.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/store/sqlite"
)

// Result is one measured figure.
type Result struct {
	Name    string        `json:"name"`
	Ops     int64         `json:"ops"`
	Elapsed time.Duration `json:"elapsed_ns"`
	PerSec  float64       `json:"per_sec"`
	P50     time.Duration `json:"p50_ns,omitempty"`
	P99     time.Duration `json:"p99_ns,omitempty"`
	Note    string        `json:"note,omitempty"`
}

func (r Result) String() string {
	var s string
	switch {
	case r.Ops > 1 && r.PerSec > 0:
		s = fmt.Sprintf("%-48s %10.0f ops/s  (%d ops in %s)", r.Name, r.PerSec, r.Ops, r.Elapsed.Round(time.Millisecond))
	case r.Elapsed > 0:
		s = fmt.Sprintf("%-48s %10s", r.Name, r.Elapsed.Round(time.Millisecond))
	default:
		s = fmt.Sprintf("%-48s", r.Name)
	}
	if r.P50 > 0 {
		s += fmt.Sprintf("  p50 %s p99 %s", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
	}
	if r.Note != "" {
		s += "  " + r.Note
	}
	return s
}

// run calls op from callers goroutines for d and returns the rate and
// latency percentiles of the successful calls.
func run(name string, callers int, d time.Duration, op func() error) (Result, error) {
	return runEach(name, callers, d, func(int) func() error { return op })
}

// runEach is run with caller i calling opOf(i).
func runEach(name string, callers int, d time.Duration, opOf func(i int) func() error) (Result, error) {
	var ops atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, callers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range callers {
		op := opOf(i)
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := Result{Name: name, Ops: ops.Load(), Elapsed: elapsed, PerSec: float64(ops.Load()) / elapsed.Seconds()}
	if len(all) > 0 {
		r.P50, r.P99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r, nil
}

// bigAPI is an API whose limit no benchmark reaches.
func bigAPI(name string) quotad.API {
	return quotad.API{Name: name, Unit: "units", AutoResume: true,
		Windows: []quotad.Window{{Name: "daily", Limit: 1 << 60, Rule: "daily 00:00 America/Los_Angeles"}}}
}

// Spend measures acknowledged spends through the engine with callers
// concurrent callers for d, on a fresh SQLite file in dir opened with the
// given durability (crash: synchronous=NORMAL; power: synchronous=FULL).
func Spend(ctx context.Context, dir string, callers int, d time.Duration, dur sqlite.Durability) (Result, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "spend-"+dur.String()+".db"), sqlite.WithDurability(dur))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	e := engine.New(st, engine.Options{})
	defer e.Close()
	if _, err := e.Configure(ctx, []quotad.API{bigAPI("groq")}, []quotad.Channel{{Name: "A", APIs: []string{"groq"}}}); err != nil {
		return Result{}, err
	}
	b0, o0, _ := e.Stats()
	r, err := run(fmt.Sprintf("engine spend, group commit, %d callers, durability %s (synchronous=%s)", callers, dur, dur.Synchronous()), callers, d, func() error {
		_, err := e.Spend(ctx, "groq", 1, "A")
		return err
	})
	if err != nil {
		return r, err
	}
	b1, o1, _ := e.Stats()
	if b1 > b0 {
		r.Note = fmt.Sprintf("%.1f ops per transaction", float64(o1-o0)/float64(b1-b0))
	}
	// Check: every acknowledged spend is in quota_used.
	a, err := e.API(ctx, "groq")
	if err != nil {
		return r, err
	}
	if a.Windows[0].Used != r.Ops {
		return r, fmt.Errorf("spend: quota_used %d but %d spends acknowledged", a.Windows[0].Used, r.Ops)
	}
	return r, nil
}

// Baseline measures one transaction per spend (BEGIN IMMEDIATE, read the
// row, UPDATE it, COMMIT) with the given synchronous mode (NORMAL or FULL),
// callers concurrent callers, for d: what quotad would do without group
// commit.
func Baseline(ctx context.Context, dir, sync string, callers int, d time.Duration) (Result, error) {
	path := filepath.Join(dir, "baseline-"+sync+".db")
	db, err := sql.Open(sqlite.DriverName, path+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one writer connection, as quotad has
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS q (api TEXT PRIMARY KEY, used INTEGER, lim INTEGER)`); err != nil {
		return Result{}, err
	}
	if _, err := db.ExecContext(ctx, `INSERT OR REPLACE INTO q VALUES ('groq', 0, 1000000000000)`); err != nil {
		return Result{}, err
	}
	return run(fmt.Sprintf("one transaction per spend, synchronous=%s", sync), callers, d, func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var used, lim int64
		if err := tx.QueryRowContext(ctx, `SELECT used, lim FROM q WHERE api = 'groq'`).Scan(&used, &lim); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE q SET used = used + 1 WHERE api = 'groq' AND used < lim`); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}
