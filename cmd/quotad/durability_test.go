package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/store/sqlite"
)

// TestDurabilityReachesTheStore checks that the config's durability is the
// SQLite store's, and that a bad value is refused naming the field.
func TestDurabilityReachesTheStore(t *testing.T) {
	for word, want := range map[string]sqlite.Durability{"crash": sqlite.DurabilityCrash, "power": sqlite.DurabilityPower} {
		cfg, err := config.Parse([]byte("durability: "+word+"\n"), "quotad.yaml")
		if err != nil {
			t.Fatal(err)
		}
		g := &globals{db: filepath.Join(t.TempDir(), "q.db")}
		st, _, err := g.openConfigured(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.(*sqlite.Store).Durability(); got != want {
			t.Errorf("durability: %s opened a store with %v", word, got)
		}
		st.Close()
	}

	c := newCLI(t, "durability: always\n")
	_, errs, code := c.run("status")
	if code == 0 || !strings.Contains(errs, `quotad.yaml:1: durability: expected crash`) {
		t.Fatalf("status with durability: always: exit %d\n%s", code, errs)
	}
}
