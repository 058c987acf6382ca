// Package client is the Go client of quotad's HTTP API (package server). A
// *Client implements quotad.Service, so a program (or the quotad CLI with
// --server) can operate a running daemon exactly as it would an engine over
// the store:
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken(os.Getenv("QUOTAD_TOKEN")))
//	res, err := c.Spend(ctx, "youtube", 100, "RankRiot")
//	if ee := (*quotad.ExhaustedError)(nil); errors.As(err, &ee) {
//		// wait until ee.Until
//	}
//
// Errors keep their meaning across the wire: they satisfy errors.Is with
// quotad.ErrUnknownAPI, ErrUnknownChannel, ErrUnknownReservation,
// ErrInvalid, ErrConflict and ErrExhausted (errors.As gives the
// *quotad.ExhaustedError), and their messages are the server's.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

var _ quotad.Service = (*Client)(nil)

// DefaultTimeout bounds one request when the caller gives no http.Client.
const DefaultTimeout = 60 * time.Second

// maxResponse caps a response body the client reads.
const maxResponse = 64 << 20

// Client talks to one quotad daemon. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	token   string
	hc      *http.Client
	retries int
	backoff time.Duration
}

// IdempotencyHeader is the header that carries a mutation's idempotency
// key (see package server).
const IdempotencyHeader = "Idempotency-Key"

// DefaultRetries is how many times a request is retried after a broken
// connection or a 503 answer (a store busy or briefly down).
const DefaultRetries = 3

// maxBackoff caps the wait before a retry (a longer Retry-After included).
const maxBackoff = 2 * time.Second

// idempotentPaths are the mutations the server deduplicates by
// Idempotency-Key; only they (and reads) are retried.
func idempotentPath(path string) bool {
	return strings.HasSuffix(path, "/spend") || strings.HasSuffix(path, "/reserve") ||
		strings.HasSuffix(path, "/commit") || strings.HasSuffix(path, "/release") || path == "/api/v1/errors"
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the bearer token sent with every request (mutations need
// it when the server has one; reads too when it listens beyond loopback).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithRetries sets how many times a read or a keyed mutation (spend,
// reserve, commit, release, error report) is retried after a broken
// connection or a 503 answer, waiting backoff (doubling, at least the
// server's Retry-After, at most 2 s) in between; default DefaultRetries and
// 100 ms. Every mutation carries an Idempotency-Key, the same on each
// retry, so a retried spend counts once. 0 disables retries.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = max(n, 0), backoff }
}

// WithHTTPClient sets the http.Client used for requests (default: one with
// DefaultTimeout and its own keep-alive connections).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// New returns a client of the daemon at baseURL, such as
// "http://127.0.0.1:8080" (a trailing "/api/v1" is accepted too).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("quotad server URL must look like http://127.0.0.1:8080, got %q", baseURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, retries: DefaultRetries, backoff: 100 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return c, nil
}

// BaseURL returns the daemon's URL, without /api/v1.
func (c *Client) BaseURL() string { return c.base.String() }

// CloseIdleConnections closes the keep-alive connections the client holds.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// do sends a request to path (relative to the base URL, starting with "/")
// with body encoded as JSON when not nil, and decodes a 2xx answer into out
// when not nil. Any other answer becomes an error (see Error). A POST
// carries a fresh Idempotency-Key; reads and keyed mutations are retried
// (with the same key) after a broken connection or a 503.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	target := c.base.String() + path // path segments are escaped by the callers
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("quotad client: encode request: %w", err)
		}
		raw = b
	}
	key := ""
	retries := c.retries
	if method == http.MethodPost {
		key = newKey()
		if !idempotentPath(path) {
			retries = 0 // not deduplicated by the server: a retry could act twice
		}
	}
	wait := c.backoff
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, target, path, key, raw, body != nil, out)
		if attempt >= retries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		d := wait
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > d {
			d = e.RetryAfter
		}
		t := time.NewTimer(min(d, maxBackoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// retryable reports whether err is a broken connection or a 503 answer.
func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode == http.StatusServiceUnavailable
	}
	var ce *connError
	return errors.As(err, &ce)
}

// connError is a request that got no answer.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// newKey returns a random idempotency key.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// once sends one request.
func (c *Client) once(ctx context.Context, method, target, path, key string, raw []byte, hasBody bool, out any) error {
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("quotad client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("quotad server %s: %w", c.base.Redacted(), &connError{err})
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse)) // keep the connection reusable
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("quotad server %s: decode %s %s answer: %w", c.base.Redacted(), method, path, &connError{err})
	}
	return nil
}

// pathEscape escapes one path segment (a name may hold '/' or '?').
func pathEscape(s string) string { return url.PathEscape(s) }

// Health checks that the daemon answers GET /healthz.
func (c *Client) Health(ctx context.Context) error { return c.probe(ctx, "/healthz") }

// Ready checks GET /readyz: the daemon reaches its store and its monitor
// runs. The error carries the daemon's reason.
func (c *Client) Ready(ctx context.Context) error { return c.probe(ctx, "/readyz") }

func (c *Client) probe(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		return fmt.Errorf("quotad client: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("quotad server %s: %w", c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		if msg == "" {
			msg = resp.Status
		}
		return &Error{StatusCode: resp.StatusCode, Code: "unavailable", Message: "quotad server " + c.base.Redacted() + ": " + msg, err: ErrUnavailable}
	}
	return nil
}
