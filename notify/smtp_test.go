package notify_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
)

// smtpServer is a tiny SMTP server on 127.0.0.1 speaking enough of RFC 5321
// for go-mail: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It
// advertises no STARTTLS (the test notifiers set starttls: false).
type smtpServer struct {
	t    *testing.T
	ln   net.Listener
	mu   sync.Mutex
	mail []smtpMail
	// failData is how many DATA transfers to refuse with 451 (a temporary
	// failure) before accepting.
	failData int
	wg       sync.WaitGroup
}

type smtpMail struct {
	auth string // "identity\x00user\x00password" from AUTH PLAIN
	from string
	to   []string
	data string // the message as received, dot-unstuffed
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) mails() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mail...)
}

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.session(c) }()
	}
}

func (s *smtpServer) session(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(lines ...string) { io.WriteString(c, strings.Join(lines, "\r\n")+"\r\n") }
	var m smtpMail
	say("220 localhost ESMTP quotad-test")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			say("250-localhost greets "+arg, "250-AUTH PLAIN", "250 HELP")
		case "HELO":
			say("250 localhost")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if strings.ToUpper(mech) != "PLAIN" {
				say("504 5.5.4 unrecognised authentication type")
				continue
			}
			if resp == "" {
				say("334 ")
				if resp, err = r.ReadString('\n'); err != nil {
					return
				}
				resp = strings.TrimSpace(resp)
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				say("501 5.5.2 cannot decode response")
				continue
			}
			m.auth = string(b)
			say("235 2.7.0 authentication successful")
		case "MAIL":
			m.from = strings.Trim(strings.TrimPrefix(strings.ToUpper(arg[:5])+arg[5:], "FROM:"), "<> ")
			say("250 2.1.0 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(arg[3:], "<> "))
			say("250 2.1.5 ok")
		case "DATA":
			say("354 end data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = data.String()
			s.mu.Lock()
			fail := s.failData > 0
			if fail {
				s.failData--
			} else {
				s.mail = append(s.mail, m)
			}
			s.mu.Unlock()
			if fail {
				say("451 4.3.0 try again later")
			} else {
				say("250 2.0.0 queued")
			}
			m = smtpMail{auth: m.auth}
		case "RSET":
			m = smtpMail{auth: m.auth}
			say("250 2.0.0 ok")
		case "NOOP":
			say("250 2.0.0 ok")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("502 5.5.1 unrecognised command")
		}
	}
}

// parsed returns a received mail's headers and decoded body.
func parsed(t *testing.T, m smtpMail) (mail.Header, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, m.data)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header, strings.ReplaceAll(string(b), "\r\n", "\n")
}
