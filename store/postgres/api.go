package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

const selectAPI = `SELECT a.name, a.unit, a.keywords, a.auto_resume,
	q.window_name, q.quota_limit, q.quota_used, q.quota_reserved, q.last_reset, q.next_reset,
	q.is_exhausted, q.exhausted_at, q.blocked_until, q.auto_resume, q.reset_rule, a.reserve,
	q.model, q.scope, q.meter, q.bucket, a.prices
	FROM apis a LEFT JOIN api_quotas q ON q.api_name = a.name`

const (
	sqlAPI  = selectAPI + ` WHERE a.name = $1 ORDER BY q.position, q.id`
	sqlAPIs = selectAPI + ` ORDER BY a.name COLLATE "C", q.position, q.id`

	sqlUpsertAPI = `INSERT INTO apis (name, unit, keywords, auto_resume, position, reserve, prices)
		VALUES ($1, $2, $3, $4, (SELECT coalesce(max(position), 0) + 1 FROM apis), $5, $6)
		ON CONFLICT (name) DO UPDATE SET unit = excluded.unit, keywords = excluded.keywords,
		auto_resume = excluded.auto_resume, reserve = excluded.reserve, prices = excluded.prices`
	sqlDeleteOtherWindows = `DELETE FROM api_quotas WHERE api_name = $1 AND window_name <> ALL ($2::text[])`
	sqlUpsertWindow       = `INSERT INTO api_quotas (api_name, window_name, position, quota_limit, quota_used,
		quota_remaining, quota_reserved, last_reset, next_reset, is_exhausted, exhausted_at, blocked_until,
		auto_resume, reset_rule, model, scope, meter, bucket)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (api_name, window_name) DO UPDATE SET position = excluded.position,
		quota_limit = excluded.quota_limit, quota_used = excluded.quota_used,
		quota_remaining = excluded.quota_remaining, quota_reserved = excluded.quota_reserved,
		last_reset = excluded.last_reset, next_reset = excluded.next_reset,
		is_exhausted = excluded.is_exhausted, exhausted_at = excluded.exhausted_at,
		blocked_until = excluded.blocked_until, auto_resume = excluded.auto_resume,
		reset_rule = excluded.reset_rule, model = excluded.model, scope = excluded.scope,
		meter = excluded.meter, bucket = excluded.bucket`
	sqlUpdateWindow = `UPDATE api_quotas SET quota_limit = $3, quota_used = $4, quota_remaining = $5,
		quota_reserved = $6, last_reset = $7, next_reset = $8, is_exhausted = $9, exhausted_at = $10,
		blocked_until = $11, reset_rule = $12
		WHERE api_name = $1 AND window_name = $2`
	sqlDeleteWindows = `DELETE FROM api_quotas WHERE api_name = $1`
	sqlDeleteAPI     = `DELETE FROM apis WHERE name = $1`
)

// APIs returns every API with its windows, ordered by name (byte order, as
// SQLite and Go sort strings).
func (t *tx) APIs() ([]quotad.API, error) {
	list, err := t.queryAPIs(sqlAPIs)
	if err != nil {
		return nil, fmt.Errorf("postgres: list APIs: %w", err)
	}
	return list, nil
}

// API returns one API; a missing one wraps quotad.ErrUnknownAPI.
func (t *tx) API(name string) (quotad.API, error) {
	list, err := t.queryAPIs(sqlAPI, name)
	if err != nil {
		return quotad.API{}, fmt.Errorf("postgres: read API %q: %w", name, err)
	}
	if len(list) == 0 {
		return quotad.API{}, fmt.Errorf("%w: %q", quotad.ErrUnknownAPI, name)
	}
	return list[0], nil
}

