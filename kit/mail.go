package kit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Errors of email.
var (
	ErrNoMail      = errors.New("kit: email is not configured")
	ErrNoUserEmail = errors.New("kit: the user has no email address")
)

// MailConfig is how the kit sends email (the admin's password reset links):
// through an SMTP server, or not at all.
type MailConfig struct {
	// SMTPURL names the server: smtp://[user:password@]host[:port]
	// (STARTTLS when the server offers it, required when a password is
	// given; port 587 by default) or smtps://... (TLS from the start, port
	// 465). Empty: no email.
	SMTPURL string
	// From is the sender's address (API_EMAIL_SENDER_ADDRESS) and
	// FromName its name (API_EMAIL_SENDER_NAME).
	From     string
	FromName string
	// TLSConfig is for tests (a server with its own certificate); nil:
	// the system's roots and the server's host name.
	TLSConfig *tls.Config
}

// mailer sends plain-text email through SMTP.
type mailer struct {
	u         *url.URL
	from      mail.Address
	tlsConfig *tls.Config
}

func newMailer(c MailConfig) (*mailer, error) {
	if c.SMTPURL == "" {
		return nil, nil
	}
	u, err := url.Parse(c.SMTPURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("kit: SMTP URL: want smtp://[user:password@]host[:port] or smtps://...")
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("kit: sender address %q: %w", c.From, err)
	}
	from.Name = c.FromName
	return &mailer{u: u, from: *from, tlsConfig: c.TLSConfig}, nil
}

// send sends one plain-text message to one address.
func (m *mailer) send(ctx context.Context, to mail.Address, subject, body string) error {
	host := m.u.Hostname()
	port := m.u.Port()
	if port == "" {
		port = "587"
		if m.u.Scheme == "smtps" {
			port = "465"
		}
	}
	tc := m.tlsConfig
	if tc == nil {
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if m.u.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	} else {
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	}
	if err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("kit: mail: %w", err)
	}
	defer c.Close()
	if m.u.Scheme == "smtp" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("kit: mail: STARTTLS: %w", err)
			}
		}
	}
	if pw, ok := m.u.User.Password(); ok {
		// net/smtp sends a password only over TLS (or to localhost).
		if err := c.Auth(smtp.PlainAuth("", m.u.User.Username(), pw, host)); err != nil {
			return fmt.Errorf("kit: mail: auth: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	if _, err := w.Write(m.message(to, subject, body)); err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("kit: mail: %w", err)
	}
	return c.Quit()
}

// message is the RFC 5322 message: UTF-8 text, quoted-printable.
func (m *mailer) message(to mail.Address, subject, body string) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", m.from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// MailConfigured tells whether the kit can send email.
func (k *Kit) MailConfigured() bool { return k.mail != nil }

// MailResetLink emails a user the link that sets a new password.
func (k *Kit) MailResetLink(ctx context.Context, username, link string, expires time.Time) error {
	if k.mail == nil {
		return ErrNoMail
	}
	u, err := k.st.UserByName(ctx, username)
	if err != nil {
		return ErrUserNotFound
	}
	if u.Email == "" {
		return ErrNoUserEmail
	}
	to := mail.Address{Name: u.Name, Address: u.Email}
	body := "Hello " + displayName(u.Name, u.Username) + ",\n\n" +
		"the administrator of " + k.Host() + " sent you this link to choose a new password:\n\n" +
		link + "\n\n" +
		"It works once, until " + expires.UTC().Format("2 January 2006 15:04 MST") + ".\n" +
		"If you did not ask for it, you can ignore this message.\n"
	return k.mail.send(ctx, to, "Choose a new password for "+k.Host(), body)
}

func displayName(name, username string) string {
	if name != "" {
		return name
	}
	return username
}
