package main

import (
	"strings"
	"testing"
	"time"
)

// The daemon's console prints what other processes did, from the log: a
// pause and a reset made with the CLI on the same store show, as do the
// resumes that follow them.
func TestConsolePrintsOtherProcesses(t *testing.T) {
	cfg, db := isolate(t, "")
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", db)
	for _, args := range [][]string{
		{"pause", "Shorts", "--reason", "editing thumbnails"},
		{"reset", "youtube"},
		{"resume", "Shorts"},
	} {
		// --server "": the CLI writes the store itself, as another process.
		if out, errOut, code := runCLI(append(args, "--config", cfg, "--db", db)...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errOut)
		}
	}
	want := []string{"editing thumbnails", "YOUTUBE quota reset", "Resumed: Shorts"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := d.out.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(out, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console did not print %q of the CLI's operations:\n%s", missing, out)
		}
		time.Sleep(20 * time.Millisecond) // polling another component's output
	}
}

func TestShortDur(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{659 * time.Hour, "27d11h"},
		{48 * time.Hour, "2d"},
		{2*time.Hour + 31*time.Minute + 20*time.Second, "2h31m"},
		{time.Hour, "1h0m"},
		{5*time.Minute + 12*time.Second, "5m12s"},
		{42*time.Second + 400*time.Millisecond, "42s"},
		{0, "0s"},
	} {
		if got := shortDur(c.d); got != c.want {
			t.Errorf("shortDur(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}
