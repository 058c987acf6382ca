package sqlite_test

import (
	"context"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
)

// version reads the store version at the start of a write transaction and
// again after writing an API in it.
func version(t *testing.T, s *sqlite.Store, name string) (start, end quotad.StoreVersion) {
	t.Helper()
	err := s.Update(context.Background(), func(tx quotad.Tx) error {
		vtx := tx.(quotad.VersionedTx)
		var err error
		if start, err = vtx.Version(); err != nil {
			return err
		}
		if err := tx.SaveAPI(quotad.API{Name: name, Unit: "units", Windows: []quotad.Window{{Name: "daily", Limit: 10, Rule: "daily 00:00 UTC"}}}); err != nil {
			return err
		}
		end, err = vtx.Version()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return start, end
}

// The version a write transaction reads after its own writes is what the
// next transaction starts from, unless something else wrote in between:
// the engine keeps its rows in memory on that promise.
func TestVersionSeesOwnAndOtherWrites(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/quotad.db"
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start, end := version(t, s, "a")
	if end.Commits != start.Commits || end.Changes <= start.Changes {
		t.Fatalf("own writes: start %+v, end %+v; want the same commits and more changes", start, end)
	}
	next, _ := version(t, s, "b")
	if next != end {
		t.Fatalf("nothing else wrote: next transaction starts at %+v, want %+v", next, end)
	}

	// A write through the writer connection outside Update.
	_, last := version(t, s, "c")
	if _, err := s.DB().Exec("UPDATE api_quotas SET quota_used = 5 WHERE api_name = 'a'"); err != nil {
		t.Fatal(err)
	}
	if next, _ := version(t, s, "d"); next == last {
		t.Fatalf("a write through DB() left the version at %+v", next)
	}

	// Another process: a second Store on the same file.
	_, last = version(t, s, "e")
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	version(t, other, "f")
	if next, _ := version(t, s, "g"); next.Commits == last.Commits {
		t.Fatalf("another connection's commit left data_version at %d", next.Commits)
	}
}
