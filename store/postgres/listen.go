package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reconnect backoff of the LISTEN connection.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// ChangesMinGap is the least time between two values sent on Changes: under
// a stream of commits (thousands of spends a second) a consumer wakes at
// most ten times a second, and the last commit of a burst is still announced
// within ChangesMinGap.
const ChangesMinGap = 100 * time.Millisecond

// ListenAppName returns the application_name of the LISTEN connection of
// the store whose scope (the NOTIFY payload) is scope, as pg_stat_activity
// shows it.
func ListenAppName(scope string) string { return "quotad listen " + scope }

// Scope returns the store's NOTIFY payload: the object id of its api_quotas
// table, which tells its notifications from those of stores in other
// schemas of the same database.
func (s *Store) Scope() string { return s.scope }

// Changes returns a channel that receives a value after any process commits
// a change to this store's tables (an Update that wrote something, this
// store's own included) and whenever the listening connection (re)connects,
// since changes may have been missed while it was down. Values coalesce: one
// receive may stand for many commits. The channel is never closed.
//
// The first call starts a dedicated LISTEN connection (outside the pool)
// that reconnects with backoff; Close stops it. Consumers should keep
// polling at a slower pace as the fallback for the moments it is down.
//
// Behind a transaction pooler (see PoolerParam) notifications do not reach a
// listener, so Changes starts nothing, says so once in the log, and returns
// a channel that receives nothing: consumers poll.
func (s *Store) Changes() <-chan struct{} {
	if s.conn.pooled {
		s.warnOnce.Do(func() {
			s.log.Warn("postgres: LISTEN/NOTIFY is unavailable behind a transaction pooler; changes made by other processes are found by polling (poll_interval, default 1s)")
		})
		return s.changes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.listening && !s.closed {
		s.listening = true
		s.listenWG.Add(2)
		go s.listen()
		go s.forward()
	}
	return s.changes
}

// signal records that a change was announced, without blocking; forward
// passes it on.
func (s *Store) signal() {
	select {
	case s.heard <- struct{}{}:
	default:
	}
}

// forward passes announcements from heard to changes, at most one per
// ChangesMinGap: what arrives meanwhile coalesces into one value sent when
// the gap has passed.
func (s *Store) forward() {
	defer s.listenWG.Done()
	ctx := s.listenCtx
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.heard:
		}
		select {
		case s.changes <- struct{}{}:
		default:
		}
		t := time.NewTimer(ChangesMinGap)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Store) listen() {
	defer s.listenWG.Done()
	ctx := s.listenCtx
	backoff := listenBackoffMin
	for ctx.Err() == nil {
		err := s.listenConn(ctx, func() { backoff = listenBackoffMin })
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("postgres: LISTEN connection lost; reconnecting", "channel", NotifyChannel, "in", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenConn connects, LISTENs, signals once (anything may have changed
// while nobody listened), then forwards notifications for this store until
// the connection fails or ctx ends.
func (s *Store) listenConn(ctx context.Context, connected func()) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenAppName(s.scope)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	s.signal()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		// Stores in other schemas of the database share the channel; their
		// payload is another table's oid.
		if n.Payload == "" || n.Payload == s.scope {
			s.signal()
		}
	}
}
