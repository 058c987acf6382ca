package sqlite

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/quotad/quotad"
)

// Channels returns every channel with its pauses, ordered by name.
func (t *tx) Channels() ([]quotad.Channel, error) {
	list, err := t.queryChannels(stChannels)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list channels: %w", err)
	}
	return list, nil
}

// Channel returns one channel; a missing one wraps quotad.ErrUnknownChannel.
func (t *tx) Channel(name string) (quotad.Channel, error) {
	list, err := t.queryChannels(stChannel, name)
	if err != nil {
		return quotad.Channel{}, fmt.Errorf("sqlite: read channel %q: %w", name, err)
	}
	if len(list) == 0 {
		return quotad.Channel{}, fmt.Errorf("%w: %q", quotad.ErrUnknownChannel, name)
	}
	return list[0], nil
}

// ChannelsOutOfSync returns the channels whose is_active column disagrees
// with their pauses: set to 1 with pauses left in channel_pauses (the seed's
// "UPDATE channels SET is_active = 1 ..."), or to 0 with no pause.
func (t *tx) ChannelsOutOfSync() ([]quotad.Channel, error) {
	list, err := t.queryChannels(stOutOfSync)
	if err != nil {
		return nil, fmt.Errorf("sqlite: channels out of sync: %w", err)
	}
	return list, nil
}

// queryChannels runs a select of channels LEFT JOIN channel_pauses ordered
// by channel name then pause position, and groups the rows into channels.
func (t *tx) queryChannels(id stmtID, args ...any) ([]quotad.Channel, error) {
	rows, err := t.stmt(id).QueryContext(t.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out      []quotad.Channel
		d        dec
		external []int // indexes in out of rows another program inserted
	)
	for rows.Next() {
		var (
			name                           string
			active, errs                   sql.NullInt64
			priority, apis, reason, detail sql.NullString
			since, until                   sql.NullString
			fallbacks, budgets             sql.NullString
		)
		if err := rows.Scan(&name, &active, &priority, &apis, &errs, &reason, &since, &detail, &until, &fallbacks, &budgets); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, quotad.Channel{
				Name: name, Priority: quotad.Priority(priority.String), APIs: d.strings("channels.apis", apis),
				ConsecutiveErrors: int(errs.Int64), StoredActive: active.Valid && active.Int64 != 0,
			})
			c := &out[len(out)-1]
			if t.adopted && !priority.Valid && !apis.Valid {
				external = append(external, len(out)-1)
			}
			d.jsonInto("channels.fallbacks", fallbacks, &c.Fallbacks)
			d.jsonInto("channels.budgets", budgets, &c.Budgets)
		}
		if reason.Valid {
			c := &out[len(out)-1]
			c.Pauses = append(c.Pauses, quotad.Pause{
				Reason: quotad.ReasonOf(reason.String), Detail: detail.String,
				Since: d.time("channel_pauses.since", since), Until: d.time("channel_pauses.until", until),
			})
		}
		if d.err != nil {
			return nil, fmt.Errorf("channel %q: %w", name, d.err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(external) > 0 {
		if err := t.defaultNeeds(out, external); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// defaultNeeds gives the channels at idx, rows that another program (the
// seed's daemon, in an adopted file) inserted without quotad's columns, what
// quotad gives a channel it has not been told about: normal priority and a
// need for every API. The row is left as it is until quotad saves it.
func (t *tx) defaultNeeds(out []quotad.Channel, idx []int) error {
	rows, err := t.sqlTx.QueryContext(t.ctx, `SELECT name FROM apis ORDER BY name`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		all = append(all, name)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range idx {
		out[i].Priority, out[i].APIs = quotad.PriorityNormal, slices.Clone(all)
	}
	return nil
}

// SaveChannel inserts or updates a channel, its pauses (in order) and its
// error count, and stores is_active = c.Active(). An existing channels row
// is updated in place, and only in quotad's columns: its id and every other
// column (those of the seed's daemon, in an adopted file) stay as they are.
func (t *tx) SaveChannel(c quotad.Channel) error {
	if err := t.writable("save channel"); err != nil {
		return err
	}
	if c.Name == "" {
		return fmt.Errorf("sqlite: save channel: %w", quotad.Invalidf("empty channel name"))
	}
	var e enc
	type pauseArgs struct{ since, until any }
	pauses := make([]pauseArgs, len(c.Pauses))
	seen := make(map[string]bool, len(c.Pauses))
	for i, p := range c.Pauses {
		if p.Reason.String() == "" || seen[p.Reason.String()] {
			return fmt.Errorf("sqlite: save channel %q: %w", c.Name, quotad.Invalidf("empty or duplicate pause reason %q", p.Reason.String()))
		}
		seen[p.Reason.String()] = true
		pauses[i] = pauseArgs{e.time(p.Since), e.time(p.Until)}
	}
	apis := e.json(c.APIs, len(c.APIs))
	fallbacks, budgets := e.json(c.Fallbacks, len(c.Fallbacks)), e.json(c.Budgets, len(c.Budgets))
	if e.err != nil {
		return fmt.Errorf("sqlite: save channel %q: %w", c.Name, e.err)
	}
	active := boolInt(c.Active())
	res, err := t.exec(stUpdateChannel, c.Name, string(c.Priority), apis, c.ConsecutiveErrors, fallbacks, budgets)
	if err != nil {
		return fmt.Errorf("sqlite: save channel %q: %w", c.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save channel %q: %w", c.Name, err)
	}
	if n == 0 {
		_, err = t.exec(stInsertChannel, c.Name, active, string(c.Priority), apis, c.ConsecutiveErrors, fallbacks, budgets)
	} else {
		_, err = t.exec(stSetActive, c.Name, active)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save channel %q: %w", c.Name, err)
	}
	if _, err := t.exec(stDeletePauses, c.Name); err != nil {
		return fmt.Errorf("sqlite: save channel %q: pauses: %w", c.Name, err)
	}
	for i, p := range c.Pauses {
		if _, err := t.exec(stInsertPause, c.Name, p.Reason.String(), pauses[i].since, p.Detail, pauses[i].until, i); err != nil {
			return fmt.Errorf("sqlite: save channel %q: pause %q: %w", c.Name, p.Reason.String(), err)
		}
	}
	return nil
}

// DeleteChannel removes a channel and its pauses (no error if missing).
func (t *tx) DeleteChannel(name string) error {
	if err := t.writable("delete channel"); err != nil {
		return err
	}
	if _, err := t.exec(stDeletePauses, name); err != nil {
		return fmt.Errorf("sqlite: delete channel %q: %w", name, err)
	}
	if _, err := t.exec(stDeleteChannel, name); err != nil {
		return fmt.Errorf("sqlite: delete channel %q: %w", name, err)
	}
	return nil
}
