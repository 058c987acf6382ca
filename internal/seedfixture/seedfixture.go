// Package seedfixture writes SQLite files shaped as the seed's Python daemon
// (youtube_daemon.py with quota_manager.py) leaves its channels.db: the
// documented api_quotas, channels and logs tables, beside the daemon's own
// tables and columns (videos referencing channels(id), YouTube ids, upload
// schedules), indexes, a view, and times as local "YYYY-MM-DD HH:MM:SS"
// text. Tests use it to check that quotad adopts such a file in place.
//
// testdata/channels.db is the same shape written by Python's sqlite3
// module (testdata/make_channels_db.py), as the daemon itself would.
package seedfixture

import (
	"context"
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Schema is the seed daemon's schema: the document's api_quotas, channels
// with the daemon's columns, videos referencing channels(id), logs, indexes
// and a view.
var Schema = []string{
	`CREATE TABLE channels (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT UNIQUE NOT NULL,
		youtube_channel_id TEXT,
		upload_schedule TEXT DEFAULT 'daily 09:00',
		is_active BOOLEAN DEFAULT 1,
		created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE TABLE videos (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		channel_id INTEGER NOT NULL REFERENCES channels(id),
		title TEXT,
		status TEXT DEFAULT 'pending',
		youtube_video_id TEXT,
		created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE INDEX idx_videos_channel ON videos(channel_id)`,
	`CREATE TABLE api_quotas (
		id INTEGER PRIMARY KEY,
		api_name TEXT UNIQUE,
		quota_limit INTEGER,
		quota_used INTEGER,
		quota_remaining INTEGER,
		last_reset TIMESTAMP,
		next_reset TIMESTAMP,
		is_exhausted BOOLEAN,
		exhausted_at TIMESTAMP,
		auto_resume BOOLEAN DEFAULT 1
	)`,
	`CREATE TABLE logs (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
		level TEXT,
		channel TEXT,
		category TEXT,
		message TEXT
	)`,
	`CREATE INDEX idx_logs_timestamp ON logs(timestamp)`,
	`CREATE VIEW active_channels AS SELECT id, name, youtube_channel_id FROM channels WHERE is_active = 1`,
}

// Quota is one row of the seed's api_quotas; times are the daemon's local
// "YYYY-MM-DD HH:MM:SS" text ("" is NULL).
type Quota struct {
	API                               string
	Limit, Used                       int64
	LastReset, NextReset, ExhaustedAt string
	Exhausted                         bool
}

// Channel is one row of the seed's channels. IDs may have gaps (a deleted
// channel), as a real file's do.
type Channel struct {
	ID        int64
	Name      string
	YouTubeID string
	Active    bool
}

// Log is one row of the seed's logs.
type Log struct {
	Timestamp, Level, Channel, Category, Message string
}

// Fixture is what Write puts in the file.
type Fixture struct {
	Quotas   []Quota
	Channels []Channel
	Videos   map[int64][]string // channel id -> titles
	Logs     []Log
}

// Default is a day in the life of the seed: Groq ran out at 12:30:45 local
// time on 2026-01-11 and RankRiot was paused for it; YouTube and Pexels have
// quota left; OldChannel was switched off by hand; channel 3 was deleted,
// so ids have a gap.
func Default() Fixture {
	return Fixture{
		Quotas: []Quota{
			{API: "groq", Limit: 100000, Used: 100000, LastReset: "2026-01-11 00:00:00",
				NextReset: "2026-01-12 00:00:00", ExhaustedAt: "2026-01-11 12:30:45", Exhausted: true},
			{API: "youtube", Limit: 10000, Used: 3200, LastReset: "2026-01-11 00:00:00", NextReset: "2026-01-12 00:00:00"},
			{API: "pexels", Limit: 20000, Used: 512, LastReset: "2026-01-01 00:00:00", NextReset: "2026-02-01 00:00:00"},
		},
		Channels: []Channel{
			{ID: 1, Name: "TechDaily", YouTubeID: "UC-tech", Active: true},
			{ID: 2, Name: "RankRiot", YouTubeID: "UC-rank", Active: false},
			{ID: 4, Name: "OldChannel", YouTubeID: "UC-old", Active: false},
		},
		Videos: map[int64][]string{
			1: {"Top 10 gadgets", "Unboxing"},
			2: {"Ranking every console"},
			4: {"Archive"},
		},
		Logs: []Log{
			{"2026-01-11 12:30:45", "WARNING", "CH2", "quota", "Groq API quota exhausted - will auto-resume at midnight"},
			{"2026-01-11 12:31:02", "INFO", "CH2", "pause", "Channel paused"},
			{"2026-01-11 13:00:00", "INFO", "CH1", "upload", "Uploaded Unboxing"},
		},
	}
}

// Write creates path as the seed's daemon would, in rollback-journal mode
// (Python's sqlite3 default), and fills it with f.
func Write(ctx context.Context, path string, f Fixture) (err error) {
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		return fmt.Errorf("seedfixture: open %s: %w", path, err)
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("seedfixture: close %s: %w", path, cerr)
		}
	}()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seedfixture: %w", err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		if err != nil {
			return
		}
		if _, e := tx.ExecContext(ctx, q, args...); e != nil {
			err = fmt.Errorf("seedfixture: %s: %w", q, e)
		}
	}
	for _, s := range Schema {
		exec(s)
	}
	for _, q := range f.Quotas {
		exec(`INSERT INTO api_quotas (api_name, quota_limit, quota_used, quota_remaining, last_reset, next_reset,
			is_exhausted, exhausted_at, auto_resume) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			q.API, q.Limit, q.Used, max(0, q.Limit-q.Used), null(q.LastReset), null(q.NextReset), q.Exhausted, null(q.ExhaustedAt))
	}
	// A channel created and deleted leaves a gap in the ids, as in a real file.
	maxID := int64(0)
	for _, c := range f.Channels {
		maxID = max(maxID, c.ID)
	}
	for id := int64(1); id <= maxID; id++ {
		exec(`INSERT INTO channels (id, name, is_active) VALUES (?, ?, 1)`, id, fmt.Sprintf("deleted-%d", id))
	}
	exec(`DELETE FROM channels`)
	for _, c := range f.Channels {
		exec(`INSERT INTO channels (id, name, youtube_channel_id, is_active, created_at) VALUES (?, ?, ?, ?, '2025-11-02 10:00:00')`,
			c.ID, c.Name, c.YouTubeID, c.Active)
	}
	for _, c := range f.Channels {
		for _, title := range f.Videos[c.ID] {
			exec(`INSERT INTO videos (channel_id, title, status) VALUES (?, ?, 'uploaded')`, c.ID, title)
		}
	}
	for _, l := range f.Logs {
		exec(`INSERT INTO logs (timestamp, level, channel, category, message) VALUES (?, ?, ?, ?, ?)`,
			l.Timestamp, l.Level, l.Channel, l.Category, l.Message)
	}
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seedfixture: commit: %w", err)
	}
	return nil
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
