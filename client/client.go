// Package client is the Go client of quotad's HTTP API (package server). A
// *Client implements engine.Service, so a program (or the quotad CLI with
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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quotad/quotad/engine"
)

var _ engine.Service = (*Client)(nil)

// DefaultTimeout bounds one request when the caller gives no http.Client.
const DefaultTimeout = 60 * time.Second

// maxResponse caps a response body the client reads.
const maxResponse = 64 << 20

// Client talks to one quotad daemon. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the bearer token sent with every request (mutations need
// it when the server has one; reads too when it listens beyond loopback).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

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
	c := &Client{base: u}
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
// when not nil. Any other answer becomes an error (see Error).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	target := c.base.String() + path // path segments are escaped by the callers
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("quotad client: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("quotad client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("quotad server %s: %w", c.base.Redacted(), err)
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
		return fmt.Errorf("quotad server %s: decode %s %s answer: %w", c.base.Redacted(), method, path, err)
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
