package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// TestEngineIsTheOnlyWriter guards the rule that only the engine writes
// the store, so that every event passes through its publish: the engine
// hands out no store, and the packages around it never name the types
// that write (quotad.Store, quotad.Tx). They read through quotad.Reader and
// write through the engine's operations and role transactions (JobTx,
// OutboxTx). Only cmd/quotad, which opens stores for migrate and adopt, the
// stores themselves and tests hold them.
func TestEngineIsTheOnlyWriter(t *testing.T) {
	storeType := reflect.TypeFor[quotad.Store]()
	et := reflect.TypeFor[*engine.Engine]()
	for i := range et.NumMethod() {
		m := et.Method(i)
		for j := range m.Type.NumOut() {
			if out := m.Type.Out(j); out == storeType || out.Implements(storeType) {
				t.Errorf("Engine.%s returns %s: the engine must not hand out its store", m.Name, out)
			}
		}
	}
	for _, pkg := range []string{"runner", "monitor", "proxy", "notify", "server", "dashboard", "simulate", "client"} {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in ../%s: %v", pkg, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "quotad" && (sel.Sel.Name == "Store" || sel.Sel.Name == "Tx") {
					t.Errorf("%s: names quotad.%s; read through quotad.Reader and write through the engine", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
