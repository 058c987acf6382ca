package client_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedDeps are the only packages of the module the client may compile:
// the root (the API surface and domain types) and classify (pure, standard
// library only; the Verdict of an error report). A program that only talks
// to a daemon must not get the engine, a store or a database driver.
var allowedDeps = []string{
	"github.com/quotad/quotad",
	"github.com/quotad/quotad/classify",
	"github.com/quotad/quotad/client",
}

func TestClientImportsTheSurfaceAlone(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot list the client's dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if !slices.Contains(allowedDeps, p) {
			t.Errorf("the client compiles %s; it may import only %v (move what it needs into the root package)", p, allowedDeps)
		}
	}
}
