package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	HeaderSignature = "X-Quotad-Signature" // "sha256=" + hex HMAC-SHA256 of timestamp + "." + body
	HeaderTimestamp = "X-Quotad-Timestamp" // Unix seconds when the request was signed
	HeaderEvent     = "X-Quotad-Event"     // the message kind
	HeaderDelivery  = "X-Quotad-Delivery"  // the message ID, the same on every retry
)

// Webhook posts the message's JSON document ({"id", "kind", "time", "api",
// "window", "channel", "message", "fields", plus "level" and "category"}).
// With a Secret, every request carries X-Quotad-Timestamp and
// X-Quotad-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + body>;
// signing the timestamp lets a receiver refuse replays of old requests (see
// VerifySignature and CheckTimestamp).
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client      // nil = http.DefaultClient
	Now    func() time.Time  // the signing time; nil = time.Now
	Header map[string]string // extra request headers
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body := []byte(m.encode())
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	h := http.Header{}
	for k, v := range w.Header {
		h.Set(k, v)
	}
	h.Set(HeaderEvent, m.Kind)
	h.Set(HeaderDelivery, m.ID)
	h.Set(HeaderTimestamp, ts)
	if w.Secret != "" {
		h.Set(HeaderSignature, Sign(w.Secret, ts, body))
	}
	return post(ctx, w.Client, w.URL, body, h)
}

// Sign returns the X-Quotad-Signature value of a body sent at timestamp:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned by VerifySignature for a request that was not
// signed with the secret.
var ErrBadSignature = errors.New("webhook signature does not match")

// VerifySignature checks a webhook request: header is its
// X-Quotad-Signature, timestamp its X-Quotad-Timestamp, body the raw bytes
// received. It compares in constant time and returns nil or an error
// wrapping ErrBadSignature. Check the timestamp too (CheckTimestamp) to
// refuse replays.
func VerifySignature(secret, timestamp string, body []byte, header string) error {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return fmt.Errorf("%w: header %q does not start with sha256=", ErrBadSignature, header)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: header is not hexadecimal", ErrBadSignature)
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Sign(secret, timestamp, body), "sha256="))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	return nil
}

// CheckTimestamp refuses a webhook timestamp (Unix seconds) further than
// tolerance from now, in either direction: a replayed old request.
func CheckTimestamp(timestamp string, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook timestamp %q is not Unix seconds", timestamp)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook timestamp %s is %s away from now; the tolerance is %s", timestamp, d.Round(time.Second), tolerance)
	}
	return nil
}
