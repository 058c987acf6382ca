package sqlite

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// The writer never checkpoints; the checkpointer does, so the WAL does not
// grow with every commit, and closing the store stops it.
func TestCheckpointerKeepsTheWALSmall(t *testing.T) {
	ran := make(chan error, 64)
	hook := func(err error) { ran <- err }
	checkpointHook.Store(&hook)
	defer checkpointHook.Store(nil)

	ctx := context.Background()
	path := t.TempDir() + "/q.db"
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := string(make([]byte, 3000)) // about a page of WAL per commit
	const rounds = 8
	var first int64 // the WAL's size after the first round
	for r := range rounds {
		for i := range checkpointCommits {
			err := s.Update(ctx, func(tx quotad.Tx) error {
				return tx.AppendEvents(quotad.Event{Time: time.Now(), Level: quotad.LevelInfo, Category: "test", Message: big, Fields: map[string]string{"i": string(rune('a' + i%26))}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-ran:
			if err != nil {
				t.Fatalf("checkpoint %d: %v", r, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no checkpoint after %d commits", (r+1)*checkpointCommits)
		}
		if r == 0 {
			first = walSize(t, path)
		}
	}
	// Without checkpoints the WAL would hold every commit, rounds times
	// the first round's; with them it starts over after each round.
	if size := walSize(t, path); size > 2*first {
		t.Fatalf("WAL is %d bytes after %d rounds of commits, %d after the first: it is not checkpointed", size, rounds, first)
	}

	c := s.ckpt
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("the checkpointer still runs after Close")
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
