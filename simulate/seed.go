package simulate

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/rule"
)

// The seed's rules, as its document (shared/seed) describes its daemon:
// a monitor that checks every hour and resets every API and resumes every
// paused channel at the check in the midnight hour; quota errors detected
// by keywords alone and attributed to an API by its keywords, exhausting it
// until that reset; other errors counted, 20 in a row pausing the channel;
// jobs run on their schedule while their channel is active and none of its
// APIs is marked exhausted, with no metering and no holds.
var (
	seedQuotaWords = []string{"quota", "rate limit", "limit exceeded", "too many requests"}
	seed429        = regexp.MustCompile(`(^|[^0-9])429([^0-9]|$)`)
	seedAPIWords   = map[string][]string{"groq": {"groq", "llama"}, "youtube": {"youtube", "google"}, "pexels": {"pexels"}}
)

const seedErrorThreshold = 20

// seedQuotaAPI returns the API a seed-style keyword check attributes an
// error text to, "" when it sees no quota error or no API.
func seedQuotaAPI(text string) (api string, quota bool) {
	t := strings.ToLower(text)
	for _, w := range seedQuotaWords {
		quota = quota || strings.Contains(t, w)
	}
	quota = quota || seed429.MatchString(t)
	if !quota {
		return "", false
	}
	for _, a := range []string{"groq", "youtube", "pexels"} {
		for _, w := range seedAPIWords[a] {
			if strings.Contains(t, w) {
				return a, true
			}
		}
	}
	return "", true
}

// runSeed lives through the same month under the seed's rules, against
// fresh fake providers with the same draws.
func runSeed(cfg config.Config, opts Options) *Report {
	now := opts.Start
	at := now // the providers' clock: runs take their duration, one at a time
	w := newWorld(func() time.Time { return at }, opts.Seed, opts.ErrorRate, opts.OutageRate)
	rec := newRecorder(cfg, opts, "seed", w)
	loc := cfg.Location()
	type job struct {
		ch    config.ChannelConfig
		sched rule.Rule
		timed bool
		next  time.Time
		errs  int
	}
	var jobs []*job
	for _, ch := range cfg.Channels {
		j := &job{ch: ch}
		if r, err := rule.Parse(ch.Job.Schedule, loc); err == nil && ch.Job.Schedule != "" {
			j.sched, j.timed, j.next = r, true, r.Next(now.Add(-time.Nanosecond))
		}
		jobs = append(jobs, j)
	}
	exhausted := map[string]bool{}
	paused := map[string]string{}
	resetDay := ""
	end := opts.Start.AddDate(0, 0, opts.Days)
	client := &http.Client{Transport: w}
	for ; now.Before(end); now = now.Add(opts.Step) {
		if at.Before(now) {
			at = now
		}
		if now.Sub(opts.Start)%time.Hour == 0 { // the hourly check, from the daemon's start
			if l := now.In(loc); l.Hour() == 0 && resetDay != l.Format(time.DateOnly) {
				resetDay = l.Format(time.DateOnly)
				clear(exhausted)
				clear(paused) // resume every paused channel
				for _, j := range jobs {
					j.errs = 0
				}
			}
		}
		held := map[string]string{}
		for _, j := range jobs {
			if !j.timed || now.Before(j.next) {
				continue
			}
			j.next = j.sched.Next(now)
			name := j.ch.Name
			if _, p := paused[name]; p {
				held[name] = "paused"
				continue
			}
			blocked := false
			for _, a := range j.ch.APIs {
				blocked = blocked || exhausted[a]
			}
			if blocked {
				held[name] = "exhausted"
				continue
			}
			start := at
			rec.started(name, start)
			ok, text := seedRun(client, cfg, j.ch.Job.Simulate, start, func(t time.Time) { at = t })
			at = start.Add(time.Duration(j.ch.Job.Simulate.Duration))
			if ok && j.ch.Job.Simulate.FailRate > 0 && draw(opts.Seed, "fail", name, start.Unix()) < j.ch.Job.Simulate.FailRate {
				ok, text = false, "Error: ffmpeg exited with status 1 while rendering the video"
			}
			rec.ended(name, start, ok)
			if ok {
				j.errs = 0
				continue
			}
			if api, quota := seedQuotaAPI(text); quota && api != "" {
				exhausted[api] = true
				paused[name] = "quota:" + api
				continue
			}
			if j.errs++; j.errs >= seedErrorThreshold {
				paused[name] = "errors"
			}
		}
		rec.sample(now, paused, held, nil)
	}
	return rec.report(end)
}

// seedRun makes a job's calls straight to the providers (the seed had no
// proxy), stopping at the first refusal; it returns whether all were
// served and the text the job printed.
func seedRun(client *http.Client, cfg config.Config, spec *config.SimulateConfig, start time.Time, set func(time.Time)) (bool, string) {
	calls := expand(spec.Calls)
	for i, c := range calls {
		set(start.Add(time.Duration(spec.Duration) * time.Duration(i) / time.Duration(len(calls))))
		p := providerOf(cfg, c.API)
		req, err := request(context.Background(), upstream[p], c, p)
		if err != nil {
			return false, err.Error()
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return false, refusalText(resp.StatusCode, b.String(), upstream[p])
		}
	}
	return true, ""
}
