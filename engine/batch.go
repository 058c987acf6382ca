package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
)

// ErrClosed is returned by operations on a closed Engine.
var ErrClosed = errors.New("engine closed")

// maxBatch bounds how many operations share one transaction.
const maxBatch = 512

type result struct {
	v   any
	err error
}

// States of an op.
const (
	opQueued    int32 = iota // waiting for the writer
	opRunning                // taken into a transaction
	opAbandoned              // its caller stopped waiting before it ran: never applied
)

type op struct {
	fn    func(t *txn) (any, error)
	done  chan result
	idem  *Idempotency
	wrap  func(error) error // adds the operation's name to its error; nil for none
	state atomic.Int32
}

// do runs fn inside a store transaction shared with other concurrent
// operations (group commit) and returns its result once the transaction has
// committed (as durable as the store makes it). fn must validate before it
// changes t: an fn that returns an error must leave t unchanged.
//
// The wait is bounded by ctx and by Options.StoreTimeout. A caller that
// stops waiting gets its error at once (wrapping quotad.ErrUnavailable when
// the bound passed, else ctx's error). If its operation had not yet been
// taken into a transaction it is never applied; if it had, it may still
// commit and its answer is discarded: it was never acknowledged, and a retry
// with the same idempotency key returns the answer it would have had.
func (e *Engine) do(ctx context.Context, fn func(t *txn) (any, error)) (any, error) {
	return e.doAs(ctx, nil, fn)
}

// doAs is do with wrap applied to every error it returns (and to the
// error of the answer stored under an idempotency key).
func (e *Engine) doAs(ctx context.Context, wrap func(error) error, fn func(t *txn) (any, error)) (any, error) {
	v, err := e.run(ctx, &op{fn: fn, done: make(chan result, 1), idem: idempotencyFrom(ctx), wrap: wrap})
	if err != nil && wrap != nil {
		err = wrap(err)
	}
	return v, err
}

func (e *Engine) run(ctx context.Context, o *op) (any, error) {
	// The store's own bounds (lock and busy timeouts, the batch's context)
	// are StoreTimeout; waiting a little longer lets their error, which
	// says what happened, reach the caller.
	wctx, cancel := context.WithTimeout(ctx, e.callerBound())
	defer cancel()
	e.closeMu.RLock()
	if e.closed {
		e.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case e.ops <- o:
	case <-wctx.Done():
		e.closeMu.RUnlock()
		return nil, e.gaveUp(ctx, "was not applied: the engine's queue is full")
	}
	e.closeMu.RUnlock()
	select {
	case r := <-o.done:
		return r.v, r.err
	case <-wctx.Done():
	}
	if o.state.CompareAndSwap(opQueued, opAbandoned) {
		return nil, e.gaveUp(ctx, "was not applied")
	}
	return nil, e.gaveUp(ctx, "was not acknowledged and may still be applied (a retry with the same Idempotency-Key is safe)")
}

// waitGrace is how much longer than the store's own bound (StoreTimeout) a
// transaction may run, and a caller waits that much longer again: the
// store's error, which says what happened, arrives first.
func waitGrace(d time.Duration) time.Duration { return min(d/2, time.Second) }

// batchBound bounds one group-commit transaction.
func (e *Engine) batchBound() time.Duration {
	return e.opts.StoreTimeout + waitGrace(e.opts.StoreTimeout)
}

// callerBound bounds a caller's wait for its operation.
func (e *Engine) callerBound() time.Duration {
	return e.opts.StoreTimeout + 2*waitGrace(e.opts.StoreTimeout)
}

// gaveUp is the error of a caller that stopped waiting for its operation.
func (e *Engine) gaveUp(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("the operation %s: %w", what, err)
	}
	return fmt.Errorf("%w: no answer from the store within %s; the operation %s", quotad.ErrUnavailable, e.callerBound(), what)
}

