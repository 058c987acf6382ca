package sqlite_test

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
)

// The seed document's sqlite3 commands, verbatim.
const (
	seedStatus     = `SELECT api_name, quota_remaining, is_exhausted, next_reset FROM api_quotas;`
	seedLogs       = `SELECT * FROM logs WHERE category LIKE '%quota%' ORDER BY timestamp DESC LIMIT 10;`
	seedReactivate = `UPDATE channels SET is_active = 1 WHERE name = 'RankRiot';`
)

func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var seedNow = time.Date(2026, 1, 11, 12, 30, 45, 0, time.FixedZone("PST", -8*60*60))

// seedFile writes the seed's situation: groq exhausted, RankRiot paused.
func seedFile(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "channels.db")
	s := openT(t, path)
	t.Cleanup(func() { s.Close() })
	midnight := time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)
	err := s.Update(t.Context(), func(tx quotad.Tx) error {
		for _, a := range []quotad.API{
			{Name: "groq", Unit: "tokens", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 100000, Used: 100000,
				NextReset: midnight, Exhausted: true, ExhaustedAt: seedNow}}},
			{Name: "youtube", Unit: "units", AutoResume: true, Windows: []quotad.Window{{Name: "daily", Limit: 10000, Used: 1600, NextReset: midnight}}},
		} {
			if err := tx.SaveAPI(a); err != nil {
				return err
			}
		}
		if err := tx.SaveChannel(quotad.Channel{Name: "RankRiot", APIs: []string{"groq"},
			Pauses: []quotad.Pause{{Reason: quotad.QuotaReason("groq"), Since: seedNow}}}); err != nil {
			return err
		}
		return tx.AppendEvents(
			quotad.Event{Time: seedNow, Level: quotad.LevelWarning, Channel: "RankRiot", Category: quotad.CategoryQuota,
				Message: "Groq API quota exhausted - will auto-resume at midnight", Fields: map[string]string{"api": "groq"}},
			quotad.Event{Time: seedNow.Add(time.Second), Level: quotad.LevelWarning, Channel: "RankRiot", Category: quotad.CategoryPause, Message: "paused"},
			quotad.Event{Time: midnight, Level: quotad.LevelInfo, Category: quotad.CategoryQuotaReset, Message: "GROQ quota reset"},
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func outOfSync(t *testing.T, s quotad.Store) []string {
	t.Helper()
	var names []string
	err := s.View(t.Context(), func(tx quotad.Tx) error {
		list, err := tx.ChannelsOutOfSync()
		for _, c := range list {
			names = append(names, c.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestSeedQueriesDatabaseSQL(t *testing.T) {
	s, path := seedFile(t)
	db := openRaw(t, path)
	defer db.Close()

	rows, err := db.Query(seedStatus)
	if err != nil {
		t.Fatalf("%s: %v", seedStatus, err)
	}
	var got []string
	for rows.Next() {
		var name, next string
		var remaining, exhausted int64
		if err := rows.Scan(&name, &remaining, &exhausted, &next); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{name, strconv.FormatInt(remaining, 10), strconv.FormatInt(exhausted, 10), next}, "|"))
	}
	rows.Close()
	want := []string{"groq|0|1|2026-01-12T08:00:00.000000Z", "youtube|8400|0|2026-01-12T08:00:00.000000Z"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s =\n%s\nwant\n%s", seedStatus, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	rows, err = db.Query(seedLogs)
	if err != nil {
		t.Fatalf("%s: %v", seedLogs, err)
	}
	var msgs []string
	for rows.Next() {
		var id int64
		var ts, level, channel, category, message, fields sql.NullString
		if err := rows.Scan(&id, &ts, &level, &channel, &category, &message, &fields); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, ts.String+" "+category.String+" "+message.String)
	}
	rows.Close()
	wantLogs := []string{
		"2026-01-12T08:00:00.000000Z quota_reset GROQ quota reset",
		"2026-01-11T20:30:45.000000Z quota Groq API quota exhausted - will auto-resume at midnight",
	}
	if strings.Join(msgs, "\n") != strings.Join(wantLogs, "\n") {
		t.Errorf("%s =\n%s\nwant\n%s", seedLogs, strings.Join(msgs, "\n"), strings.Join(wantLogs, "\n"))
	}

	// quota_remaining follows SaveWindow too.
	err = s.Update(t.Context(), func(tx quotad.Tx) error {
		a, err := tx.API("youtube")
		if err != nil {
			return err
		}
		w := a.Windows[0]
		w.Used = 2500
		return tx.SaveWindow("youtube", w)
	})
	if err != nil {
		t.Fatal(err)
	}
	var remaining int64
	if err := db.QueryRow(`SELECT quota_remaining FROM api_quotas WHERE api_name = 'youtube'`).Scan(&remaining); err != nil || remaining != 7500 {
		t.Errorf("quota_remaining after SaveWindow = %d (%v), want 7500", remaining, err)
	}

	if got := outOfSync(t, s); len(got) != 0 {
		t.Fatalf("out of sync before the edit: %v", got)
	}
	if _, err := db.Exec(seedReactivate); err != nil {
		t.Fatalf("%s: %v", seedReactivate, err)
	}
	if got := outOfSync(t, s); len(got) != 1 || got[0] != "RankRiot" {
		t.Errorf("ChannelsOutOfSync after %s = %v, want [RankRiot]", seedReactivate, got)
	}
}

func TestSeedQueriesCLI(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		if _, err2 := os.Stat("/usr/bin/sqlite3"); err2 != nil {
			t.Skip("sqlite3 CLI not installed (looked in PATH and /usr/bin/sqlite3); the database/sql test covers the queries")
		}
		cli = "/usr/bin/sqlite3"
	}
	s, path := seedFile(t)
	run := func(q string) string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), cli, path, q).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %s %q: %v\n%s", path, q, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got, want := run(seedStatus), "groq|0|1|2026-01-12T08:00:00.000000Z\nyoutube|8400|0|2026-01-12T08:00:00.000000Z"; got != want {
		t.Errorf("sqlite3 %q =\n%s\nwant\n%s", seedStatus, got, want)
	}
	logs := strings.Split(run(seedLogs), "\n")
	if len(logs) != 2 || !strings.Contains(logs[0], "|quota_reset|GROQ quota reset|") ||
		!strings.Contains(logs[1], `|2026-01-11T20:30:45.000000Z|WARNING|RankRiot|quota|Groq API quota exhausted - will auto-resume at midnight|{"api":"groq"}`) {
		t.Errorf("sqlite3 %q =\n%s", seedLogs, strings.Join(logs, "\n"))
	}
	run(seedReactivate)
	if got := outOfSync(t, s); len(got) != 1 || got[0] != "RankRiot" {
		t.Errorf("ChannelsOutOfSync after sqlite3 %q = %v, want [RankRiot]", seedReactivate, got)
	}
}
