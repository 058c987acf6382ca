#!/usr/bin/env python3
"""Write channels.db as the seed's Python daemon leaves it (see seedfixture.go).

Run from this directory:  python3 make_channels_db.py
The same rows as seedfixture.Default(), written by Python's sqlite3 module
(rollback journal, times as local "YYYY-MM-DD HH:MM:SS" text).
"""
import os
import sqlite3

SCHEMA = """
CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    youtube_channel_id TEXT,
    upload_schedule TEXT DEFAULT 'daily 09:00',
    is_active BOOLEAN DEFAULT 1,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    title TEXT,
    status TEXT DEFAULT 'pending',
    youtube_video_id TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_videos_channel ON videos(channel_id);
CREATE TABLE api_quotas (
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
);
CREATE TABLE logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    level TEXT,
    channel TEXT,
    category TEXT,
    message TEXT
);
CREATE INDEX idx_logs_timestamp ON logs(timestamp);
CREATE VIEW active_channels AS SELECT id, name, youtube_channel_id FROM channels WHERE is_active = 1;
"""

if os.path.exists("channels.db"):
    os.remove("channels.db")
db = sqlite3.connect("channels.db")
db.executescript(SCHEMA)
db.executemany(
    "INSERT INTO api_quotas (api_name, quota_limit, quota_used, quota_remaining, last_reset, next_reset,"
    " is_exhausted, exhausted_at, auto_resume) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
    [
        ("groq", 100000, 100000, 0, "2026-01-11 00:00:00", "2026-01-12 00:00:00", 1, "2026-01-11 12:30:45"),
        ("youtube", 10000, 3200, 6800, "2026-01-11 00:00:00", "2026-01-12 00:00:00", 0, None),
        ("pexels", 20000, 512, 19488, "2026-01-01 00:00:00", "2026-02-01 00:00:00", 0, None),
    ],
)
for i in range(1, 5):
    db.execute("INSERT INTO channels (id, name) VALUES (?, ?)", (i, "deleted-%d" % i))
db.execute("DELETE FROM channels")
db.executemany(
    "INSERT INTO channels (id, name, youtube_channel_id, is_active, created_at) VALUES (?, ?, ?, ?, '2025-11-02 10:00:00')",
    [(1, "TechDaily", "UC-tech", 1), (2, "RankRiot", "UC-rank", 0), (4, "OldChannel", "UC-old", 0)],
)
db.executemany(
    "INSERT INTO videos (channel_id, title, status) VALUES (?, ?, 'uploaded')",
    [(1, "Top 10 gadgets"), (1, "Unboxing"), (2, "Ranking every console"), (4, "Archive")],
)
db.executemany(
    "INSERT INTO logs (timestamp, level, channel, category, message) VALUES (?, ?, ?, ?, ?)",
    [
        ("2026-01-11 12:30:45", "WARNING", "CH2", "quota", "Groq API quota exhausted - will auto-resume at midnight"),
        ("2026-01-11 12:31:02", "INFO", "CH2", "pause", "Channel paused"),
        ("2026-01-11 13:00:00", "INFO", "CH1", "upload", "Uploaded Unboxing"),
    ],
)
db.commit()
db.close()
