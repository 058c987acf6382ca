package bench

import (
	"testing"
	"time"

	"github.com/quotad/quotad/store/sqlite"
)

// TestSpendFiguresAreExact runs the spend benchmark briefly: it checks that
// every acknowledged spend is counted (the figure itself is not asserted).
func TestSpendFiguresAreExact(t *testing.T) {
	for _, dur := range []sqlite.Durability{sqlite.DurabilityCrash, sqlite.DurabilityPower} {
		r, err := Spend(t.Context(), t.TempDir(), 16, 200*time.Millisecond, dur)
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops == 0 {
			t.Fatal("no spend acknowledged")
		}
		t.Log(r)
	}
}
