package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quotad/quotad"
)

// classify wraps err with quotad.ErrUnavailable when it says the database
// could not serve in time or at all (a lock or statement timeout, a
// connection refused or lost, a server shutting down or starting), so that
// callers answer "try again shortly" (HTTP 503) instead of "internal error".
// Other errors, and errors already classified, are returned as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, quotad.ErrUnavailable) || errors.Is(err, quotad.ErrStorageFull) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" {
		return fmt.Errorf("%w: the database server's disk is full: %w", quotad.ErrStorageFull, err)
	}
	if why := unavailable(err); why != "" {
		return fmt.Errorf("%w: %s: %w", quotad.ErrUnavailable, why, err)
	}
	return err
}

// unavailable says why err is a temporary unavailability of the database,
// or returns "".
func unavailable(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "55P03":
			return "a lock was held by another session past lock_timeout"
		case pe.Code == "57014":
			return "a statement ran past statement_timeout"
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "53"):
			return "the database server is unavailable"
		case pe.Code == "25006" && strings.Contains(pe.Message, "read-only"):
			return "the database server is read-only"
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return "cannot connect to the database"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer from the database in time"
	case pgconn.Timeout(err), errors.As(err, &ne):
		return "the connection to the database failed"
	case pgconn.SafeToRetry(err):
		return "the connection to the database failed"
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "unexpected EOF", "connection reset", "broken pipe", "failed to connect", "connection refused"} {
		if strings.Contains(msg, s) {
			return "the connection to the database failed"
		}
	}
	return ""
}
