package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
)

// call is one proxied call: where it goes, what the upstream answered, and
// what its body said as it passed.
type call struct {
	p       *Proxy
	prof    *provider.Profile
	api     string
	channel string
	method  string
	path    string        // below the API root, unescaped: what the cost table reads
	target  *url.URL      // the upstream URL
	mount   string        // the escaped path the caller's API root was at ("/proxy/youtube", "" at the root)
	free    bool          // continues an upload session already charged: charged nothing
	in      *http.Request // the caller's request: its credentials are read only when a text needs redacting
	secOnce sync.Once
	secrets []string
	model   string     // the model the request body names ("" none)
	scope   string     // the credential scope ("" the default)
	full    quotad.API // the API's state
	state   quotad.API // the windows the call is charged to (view.api)
	view    view

	mu          sync.Mutex // the body is read on the handler's goroutine; guard anyway
	accounted   sync.Once
	reqCtx      context.Context // the caller's; accounting outlives its cancellation
	status      int
	header      http.Header // the upstream's rate-limit headers
	errBody     *capBuffer  // an error response's body, capped
	usageBody   *capBuffer  // a JSON success body, capped, for its usage figures
	sse         *provider.SSEUsage
	upstreamErr error
	start       time.Time
}

// secretList returns the caller's credentials (provider.Secrets), read
// once, when first needed.
func (c *call) secretList() []string {
	c.secOnce.Do(func() { c.secrets = provider.Secrets(c.in) })
	return c.secrets
}

// redact removes credentials from a text bound for a log, an event or an
// answer.
func (c *call) redact(s string) string { return provider.Redact(s, c.secretList()...) }

// rewrite makes the outbound request: the upstream URL, the caller's
// headers minus quotad's own, and no Accept-Encoding (the transport asks
// for gzip itself and decodes it, so that usage figures and error bodies
// can be read; the caller gets the decoded body).
func (c *call) rewrite(pr *httputil.ProxyRequest) {
	c.start = time.Now()
	u := *c.target
	pr.Out.URL = &u
	pr.Out.Host = ""
	h := pr.Out.Header
	h.Del(HeaderChannel)
	h.Del(HeaderToken)
	h.Del("Accept-Encoding")
}

// modifyResponse records the upstream's answer and tees its body into the
// readers that need it, without holding the stream back.
func (c *call) modifyResponse(resp *http.Response) error {
	c.mu.Lock()
	c.status = resp.StatusCode
	c.header = provider.RateHeaders(resp.Header)
	c.mu.Unlock()
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get(provider.HeaderShouldRetry) == "" &&
		longWait(resp.Header.Get("Retry-After"), c.p.e.Clock().Now()) {
		// The provider's own refusal of a long block: SDKs that would sleep
		// through Retry-After before each retry fail at once instead.
		resp.Header.Set(provider.HeaderShouldRetry, "false")
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if back, ok := c.back(loc); ok {
			resp.Header.Set("Location", back)
		}
	}
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		return nil // the connection becomes the caller's; accounted when the handler returns
	case resp.Body == nil || resp.Body == http.NoBody || resp.ContentLength == 0:
		c.finish() // nothing to read: account now, before the caller has the answer
		return nil
	}
	var sink io.Writer
	c.mu.Lock()
	switch {
	case resp.StatusCode >= 400:
		c.errBody = &capBuffer{max: c.p.opts.MaxErrorBody}
		sink = c.errBody
	case resp.StatusCode >= 200 && resp.StatusCode < 300 && (c.prof.ReadsTokens(c.state) || c.prof.PerModel && c.prof.ReadsTokens(c.full)):
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/event-stream" {
			c.sse = &provider.SSEUsage{}
			sink = c.sse
		} else {
			c.usageBody = &capBuffer{max: c.p.opts.MaxUsageBody}
			sink = c.usageBody
		}
	}
	c.mu.Unlock()
	// The call is accounted when its last byte has come from upstream and
	// before it goes to the caller, so an error answer is applied before the
	// caller has it all (a body of unknown length ends for the caller only
	// when the handler returns, after the deferred finish).
	resp.Body = &teeBody{rc: resp.Body, w: sink, mu: &c.mu, left: resp.ContentLength, end: c.finish}
	return nil
}

