package dashboard_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDashboardNeedsNoEngine guards the dashboard's boundary: it reads
// through Source, so it compiles neither the engine nor a store nor a
// database driver.
func TestDashboardNeedsNoEngine(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot list the dashboard's dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, banned := range []string{"/engine", "/store/", "jackc/pgx", "modernc.org/sqlite"} {
			if strings.Contains(p, banned) {
				t.Errorf("the dashboard compiles %s; it must read through dashboard.Source only", p)
			}
		}
	}
}
