package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/quotad/quotad"
)

// APIs returns every API with its windows, ordered by name.
func (t *tx) APIs() ([]quotad.API, error) {
	list, err := t.queryAPIs(stAPIs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list APIs: %w", err)
	}
	return list, nil
}

// API returns one API; a missing one wraps quotad.ErrUnknownAPI.
func (t *tx) API(name string) (quotad.API, error) {
	list, err := t.queryAPIs(stAPI, name)
	if err != nil {
		return quotad.API{}, fmt.Errorf("sqlite: read API %q: %w", name, err)
	}
	if len(list) == 0 {
		return quotad.API{}, fmt.Errorf("%w: %q", quotad.ErrUnknownAPI, name)
	}
	return list[0], nil
}

// queryAPIs runs a select of apis LEFT JOIN api_quotas ordered by API name
// then window position, and groups the rows into APIs.
func (t *tx) queryAPIs(id stmtID, args ...any) ([]quotad.API, error) {
	rows, err := t.stmt(id).QueryContext(t.ctx, args...)
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
			name                          string
			unit, keywords, window, rule  sql.NullString
			last, next, exhAt, blocked    sql.NullString
			apiAuto, limit, used, reserve sql.NullInt64
			exhausted, rowAuto            sql.NullInt64
			keep, model, scope, meter     sql.NullString
			prices                        sql.NullString
			bucket                        sql.NullInt64
		)
		if err := rows.Scan(&name, &unit, &keywords, &apiAuto, &window, &limit, &used, &reserve,
			&last, &next, &exhausted, &exhAt, &blocked, &rowAuto, &rule, &keep,
			&model, &scope, &meter, &bucket, &prices); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, quotad.API{
				Name: name, Unit: unit.String, Keywords: d.strings("apis.keywords", keywords),
				AutoResume: !apiAuto.Valid || apiAuto.Int64 != 0,
			})
			d.jsonInto("apis.reserve", keep, &out[len(out)-1].Reserve)
			d.jsonInto("apis.prices", prices, &out[len(out)-1].Prices)
		}
		a := &out[len(out)-1]
		if !window.Valid {
			continue // an API without windows
		}
		// auto_resume is kept on every api_quotas row, as in the seed; a
		// person who turns it off there (sqlite3 ... SET auto_resume = 0)
		// turns it off for the API.
		if rowAuto.Valid && rowAuto.Int64 == 0 {
			a.AutoResume = false
		}
		a.Windows = append(a.Windows, quotad.Window{
			Name: quotad.WindowName(window.String, model.String, scope.String), Model: model.String, Scope: scope.String,
			Meter: meter.String, Bucket: bucket.Valid && bucket.Int64 != 0,
			Limit: limit.Int64, Rule: rule.String,
			Used: used.Int64, Reserved: reserve.Int64,
			LastReset:    d.time("api_quotas.last_reset", last),
			NextReset:    d.time("api_quotas.next_reset", next),
			Exhausted:    exhausted.Valid && exhausted.Int64 != 0,
			ExhaustedAt:  d.time("api_quotas.exhausted_at", exhAt),
			BlockedUntil: d.time("api_quotas.blocked_until", blocked),
		})
		if d.err != nil {
			return nil, fmt.Errorf("API %q: %w", name, d.err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// SaveAPI inserts or replaces an API's definition and all its windows'
// state; windows of that API not in a.Windows are deleted. Rows are updated
// in place, so api_quotas ids stay stable.
func (t *tx) SaveAPI(a quotad.API) error {
	if err := t.writable("save API"); err != nil {
		return err
	}
	if a.Name == "" {
		return fmt.Errorf("sqlite: save API: %w", quotad.Invalidf("empty API name"))
	}
	names := make([]string, 0, len(a.Windows))
	seen := make(map[string]bool, len(a.Windows))
	for _, w := range a.Windows {
		if w.Name == "" || seen[w.Key()] {
			return fmt.Errorf("sqlite: save API %q: %w", a.Name, quotad.Invalidf("empty or duplicate window name %q", w.Key()))
		}
		seen[w.Key()] = true
		names = append(names, w.Key())
	}
	var e enc
	keywords := e.json(a.Keywords, len(a.Keywords))
	windowNames := e.json(names, 1)
	var reserveArg any
	if a.Reserve != (quotad.Reserve{}) {
		reserveArg = e.json(a.Reserve, 1)
	}
	var pricesArg any
	if len(a.Prices) > 0 {
		pricesArg = e.json(a.Prices, 1)
	}
	if e.err != nil {
		return fmt.Errorf("sqlite: save API %q: %w", a.Name, e.err)
	}
	if _, err := t.exec(stUpsertAPI, a.Name, a.Unit, keywords, boolInt(a.AutoResume), reserveArg, pricesArg); err != nil {
		return fmt.Errorf("sqlite: save API %q: %w", a.Name, err)
	}
	if _, err := t.exec(stDeleteOtherWindows, a.Name, windowNames); err != nil {
		return fmt.Errorf("sqlite: save API %q: delete windows: %w", a.Name, err)
	}
	for i, w := range a.Windows {
		args := []any{a.Name, w.Key(), i, w.Limit, w.Used, w.Remaining(), w.Reserved,
			e.time(w.LastReset), e.time(w.NextReset), boolInt(w.Exhausted), e.time(w.ExhaustedAt),
			e.time(w.BlockedUntil), boolInt(a.AutoResume), w.Rule, w.Model, w.Scope, w.Meter, boolInt(w.Bucket)}
		if e.err != nil {
			return fmt.Errorf("sqlite: save API %q window %q: %w", a.Name, w.Name, e.err)
		}
		if _, err := t.exec(stUpsertWindow, args...); err != nil {
			return fmt.Errorf("sqlite: save API %q window %q: %w", a.Name, w.Name, err)
		}
	}
	return nil
}

// SaveWindow writes one window's state. A missing API or window wraps
// quotad.ErrUnknownAPI and changes nothing.
func (t *tx) SaveWindow(api string, w quotad.Window) error {
	if err := t.writable("save window"); err != nil {
		return err
	}
	var e enc
	last, next, exhAt, blocked := e.time(w.LastReset), e.time(w.NextReset), e.time(w.ExhaustedAt), e.time(w.BlockedUntil)
	if e.err != nil {
		return fmt.Errorf("sqlite: save window %s/%s: %w", api, w.Name, e.err)
	}
	res, err := t.exec(stUpdateWindow, api, w.Key(), w.Limit, w.Used, w.Remaining(), w.Reserved,
		last, next, boolInt(w.Exhausted), exhAt, blocked, w.Rule)
	if err != nil {
		return fmt.Errorf("sqlite: save window %s/%s: %w", api, w.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save window %s/%s: %w", api, w.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q has no window %q", quotad.ErrUnknownAPI, api, w.Key())
	}
	return nil
}

// DeleteAPI removes an API and its windows (no error if missing).
func (t *tx) DeleteAPI(name string) error {
	if err := t.writable("delete API"); err != nil {
		return err
	}
	if _, err := t.exec(stDeleteWindows, name); err != nil {
		return fmt.Errorf("sqlite: delete API %q: %w", name, err)
	}
	if _, err := t.exec(stDeleteAPI, name); err != nil {
		return fmt.Errorf("sqlite: delete API %q: %w", name, err)
	}
	return nil
}
