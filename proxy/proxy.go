// Package proxy is quotad's metering proxy: `quotad serve` forwards
// /proxy/{api}/… to the API's upstream and meters every call from the
// provider's own response.
//
// The caller's credentials pass through untouched and are never stored or
// logged (every text is redacted with provider.Redact). The calling channel
// is named by the X-Quotad-Channel header or a /proxy/{api}/channel/{name}/…
// prefix; both are stripped before forwarding. A call the provider served is
// charged from its response (requests 1, tokens from the usage figures,
// cost-table units) with engine.Meter, which cannot be refused; the
// provider's rate-limit figures are adopted (the provider is the truth);
// quota errors are classified (package classify plus the profile's rules)
// and applied. While the API is exhausted the proxy answers at once with
// 429, Retry-After and a body in the provider's error shape, without
// spending a request upstream. Streams pass through unbuffered. Upstream
// timeouts and connection errors come back as 504 and 502 and are not quota.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
)

// Defaults of Options.
const (
	DefaultPrefix                = "/proxy/"
	DefaultResponseHeaderTimeout = 5 * time.Minute  // an LLM may think a while before its first byte
	DefaultMaxDuration           = 30 * time.Minute // one call, upload and stream included
	DefaultMaxErrorBody          = 64 << 10         // bytes of an error body read for classification
	DefaultMaxUsageBody          = 4 << 20          // bytes of a JSON body kept to read its usage figures
	accountingTimeout            = 10 * time.Second // bound on the engine operations after a call
)

// Header names of the proxy.
const (
	HeaderChannel = "X-Quotad-Channel" // names the calling channel; stripped before forwarding
	HeaderToken   = "X-Quotad-Token"   // quotad's own token, when Options.Token is set; stripped
)

// Options configure a Proxy. Zero values take the defaults.
type Options struct {
	// Prefix is the path the proxy is mounted at; default "/proxy/".
	Prefix string
	// Token, when set, is required in the X-Quotad-Token header of every
	// call (the Authorization header is the provider's). Set it whenever
	// the listener is reachable from other machines.
	Token string
	// Listen is the listener's host:port (the daemon's listen address): its
	// host is one of the names a call's Host header may carry, besides
	// loopback names and addresses.
	Listen string
	// AllowedHosts are more names calls may carry as Host (a reverse
	// proxy's public name). Without a token the Host is always checked;
	// with one, only when AllowedHosts is set.
	AllowedHosts []string
	// Logger receives diagnostics, always redacted. Default slog.Default().
	Logger *slog.Logger
	// Transport sends calls upstream. Default: a clone of
	// http.DefaultTransport with ResponseHeaderTimeout.
	Transport http.RoundTripper
	// ResponseHeaderTimeout bounds the wait for the upstream's response
	// headers (504 after it); default 5m. Used by the default Transport.
	ResponseHeaderTimeout time.Duration
	// MaxDuration bounds one call, its request upload and response stream
	// included (the server's own read and write timeouts are lifted for
	// proxied calls); default 30m.
	MaxDuration time.Duration
	// MaxErrorBody is how much of an error body is read for
	// classification; default 64 KiB. The caller always gets all of it.
	MaxErrorBody int
	// MaxUsageBody is how much of a non-streamed JSON body is kept to read
	// its usage figures; default 4 MiB. Beyond it the call counts 0 tokens.
	MaxUsageBody int
	// Coalesce, when positive, lets the accounting of a successful call
	// wait that long to be committed with the next ones, after its caller
	// has the answer: fewer store transactions, but a crash in that moment
	// loses the charges of calls already answered. Zero or negative
	// (default): every call's charge is durable before its caller has the
	// end of the answer (the engine group-commits concurrent calls, so a
	// burst still costs one transaction). Error answers are always
	// committed before the caller has them.
	Coalesce time.Duration
}