// longWait reports whether a Retry-After value (seconds or an HTTP-date)
// asks for a wait longer than provider.MaxRetryWait.
func longWait(retryAfter string, now time.Time) bool {
	if retryAfter == "" {
		return false
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(retryAfter), 64); err == nil {
		return secs > provider.MaxRetryWait.Seconds()
	}
	if t, err := http.ParseTime(retryAfter); err == nil {
		return t.Sub(now) > provider.MaxRetryWait
	}
	return false
}

// back returns the URL through quotad of a Location the upstream answered
// with (a resumable upload's session URI), so that the caller's next calls
// are metered too; ok is false for a location elsewhere.
func (c *call) back(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || u.Host != c.target.Host || u.Scheme != c.target.Scheme || !strings.HasPrefix(u.EscapedPath(), "/") {
		return "", false
	}
	scheme := "http"
	if c.in.TLS != nil {
		scheme = "https"
	}
	out := url.URL{Scheme: scheme, Host: c.in.Host, RawQuery: u.RawQuery}
	raw := c.mount + u.EscapedPath()
	out.Path, _ = url.PathUnescape(raw)
	out.RawPath = raw
	return out.String(), true
}

// errorHandler answers a call the upstream did not answer: 504 for a
// timeout, 502 otherwise. Not quota: nothing is charged or reported.
func (c *call) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	c.mu.Lock()
	c.upstreamErr = err
	c.mu.Unlock()
	if r.Context().Err() != nil {
		return // the caller went away: nobody to answer
	}
	c.p.stats.upstreamErrors.Add(1)
	msg := c.redact(err.Error())
	status, code := http.StatusBadGateway, "upstream_unreachable"
	if isTimeout(err) {
		status, code = http.StatusGatewayTimeout, "upstream_timeout"
	}
	c.p.log.Warn("proxy: upstream call failed", "api", c.api, "channel", c.channel, "method", c.method,
		"url", c.redact(c.target.String()), "status", status, "err", msg)
	c.p.fail(w, status, code, fmt.Sprintf("%s upstream did not answer: %s", c.api, msg))
}

// finish accounts for the call once its response has passed (or failed):
// charges, adopted figures, classified quota errors. It runs once, when the
// last byte has come from upstream and before it goes to the caller. An
// error answer is committed then, so that a refusal of the provider is
// applied before the caller can call again; a success is queued for the
// next coalesced commit (Options.Coalesce).
func (c *call) finish() { c.accounted.Do(c.account) }

func (c *call) account() {
	c.mu.Lock()
	status, upErr := c.status, c.upstreamErr
	c.mu.Unlock()
	if status == 0 {
		return // the upstream never answered: not quota, nothing spent
	}
	p, log := c.p, c.p.log
	now := p.e.Clock().Now()
	var body []byte
	if c.errBody != nil {
		body = []byte(c.redact(string(c.errBody.b)))
	}
	tg := c.callTarget()
	if c.model == "" && c.prof.PerModel {
		// No model in the request: the response's names it.
		if m := c.responseModel(); m != "" {
			tg.Model = m
			c.view = viewOf(c.full, tg)
			c.state = c.view.api
		}
	}
	c.view.learnFrom(c.prof, tg, c.header, status, now)
	c.state = c.view.api
	as := c.prof.Assess(c.api, c.state, provider.Response{Method: c.method, Path: c.path, Status: status, Header: c.header, Body: body}, now)
	m := engine.Metered{API: c.api, Model: tg.Model, Scope: tg.Scope, Channel: c.channel, Observations: as.Observations}
	v := as.Verdict
	pinned := as.Refused() && as.Window != "" && (v.Kind == classify.KindQuota || v.Kind == classify.KindRateLimit)
	report := as.Refused() && !pinned
	var tokens provider.Tokens
	switch {
	case pinned:
		// The profile names the refused window: exhaust exactly that one,
		// until the time the provider gave for this refusal when it gave
		// one (it wins over a reset header of the same window).
		m.Kind = v.Kind
		m.Detail = c.redact(fmt.Sprintf("%s refused the call: %s", c.api, v.Evidence))
		pin := provider.Observation{Window: as.Window, Limit: -1, Remaining: 0, Reset: as.Until, Source: "status " + fmt.Sprint(status)}
		merged := false
		for i, o := range m.Observations {
			if o.Window == as.Window {
				m.Observations[i].Remaining = 0
				if !pin.Reset.IsZero() {
					m.Observations[i].Reset = pin.Reset
				}
				merged = true
			}
		}
		if !merged {
			m.Observations = append(m.Observations, pin)
		}
	case as.Refused():
		// Reported below; only the figures are adopted here.
	case c.free:
		// An upload session's next chunk: its opening call was charged.
	default:
		tokens = c.tokens()
		m.Charges, m.Usage = c.prof.Charges(c.state, c.method, c.path, status, tokens.Total)
		if p, ok := c.full.PriceOf(tg.Model); ok && status < 400 {
			in, out := tokens.Input, tokens.Output
			if in == 0 && out == 0 {
				in = tokens.Total // not split: priced as input
			}
			m.Cost = p.Micros(in, out)
		}
	}
	c.view.keyed(&m)
	if log.Enabled(c.reqCtx, slog.LevelDebug) {
		log.Debug("proxy: call", "api", c.api, "channel", c.channel, "method", c.method, "url", c.redact(c.target.String()),
			"status", status, "kind", string(v.Kind), "window", as.Window, "tokens", tokens.Total, "charges", m.Charges,
			"upstream_error", upErr != nil, "took", time.Since(c.start))
	}
	if len(m.Charges) == 0 && len(m.Observations) == 0 && m.Kind == "" && !report && v.Kind != classify.KindRequest {
		return
	}
	if status < 400 && p.batch != nil {
		p.batch.add(m)
		return
	}
	// An error answer: commit now, after what is queued for the API (its
	// figures are older).
	if p.batch != nil {
		p.batch.flush(&c.api)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.reqCtx), accountingTimeout)
	defer cancel()
	if len(m.Charges) > 0 || len(m.Observations) > 0 || m.Kind != "" {
		p.meter(ctx, m, c.secretList())
	}
	switch {
	case report && v.Kind == classify.KindChannel && c.channel == "":
		log.Warn("proxy: the provider refused a call for a limit of the calling channel, but the call named no channel; nothing paused",
			"api", c.api, "evidence", c.redact(v.Evidence))
	case report:
		c.report(ctx, c.channel, status, body)
	case v.Kind == classify.KindRequest:
		// An error of that request, not an exhausted quota: an event, no
		// pause, and no count against the channel (its program decides).
		c.report(ctx, "", status, body)
	}
	if status >= 400 {
		p.cache.invalidate()
	}
}

