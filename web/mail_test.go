package web

import (
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/smtptest"
	"github.com/ilpkit/ilpkit/kit"
)

// TestResetLinkByEmail: with SMTP configured, the admin's reset link for a
// user with an address reaches the user's mailbox; the user sets a new
// password with it. A user without an address gets no mail; the admin
// still gets the link.
func TestResetLinkByEmail(t *testing.T) {
	box, addr := smtptest.Start(t, "kit", "s3cret")
	e := newEnv(t, sqliteDSN(t), func(c *kit.Config) {
		c.Mail = kit.MailConfig{SMTPURL: "smtp://kit:s3cret@" + addr, From: "wallet@wallet.test", FromName: "Wallet"}
	})
	e.user("alice", "alice-password", "") // with alice@mail.test
	anon := e.client()
	if r := anon.do("POST", "/api/users/nomail", map[string]string{"password": "nomail-password"}); r.code != 201 {
		t.Fatalf("register: %d %s", r.code, r.body)
	}
	admin := e.admin()

	var link struct {
		Code, Link string
		Emailed    bool
	}
	r := admin.do("POST", "/api/users/alice/reset-link", nil)
	expect(t, "reset link", r, 201, "")
	r.decode(t, &link)
	if !link.Emailed {
		t.Fatalf("not emailed: %s", r.body)
	}
	msgs := box.Messages()
	if len(msgs) != 1 || msgs[0].To != "alice@mail.test" {
		t.Fatalf("mailbox %+v", msgs)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	if !strings.Contains(string(body), link.Link) {
		t.Fatalf("the mail does not carry the link %s:\n%s", link.Link, body)
	}
	expect(t, "reset with the mailed code", anon.do("POST", "/api/auth/reset", map[string]string{"username": "alice", "code": link.Code, "password": "alice-new-password"}), 204, "")
	e.client().login("alice", "alice-new-password")

	r = admin.do("POST", "/api/users/nomail/reset-link", nil)
	expect(t, "reset link without an address", r, 201, "")
	r.decode(t, &link)
	if link.Emailed || link.Link == "" || len(box.Messages()) != 1 {
		t.Errorf("a user without an address: %s, %d mails", r.body, len(box.Messages()))
	}
}