// Proxy forwards calls to the upstreams of the APIs it has a profile for and
// meters them on an engine. It is an http.Handler, safe for concurrent use.
type Proxy struct {
	e         *engine.Engine
	profiles  map[string]*provider.Profile
	upstreams map[string]*url.URL
	opts      Options
	guard     guard
	log       *slog.Logger
	transport http.RoundTripper
	errLog    *log.Logger
	stats     stats

	cache       *stateCache
	unsubscribe func()
	pending     inflight // calls answered but not yet committed
	batch       *batcher // nil when every call commits before its caller has the answer
}

type stats struct {
	forwarded, refused, forbidden, upstreamErrors, accountingErrors atomic.Uint64
}

// Stats are cumulative counts of what a Proxy did.
type Stats struct {
	Forwarded        uint64 `json:"forwarded"`         // calls sent upstream
	Refused          uint64 `json:"refused"`           // calls quotad answered itself (API exhausted, channel held or paused)
	Forbidden        uint64 `json:"forbidden"`         // calls refused at the door: cross-site, foreign Host, wrong token
	UpstreamErrors   uint64 `json:"upstream_errors"`   // calls answered with 502 or 504
	AccountingErrors uint64 `json:"accounting_errors"` // calls whose metering failed (logged)
}

// New returns a Proxy over e for the APIs of profiles (API name → profile,
// as provider.Build returns them). Mount it at opts.Prefix ("/proxy/").
func New(e *engine.Engine, profiles map[string]*provider.Profile, opts Options) (*Proxy, error) {
	if e == nil {
		return nil, errors.New("proxy: nil engine")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !strings.HasPrefix(opts.Prefix, "/") || !strings.HasSuffix(opts.Prefix, "/") {
		return nil, quotad.Invalidf("proxy prefix %q must start and end with /", opts.Prefix)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if opts.MaxDuration <= 0 {
		opts.MaxDuration = DefaultMaxDuration
	}
	if opts.MaxErrorBody <= 0 {
		opts.MaxErrorBody = DefaultMaxErrorBody
	}
	if opts.MaxUsageBody <= 0 {
		opts.MaxUsageBody = DefaultMaxUsageBody
	}
	p := &Proxy{e: e, profiles: map[string]*provider.Profile{}, upstreams: map[string]*url.URL{}, opts: opts, log: opts.Logger,
		transport: opts.Transport, cache: newStateCache(), guard: newGuard(opts)}
	if opts.Coalesce > 0 {
		p.batch = newBatcher(p, opts.Coalesce)
	}
	for api, prof := range profiles {
		if prof == nil {
			return nil, fmt.Errorf("proxy: API %s has a nil profile", api)
		}
		u, err := provider.ParseUpstream(prof.Upstream)
		if err != nil {
			return nil, fmt.Errorf("proxy: API %s: %w", api, err)
		}
		p.profiles[api], p.upstreams[api] = prof, u
	}
	if p.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = opts.ResponseHeaderTimeout
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		p.transport = t
	}
	p.errLog = log.New(logWriter{p.log}, "", 0)
	p.unsubscribe = e.Subscribe(func([]quotad.Event) { p.cache.invalidate() })
	return p, nil
}

// Close stops following the engine's events and waits (at most until ctx
// is done) for the accounting of calls already answered. Close it before
// the engine.
func (p *Proxy) Close(ctx context.Context) error {
	p.unsubscribe()
	return p.Wait(ctx)
}

// Wait commits the accounting of every call answered so far and waits
// until it has committed.
func (p *Proxy) Wait(ctx context.Context) error {
	if p.batch != nil {
		p.batch.flush(nil)
	}
	return p.pending.wait(ctx)
}

// meter commits one engine.Meter, logs a failure (redacted) and refreshes
// the cached state when the operation changed more than counts.
func (p *Proxy) meter(ctx context.Context, m engine.Metered, secrets []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountingTimeout)
	defer cancel()
	res, err := p.e.Meter(ctx, m)
	if err != nil {
		p.stats.accountingErrors.Add(1)
		p.log.Error("proxy: metering calls failed", "api", m.API, "channel", m.Channel, "calls", max(m.Calls, 1),
			"err", provider.Redact(err.Error(), secrets...))
	}
	if err != nil || res.Events > 0 || res.Exhausted {
		p.cache.invalidate() // exhausted, paused, resumed: the next call must see it
	}
}