// report applies a quota error through engine.ReportError, with the API
// named explicitly and only redacted text and rate-limit headers.
func (c *call) report(ctx context.Context, channel string, status int, body []byte) {
	tg := c.callTarget()
	r := engine.ErrorReport{Channel: channel, Model: tg.Model, Scope: tg.Scope, Evidence: classify.Evidence{API: c.api, Status: status, Headers: c.header, Message: string(body)}}
	if _, err := c.p.e.ReportError(ctx, r); err != nil {
		c.p.stats.accountingErrors.Add(1)
		c.p.log.Error("proxy: reporting a quota error failed", "api", c.api, "channel", channel, "err", c.redact(err.Error()))
	}
}

// responseModel returns the model a JSON success body names, or "".
func (c *call) responseModel() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.usageBody != nil {
		return provider.ModelOfBody(c.usageBody.b)
	}
	return ""
}

// tokens returns the tokens the response's usage figures reported.
func (c *call) tokens() provider.Tokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.sse != nil:
		_ = c.sse.Close()
		t, _ := c.sse.Usage()
		return t
	case c.usageBody != nil && !c.usageBody.overflow:
		t, _ := provider.UsageFromJSON(c.usageBody.b)
		return t
	}
	return provider.Tokens{}
}

// teeBody copies what the caller reads into w (when set) and calls end
// when the body is complete: its last byte read (left, the bytes still
// expected, reaches 0) or an error or EOF.
type teeBody struct {
	rc   io.ReadCloser
	w    io.Writer
	mu   *sync.Mutex
	left int64 // -1 unknown
	end  func()
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && t.w != nil {
		t.mu.Lock()
		_, _ = t.w.Write(p[:n])
		t.mu.Unlock()
	}
	if t.left >= 0 {
		t.left -= int64(n)
	}
	if err != nil || t.left == 0 {
		t.end()
	}
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

// capBuffer keeps the first max bytes written to it and notes overflow.
type capBuffer struct {
	b        []byte
	max      int
	overflow bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - len(c.b); room > 0 {
		if len(p) > room {
			c.b = append(c.b, p[:room]...)
			c.overflow = true
		} else {
			c.b = append(c.b, p...)
		}
	} else if len(p) > 0 {
		c.overflow = true
	}
	return len(p), nil
}
