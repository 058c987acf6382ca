package runner

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// Views is the engine as people and programs see it: every operation is the
// engine's, but Status and Channel also show each channel's job (schedule,
// last and next run), which only the runner's configuration knows. The
// daemon serves it (package server, and through it the dashboard) and the
// CLI runs on it, so the job views are built in this one place. It is safe
// for concurrent use; SetJobs swaps the jobs on a reload.
type Views struct {
	*engine.Engine
	describe atomic.Pointer[describeFunc]
}

type describeFunc func(channel string, s quotad.JobState, now time.Time) *JobStatus

var _ quotad.Service = (*Views)(nil)

// NewViews returns the views of e for jobs; loc is the zone of a schedule
// that names none.
func NewViews(e *engine.Engine, jobs []Job, loc *time.Location) *Views {
	v := &Views{Engine: e}
	v.SetJobs(jobs, loc)
	return v
}

// SetJobs replaces the jobs the views show (after a reload).
func (v *Views) SetJobs(jobs []Job, loc *time.Location) {
	var f describeFunc
	if len(jobs) > 0 {
		f = Describer(jobs, loc)
	}
	v.describe.Store(&f)
}

// Status returns the engine's status with each channel's job.
func (v *Views) Status(ctx context.Context) (quotad.Status, error) {
	st, err := v.Engine.Status(ctx)
	if err != nil {
		return st, err
	}
	if err := v.describeJobs(ctx, st.Channels); err != nil {
		return quotad.Status{}, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// Channel returns the engine's view of one channel with its job.
func (v *Views) Channel(ctx context.Context, name string) (quotad.ChannelStatus, error) {
	s, err := v.Engine.Channel(ctx, name)
	if err != nil {
		return s, err
	}
	one := []quotad.ChannelStatus{s}
	if err := v.describeJobs(ctx, one); err != nil {
		return quotad.ChannelStatus{}, err
	}
	return one[0], nil
}

// describeJobs fills the job view of chans from their stored job records;
// a channel without a job keeps none.
func (v *Views) describeJobs(ctx context.Context, chans []quotad.ChannelStatus) error {
	f := *v.describe.Load()
	if f == nil || len(chans) == 0 {
		return nil
	}
	states, err := v.JobStates(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]quotad.JobState, len(states))
	for _, s := range states {
		byName[s.Channel] = s
	}
	now := v.Clock().Now()
	for i := range chans {
		s, ok := byName[chans[i].Name]
		if !ok {
			s = quotad.JobState{Channel: chans[i].Name}
		}
		chans[i].Job = f(chans[i].Name, s, now)
	}
	return nil
}
