package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/quotad/quotad"
)

// fakeJobs starts jobs of the channels it knows, refusing paused ones.
type fakeJobs struct {
	jobs   map[string]bool // channel → paused
	starts []string
}

func (f *fakeJobs) StartJob(channel string, force bool) (time.Time, error) {
	paused, ok := f.jobs[channel]
	switch {
	case !ok:
		return time.Time{}, fmt.Errorf("%w: %q has no job", quotad.ErrUnknownChannel, channel)
	case paused && !force:
		return time.Time{}, fmt.Errorf("%w: channel %s is paused (manual)", quotad.ErrConflict, channel)
	}
	f.starts = append(f.starts, channel)
	return t0.In(time.Local), nil
}

func TestRunJob(t *testing.T) {
	jobs := &fakeJobs{jobs: map[string]bool{"RankRiot": false, "Shorts": true}}
	ev := newEnv(t, Options{Token: testToken, Jobs: jobs})

	r := ev.req("POST", "/api/v1/channels/RankRiot/run", "")
	var got quotad.JobStart
	if r.status != http.StatusAccepted || json.Unmarshal(r.body, &got) != nil || got.Channel != "RankRiot" || got.Force || !got.Started.Equal(t0) {
		t.Fatalf("run: %d %s", r.status, r)
	}
	if r := ev.req("POST", "/api/v1/channels/Shorts/run", `{}`); r.status != http.StatusConflict || r.errorBody(t).Code != codeConflict {
		t.Fatalf("run of a paused channel: %d %s", r.status, r)
	}
	if r := ev.req("POST", "/api/v1/channels/Shorts/run", `{"force": true}`); r.status != http.StatusAccepted {
		t.Fatalf("forced run: %d %s", r.status, r)
	}
	if r := ev.req("POST", "/api/v1/channels/Nobody/run", ""); r.status != http.StatusNotFound || r.errorBody(t).Code != codeUnknownChannel {
		t.Fatalf("run of an unknown channel: %d %s", r.status, r)
	}
	if r := ev.req("POST", "/api/v1/channels/RankRiot/run", `{"forse": true}`); r.status != http.StatusBadRequest {
		t.Fatalf("misspelt field: %d %s", r.status, r)
	}
	if r := ev.req("POST", "/api/v1/channels/RankRiot/run", "", "Authorization: -"); r.status != http.StatusUnauthorized {
		t.Fatalf("run without the token: %d %s", r.status, r)
	}
	if want := []string{"RankRiot", "Shorts"}; fmt.Sprint(jobs.starts) != fmt.Sprint(want) {
		t.Errorf("started %v, want %v", jobs.starts, want)
	}

	// A daemon without jobs says so.
	none := newEnv(t, Options{Token: testToken})
	if r := none.req("POST", "/api/v1/channels/RankRiot/run", ""); r.status != http.StatusServiceUnavailable || r.errorBody(t).Message != ErrNoJobs.Error() {
		t.Fatalf("run without a job runner: %d %s", r.status, r)
	}
}
