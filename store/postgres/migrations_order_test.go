package postgres

import "testing"

// TestMigrationsNumberedInOrder: migrations are appended from several files;
// their versions must run 1, 2, 3, … in the order they are applied, or a
// merge that gave two of them one number would skip one on existing files.
func TestMigrationsNumberedInOrder(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Fatalf("migration %d (%s) has version %d; want %d", i, m.name, m.version, i+1)
		}
	}
}