// Invalidate drops the proxy's copy of quota state, so that the next call
// reads the store. Changes committed by the proxy's engine do this by
// themselves; other processes' changes are seen within CacheTTL.
func (p *Proxy) Invalidate() { p.cache.invalidate() }

// APIs returns the names of the proxied APIs, sorted.
func (p *Proxy) APIs() []string {
	out := make([]string, 0, len(p.profiles))
	for api := range p.profiles {
		out = append(out, api)
	}
	slices.Sort(out)
	return out
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	return Stats{Forwarded: p.stats.forwarded.Load(), Refused: p.stats.refused.Load(), Forbidden: p.stats.forbidden.Load(),
		UpstreamErrors: p.stats.upstreamErrors.Load(), AccountingErrors: p.stats.accountingErrors.Load()}
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status, code, msg := p.guard.admit(r); status != 0 {
		p.stats.forbidden.Add(1)
		p.fail(w, status, code, msg)
		return
	}
	c, status, code, msg := p.route(r)
	if c == nil {
		p.fail(w, status, code, provider.Redact(msg, provider.Secrets(r)...))
		return
	}
	c.in = r
	c.scope = c.prof.ScopeOf(r)
	if c.prof.PerModel {
		c.model = readModel(r)
	}
	ctx := r.Context()
	now := p.e.Clock().Now()
	a, ch, err := p.cache.load(ctx, p.e, c.api, c.channel, p.e.Clock().Now())
	c.full = a
	hold, held := channelHold(ch, c.api, now)
	switch {
	case errors.Is(err, quotad.ErrUnknownAPI):
		p.fail(w, http.StatusNotFound, "unknown_api", fmt.Sprintf("API %s has a provider profile but is not configured in quotad", c.api))
		return
	case errors.Is(err, quotad.ErrUnknownChannel):
		p.fail(w, http.StatusNotFound, "unknown_channel", c.redact(fmt.Sprintf("unknown channel %q; name a configured channel in %s or /channel/NAME/", c.channel, HeaderChannel)))
		return
	case err != nil:
		// Fail open: the pipeline keeps running; metering may fail too.
		p.log.Error("proxy: reading quota state failed; forwarding unchecked", "api", c.api, "err", c.redact(err.Error()))
		c.full = quotad.API{Name: c.api}
	}
	// Only the windows this call is charged to (its model's, its bucket's,
	// its scope's) refuse it.
	c.view = viewOf(c.full, c.callTarget())
	c.state = c.view.api
	if h, ok := provider.Blocking(c.state, now); ok {
		h.Window = c.view.key(h.Window)
		p.refusedModel(ctx, c, ch)
		p.refuse(w, c, h, now)
		return
	}
	if held {
		p.refuse(w, c, hold, now)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(p.opts.MaxDuration))  // not every writer supports it
	_ = rc.SetWriteDeadline(time.Now().Add(p.opts.MaxDuration)) // streams outlive the server's write timeout
	// The upstream may answer (a stream's headers) before the transport has
	// read the caller's body to its end; without full duplex the server
	// would then close that body under the transport, which cuts the call.
	_ = rc.EnableFullDuplex()
	rp := &httputil.ReverseProxy{
		Rewrite:   c.rewrite,
		Transport: p.transport,
		// 0: ReverseProxy flushes every write of a stream (text/event-stream,
		// or a body of unknown length) at once, and lets a body of known
		// length go out in one piece.
		FlushInterval:  0,
		ModifyResponse: c.modifyResponse,
		ErrorHandler:   c.errorHandler,
		ErrorLog:       p.errLog,
		BufferPool:     bufferPool{},
	}
	p.stats.forwarded.Add(1)
	c.reqCtx = r.Context()
	defer c.finish()
	rp.ServeHTTP(w, r)
}

