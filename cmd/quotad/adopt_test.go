package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/store/sqlite"
)

// seedCopy copies the channels.db that Python's sqlite3 wrote as the seed's
// daemon does (internal/seedfixture/testdata) into dir.
func seedCopy(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("../../internal/seedfixture/testdata/channels.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "channels.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func backups(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + sqlite.BackupSuffix + "*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMigrateAdoptsTheSeedDatabase walks a seed user's afternoon: their
// channels.db is refused with the command to run, the dry run shows the
// plan and changes nothing, migrate adopts it (once), and quotad reads it.
func TestMigrateAdoptsTheSeedDatabase(t *testing.T) {
	c := newCLI(t, testConfig)
	path := seedCopy(t, c.dir)
	orig, _ := os.ReadFile(path)
	unchanged := func(what string) {
		t.Helper()
		if b, _ := os.ReadFile(path); string(b) != string(orig) {
			t.Fatalf("%s changed channels.db", what)
		}
		if m := backups(t, path); len(m) != 0 {
			t.Fatalf("%s made a copy: %v", what, m)
		}
	}

	for _, args := range [][]string{{"status", "--db", "channels.db"}, {"serve", "--db", "channels.db", "--no-http"}} {
		out, errs, code := c.run(args...)
		if code != 1 || !strings.Contains(errs, "quotad migrate --db channels.db") || !strings.Contains(errs, "nothing was changed") {
			t.Errorf("quotad %s on a seed file: exit %d, want 1 and the command to run\n%s%s", strings.Join(args, " "), code, out, errs)
		}
		unchanged(args[0])
	}

	out := c.ok("migrate", "--db", "channels.db", "--dry-run")
	for _, want := range []string{
		"groq/daily: limit 100000, used 100000, exhausted since 2026-01-11 12:30:45 PST",
		"RankRiot (id 2): inactive, needs groq, youtube -> paused quota:groq",
		"OldChannel (id 4): inactive, not in the config: needs every API -> paused quota:groq",
		"TechDaily (id 1): active",
		"columns (youtube_channel_id, upload_schedule, created_at)",
		"kept as they are: videos",
		"Dry run: nothing was changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not say %q:\n%s", want, out)
		}
	}
	unchanged("migrate --dry-run")

	out = c.ok("migrate", "--db", "channels.db")
	m := backups(t, path)
	if len(m) != 1 {
		t.Fatalf("copies %v, want one", m)
	}
	backup := filepath.Base(m[0])
	if b, _ := os.ReadFile(m[0]); len(b) == 0 {
		t.Fatal("empty copy")
	}
	for _, want := range []string{
		"[OK] copied it to channels.db" + sqlite.BackupSuffix,
		"[OK] adopted channels.db",
		"Next: run quotad serve --db channels.db",
		"rm -f channels.db-wal channels.db-shm && mv " + backup + " channels.db",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate does not say %q:\n%s", want, out)
		}
	}
	adopted, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out := c.ok("migrate", "--db", "channels.db"); !strings.Contains(out, "schema version") || len(backups(t, path)) != 1 {
		t.Errorf("a second migrate: %s, copies %v", out, backups(t, path))
	}
	if out := c.ok("migrate", "--db", "channels.db", "--dry-run"); !strings.Contains(out, "not a seed database") {
		t.Errorf("a dry run on an adopted file: %s", out)
	}

	var st quotad.Status
	if err := json.Unmarshal([]byte(c.ok("status", "--db", "channels.db", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if ch := channelOf(st, "RankRiot"); ch.Active || len(ch.PauseReasons) != 1 || ch.PauseReasons[0].Reason != "quota:groq" {
		t.Errorf("RankRiot after adoption: %+v", ch)
	}
	if ch := channelOf(st, "TechDaily"); !ch.Active {
		t.Errorf("TechDaily after adoption: %+v", ch)
	}
	if out := c.ok("logs", "--db", "channels.db", "--category", "quota"); !strings.Contains(out,
		"[2026-01-11 12:30:45 PST] [WARNING] [CH2] [quota] Groq API quota exhausted") {
		t.Errorf("the seed's log rows, at their local times:\n%s", out)
	}

	// The undo line migrate printed gives the seed's file back, as it was.
	undo := out[strings.Index(out, "rm -f channels.db-wal"):]
	undo = undo[:strings.IndexByte(undo, '\n')]
	if b, err := exec.Command("bash", "-c", "cd "+c.dir+" && "+undo).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", undo, err, b)
	}
	origCopy := filepath.Join(t.TempDir(), "orig.db")
	if err := os.WriteFile(origCopy, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := dumpAll(t, path), dumpAll(t, origCopy); got != want || len(adopted) == len(orig) {
		t.Errorf("after the undo line channels.db is not the seed's file:\n%s\nwant\n%s", got, want)
	}
	if _, errs, code := c.run("status", "--db", "channels.db"); code != 1 || !strings.Contains(errs, "quotad migrate --db channels.db") {
		t.Errorf("after the undo, status: exit %d\n%s", code, errs)
	}
}

// TestServeBesideTheSeedDaemon runs quotad serve on an adopted file while
// "the daemon" keeps writing it: the missed midnight reset is caught up at
// start, a channel it inserts appears, its is_active edits are honoured,
// and none of its channels or columns is lost.
func TestServeBesideTheSeedDaemon(t *testing.T) {
	cfg, _ := isolate(t, "")
	path := seedCopy(t, filepath.Dir(cfg))
	okIn(t, "migrate", "--config", cfg, "--db", path)
	d := startDaemon(t, "--listen", "127.0.0.1:0", "--config", cfg, "--db", path)
	waitOut := func(want string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !strings.Contains(d.out.String(), want) {
			select {
			case <-deadline:
				t.Fatalf("serve never printed %q:\n%s%s", want, d.out, d.errOut)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	// The seed's resets (January) were missed: serve applies them at start.
	waitOut("Resumed: RankRiot")

	daemon, err := sql.Open(sqlite.DriverName, path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	for _, q := range []string{
		`INSERT INTO channels (name, is_active, youtube_channel_id) VALUES ('NewCh', 1, 'UC-new')`,
		`INSERT INTO videos (channel_id, title) VALUES ((SELECT id FROM channels WHERE name = 'NewCh'), 'first')`,
	} {
		if _, err := daemon.Exec(q); err != nil {
			t.Fatalf("daemon: %s: %v", q, err)
		}
	}
	remote := []string{"--config", cfg, "--server", d.url}
	out, errs, code := runCLI(append([]string{"channels", "--json"}, remote...)...)
	if code != 0 {
		t.Fatalf("channels: %d %s%s", code, out, errs)
	}
	if !strings.Contains(out, `"name": "NewCh"`) {
		t.Errorf("the daemon's new channel is not shown by quotad serve:\n%s", out)
	}
	if _, _, code := runCLI(append([]string{"pause", "TechDaily"}, remote...)...); code != 0 {
		t.Error("pause TechDaily failed")
	}
	d.stop(t)

	rows, err := daemon.Query(`SELECT c.id, c.name, c.youtube_channel_id, count(v.id) FROM channels c
		LEFT JOIN videos v ON v.channel_id = c.id GROUP BY c.id ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, n int
		var name string
		var yt sql.NullString
		if err := rows.Scan(&id, &name, &yt, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s:%d:%d", name, yt.String, id, n))
	}
	// Shorts is the config's, added by serve; NewCh the daemon's.
	want := "TechDaily/UC-tech:1:2 RankRiot/UC-rank:2:1 OldChannel/UC-old:4:1 Shorts/:5:0 NewCh/UC-new:6:1"
	if strings.Join(got, " ") != want {
		t.Errorf("the daemon's channels after serve (name/youtube id:id:videos):\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

// dumpAll returns the schema and every row of every table of a SQLite file.
func dumpAll(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	var b strings.Builder
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, text)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, tbl := range tables {
		r, err := db.Query(`SELECT * FROM "` + tbl + `" ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s: %v\n", tbl, vals)
		}
		r.Close()
	}
	return b.String()
}
