package engine

import (
	"context"
	"errors"
	"runtime"

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

type op struct {
	fn   func(t *txn) (any, error)
	done chan result
}

// do runs fn inside a store transaction shared with other concurrent
// operations (group commit) and returns its result once the transaction is
// durable. fn must validate before it changes t: an fn that returns an error
// must leave t unchanged.
func (e *Engine) do(ctx context.Context, fn func(t *txn) (any, error)) (any, error) {
	o := &op{fn: fn, done: make(chan result, 1)}
	e.closeMu.RLock()
	if e.closed {
		e.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case e.ops <- o:
	case <-ctx.Done():
		e.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	e.closeMu.RUnlock()
	r := <-o.done // once queued an op always completes; waiting keeps "acknowledged" exact
	return r.v, r.err
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
		batch := []*op{o}
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-e.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		e.runBatch(batch)
	}
}

func (e *Engine) runBatch(batch []*op) {
	now := e.clock.Now()
	results := make([]result, len(batch))
	var events []quotad.Event
	var (
		done      *txn
		versioned bool
		version   quotad.StoreVersion
	)
	err := e.store.Update(context.Background(), func(tx quotad.Tx) error {
		t := newTxn(e, tx, now)
		vtx, ok := tx.(quotad.VersionedTx)
		if versioned = ok; ok {
			v, err := vtx.Version()
			if err != nil {
				return err
			}
			t.cache = e.rows.begin(v)
		}
		for i, o := range batch {
			v, err := o.fn(t)
			if t.fatal != nil {
				return t.fatal
			}
			results[i] = result{v, err}
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
	if versioned {
		if err != nil {
			e.rows.reset() // the store may hold something else than the rows did
		} else {
			e.rows.commit(done, version)
		}
	}
	if err != nil {
		if len(batch) > 1 { // isolate the operation that failed; the others still commit
			for _, o := range batch {
				e.runBatch([]*op{o})
			}
			return
		}
		e.metrics.storeErrors.Add(1)
		batch[0].done <- result{nil, err}
		return
	}
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
