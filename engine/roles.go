package engine

import (
	"context"
	"fmt"

	"github.com/quotad/quotad"
)

// The engine is the only writer of the store: the job runner and the
// notification dispatcher write through the role transactions below, which
// run in the engine's own group-committed transactions, so every event they
// write passes through publish (counters, subscribers, the outbox) like the
// engine's own. Readers read through Read.

// Read runs fn in a read-only transaction over a consistent snapshot of the
// store.
func (e *Engine) Read(ctx context.Context, fn func(quotad.ReadTx) error) error {
	return e.store.View(ctx, func(tx quotad.Tx) error { return fn(tx) })
}

// Changes returns a channel that receives a value after a change to the
// store is committed by any process, when the store announces changes
// (quotad.Watcher); otherwise nil, which never receives: the caller polls.
func (e *Engine) Changes() <-chan struct{} {
	if w, ok := e.store.(quotad.Watcher); ok {
		return w.Changes()
	}
	return nil
}

// Ping checks that the store is reachable.
func (e *Engine) Ping(ctx context.Context) error { return e.store.Ping(ctx) }

// UpdateJobs runs fn in one of the engine's transactions: fn reads what it
// needs (the API and channel rows as the transaction has them, including
// changes of operations before it in the same commit) and saves job records
// and the events of runs. What fn writes is applied only when it returns
// nil, and acknowledged once committed; its events are published.
func (e *Engine) UpdateJobs(ctx context.Context, fn func(quotad.JobTx) error) error {
	return e.updateRole(ctx, "jobs", func(r *roleTx) error { return fn(r) })
}

// UpdateOutbox runs fn in one of the engine's transactions, as UpdateJobs
// does, for the notification dispatcher: it reads due notifications and
// saves their state and the events of giving one up.
func (e *Engine) UpdateOutbox(ctx context.Context, fn func(quotad.OutboxTx) error) error {
	return e.updateRole(ctx, "notifications", func(r *roleTx) error { return fn(r) })
}

// updateRole runs fn over a roleTx of one of the engine's transactions and
// applies what it saved when it returns nil.
func (e *Engine) updateRole(ctx context.Context, what string, fn func(*roleTx) error) error {
	_, err := e.do(ctx, func(t *txn) (any, error) {
		r := &roleTx{t: t, ReadTx: t.tx}
		if err := fn(r); err != nil {
			return nil, err
		}
		return nil, r.apply()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// roleTx is a quotad.JobTx and a quotad.OutboxTx over a txn. API and
// channel reads come from the txn (which holds the batch's changes not yet
// written); other reads go to the store's transaction. Writes are kept
// until the role's function succeeds, so that a failing one changes
// nothing, as every operation of a batch must.
type roleTx struct {
	quotad.ReadTx
	t      *txn
	jobs   []quotad.JobState
	notes  []quotad.Notification
	events []quotad.Event
}

func (r *roleTx) API(name string) (quotad.API, error) {
	a, err := r.t.api(name)
	if err != nil {
		return quotad.API{}, err
	}
	return *cloneAPI(a), nil
}

func (r *roleTx) APIs() ([]quotad.API, error) {
	list, err := r.t.allAPIList()
	return copies(list, cloneAPI), err
}

func (r *roleTx) Channel(name string) (quotad.Channel, error) {
	c, err := r.t.channel(name)
	if err != nil {
		return quotad.Channel{}, err
	}
	return *cloneChannel(c), nil
}

func (r *roleTx) Channels() ([]quotad.Channel, error) {
	list, err := r.t.allChannels()
	return copies(list, cloneChannel), err
}

// copies returns deep copies of the rows of a transaction, for a reader
// that must not change them.
func copies[T any](rows []*T, clone func(*T) *T) []T {
	if rows == nil {
		return nil
	}
	out := make([]T, len(rows))
	for i, row := range rows {
		out[i] = *clone(row)
	}
	return out
}

func (r *roleTx) SaveJobState(s quotad.JobState) error {
	r.jobs = append(r.jobs, s)
	return nil
}

func (r *roleTx) SaveNotification(n quotad.Notification) error {
	r.notes = append(r.notes, n)
	return nil
}

func (r *roleTx) AppendEvents(events ...quotad.Event) error {
	r.events = append(r.events, events...)
	return nil
}

// apply writes what the role's function saved; its events join the
// transaction's, which are written and published with the commit.
func (r *roleTx) apply() error {
	for _, s := range r.jobs {
		if err := r.t.tx.SaveJobState(s); err != nil {
			return r.t.storeErr(err)
		}
	}
	for _, n := range r.notes {
		if err := r.t.tx.SaveNotification(n); err != nil {
			return r.t.storeErr(err)
		}
	}
	r.t.events = append(r.t.events, r.events...)
	return nil
}
