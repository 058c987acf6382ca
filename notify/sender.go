package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quotad/quotad"
)

// Sender delivers one message to one receiver. Send must honour ctx (the
// dispatcher bounds each attempt with the notifier's timeout).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// NewSender returns the sender of a validated notifier. Its HTTP client has
// no timeout of its own: the caller bounds each Send with the notifier's
// AttemptTimeout through ctx, as the dispatcher and Test do.
func NewSender(n Notifier) (Sender, error) {
	// No redirects: a receiver that moved is a configuration to fix, and a
	// signed body should not travel on to wherever a redirect points.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	switch n.Type {
	case TypeSlack:
		return &Slack{URL: n.URL, Client: client}, nil
	case TypeWebhook:
		return &Webhook{URL: n.URL, Secret: n.Secret, Client: client}, nil
	case TypeEmail:
		return &Email{Notifier: n}, nil
	}
	return nil, fmt.Errorf("notifier %s: unknown type %q", n.Name, n.Type)
}

// HTTPError is a receiver's answer other than 2xx.
type HTTPError struct {
	Status     int
	Body       string        // the start of the response body
	RetryAfter time.Duration // from a Retry-After header; 0 when absent
}

// Error implements error.
func (e *HTTPError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Permanent reports whether retrying cannot help: a redirect (3xx; senders
// do not follow them) or a 4xx other than 408 (timeout), 425 (too early) and
// 429 (too many requests) - a wrong URL, a revoked Slack hook, a signature
// the receiver refuses.
func (e *HTTPError) Permanent() bool {
	return e.Status >= 300 && e.Status < 500 && e.Status != 408 && e.Status != 425 && e.Status != 429
}

// permanent reports whether an error says that retrying cannot help.
func permanent(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Permanent()
}

// retryAfter returns the wait a receiver asked for, or 0.
func retryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// post sends a JSON body and turns anything but 2xx into an *HTTPError.
func post(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "quotad-notify/1")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return scrubURL(err, url)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	he := &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 {
			he.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			he.RetryAfter = max(time.Until(t), 0)
		}
	}
	return he
}

// scrubURL keeps a secret URL (a Slack hook's path) out of error texts
// that end up in logs and the store.
func scrubURL(err error, url string) error {
	msg := err.Error()
	if !strings.Contains(msg, url) {
		return err
	}
	return errors.New(strings.ReplaceAll(msg, url, quotad.RedactURL(url)))
}

// Test sends a test message to a notifier directly (not through the
// outbox), bounded by the notifier's timeout, and returns the message sent.
func Test(ctx context.Context, n Notifier, now time.Time) (Message, error) {
	m := Message{
		ID: "test/" + n.Name + "/" + now.UTC().Format(time.RFC3339Nano), Kind: KindTest, Time: now.UTC(), Level: "INFO",
		Message: "Test message from quotad: notifier " + n.Name + " (" + n.Type + ") works",
		Fields:  map[string]string{"notifier": n.Name},
	}
	s, err := NewSender(n)
	if err != nil {
		return m, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.AttemptTimeout())
	defer cancel()
	return m, s.Send(ctx, m)
}
