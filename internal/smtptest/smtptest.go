// Package smtptest gives tests a real SMTP server on loopback that asks for
// a password and keeps the messages it receives.
package smtptest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server received.
type Message struct {
	From, To string
	Data     []byte
}

// Mailbox is the server's store.
type Mailbox struct {
	mu   sync.Mutex
	msgs []Message
}

// Messages returns what the server received so far.
func (b *Mailbox) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.msgs...)
}

// Start runs a server on 127.0.0.1 that takes mail only after PLAIN
// authentication as user with password, until the test ends; it returns
// its mailbox and address.
func Start(tb testing.TB, user, password string) (*Mailbox, string) {
	tb.Helper()
	box := &Mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{box: box, user: user, password: password}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback: net/smtp sends a password in clear to 127.0.0.1 only
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return box, ln.Addr().String()
}

type session struct {
	box            *Mailbox
	user, password string
	authed         bool
	from, to       string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.user || pass != s.password {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, Message{From: s.from, To: s.to, Data: b})
	s.box.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
