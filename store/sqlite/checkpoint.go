package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// The writer connection never checkpoints (wal_autocheckpoint(0)): SQLite's
// automatic checkpoint runs inside the commit that crosses its threshold,
// copying the WAL into the database file and syncing both, and that commit
// — with every operation group-committed in it — waits milliseconds for
// it. The store's checkpointer does it instead, on a connection of its own,
// beside the commits: PASSIVE checkpoints wait for no reader or writer, and
// once every frame is copied the next writer starts the WAL from its
// beginning again, so the file stays small.

const (
	// checkpointCommits is how many commits of this store make the
	// checkpointer run (about SQLite's default of 1,000 pages of WAL for
	// group-committed spends).
	checkpointCommits = 256
	// checkpointIdle is how long after the last commit the checkpointer
	// runs anyway, so that a quiet store's WAL is copied too.
	checkpointIdle = time.Second
	// checkpointRestartFrames is the WAL size, in frames, past which
	// PASSIVE checkpoints are not keeping up (readers hold old frames): a
	// RESTART then waits for them, up to the busy timeout, so that the WAL
	// starts over.
	checkpointRestartFrames = 64 << 10
)

// checkpointHook, when set (by tests), is called after each checkpoint.
var checkpointHook atomic.Pointer[func(error)]

// checkpointer copies the WAL into the database file in the background.
type checkpointer struct {
	db      *sql.DB
	commits chan struct{} // a value per commit, dropped when full
	stop    chan struct{}
	done    chan struct{}
	log     *slog.Logger
}

func newCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, commits: make(chan struct{}, checkpointCommits), stop: make(chan struct{}), done: make(chan struct{}), log: log}
	go c.run()
	return c
}

// committed tells the checkpointer of a commit. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.commits <- struct{}{}:
	default:
	}
}

// run checkpoints after checkpointCommits commits, or checkpointIdle after
// the last one, until close. A failed checkpoint is logged and tried again
// at the next occasion: until then the WAL grows, nothing is lost.
func (c *checkpointer) run() {
	defer close(c.done)
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	pending := 0
	for {
		select {
		case <-c.stop:
			return
		case <-c.commits:
			pending++
			if pending < checkpointCommits {
				idle.Reset(checkpointIdle)
				continue
			}
		case <-idle.C:
			if pending == 0 {
				continue
			}
		}
		pending = 0
		idle.Stop()
		err := c.checkpoint(context.Background())
		if err != nil {
			c.log.Warn("sqlite: checkpoint failed; will try again", "err", err)
		}
		if hook := checkpointHook.Load(); hook != nil {
			(*hook)(err)
		}
	}
}

// checkpoint runs one PASSIVE checkpoint, and a RESTART when the WAL has
// grown past checkpointRestartFrames.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, frames, copied int64
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("passive: %w", classify(err))
	}

	if frames < checkpointRestartFrames {
		return nil
	}
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("restart (WAL of %d frames): %w", frames, classify(err))
	}
	return nil
}

// close stops the checkpointer and waits for it; the database's last
// connection to close checkpoints what is left.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
