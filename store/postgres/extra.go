package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/quotad/quotad"
)

const (
	selectJob    = `SELECT channel, next_run, last_start, last_end, last_result, last_detail, runs, holder, lease_until FROM jobs`
	sqlJob       = selectJob + ` WHERE channel = $1`
	sqlJobs      = selectJob + ` ORDER BY channel COLLATE "C"`
	sqlUpsertJob = `INSERT INTO jobs (channel, next_run, last_start, last_end, last_result, last_detail, runs, holder, lease_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (channel) DO UPDATE SET next_run = excluded.next_run, last_start = excluded.last_start,
		last_end = excluded.last_end, last_result = excluded.last_result, last_detail = excluded.last_detail,
		runs = excluded.runs, holder = excluded.holder, lease_until = excluded.lease_until`

	sqlAddUsage = `INSERT INTO usage (api, channel, start, resolution, units, count, model, cost)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (resolution, start, api, channel, model)
		DO UPDATE SET units = usage.units + excluded.units, count = usage.count + excluded.count, cost = usage.cost + excluded.cost`
	// The hour of a minute bucket is taken in UTC, whatever the session's
	// TimeZone, as the SQLite store takes it from UTC text.
	sqlRollupUsage = `INSERT INTO usage (api, model, channel, start, resolution, units, count, cost)
		SELECT api, model, channel, date_trunc('hour', start, 'UTC'), 3600, sum(units), sum(count), sum(cost)
		FROM usage WHERE resolution = 60 AND start < $1 GROUP BY api, model, channel, date_trunc('hour', start, 'UTC')
		ON CONFLICT (resolution, start, api, channel, model)
		DO UPDATE SET units = usage.units + excluded.units, count = usage.count + excluded.count, cost = usage.cost + excluded.cost`
	sqlDeleteMinutes = `DELETE FROM usage WHERE resolution = 60 AND start < $1`
	sqlPruneHours    = `DELETE FROM usage WHERE resolution = 3600 AND start < $1`
)

// JobState returns a channel's job record, or an empty one.
func (t *tx) JobState(channel string) (quotad.JobState, error) {
	list, err := t.jobStates(sqlJob, channel)
	if err != nil {
		return quotad.JobState{}, err
	}
	if len(list) == 0 {
		return quotad.JobState{Channel: channel}, nil
	}
	return list[0], nil
}

// JobStates returns every job record, ordered by channel.
func (t *tx) JobStates() ([]quotad.JobState, error) { return t.jobStates(sqlJobs) }

func (t *tx) jobStates(sql string, args ...any) ([]quotad.JobState, error) {
	rows, err := t.query(sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read jobs: %w", err)
	}
	defer rows.Close()
	var out []quotad.JobState
	for rows.Next() {
		var (
			s                       quotad.JobState
			next, start, end, lease pgtype.Timestamptz
			result, detail, holder  pgtype.Text
		)
		if err := rows.Scan(&s.Channel, &next, &start, &end, &result, &detail, &s.Runs, &holder, &lease); err != nil {
			return nil, fmt.Errorf("postgres: read jobs: %w", err)
		}
		s.LastResult, s.LastDetail, s.Holder = result.String, detail.String, holder.String
		s.NextRun, s.LastStart, s.LastEnd, s.LeaseUntil = tm(next), tm(start), tm(end), tm(lease)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read jobs: %w", err)
	}
	return out, nil
}

// SaveJobState inserts or replaces a job record.
func (t *tx) SaveJobState(s quotad.JobState) error {
	if err := t.writable("save job state"); err != nil {
		return err
	}
	if s.Channel == "" {
		return fmt.Errorf("postgres: save job: %w", quotad.Invalidf("empty channel name"))
	}
	var e enc
	args := []any{s.Channel, e.time(s.NextRun), e.time(s.LastStart), e.time(s.LastEnd), nullStr(s.LastResult),
		nullStr(s.LastDetail), s.Runs, nullStr(s.Holder), e.time(s.LeaseUntil)}
	if e.err != nil {
		return fmt.Errorf("postgres: save job %q: %w", s.Channel, e.err)
	}
	t.queue(fmt.Sprintf("postgres: save job %q", s.Channel), nil, sqlUpsertJob, args...)
	return nil
}

// AddUsage adds to usage buckets, creating them as needed, in one round trip.
func (t *tx) AddUsage(buckets ...quotad.UsageBucket) error {
	if err := t.writable("add usage"); err != nil {
		return err
	}
	rows := make([][]any, len(buckets))
	for i, u := range buckets {
		var e enc
		start := e.time(u.Start)
		if e.err != nil || start == nil {
			return fmt.Errorf("postgres: add usage: %w", errors.Join(e.err, quotad.Invalidf("bucket without a start")))
		}
		rows[i] = []any{u.API, u.Channel, start, int32(u.Resolution / time.Second), u.Units, u.Count, u.Model, u.Cost}
	}
	for _, args := range rows {
		t.queue("postgres: add usage", nil, sqlAddUsage, args...)
	}
	return nil
}

// Usage returns the buckets matching f, ordered by start, API, channel.
func (t *tx) Usage(f quotad.UsageFilter) ([]quotad.UsageBucket, error) {
	var (
		where []string
		args  []any
		e     enc
	)
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.API != "" {
		arg("api =", f.API)
	}
	if f.Channel != "" {
		arg("channel =", f.Channel)
	}
	if !f.Since.IsZero() {
		arg("start >=", e.time(f.Since))
	}
	if !f.Until.IsZero() {
		arg("start <", e.time(f.Until))
	}
	if f.Resolution != 0 {
		arg("resolution =", int32(f.Resolution/time.Second))
	}
	if e.err != nil {
		return nil, fmt.Errorf("postgres: read usage: %w", e.err)
	}
	q := `SELECT api, channel, start, resolution, units, count, model, cost FROM usage`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY start, api COLLATE "C", channel COLLATE "C", resolution, model COLLATE "C"`
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read usage: %w", err)
	}
	defer rows.Close()
	var out []quotad.UsageBucket
	for rows.Next() {
		var (
			u     quotad.UsageBucket
			start pgtype.Timestamptz
			res   int32
		)
		if err := rows.Scan(&u.API, &u.Channel, &start, &res, &u.Units, &u.Count, &u.Model, &u.Cost); err != nil {
			return nil, fmt.Errorf("postgres: read usage: %w", err)
		}
		u.Start, u.Resolution = tm(start), time.Duration(res)*time.Second
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read usage: %w", err)
	}
	return out, nil
}

// RollupUsage folds minute buckets that start before before into hour
// buckets (adding to existing ones), deletes them, and returns how many.
func (t *tx) RollupUsage(before time.Time) (int, error) {
	if err := t.writable("roll up usage"); err != nil {
		return 0, err
	}
	var e enc
	at := e.time(before)
	if e.err != nil {
		return 0, fmt.Errorf("postgres: roll up usage: %w", e.err)
	}
	t.queue("postgres: roll up usage", nil, sqlRollupUsage, at)
	tag, err := t.execNow(sqlDeleteMinutes, at)
	if err != nil {
		return 0, fmt.Errorf("postgres: roll up usage: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneUsage deletes hour buckets that start before before and returns how
// many it deleted.
func (t *tx) PruneUsage(before time.Time) (int, error) {
	if err := t.writable("prune usage"); err != nil {
		return 0, err
	}
	var e enc
	at := e.time(before)
	if e.err != nil {
		return 0, fmt.Errorf("postgres: prune usage: %w", e.err)
	}
	tag, err := t.execNow(sqlPruneHours, at)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune usage: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
