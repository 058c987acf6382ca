package main

import (
	"context"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
)

// Linking the PostgreSQL store: --db postgres://… (or QUOTAD_DB, or the
// config's db) selects it for every command and for serve.
func init() {
	openPostgres = func(ctx context.Context, dsn string) (quotad.Store, error) {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// isPostgresDSN reports whether dsn names a PostgreSQL store.
func isPostgresDSN(dsn string) bool {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if len(dsn) >= len(p) && dsn[:len(p)] == p {
			return true
		}
	}
	return false
}
