package gctune_test

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/quotad/quotad/internal/gctune"
)

func TestApply(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	// An empty GOGC is still the operator's choice: the runtime read it as
	// the default, and Apply leaves it.
	debug.SetGCPercent(100)
	if got := gctune.Apply(); got != 100 || gctune.Current() != 100 {
		t.Fatalf("with GOGC set: Apply() = %d, pace %d; want 100 left alone", got, gctune.Current())
	}
}

func TestApplyWithoutGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	unsetenv(t, "GOGC")
	if got := gctune.Apply(); got != gctune.Percent || gctune.Current() != gctune.Percent {
		t.Fatalf("Apply() = %d, pace %d; want %d", got, gctune.Current(), gctune.Percent)
	}
}

// unsetenv removes key from the environment for the test's duration.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	old, had := os.LookupEnv(key)
	t.Setenv(key, "") // registers the restore; then remove it for real
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		}
	})
}
