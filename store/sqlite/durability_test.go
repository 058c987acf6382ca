package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/quotad/quotad/store/sqlite"
)

// TestDurability checks what each durability setting asks of SQLite:
// crash (the default) is synchronous=NORMAL, power is synchronous=FULL, on
// the writer connection every commit goes through.
func TestDurability(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []sqlite.Option
		want sqlite.Durability
		sync int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{"default", nil, sqlite.DurabilityCrash, 1},
		{"crash", []sqlite.Option{sqlite.WithDurability(sqlite.DurabilityCrash)}, sqlite.DurabilityCrash, 1},
		{"power", []sqlite.Option{sqlite.WithDurability(sqlite.DurabilityPower)}, sqlite.DurabilityPower, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "q.db"), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Durability() != tc.want {
				t.Errorf("Durability() = %v, want %v", s.Durability(), tc.want)
			}
			var sync int
			if err := s.DB().QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if sync != tc.sync {
				t.Errorf("PRAGMA synchronous = %d, want %d", sync, tc.sync)
			}
			var mode string
			if err := s.DB().QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
		})
	}
}
