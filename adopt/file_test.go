package adopt_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/adopt"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/internal/seedfixture"
	"github.com/quotad/quotad/store/sqlite"
)

// seedDB writes the default fixture (Go) or copies the one Python wrote.
func seedDB(t *testing.T, python bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "channels.db")
	if python {
		src, err := os.Open("../internal/seedfixture/testdata/channels.db")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		dst, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := seedfixture.Write(context.Background(), path, seedfixture.Default()); err != nil {
		t.Fatal(err)
	}
	return path
}

// adoptFile adopts path with the default config at now.
func adoptFile(t *testing.T, path string, now time.Time, chans ...quotad.Channel) sqlite.AdoptResult {
	t.Helper()
	res, err := sqlite.Adopt(context.Background(), path, now, func(s sqlite.Seed) (sqlite.Adoption, error) {
		p, err := adopt.Make(s, input(now, chans...))
		return p.Adoption, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dump returns every row of the query, as text.
func dump(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			b.WriteString(v.String + "|")
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// daemonQueries read everything of the daemon's, as the daemon would.
var daemonQueries = []string{
	`SELECT id, name, youtube_channel_id, upload_schedule, created_at FROM channels ORDER BY id`,
	`SELECT * FROM videos ORDER BY id`,
	`SELECT * FROM active_channels ORDER BY id`,
	`SELECT id, CAST(timestamp AS TEXT), level, channel, category, message FROM logs WHERE id <= 3 ORDER BY id`,
	`SELECT type, name, tbl_name, replace(sql, '"', '') FROM sqlite_master WHERE name IN ('idx_videos_channel', 'idx_logs_timestamp', 'active_channels', 'videos') ORDER BY name`,
}

func TestAdoptKeepsEverythingOfTheDaemon(t *testing.T) {
	for _, python := range []bool{false, true} {
		name := "go-fixture"
		if python {
			name = "python-fixture"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := seedDB(t, python)
			before := map[string]string{}
			db := rawDB(t, path)
			for _, q := range daemonQueries {
				before[q] = dump(t, db, q)
			}
			seedQuotas := dump(t, db, `SELECT * FROM api_quotas ORDER BY id`)
			db.Close()

			res := adoptFile(t, path, afternoon)
			if want := path + ".before-quotad-20260111T230000Z"; res.Backup != want {
				t.Errorf("backup %s, want %s", res.Backup, want)
			}
			if ok, err := sqlite.IsSeed(ctx, res.Backup); err != nil || !ok {
				t.Errorf("the backup is not the seed's file as it was: %v %v", ok, err)
			}
			bdb := rawDB(t, res.Backup)
			if got := dump(t, bdb, `SELECT * FROM api_quotas ORDER BY id`); got != seedQuotas {
				t.Errorf("backup api_quotas:\n%s\nwant\n%s", got, seedQuotas)
			}

			db = rawDB(t, path)
			for _, q := range daemonQueries {
				if got := dump(t, db, q); got != before[q] {
					t.Errorf("%s changed by adoption:\n%s\nwant\n%s", q, got, before[q])
				}
			}
			if got := dump(t, db, `SELECT * FROM `+sqlite.SeedQuotasTable+` ORDER BY id`); got != seedQuotas {
				t.Errorf("the seed's api_quotas rows are not kept in %s:\n%s\nwant\n%s", sqlite.SeedQuotasTable, got, seedQuotas)
			}
			if got := dump(t, db, `PRAGMA foreign_key_check`); got != "" {
				t.Errorf("foreign_key_check: %s", got)
			}
			// The daemon's foreign keys still point at the seed's channels.
			if _, err := db.Exec(`INSERT INTO videos (channel_id, title) VALUES (2, 'after adoption')`); err != nil {
				t.Errorf("a video for RankRiot (id 2): %v", err)
			}
			if _, err := db.Exec(`INSERT INTO videos (channel_id, title) VALUES (3, 'deleted channel')`); err == nil {
				t.Error("a video for a channel id that does not exist was accepted: foreign keys no longer point at channels")
			}
			// The seed's documented query works as written.
			if got := dump(t, db, `SELECT api_name, quota_remaining, is_exhausted FROM api_quotas WHERE window_name = 'daily' ORDER BY api_name`); got != "groq|0|1|\nyoutube|6800|0|\n" {
				t.Errorf("api_quotas:\n%s", got)
			}
			db.Close()

			st, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			e := engine.New(st, engine.Options{Clock: clock.NewFake(afternoon), Location: la})
			defer e.Close()
			s, err := e.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, c := range s.Channels {
				got[c.Name] = nil
				for _, p := range c.PauseReasons {
					got[c.Name] = append(got[c.Name], p.Reason)
				}
			}
			if len(got) != 3 || got["TechDaily"] != nil || !slices.Equal(got["RankRiot"], []string{"quota:groq"}) ||
				!slices.Equal(got["OldChannel"], []string{"quota:groq"}) {
				t.Errorf("channels after adoption: %v", got)
			}
			evs, err := e.Events(ctx, quotad.EventFilter{Category: "quota"})
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 1, 11, 12, 30, 45, 0, la); len(evs) != 1 || !evs[0].Time.Equal(want) {
				t.Errorf("the seed's quota log row: %+v, want one at %v (local time of the config's zone)", evs, want)
			}
		})
	}
}

func TestAdoptTwiceChangesNothing(t *testing.T) {
	path := seedDB(t, false)
	res := adoptFile(t, path, afternoon)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Adopt(context.Background(), path, afternoon.Add(time.Minute), func(s sqlite.Seed) (sqlite.Adoption, error) {
		t.Error("plan called for an adopted file")
		return sqlite.Adoption{}, nil
	})
	if !errors.Is(err, sqlite.ErrNotSeed) {
		t.Errorf("second adoption: %v, want ErrNotSeed", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Error("a second adoption changed the file")
	}
	matches, _ := filepath.Glob(path + sqlite.BackupSuffix + "*")
	if len(matches) != 1 || matches[0] != res.Backup {
		t.Errorf("backups %v, want only %s", matches, res.Backup)
	}
}

func TestOpenRefusesASeedFileAndChangesNothing(t *testing.T) {
	path := seedDB(t, true)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(context.Background(), path)
	if !errors.Is(err, sqlite.ErrSeedDatabase) {
		t.Fatalf("Open: %v, want ErrSeedDatabase", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Error("Open changed the seed's file")
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("Open left %s%s", path, suffix)
		}
	}
	if _, err := sqlite.ReadSeed(context.Background(), path); err != nil {
		t.Errorf("ReadSeed: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("ReadSeed (the dry run) changed the seed's file")
	}
}

func TestAdoptFailureChangesNothing(t *testing.T) {
	path := seedDB(t, false)
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	_, err := sqlite.Adopt(context.Background(), path, afternoon, func(s sqlite.Seed) (sqlite.Adoption, error) {
		return sqlite.Adoption{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Adopt: %v", err)
	}
	// A plan that the schema refuses (a channel without a name) fails late,
	// after the schema was reshaped: the transaction rolls all of it back.
	_, err = sqlite.Adopt(context.Background(), path, afternoon, func(s sqlite.Seed) (sqlite.Adoption, error) {
		p, err := adopt.Make(s, input(afternoon))
		p.Adoption.Channels = append(p.Adoption.Channels, quotad.Channel{})
		return p.Adoption, err
	})
	if err == nil {
		t.Fatal("Adopt accepted a channel without a name")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a failed adoption changed the file")
	}
	if m, _ := filepath.Glob(path + sqlite.BackupSuffix + "*"); len(m) != 0 {
		t.Errorf("a failed adoption left copies %v", m)
	}
	if ok, err := sqlite.IsSeed(context.Background(), path); !ok || err != nil {
		t.Errorf("after a failed adoption the file is no longer a seed file: %v %v", ok, err)
	}
}

func TestAdoptRefusesDuplicateChannelNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.db")
	db := rawDB(t, path)
	for _, q := range []string{
		`CREATE TABLE api_quotas (id INTEGER PRIMARY KEY, api_name TEXT UNIQUE, quota_limit INTEGER, quota_used INTEGER)`,
		`CREATE TABLE channels (id INTEGER PRIMARY KEY, name TEXT, is_active BOOLEAN)`,
		`INSERT INTO channels (name, is_active) VALUES ('A', 1), ('A', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	_, err := sqlite.Adopt(context.Background(), path, afternoon, func(s sqlite.Seed) (sqlite.Adoption, error) {
		p, err := adopt.Make(s, input(afternoon))
		return p.Adoption, err
	})
	if err == nil || !strings.Contains(err.Error(), `both named "A"`) {
		t.Errorf("Adopt: %v, want a message naming the duplicate", err)
	}
}

func TestAdoptLogsWithoutAnID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.db")
	db := rawDB(t, path)
	for _, q := range []string{
		`CREATE TABLE api_quotas (id INTEGER PRIMARY KEY, api_name TEXT UNIQUE, quota_limit INTEGER, quota_used INTEGER)`,
		`CREATE TABLE channels (id INTEGER PRIMARY KEY, name TEXT, is_active BOOLEAN)`,
		`CREATE TABLE logs (timestamp TEXT, level TEXT, channel TEXT, category TEXT, message TEXT, source TEXT)`,
		`CREATE INDEX logs_source ON logs (source)`,
		`INSERT INTO logs VALUES ('2026-01-11 09:00:00', 'INFO', 'CH1', 'upload', 'first', 'daemon'),
			('2026-01-11 10:00:00', 'INFO', 'CH1', 'upload', 'second', 'daemon')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	adoptFile(t, path, afternoon)
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []quotad.Event
	if err := st.View(context.Background(), func(tx quotad.Tx) error {
		evs, err = tx.Events(quotad.EventFilter{Category: "upload"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Message != "second" || !evs[1].Time.Equal(time.Date(2026, 1, 11, 9, 0, 0, 0, la)) {
		t.Errorf("events %+v", evs)
	}
	db = rawDB(t, path)
	if got := dump(t, db, `SELECT source FROM logs INDEXED BY logs_source WHERE source = 'daemon'`); got != "daemon|\ndaemon|\n" {
		t.Errorf("the daemon's column or index of logs was not kept: %q", got)
	}
}

func statusOf(t *testing.T, e *engine.Engine, name string) quotad.ChannelStatus {
	t.Helper()
	c, err := e.Channel(context.Background(), name)
	if err != nil {
		t.Fatalf("channel %s: %v", name, err)
	}
	return c
}

// TestTheDaemonKeepsUsingTheFile runs quotad's engine on an adopted file
// while "the daemon" (raw SQL, as its Python code does) keeps writing it.
func TestTheDaemonKeepsUsingTheFile(t *testing.T) {
	ctx := context.Background()
	path := seedDB(t, false)
	adoptFile(t, path, afternoon)
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(afternoon)
	e := engine.New(st, engine.Options{Clock: clk, Location: la})
	defer e.Close()
	// quotad serve applies its config, which names no channel: the daemon's
	// channels stay.
	apis, _ := config.DefaultConfig().Domain()
	if _, err := e.Configure(ctx, apis, []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq", "youtube"}}}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	for _, name := range []string{"TechDaily", "RankRiot", "OldChannel"} {
		statusOf(t, e, name)
	}

	daemon := rawDB(t, path)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := daemon.Exec(q, args...); err != nil {
			t.Fatalf("daemon: %s: %v", q, err)
		}
	}
	exec(`INSERT INTO channels (name, is_active, youtube_channel_id) VALUES ('NewCh', 1, 'UC-new')`)
	if c := statusOf(t, e, "NewCh"); !c.Active || !slices.Equal(c.APIs, []string{"groq", "pexels", "youtube"}) {
		t.Errorf("a channel the daemon inserted: %+v, want active and needing every API", c)
	}
	// Its needs count: groq is exhausted, so spending on it is refused for
	// NewCh and the exhaustion it reports pauses it.
	if _, err := e.Pause(ctx, "NewCh", "testing"); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE channels SET is_active = 1 WHERE name = 'OldChannel'`)
	exec(`INSERT INTO logs (timestamp, level, channel, category, message) VALUES ('2026-01-11 15:30:00', 'INFO', 'CH1', 'upload', 'daemon log')`)
	if _, err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if c := statusOf(t, e, "OldChannel"); !c.Active {
		t.Errorf("the daemon's UPDATE channels SET is_active = 1 was not honoured: %+v", c)
	}
	evs, err := e.Events(ctx, quotad.EventFilter{Category: "upload", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !evs[0].Time.Equal(time.Date(2026, 1, 11, 15, 30, 0, 0, la)) {
		t.Errorf("the daemon's new log row: %+v", evs)
	}
	// quotad's writes (pauses, resumes) touched only quotad's columns.
	if got := dump(t, daemon, `SELECT id, name, youtube_channel_id, upload_schedule FROM channels ORDER BY id`); got !=
		"1|TechDaily|UC-tech|daily 09:00|\n2|RankRiot|UC-rank|daily 09:00|\n4|OldChannel|UC-old|daily 09:00|\n5|NewCh|UC-new|daily 09:00|\n" {
		t.Errorf("the daemon's columns after quotad's writes:\n%s", got)
	}

	// Midnight: groq resets and RankRiot, paused for it, resumes.
	clk.Set(time.Date(2026, 1, 12, 0, 0, 1, 0, la))
	if _, err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if c := statusOf(t, e, "RankRiot"); !c.Active {
		t.Errorf("RankRiot did not resume at groq's reset: %+v", c)
	}
	if c := statusOf(t, e, "NewCh"); c.Active {
		t.Errorf("a manual pause was lifted by a reset: %+v", c)
	}
	if got := dump(t, daemon, `SELECT is_active FROM channels WHERE name = 'RankRiot'`); got != "1|\n" {
		t.Errorf("RankRiot's is_active for the daemon = %q, want 1", got)
	}
}

func TestTheLogZoneIsTheRecordedOne(t *testing.T) {
	ctx := context.Background()
	path := seedDB(t, false)
	adoptFile(t, path, afternoon)
	read := func() time.Time {
		t.Helper()
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var evs []quotad.Event
		if err := st.View(ctx, func(tx quotad.Tx) error {
			evs, err = tx.Events(quotad.EventFilter{Category: "quota"})
			return err
		}); err != nil || len(evs) != 1 {
			t.Fatalf("events %v %v", evs, err)
		}
		return evs[0].Time
	}
	if got, want := read(), time.Date(2026, 1, 11, 12, 30, 45, 0, la); !got.Equal(want) {
		t.Errorf("read %v, want %v", got, want)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE ` + sqlite.AdoptedTable + ` SET timezone = 'UTC'`); err != nil {
		t.Fatal(err)
	}
	if got, want := read(), time.Date(2026, 1, 11, 12, 30, 45, 0, time.UTC); !got.Equal(want) {
		t.Errorf("after timezone = 'UTC': read %v, want %v", got, want)
	}
}

// TestDaemonTriggersSeeChangesOnly: quotad writes is_active only when it
// changes, so a trigger of the daemon's on it sees the changes and nothing
// else (quotad saves a channel for its own columns too: error counts).
func TestDaemonTriggersSeeChangesOnly(t *testing.T) {
	ctx := context.Background()
	path := seedDB(t, false)
	db := rawDB(t, path)
	for _, q := range []string{
		`CREATE TABLE channel_audit (name TEXT, was INTEGER, now INTEGER)`,
		`CREATE TRIGGER channels_audit AFTER UPDATE OF is_active ON channels
			BEGIN INSERT INTO channel_audit VALUES (NEW.name, OLD.is_active, NEW.is_active); END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	adoptFile(t, path, afternoon)
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := engine.New(st, engine.Options{Clock: clock.NewFake(afternoon), Location: la})
	defer e.Close()
	if _, err := e.ReportError(ctx, engine.ErrorReport{Channel: "TechDaily", Evidence: classify.Evidence{Message: "ffmpeg exited 1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReportSuccess(ctx, "TechDaily"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pause(ctx, "TechDaily", "new intro"); err != nil {
		t.Fatal(err)
	}
	db = rawDB(t, path)
	if got := dump(t, db, `SELECT * FROM channel_audit`); got != "TechDaily|1|0|\n" {
		t.Errorf("the daemon's trigger saw:\n%s\nwant only TechDaily's pause", got)
	}
}
