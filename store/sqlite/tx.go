package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quotad/quotad"
)

// stmtID names a statement prepared once per pool and bound to a
// transaction on first use.
type stmtID int

const (
	stAPI stmtID = iota
	stAPIs
	stUpsertAPI
	stDeleteOtherWindows
	stUpsertWindow
	stUpdateWindow
	stDeleteWindows
	stDeleteAPI
	stChannel
	stChannels
	stOutOfSync
	stUpdateChannel
	stSetActive
	stInsertChannel
	stDeletePauses
	stInsertPause
	stDeleteChannel
	stInsertEvent
	stReservation
	stUpsertReservation
	stDeleteReservation
	stExpired
	stDueAt
	stAddUsage
	stVersion
	numStmts
)

type stmtSet [numStmts]*sql.Stmt

const (
	selectAPI = `SELECT a.name, a.unit, a.keywords, a.auto_resume,
		q.window_name, q.quota_limit, q.quota_used, q.quota_reserved, q.last_reset, q.next_reset,
		q.is_exhausted, q.exhausted_at, q.blocked_until, q.auto_resume, q.reset_rule, a.reserve,
		q.model, q.scope, q.meter, q.bucket, a.prices
		FROM apis a LEFT JOIN api_quotas q ON q.api_name = a.name`
	selectChannel = `SELECT c.name, c.is_active, c.priority, c.apis, c.consecutive_errors,
		p.reason, p.since, p.detail, p.until, c.fallbacks, c.budgets
		FROM channels c LEFT JOIN channel_pauses p ON p.channel = c.name`
	selectReservation = `SELECT id, api_name, channel, units, created_at, expires_at FROM reservations`
)

