package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
)

// Status returns every API and channel (GET /api/v1/status).
func (c *Client) Status(ctx context.Context) (quotad.Status, error) {
	var st quotad.Status
	err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, nil, &st)
	return st, err
}

// APIs returns every API (GET /api/v1/apis).
func (c *Client) APIs(ctx context.Context) ([]quotad.APIStatus, error) {
	var list []quotad.APIStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/apis", nil, nil, &list)
	return list, err
}

// API returns one API (GET /api/v1/apis/{api}).
func (c *Client) API(ctx context.Context, name string) (quotad.APIStatus, error) {
	var a quotad.APIStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/apis/"+pathEscape(name), nil, nil, &a)
	return a, err
}

// Channels returns every channel (GET /api/v1/channels).
func (c *Client) Channels(ctx context.Context) ([]quotad.ChannelStatus, error) {
	var list []quotad.ChannelStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/channels", nil, nil, &list)
	return list, err
}

// Channel returns one channel (GET /api/v1/channels/{name}).
func (c *Client) Channel(ctx context.Context, name string) (quotad.ChannelStatus, error) {
	var ch quotad.ChannelStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/channels/"+pathEscape(name), nil, nil, &ch)
	return ch, err
}

// Spend records units spent on an API by a channel ("" for none)
// (POST /api/v1/apis/{api}/spend). api may name a model or bucket and a
// credential scope, API[/MODEL][@SCOPE] ("groq/llama-3.3-70b-versatile"):
// only the windows a call to it is charged to count the units. A refusal
// because one of them is exhausted unwraps to a *quotad.ExhaustedError.
func (c *Client) Spend(ctx context.Context, api string, units int64, channel string) (quotad.SpendResult, error) {
	var res quotad.SpendResult
	t := quotad.ParseTarget(api)
	body := map[string]any{"units": units, "channel": channel}
	addTarget(body, t)
	err := c.do(ctx, http.MethodPost, "/api/v1/apis/"+pathEscape(t.API)+"/spend", nil, body, &res)
	return res, err
}

// addTarget puts a target's model and scope in a request body.
func addTarget(body map[string]any, t quotad.Target) {
	if t.Model != "" {
		body["model"] = t.Model
	}
	if t.Scope != "" {
		body["scope"] = t.Scope
	}
}

// Reserve holds units of an API for a channel until committed, released or
// expired after ttl (0: the server's default) (POST /api/v1/apis/{api}/reserve).
// api is a target as in Spend.
func (c *Client) Reserve(ctx context.Context, api string, units int64, channel string, ttl time.Duration) (quotad.ReserveResult, error) {
	t := quotad.ParseTarget(api)
	body := map[string]any{"units": units, "channel": channel}
	addTarget(body, t)
	if ttl != 0 {
		body["ttl"] = ttl.String()
	}
	var r quotad.ReserveResult
	err := c.do(ctx, http.MethodPost, "/api/v1/apis/"+pathEscape(t.API)+"/reserve", nil, body, &r)
	return r, err
}

// Commit spends the units a reservation actually used
// (POST /api/v1/reservations/{id}/commit).
func (c *Client) Commit(ctx context.Context, id string, units int64) (quotad.SpendResult, error) {
	var res quotad.SpendResult
	err := c.do(ctx, http.MethodPost, "/api/v1/reservations/"+pathEscape(id)+"/commit", nil, map[string]any{"units": units}, &res)
	return res, err
}

// Release gives a reservation's units back (POST /api/v1/reservations/{id}/release).
func (c *Client) Release(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/reservations/"+pathEscape(id)+"/release", nil, struct{}{}, nil)
}

// ReportError reports a failed call (POST /api/v1/errors).
func (c *Client) ReportError(ctx context.Context, r quotad.ErrorReport) (quotad.ReportResult, error) {
	var res quotad.ReportResult
	err := c.do(ctx, http.MethodPost, "/api/v1/errors", nil, r, &res)
	return res, err
}

// ReportSuccess clears a channel's consecutive-error count
// (POST /api/v1/channels/{name}/success).
func (c *Client) ReportSuccess(ctx context.Context, channel string) (quotad.ChannelStatus, error) {
	var st quotad.ChannelStatus
	err := c.do(ctx, http.MethodPost, "/api/v1/channels/"+pathEscape(channel)+"/success", nil, struct{}{}, &st)
	return st, err
}

// Classify says how an error would be classified, changing nothing
// (POST /api/v1/classify).
func (c *Client) Classify(ctx context.Context, r quotad.ErrorReport) (classify.Verdict, error) {
	var v classify.Verdict
	err := c.do(ctx, http.MethodPost, "/api/v1/classify", nil, r, &v)
	return v, err
}

// Reset refills the named APIs now: one API through
// POST /api/v1/apis/{api}/reset, several in one transaction through
// POST /api/v1/reset {"apis":[…]}.
func (c *Client) Reset(ctx context.Context, apis ...string) (quotad.ResetResult, error) {
	var res quotad.ResetResult
	var err error
	if len(apis) == 1 {
		err = c.do(ctx, http.MethodPost, "/api/v1/apis/"+pathEscape(apis[0])+"/reset", nil, struct{}{}, &res)
	} else {
		if apis == nil {
			apis = []string{} // "apis": [] is refused; null would mean every API
		}
		err = c.do(ctx, http.MethodPost, "/api/v1/reset", nil, map[string]any{"apis": apis}, &res)
	}
	return res, err
}

