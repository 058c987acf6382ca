package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/quotad/quotad"
)

// classify wraps err with quotad.ErrStorageFull when the disk is full and
// with quotad.ErrUnavailable when the file cannot be written for now (locked
// by another process past the busy timeout, read-only, an I/O error), so
// that callers answer 507 or 503 with a clear message instead of "internal
// error". Other errors are returned as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, quotad.ErrUnavailable) || errors.Is(err, quotad.ErrStorageFull) {
		return err
	}
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: no answer from the database file in time: %w", quotad.ErrUnavailable, err)
		}
		return err
	}
	msg := strings.ToLower(se.Error())
	switch code := se.Code() & 0xff; {
	case code == sqlite3.SQLITE_FULL || strings.Contains(msg, "full"):
		return fmt.Errorf("%w: the disk holding the database file is full; free space and quotad recovers by itself: %w", quotad.ErrStorageFull, err)
	case code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: the database file is locked by another connection or process past the busy timeout: %w", quotad.ErrUnavailable, err)
	case code == sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w: the database file is read-only (file permissions or a read-only file system); make it writable and quotad recovers by itself: %w", quotad.ErrUnavailable, err)
	case code == sqlite3.SQLITE_IOERR || code == sqlite3.SQLITE_CANTOPEN || code == sqlite3.SQLITE_INTERRUPT:
		return fmt.Errorf("%w: the database file cannot be written (a read-only or immutable file, permissions, an I/O error); make it writable and quotad recovers by itself: %w", quotad.ErrUnavailable, err)
	}
	return err
}
