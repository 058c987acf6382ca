package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
)

// ensureCounter creates the counter API unless it exists, deciding inside
// the write transaction.
func ensureCounter(ctx context.Context, s quotad.Store) error {
	return s.Update(ctx, func(tx quotad.Tx) error {
		_, err := tx.API("counter")
		if errors.Is(err, quotad.ErrUnknownAPI) {
			return tx.SaveAPI(counterAPI)
		}
		return err
	})
}

const (
	childPathEnv  = "QUOTAD_SQLITE_TEST_CHILD_DB"
	childCountEnv = "QUOTAD_SQLITE_TEST_CHILD_N"
)

// TestHelperProcess is not a test: TestTwoProcesses runs the test binary
// again with it selected and the environment set, to get a second process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(childPathEnv)
	if path == "" {
		t.Skip("helper for TestTwoProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(childCountEnv))
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	defer s.Close()
	if err := ensureCounter(context.Background(), s); err != nil {
		fmt.Fprintln(os.Stderr, "child ensure counter:", err)
		os.Exit(3)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range n {
				if err := increment(context.Background(), s); err != nil {
					fmt.Fprintln(os.Stderr, "child increment:", err)
					os.Exit(4)
				}
			}
		})
	}
	wg.Wait()
}

// TestTwoProcesses opens one new file from three processes at once (this one
// and two children), each incrementing the same counter: migrations must run
// once and no increment may be lost, with file locks as the only arbiter.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const each = 40 // per goroutine; every process runs 2
	path := filepath.Join(t.TempDir(), "channels.db")
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childPathEnv+"="+path, childCountEnv+"="+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	s := openT(t, path)
	defer s.Close()
	// The children may not have created the API yet: create it if missing,
	// in the same transaction that reads it.
	if err := ensureCounter(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range each {
				if err := increment(context.Background(), s); err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	if got, want := used(t, s), int64(3*2*each); got != want {
		t.Errorf("Used = %d after %d increments from 3 processes", got, want)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != sqlite.SchemaVersion() {
		t.Errorf("schema_migrations rows = %d (%v), want %d", n, err, sqlite.SchemaVersion())
	}
}
