package postgres_test

import (
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/postgres"
	"github.com/quotad/quotad/store/postgres/pgtest"
	"github.com/quotad/quotad/store/storetest"
)

// openT opens a store on a fresh schema of the test server.
func openT(t testing.TB) *postgres.Store {
	t.Helper()
	return openDSN(t, pgtest.Schema(t))
}

func openDSN(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func rawExec(t *testing.T, s quotad.Store, sql string) {
	t.Helper()
	if _, err := s.(*postgres.Store).Pool().Exec(t.Context(), sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) quotad.Store { return openT(t) }, storetest.WithRawExec(rawExec))
}