// loop is the group-commit writer: it takes every operation waiting, runs
// them in one transaction, and acknowledges each after the commit.
func (e *Engine) loop() {
	defer close(e.loopDone)
	for {
		o, ok := <-e.ops
		if !ok {
			return
		}
		var batch []*op
		if o.state.CompareAndSwap(opQueued, opRunning) {
			batch = append(batch, o)
		}
		runtime.Gosched()
		batch = e.drain(batch)
		if len(batch) > 0 {
			e.runBatch(batch, true)
		}
	}
}

// drain appends the operations waiting in the queue to batch, up to
// maxBatch, skipping those whose callers gave up.
func (e *Engine) drain(batch []*op) []*op {
	for len(batch) < maxBatch {
		select {
		case o, ok := <-e.ops:
			if !ok {
				return batch
			}
			if o.state.CompareAndSwap(opQueued, opRunning) {
				batch = append(batch, o)
			}
		default:
			return batch
		}
	}
	return batch
}

// runBatch runs batch in one transaction and answers each operation; with
// grow, operations queued meanwhile join the transaction.
func (e *Engine) runBatch(batch []*op, grow bool) {
	now := e.clock.Now()
	results := make([]result, len(batch))
	var events []quotad.Event
	var (
		done      *txn
		versioned bool
		version   quotad.StoreVersion
	)
	ctx, cancel := context.WithTimeout(context.Background(), e.batchBound())
	defer cancel()
	err := e.store.Update(ctx, func(tx quotad.Tx) error {
		t := newTxn(e, tx, now)
		vtx, ok := tx.(quotad.VersionedTx)
		if versioned = ok; ok {
			v, err := vtx.Version()
			if err != nil {
				return err
			}
			t.cache = e.rows.begin(v)
		}
		for i := 0; i < len(batch); i++ {
			o := batch[i]
			var v any
			var err error
			if o.idem != nil {
				v, err = t.runIdempotent(o)
			} else {
				v, err = o.fn(t)
			}
			if t.fatal != nil {
				return t.fatal
			}
			results[i] = result{v, err}
			if i == len(batch)-1 && grow {
				// Operations that arrived while this transaction waited for
				// the store's write lock (held by another daemon, say) join
				// it: one commit serves them too.
				batch = e.drain(batch)
				for len(results) < len(batch) {
					results = append(results, result{})
				}
			}
		}
		if err := t.flush(); err != nil {
			return err
		}
		if versioned {
			v, err := vtx.Version() // after this transaction's own writes
			if err != nil {
				return err
			}
			version = v
		}
		events, done = t.events, t
		return nil
	})
	if err != nil && ctx.Err() != nil && !errors.Is(err, quotad.ErrUnavailable) {
		err = fmt.Errorf("%w: no answer from the store within %s: %w", quotad.ErrUnavailable, e.opts.StoreTimeout, err)
	}
	if versioned {
		if err != nil {
			e.rows.reset() // the store may hold something else than the rows did
		} else {
			e.rows.commit(done, version)
		}
	}
	if err != nil {
		if len(batch) > 1 && !unavailable(err) { // isolate the operation that failed; the others still commit
			for _, o := range batch {
				e.runBatch([]*op{o}, false)
			}
			return
		}
		e.metrics.storeErrors.Add(1)
		e.noteWrite(err)
		for _, o := range batch { // one, or all when the store is unavailable: retrying them one by one would not help
			o.done <- result{nil, err}
		}
		return
	}
	e.noteWrite(nil)
	e.metrics.batches.Add(1)
	e.metrics.ops.Add(uint64(len(batch)))
	// Counters and subscribers first: a caller that has its answer finds
	// them up to date (a reset it made is in /metrics).
	e.publish(events)
	if len(done.quiet) > 0 {
		e.counts.add(func(c *Counters) {
			for _, api := range done.quiet {
				c.Resets[api]++
			}
		})
	}
	for i, o := range batch {
		o.done <- results[i]
	}
}

// unavailable reports whether err says the store cannot serve for now (as
// opposed to one operation's failure).
func unavailable(err error) bool {
	return errors.Is(err, quotad.ErrUnavailable) || errors.Is(err, quotad.ErrStorageFull) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
