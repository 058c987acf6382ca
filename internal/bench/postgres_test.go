package bench

import (
	"testing"
	"time"

	"github.com/quotad/quotad/store/postgres/pgtest"
)

// TestPostgresScaleOutExact runs the scale-out benchmark briefly on three
// daemons: every acknowledged spend is counted (the figure is not asserted).
func TestPostgresScaleOutExact(t *testing.T) {
	dsn := pgtest.Schema(t)
	for _, overHTTP := range []bool{false, true} {
		r, err := PostgresScaleOut(t.Context(), dsn, 3, 12, 300*time.Millisecond, overHTTP)
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops == 0 {
			t.Fatal("no spend acknowledged")
		}
		t.Log(r)
	}
}