// route reads the API, the channel and the upstream path of a call: from
// the /proxy/{api}/ prefix, or, for a request that came through a mount
// (Native, Listener), from the mount.
func (p *Proxy) route(r *http.Request) (c *call, status int, code, msg string) {
	esc := r.URL.EscapedPath()
	var api, escRest string
	switch m, _ := r.Context().Value(mountKey{}).(*mount); {
	case m != nil && m.api != "":
		api, escRest = m.api, esc
	case m != nil:
		apis := p.nativeAPIs(esc)
		switch len(apis) {
		case 0:
			return nil, http.StatusNotFound, "not_found", fmt.Sprintf("no proxied API serves %s at quotad's root; call %s{api}/… (proxied APIs: %s)",
				clipPath(esc), p.opts.Prefix, strings.Join(p.APIs(), ", "))
		case 1:
			api, escRest = apis[0], esc
		default:
			return nil, http.StatusMisdirectedRequest, "ambiguous_api", fmt.Sprintf("%s is a path of %s: quotad cannot tell which API the call is for. "+
				"Give each its own listener (in the config: apis: {%s: {listen: 127.0.0.1:8091}}) and point the SDK's endpoint at http://127.0.0.1:8091/, "+
				"or send the call to %s%s/…", clipPath(esc), strings.Join(apis, " and "), apis[0], p.opts.Prefix, apis[0])
		}
	default:
		rest, ok := strings.CutPrefix(esc, p.opts.Prefix)
		if !ok {
			return nil, http.StatusNotFound, "not_found", "the proxy serves " + p.opts.Prefix + "{api}/…"
		}
		escAPI, tail, _ := strings.Cut(rest, "/")
		if tail != "" || strings.HasSuffix(rest, "/") {
			tail = "/" + tail
		}
		var err error
		api, err = url.PathUnescape(escAPI)
		if err != nil || api == "" {
			return nil, http.StatusNotFound, "not_found", "name an API: " + p.opts.Prefix + "{api}/…; proxied APIs: " + strings.Join(p.APIs(), ", ")
		}
		escRest = tail
	}
	prof, ok := p.profiles[api]
	if !ok {
		return nil, http.StatusNotFound, "unknown_api", fmt.Sprintf("API %q is not proxied (it has no provider profile); proxied APIs: %s", api, strings.Join(p.APIs(), ", "))
	}
	channel := r.Header.Get(HeaderChannel)
	if after, ok := strings.CutPrefix(escRest, "/channel/"); ok {
		escName, tail, _ := strings.Cut(after, "/")
		name, err := url.PathUnescape(escName)
		if err != nil || name == "" {
			return nil, http.StatusBadRequest, "invalid", "a /channel/ prefix needs a channel name: " + p.opts.Prefix + api + "/channel/NAME/…"
		}
		if channel != "" && channel != name {
			return nil, http.StatusBadRequest, "invalid", fmt.Sprintf("channel %q in the path and %q in %s disagree", name, channel, HeaderChannel)
		}
		channel, escRest = name, ""
		if tail != "" || strings.HasSuffix(after, "/") {
			escRest = "/" + tail
		}
	}
	path, err := url.PathUnescape(escRest)
	if err != nil {
		return nil, http.StatusBadRequest, "invalid", "malformed path escape"
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return nil, http.StatusBadRequest, "invalid", "dot segments are not allowed in proxied paths"
		}
	}
	raw := prof.UpstreamPath(escRest)
	target := *p.upstreams[api]
	target.Path, _ = url.PathUnescape(raw)
	target.RawPath = raw
	target.RawQuery = r.URL.RawQuery
	return &call{p: p, prof: prof, api: api, channel: channel, method: r.Method, path: path, target: &target,
		mount: esc[:len(esc)-len(escRest)], free: prof.Continues(r.URL.RawQuery)}, 0, "", ""
}

