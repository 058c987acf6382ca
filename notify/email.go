package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/wneessen/go-mail"
)

// Email sends a plain-text email ("[quotad] GROQ quota exhausted") through
// an SMTP server: STARTTLS required unless the notifier says starttls:
// false, TLS from the first byte on port 465, and SMTP AUTH when a username
// is set (the best mechanism the server offers over TLS; PLAIN, which
// go-mail sends unencrypted only to localhost, without TLS).
type Email struct {
	Notifier Notifier
}

// Send implements Sender.
func (e *Email) Send(ctx context.Context, m Message) error {
	n := e.Notifier
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(n.From); err != nil {
		return fmt.Errorf("email from %q: %w", n.From, err)
	}
	if err := msg.To(n.To...); err != nil {
		return fmt.Errorf("email to %v: %w", n.To, err)
	}
	msg.Subject(m.Subject())
	msg.SetBodyString(mail.TypeTextPlain, m.Body())
	msg.SetDateWithValue(m.Time)
	msg.SetMessageIDWithValue(messageID(m))
	msg.SetGenHeader(mail.HeaderXMailer, "quotad")
	msg.SetGenHeader("X-Quotad-Event", m.Kind)
	msg.SetBulk() // automated: no out-of-office replies

	opts := []mail.Option{mail.WithPort(n.Port), mail.WithTimeout(n.AttemptTimeout())}
	encrypted := true
	switch {
	case n.Port == 465:
		opts = append(opts, mail.WithSSL())
	case n.StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		encrypted = false
	}
	if n.Username != "" {
		auth := mail.SMTPAuthAutoDiscover
		if !encrypted {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(n.Username), mail.WithPassword(n.Password))
	}
	client, err := mail.NewClient(n.Host, opts...)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("email via %s:%d: %w", n.Host, n.Port, err)
	}
	return nil
}

// messageID is stable across retries, so mail clients can drop a duplicate.
func messageID(m Message) string {
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '.'
	}, m.ID)
	return id + "@quotad"
}