var stmtSQL = [numStmts]string{
	stAPI:  selectAPI + ` WHERE a.name = ? ORDER BY q.position, q.id`,
	stAPIs: selectAPI + ` ORDER BY a.name, q.position, q.id`,
	stUpsertAPI: `INSERT INTO apis (name, unit, keywords, auto_resume, position, reserve, prices)
		VALUES (?1, ?2, ?3, ?4, (SELECT coalesce(max(position), 0) + 1 FROM apis), ?5, ?6)
		ON CONFLICT (name) DO UPDATE SET unit = excluded.unit, keywords = excluded.keywords,
		auto_resume = excluded.auto_resume, reserve = excluded.reserve, prices = excluded.prices`,
	stDeleteOtherWindows: `DELETE FROM api_quotas WHERE api_name = ?1
		AND window_name NOT IN (SELECT value FROM json_each(?2))`,
	stUpsertWindow: `INSERT INTO api_quotas (api_name, window_name, position, quota_limit, quota_used,
		quota_remaining, quota_reserved, last_reset, next_reset, is_exhausted, exhausted_at, blocked_until,
		auto_resume, reset_rule, model, scope, meter, bucket)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
		ON CONFLICT (api_name, window_name) DO UPDATE SET position = excluded.position,
		quota_limit = excluded.quota_limit, quota_used = excluded.quota_used,
		quota_remaining = excluded.quota_remaining, quota_reserved = excluded.quota_reserved,
		last_reset = excluded.last_reset, next_reset = excluded.next_reset,
		is_exhausted = excluded.is_exhausted, exhausted_at = excluded.exhausted_at,
		blocked_until = excluded.blocked_until, auto_resume = excluded.auto_resume,
		reset_rule = excluded.reset_rule, model = excluded.model, scope = excluded.scope,
		meter = excluded.meter, bucket = excluded.bucket`,
	stUpdateWindow: `UPDATE api_quotas SET quota_limit = ?3, quota_used = ?4, quota_remaining = ?5,
		quota_reserved = ?6, last_reset = ?7, next_reset = ?8, is_exhausted = ?9, exhausted_at = ?10,
		blocked_until = ?11, reset_rule = ?12
		WHERE api_name = ?1 AND window_name = ?2`,
	stDeleteWindows: `DELETE FROM api_quotas WHERE api_name = ?`,
	stDeleteAPI:     `DELETE FROM apis WHERE name = ?`,

	stChannel:  selectChannel + ` WHERE c.name = ? ORDER BY p.position, p.rowid`,
	stChannels: selectChannel + ` ORDER BY c.name, p.position, p.rowid`,
	stOutOfSync: selectChannel + ` WHERE (c.is_active <> 0) =
		EXISTS (SELECT 1 FROM channel_pauses x WHERE x.channel = c.name)
		ORDER BY c.name, p.position, p.rowid`,
	// A channel is updated in place, in quotad's columns only, and inserted
	// only when missing: an upsert would draw a new id from an AUTOINCREMENT
	// channels table (the seed daemon's) even when it updates. is_active is
	// written only when it changes, so that a trigger of the daemon's on it
	// fires for changes only.
	stUpdateChannel: `UPDATE channels SET priority = ?2, apis = ?3, consecutive_errors = ?4,
		fallbacks = ?5, budgets = ?6 WHERE name = ?1`,
	stSetActive: `UPDATE channels SET is_active = ?2 WHERE name = ?1 AND is_active IS NOT ?2`,
	stInsertChannel: `INSERT INTO channels (name, is_active, priority, apis, consecutive_errors, fallbacks, budgets)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
	stDeletePauses: `DELETE FROM channel_pauses WHERE channel = ?`,
	stInsertPause: `INSERT INTO channel_pauses (channel, reason, since, detail, until, position)
		VALUES (?, ?, ?, ?, ?, ?)`,
	stDeleteChannel: `DELETE FROM channels WHERE name = ?`,

	stInsertEvent: `INSERT INTO logs (timestamp, level, channel, category, message, fields)
		VALUES (?, ?, ?, ?, ?, ?)`,

	stReservation: selectReservation + ` WHERE id = ?`,
	stUpsertReservation: `INSERT INTO reservations (id, api_name, channel, units, created_at, expires_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6)
		ON CONFLICT (id) DO UPDATE SET api_name = excluded.api_name, channel = excluded.channel,
		units = excluded.units, created_at = excluded.created_at, expires_at = excluded.expires_at`,
	stDeleteReservation: `DELETE FROM reservations WHERE id = ?`,
	stExpired:           selectReservation + ` WHERE expires_at <= ? ORDER BY expires_at, id`,
	stAddUsage: `INSERT INTO usage (api, channel, start, resolution, units, count, model, cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (resolution, start, api, channel, model)
		DO UPDATE SET units = units + excluded.units, count = count + excluded.count, cost = cost + excluded.cost`,
	stDueAt: `SELECT min(t) FROM (
		SELECT min(next_reset) AS t FROM api_quotas
		UNION ALL SELECT min(blocked_until) FROM api_quotas WHERE is_exhausted <> 0
		UNION ALL SELECT min(until) FROM channel_pauses
		UNION ALL SELECT min(expires_at) FROM reservations)`,
	// data_version changes when another connection commits; total_changes
	// counts the rows this (the writer) connection has changed.
	stVersion: `SELECT (SELECT data_version FROM pragma_data_version), total_changes()`,
}

// stmtWrites marks the statements that change the database; they are not
// prepared on the read-only pool.
var stmtWrites = [numStmts]bool{
	stUpsertAPI: true, stDeleteOtherWindows: true, stUpsertWindow: true, stUpdateWindow: true,
	stDeleteWindows: true, stDeleteAPI: true, stUpdateChannel: true, stSetActive: true, stInsertChannel: true, stDeletePauses: true,
	stInsertPause: true, stDeleteChannel: true, stInsertEvent: true, stUpsertReservation: true,
	stDeleteReservation: true, stAddUsage: true,
}

// tx implements quotad.Tx over one database/sql transaction.
type tx struct {
	ctx   context.Context
	sqlTx *sql.Tx
	set   *stmtSet
	bound [numStmts]*sql.Stmt // set's statements bound to sqlTx, on first use
	write bool
	// adopted and logZone are the Store's (see Store.adopted).
	adopted bool
	logZone *time.Location
}

var _ quotad.Tx = (*tx)(nil)

func (t *tx) stmt(id stmtID) *sql.Stmt {
	if t.bound[id] == nil {
		t.bound[id] = t.sqlTx.StmtContext(t.ctx, t.set[id])
	}
	return t.bound[id]
}

// writable returns ErrReadOnly, wrapped with op, inside View.
func (t *tx) writable(op string) error {
	if !t.write {
		return fmt.Errorf("sqlite: %s: %w", op, ErrReadOnly)
	}
	return nil
}

func (t *tx) exec(id stmtID, args ...any) (sql.Result, error) {
	return t.stmt(id).ExecContext(t.ctx, args...)
}

// timeLayout is how times are stored: UTC, fixed width, so that text order is
// time order (ORDER BY timestamp, min(next_reset), expires_at <= ?).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// enc converts values to column arguments, remembering the first error.
type enc struct{ err error }

// time returns t as stored: NULL for the zero time, else fixed-width UTC
// text. Years outside 1..9999 cannot keep text order and are refused.
func (e *enc) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	if y := u.Year(); y < 1 || y > 9999 {
		if e.err == nil {
			e.err = quotad.Invalidf("time %s is outside years 1..9999", t.Format(time.RFC3339Nano))
		}
		return nil
	}
	return u.Format(timeLayout)
}

// json returns v as JSON text, or NULL when v is an empty list or map.
func (e *enc) json(v any, n int) any {
	if n == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	return string(b)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nullStr stores "" as NULL.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// dec converts columns to values, remembering the first error. Zone-less
// times are UTC, or local times of zone when it is set (the seed daemon's
// logs.timestamp in an adopted file).
type dec struct {
	err  error
	zone *time.Location
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999", // zone-less text is UTC, as SQLite's datetime() writes it
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// time parses a stored time. Besides the store's own layout it accepts what
// a person is likely to type in sqlite3 (datetime('now'), RFC 3339).
func (d *dec) time(col string, s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	if t, ok := parseFixed(s.String); ok {
		return t
	}
	loc := time.UTC
	if d.zone != nil {
		loc = d.zone
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s.String, loc); err == nil {
			return t.UTC()
		}
	}
	if d.err == nil {
		d.err = fmt.Errorf("column %s: cannot parse time %q (want %s)", col, s.String, timeLayout)
	}
	return time.Time{}
}

// parseFixed parses timeLayout quickly; it reports false for anything else.
func parseFixed(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec, us := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || us < 0 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
	if t.Day() != d { // 31 in a short month
		return time.Time{}, false
	}
	return t, true
}

// strings decodes a JSON array; NULL and "" are an empty (nil) list.
func (d *dec) strings(col string, s sql.NullString) []string {
	if !s.Valid || s.String == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s.String), &out); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fields decodes a JSON object; NULL and "" are an empty (nil) map.
func (d *dec) fields(col string, s sql.NullString) map[string]string {
	if !s.Valid || s.String == "" {
		return nil
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(s.String), &out); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// jsonInto decodes a JSON column into v; NULL and "" leave v as it is.
func (d *dec) jsonInto(col string, s sql.NullString, v any) {
	if !s.Valid || s.String == "" {
		return
	}
	if err := json.Unmarshal([]byte(s.String), v); err != nil && d.err == nil {
		d.err = fmt.Errorf("column %s: %w", col, err)
	}
}

// Version implements quotad.VersionedTx for write transactions: the
// database's data_version (changed by every commit of another connection or
// process) and the writer connection's total_changes() (every row this
// process has written, through Update or DB()).
func (t *tx) Version() (quotad.StoreVersion, error) {
	if !t.write {
		return quotad.StoreVersion{}, ErrReadOnly
	}
	var v quotad.StoreVersion
	if err := t.stmt(stVersion).QueryRowContext(t.ctx).Scan(&v.Commits, &v.Changes); err != nil {
		return quotad.StoreVersion{}, fmt.Errorf("sqlite: read version: %w", err)
	}
	return v, nil
}