// refusedModel pauses the calling channel for the model (or scope) whose
// exhausted window refused its call, unless it waits for it already: a
// channel that needs the API as a whole waits for the models its calls use.
func (p *Proxy) refusedModel(ctx context.Context, c *call, ch *quotad.Channel) {
	tg := c.callTarget()
	if ch == nil || (tg.Model == "" && tg.Scope == "") || c.prof.IsBucket(tg.Model) {
		return
	}
	if _, ok := ch.Paused(quotad.QuotaReason(tg.String())); ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountingTimeout)
	defer cancel()
	if err := p.e.CallRefused(ctx, c.channel, tg.String()); err != nil {
		p.stats.accountingErrors.Add(1)
		p.log.Error("proxy: pausing a refused channel failed", "api", c.api, "channel", c.channel, "err", c.redact(err.Error()))
	}
	p.cache.invalidate()
}

// channelHold returns the hold a channel's pauses put on calls to api,
// and whether there is one: a pause a person must lift (manual, errors)
// holds every call of the channel; otherwise its budget of the API, or the
// API's reserve for higher priorities. A nil channel (none named) has none.
func channelHold(ch *quotad.Channel, api string, now time.Time) (provider.Hold, bool) {
	if ch == nil {
		return provider.Hold{}, false
	}
	var h provider.Hold
	found := false
	for _, pz := range ch.Pauses {
		switch {
		case pz.Reason.ByPerson():
			return pausedHold(ch.Name, pz), true
		case found:
		case pz.Reason != quotad.BudgetReason(api) && pz.Reason != quotad.ReserveReason(api):
		case !pz.Until.IsZero() && !pz.Until.After(now):
			// expired: the monitor is about to clear it
		default:
			h, found = provider.Hold{Window: pz.Reason.String(), Until: pz.Until}, true
		}
	}
	return h, found
}

// pausedHold is the hold of a channel a person paused, or quotad paused
// for consecutive errors: who, since when, why, and how to resume it.
func pausedHold(channel string, pz quotad.Pause) provider.Hold {
	who := "by a person"
	if pz.Reason == quotad.ReasonErrors {
		who = "by quotad after consecutive failed runs"
	}
	d := fmt.Sprintf("channel %s is paused (%s) %s since %s", channel, pz.Reason, who, pz.Since.UTC().Format(time.RFC3339))
	if pz.Detail != "" {
		d += ": " + pz.Detail
	}
	d += "; its calls are refused until a person resumes it (quotad resume " + channel + ")"
	return provider.Hold{Window: pz.Reason.String(), Paused: true, Detail: d}
}

// refuse answers a call in the provider's shape without forwarding it.
func (p *Proxy) refuse(w http.ResponseWriter, c *call, h provider.Hold, now time.Time) {
	p.stats.refused.Add(1)
	status, hdr, body := c.prof.Refusal(c.api, h, now)
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	p.log.Debug("proxy: call refused", "api", c.api, "channel", c.channel, "window", h.Window,
		"until", h.Until, "method", c.method, "path", c.redact(c.path))
}

// fail writes a quotad error (not the provider's): the shape of quotad's
// HTTP API, {"error":{"code":…,"message":…}}.
func (p *Proxy) fail(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Quotad-Error", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// isTimeout reports whether an upstream error is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// bufferPool reuses the ReverseProxy's copy buffers (32 KiB a call
// otherwise).
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// logWriter sends the ReverseProxy's own log lines to slog, redacted.
type logWriter struct{ log *slog.Logger }

func (l logWriter) Write(b []byte) (int, error) {
	l.log.Warn("proxy: " + provider.Redact(strings.TrimSpace(string(b))))
	return len(b), nil
}
