package kit_test

import (
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/smtptest"
	"github.com/ilpkit/ilpkit/kit"
)

// TestMailResetLink: with SMTP configured, the admin's reset link reaches
// the user's mailbox, readable and from the configured sender; without
// an address or without SMTP, a clear error and no mail.
func TestMailResetLink(t *testing.T) {
	ctx := context.Background()
	box, addr := smtptest.Start(t, "kit", "s3cret")
	k := open(t, kit.Config{
		DBURI: filepath.Join(t.TempDir(), "kit.db"), AdminPass: "admin-password", Registration: true, Hostname: "wallet.test",
		Mail: kit.MailConfig{SMTPURL: "smtp://kit:s3cret@" + addr, From: "wallet@wallet.test", FromName: "Wallet Ünion"},
	})
	if !k.MailConfigured() {
		t.Fatal("mail not configured")
	}
	if _, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", Name: "Alice", Email: "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password"}); err != nil {
		t.Fatal(err)
	}
	link := "http://wallet.test/change-password/alice/code-123"
	if err := k.MailResetLink(ctx, "alice", link, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := k.MailResetLink(ctx, "bob", link, time.Now()); !errors.Is(err, kit.ErrNoUserEmail) {
		t.Errorf("a user without email: %v", err)
	}
	msgs := box.Messages()
	if len(msgs) != 1 || msgs[0].From != "wallet@wallet.test" || msgs[0].To != "alice@example.test" {
		t.Fatalf("mailbox: %+v", msgs)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Wallet Ünion" {
		t.Errorf("From %v %v", from, err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil || !strings.Contains(string(body), link) || !strings.Contains(string(body), "Alice") {
		t.Errorf("body %q %v", body, err)
	}

	// A wrong password: the server refuses, the kit says so.
	k2 := open(t, kit.Config{
		DBURI: filepath.Join(t.TempDir(), "kit2.db"), AdminPass: "admin-password", Hostname: "wallet.test", Registration: true,
		Mail: kit.MailConfig{SMTPURL: "smtp://kit:wrong@" + addr, From: "wallet@wallet.test"},
	})
	if _, err := k2.Register(ctx, kit.NewUser{Username: "carol", Password: "carol-password", Email: "carol@example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := k2.MailResetLink(ctx, "carol", link, time.Now()); err == nil || errors.Is(err, kit.ErrNoUserEmail) {
		t.Errorf("with a wrong password: %v", err)
	}
	// No SMTP at all.
	k3 := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit3.db"), AdminPass: "admin-password"})
	if err := k3.MailResetLink(ctx, "admin", link, time.Now()); !errors.Is(err, kit.ErrNoMail) {
		t.Errorf("without SMTP: %v", err)
	}
	if _, err := kit.Open(ctx, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit4.db"), Mail: kit.MailConfig{SMTPURL: "http://x", From: "a@b"}}); err == nil {
		t.Error("an http:// SMTP URL was accepted")
	}
}