// ResetAll refills every API now (POST /api/v1/reset).
func (c *Client) ResetAll(ctx context.Context) (quotad.ResetResult, error) {
	var res quotad.ResetResult
	err := c.do(ctx, http.MethodPost, "/api/v1/reset", nil, struct{}{}, &res)
	return res, err
}

// Resume clears every pause of the named channels: one through
// POST /api/v1/channels/{name}/resume, several in one transaction through
// POST /api/v1/resume {"channels":[…]}.
func (c *Client) Resume(ctx context.Context, channels ...string) (quotad.ResumeResult, error) {
	var res quotad.ResumeResult
	var err error
	if len(channels) == 1 {
		err = c.do(ctx, http.MethodPost, "/api/v1/channels/"+pathEscape(channels[0])+"/resume", nil, struct{}{}, &res)
	} else {
		if channels == nil {
			channels = []string{}
		}
		err = c.do(ctx, http.MethodPost, "/api/v1/resume", nil, map[string]any{"channels": channels}, &res)
	}
	return res, err
}

// ResumeAll clears every pause of every channel (POST /api/v1/resume {"all":true}).
func (c *Client) ResumeAll(ctx context.Context) (quotad.ResumeResult, error) {
	var res quotad.ResumeResult
	err := c.do(ctx, http.MethodPost, "/api/v1/resume", nil, map[string]any{"all": true}, &res)
	return res, err
}

// ResumeEligible resumes the channels whose quota pauses are cleared
// (POST /api/v1/resume {"all":false}).
func (c *Client) ResumeEligible(ctx context.Context) (quotad.ResumeResult, error) {
	var res quotad.ResumeResult
	err := c.do(ctx, http.MethodPost, "/api/v1/resume", nil, map[string]any{"all": false}, &res)
	return res, err
}

// Pause pauses a channel until a person resumes it
// (POST /api/v1/channels/{name}/pause).
func (c *Client) Pause(ctx context.Context, channel, reason string) (quotad.ChannelStatus, error) {
	var st quotad.ChannelStatus
	err := c.do(ctx, http.MethodPost, "/api/v1/channels/"+pathEscape(channel)+"/pause", nil, map[string]any{"reason": reason}, &st)
	return st, err
}

// Logs returns events matching f, newest first (GET /api/v1/logs).
func (c *Client) Logs(ctx context.Context, f quotad.EventFilter) ([]quotad.EventStatus, error) {
	evs, _, err := c.LogPage(ctx, f)
	return evs, err
}

// LogPage returns one page of events matching f, newest first, and the
// Before value of the next (older) page, 0 when there is none.
func (c *Client) LogPage(ctx context.Context, f quotad.EventFilter) (events []quotad.EventStatus, nextBefore int64, err error) {
	q := url.Values{}
	for k, v := range map[string]string{"category": f.Category, "channel": f.Channel, "level": f.Level} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, v := range map[string]int64{"limit": int64(f.Limit), "before": f.Before, "after": f.After} {
		if v != 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	var page struct {
		Events     []quotad.EventStatus `json:"events"`
		NextBefore *int64               `json:"next_before"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/logs", q, nil, &page); err != nil {
		return nil, 0, err
	}
	if page.NextBefore != nil {
		nextBefore = *page.NextBefore
	}
	return page.Events, nextBefore, nil
}

// Schedule returns the next n instants of a reset rule after from (zero:
// the server's now), in UTC; a rule without a zone uses the server's
// (GET /api/v1/schedule).
func (c *Client) Schedule(ctx context.Context, rule string, from time.Time, n int) ([]time.Time, error) {
	q := url.Values{"rule": {rule}}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339))
	}
	if n != 0 {
		q.Set("n", strconv.Itoa(n))
	}
	var out []time.Time
	err := c.do(ctx, http.MethodGet, "/api/v1/schedule", q, nil, &out)
	return out, err
}

// Pick returns the provider a channel should use now for a capability.
func (c *Client) Pick(ctx context.Context, channel, capability string) (quotad.Pick, error) {
	var p quotad.Pick
	err := c.do(ctx, http.MethodGet, "/api/v1/channels/"+pathEscape(channel)+"/pick/"+pathEscape(capability), nil, nil, &p)
	return p, err
}

// Run starts a channel's job now in the daemon, whatever its schedule, and
// returns once it has started (POST /api/v1/channels/{name}/run). A paused
// channel's job is refused (quotad.ErrConflict) unless force; so is a job
// that is running.
func (c *Client) Run(ctx context.Context, channel string, force bool) (quotad.JobStart, error) {
	var js quotad.JobStart
	err := c.do(ctx, http.MethodPost, "/api/v1/channels/"+pathEscape(channel)+"/run", nil, map[string]any{"force": force}, &js)
	return js, err
}