// queryAPIs runs a select of apis LEFT JOIN api_quotas ordered by API name
// then window position, and groups the rows into APIs.
func (t *tx) queryAPIs(sql string, args ...any) ([]quotad.API, error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []quotad.API
		d   dec
	)
	for rows.Next() {
		var (
			name                       string
			unit, window, rule         pgtype.Text
			model, scope, meter        pgtype.Text
			bucket                     pgtype.Bool
			keywords, reserve, prices  []byte
			apiAuto, exhausted, qAuto  pgtype.Bool
			limit, used, reserved      pgtype.Int8
			last, next, exhAt, blocked pgtype.Timestamptz
		)
		if err := rows.Scan(&name, &unit, &keywords, &apiAuto, &window, &limit, &used, &reserved,
			&last, &next, &exhausted, &exhAt, &blocked, &qAuto, &rule, &reserve,
			&model, &scope, &meter, &bucket, &prices); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, quotad.API{
				Name: name, Unit: unit.String, Keywords: d.strings("apis.keywords", keywords),
				AutoResume: !apiAuto.Valid || apiAuto.Bool,
			})
			d.into("apis.reserve", reserve, &out[len(out)-1].Reserve)
			d.into("apis.prices", prices, &out[len(out)-1].Prices)
		}
		a := &out[len(out)-1]
		if !window.Valid {
			continue // an API without windows
		}
		// auto_resume is kept on every api_quotas row, as in the seed; a
		// person who turns it off there turns it off for the API.
		if qAuto.Valid && !qAuto.Bool {
			a.AutoResume = false
		}
		a.Windows = append(a.Windows, quotad.Window{
			Name: quotad.WindowName(window.String, model.String, scope.String), Model: model.String, Scope: scope.String,
			Meter: meter.String, Bucket: bucket.Valid && bucket.Bool,
			Limit: limit.Int64, Rule: rule.String,
			Used: used.Int64, Reserved: reserved.Int64,
			LastReset: tm(last), NextReset: tm(next),
			Exhausted:   exhausted.Valid && exhausted.Bool,
			ExhaustedAt: tm(exhAt), BlockedUntil: tm(blocked),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	for _, a := range out {
		names := make([]string, len(a.Windows))
		for i, w := range a.Windows {
			names[i] = w.Key()
		}
		t.markKnown(a.Name, names)
	}
	return out, nil
}

// SaveAPI inserts or replaces an API's definition and all its windows'
// state; windows of that API not in a.Windows are deleted. Rows are updated
// in place, so api_quotas ids stay stable. Everything goes in one round trip.
func (t *tx) SaveAPI(a quotad.API) error {
	if err := t.writable("save API"); err != nil {
		return err
	}
	if a.Name == "" {
		return fmt.Errorf("postgres: save API: %w", quotad.Invalidf("empty API name"))
	}
	names := make([]string, 0, len(a.Windows))
	seen := make(map[string]bool, len(a.Windows))
	for _, w := range a.Windows {
		if w.Name == "" || seen[w.Key()] {
			return fmt.Errorf("postgres: save API %q: %w", a.Name, quotad.Invalidf("empty or duplicate window name %q", w.Key()))
		}
		seen[w.Key()] = true
		names = append(names, w.Key())
	}
	var e enc
	var reserve any
	if a.Reserve != (quotad.Reserve{}) {
		reserve = e.json(a.Reserve, 1)
	}
	keywords := e.json(a.Keywords, len(a.Keywords))
	var pricesArg any
	if len(a.Prices) > 0 {
		pricesArg = e.json(a.Prices, 1)
	}
	windows := make([][]any, len(a.Windows))
	for i, w := range a.Windows {
		windows[i] = []any{a.Name, w.Key(), i, w.Limit, w.Used, w.Remaining(), w.Reserved,
			e.time(w.LastReset), e.time(w.NextReset), w.Exhausted, e.time(w.ExhaustedAt),
			e.time(w.BlockedUntil), a.AutoResume, w.Rule, w.Model, w.Scope, w.Meter, w.Bucket}
	}
	if e.err != nil {
		return fmt.Errorf("postgres: save API %q: %w", a.Name, e.err)
	}
	what := fmt.Sprintf("postgres: save API %q", a.Name)
	t.queue(what, nil, sqlUpsertAPI, a.Name, a.Unit, keywords, a.AutoResume, reserve, pricesArg)
	t.queue(what, nil, sqlDeleteOtherWindows, a.Name, names)
	for _, args := range windows {
		t.queue(what, nil, sqlUpsertWindow, args...)
	}
	t.markKnown(a.Name, names)
	return nil
}

// SaveWindow writes one window's state. A missing API or window wraps
// quotad.ErrUnknownAPI and changes nothing (the transaction stays usable).
func (t *tx) SaveWindow(api string, w quotad.Window) error {
	if err := t.writable("save window"); err != nil {
		return err
	}
	var e enc
	last, next, exhAt, blocked := e.time(w.LastReset), e.time(w.NextReset), e.time(w.ExhaustedAt), e.time(w.BlockedUntil)
	if e.err != nil {
		return fmt.Errorf("postgres: save window %s/%s: %w", api, w.Key(), e.err)
	}
	args := []any{api, w.Key(), w.Limit, w.Used, w.Remaining(), w.Reserved, last, next, w.Exhausted, exhAt, blocked, w.Rule}
	if t.known[api][w.Key()] { // the row exists: no need to wait for its count
		t.queue(fmt.Sprintf("postgres: save window %s/%s", api, w.Key()), func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() == 0 { // deleted meanwhile by another program
				return fmt.Errorf("%w: %q has no window %q", quotad.ErrUnknownAPI, api, w.Key())
			}
			return nil
		}, sqlUpdateWindow, args...)
		return nil
	}
	tag, err := t.execNow(sqlUpdateWindow, args...)
	if err != nil {
		return fmt.Errorf("postgres: save window %s/%s: %w", api, w.Key(), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %q has no window %q", quotad.ErrUnknownAPI, api, w.Key())
	}
	return nil
}

// DeleteAPI removes an API and its windows (no error if missing).
func (t *tx) DeleteAPI(name string) error {
	if err := t.writable("delete API"); err != nil {
		return err
	}
	what := fmt.Sprintf("postgres: delete API %q", name)
	t.queue(what, nil, sqlDeleteWindows, name)
	t.queue(what, nil, sqlDeleteAPI, name)
	delete(t.known, name)
	return nil
}
