package postgres_test

import (
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// TestTimesAndTypes: times keep their instant to the microsecond (whatever
// their zone), zero times are NULL, and the columns have native types.
func TestTimesAndTypes(t *testing.T) {
	s := openT(t)
	defer s.Close()
	at := time.Date(2026, 3, 8, 1, 59, 59, 987654321, time.FixedZone("PST", -8*60*60))
	api := quotad.API{Name: "groq", AutoResume: true, Windows: []quotad.Window{
		{Name: "daily", Limit: 10, Rule: "daily 00:00", NextReset: at}, // LastReset etc. zero
	}}
	if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(api) }); err != nil {
		t.Fatal(err)
	}
	var got quotad.API
	if err := s.View(t.Context(), func(tx quotad.Tx) (err error) { got, err = tx.API("groq"); return err }); err != nil {
		t.Fatal(err)
	}
	if w := got.Windows[0]; !w.NextReset.Equal(at.Truncate(time.Microsecond)) || w.NextReset.Location() != time.UTC || !w.LastReset.IsZero() {
		t.Errorf("next_reset read back as %v (last_reset %v), want %v in UTC", w.NextReset, w.LastReset, at.Truncate(time.Microsecond))
	}
	var nulls int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM api_quotas
		WHERE last_reset IS NULL AND exhausted_at IS NULL AND blocked_until IS NULL AND next_reset IS NOT NULL`).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("zero times not stored as NULL: %d rows, %v", nulls, err)
	}
	// Far outside what both stores can hold: refused, as SQLite refuses it.
	bad := api
	bad.Windows = []quotad.Window{{Name: "daily", Limit: 10, NextReset: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := s.Update(t.Context(), func(tx quotad.Tx) error { return tx.SaveAPI(bad) }); err == nil {
		t.Errorf("a time in year 10000 was accepted")
	}

	want := map[string]string{
		"api_quotas.quota_used": "bigint", "api_quotas.next_reset": "timestamp with time zone",
		"api_quotas.is_exhausted": "boolean", "apis.keywords": "jsonb", "channels.is_active": "boolean",
		"logs.timestamp": "timestamp with time zone", "logs.fields": "jsonb", "reservations.units": "bigint",
		"jobs.lease_until": "timestamp with time zone", "usage.units": "bigint", "notifications.next_attempt": "timestamp with time zone",
		"once_keys.at": "timestamp with time zone", "channel_pauses.until": "timestamp with time zone",
	}
	rows, err := s.Pool().Query(t.Context(), `SELECT table_name || '.' || column_name, data_type
		FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			t.Fatal(err)
		}
		have[col] = typ
	}
	for col, typ := range want {
		if have[col] != typ {
			t.Errorf("column %s is %q, want %q", col, have[col], typ)
		}
	}
}
