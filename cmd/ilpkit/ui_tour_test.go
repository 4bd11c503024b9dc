package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// tourStop is one page of the UI in one state: the page at path, brought
// into the state by prepare (nil: as it loads).
type tourStop struct {
	name, path string
	prepare    func(b *browser)
}

// uiTour starts two peered kits with some data (users, a payment, a
// withdrawal, a settlement, an open invite, a token) and visits every page
// of the UI, signed out, as a user and as the admin, at 1280×800 and
// 375×812; at calls check at each stop once it is shown. TestUIScreenshots
// and TestUIAxe take the same tour.
func uiTour(t *testing.T, exe string, check func(b *browser, name string, width int64)) {
	t.Helper()
	// Two kits, peered, so that the peers page shows one.
	k1, k2 := startKitProcess(t, kitEnv(t, "test.one.")), startKitProcess(t, kitEnv(t, "test.two."))
	base, admin := k1.base, login(t, k1.base, "admin", "admin-password")
	for _, p := range []struct {
		admin *apiClient
		peer  string
	}{{admin, k2.host}, {login(t, k2.base, "admin", "admin-password"), k1.host}} {
		if code := p.admin.call("POST", "/api/peers", map[string]string{"hostname": p.peer, "limit": "1000000000000"}, nil); code != 201 {
			t.Fatalf("add peer %s: %d", p.peer, code)
		}
	}

	// Data: two users, a payment, a withdrawal, an open invite, a token,
	// settlement methods, a user's and a peer's settlement.
	var inv struct{ Code string }
	if code := admin.call("POST", "/api/invites", map[string]string{"amount": "100000000000"}, &inv); code != 201 {
		t.Fatalf("invite %d", code)
	}
	pub := newAPIClient(t, base)
	if code := pub.call("POST", "/api/users/alice", map[string]string{"password": "alice-password", "name": "Alice Liddell", "inviteCode": inv.Code}, nil); code != 201 {
		t.Fatalf("register alice %d", code)
	}
	if code := pub.call("POST", "/api/users/bob", map[string]string{"password": "bob-password", "name": "Bob"}, nil); code != 201 {
		t.Fatalf("register bob %d", code)
	}
	alice := login(t, base, "alice", "alice-password")
	var q struct{ ID, SourceAmount, DestinationAmount string }
	if code := alice.call("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "12500000000"}, &q); code != 200 {
		t.Fatalf("quote %d", code)
	}
	if code := alice.call("PUT", "/api/payments/shot-1", map[string]string{"quoteId": q.ID, "sourceAmount": q.SourceAmount,
		"destinationAmount": q.DestinationAmount, "message": "lunch"}, nil); code != 200 && code != 202 {
		t.Fatalf("pay %d", code)
	}
	if code := alice.call("POST", "/api/withdrawals", map[string]string{"amount": "3000000000"}, nil); code != 201 {
		t.Fatalf("withdrawal %d", code)
	}
	if code := alice.call("POST", "/api/tokens", map[string]string{"name": "phone"}, nil); code != 201 {
		t.Fatalf("token %d", code)
	}
	if code := admin.call("POST", "/api/invites", map[string]string{"amount": "5000000000"}, nil); code != 201 {
		t.Fatalf("invite %d", code)
	}
	var method struct{ ID string }
	if code := admin.call("POST", "/api/settlement_methods", map[string]string{"type": "cash", "name": "Cash desk",
		"description": "Room 2, weekdays"}, &method); code != 201 {
		t.Fatalf("settlement method %d", code)
	}
	if code := admin.call("POST", "/api/settlement_methods", map[string]any{"type": "paypal", "name": "PayPal",
		"uri": "https://pay.example/kit", "enabled": false}, nil); code != 201 {
		t.Fatalf("settlement method %d", code)
	}
	if code := admin.call("POST", "/api/settlements/user/alice", map[string]string{"amount": "20000000000", "method": method.ID, "note": "coins"}, nil); code != 201 {
		t.Fatalf("settlement %d", code)
	}
	var peers []struct{ ID string }
	admin.call("GET", "/api/peers", nil, &peers)
	if len(peers) != 1 {
		t.Fatalf("peers %+v", peers)
	}
	if code := admin.call("POST", "/api/settlements/peer/"+peers[0].ID, map[string]string{"amount": "7000000000"}, nil); code != 201 {
		t.Fatalf("peer settlement %d", code)
	}

	visit := func(b *browser, s tourStop) {
		t.Helper()
		for _, size := range [][2]int64{{1280, 800}, {375, 812}} {
			b.do("viewport", chromedp.EmulateViewport(size[0], size[1]))
			b.open(base, s.path)
			if s.prepare != nil {
				s.prepare(b)
			}
			check(b, s.name, size[0])
		}
	}
	// A resolved receiver and amounts, as a person sees it.
	quoted := func(b *browser) {
		b.do("destination", chromedp.SendKeys(chromedp.ID("destination"), "bob"))
		b.wait("document.getElementById('send-form').dataset.curve")
		b.do("amount", chromedp.SendKeys(chromedp.ID("source"), "2.5"))
	}
	// Errors next to the fields.
	refused := func(form string) func(b *browser) {
		return func(b *browser) {
			b.do("submit empty", chromedp.Click(chromedp.CSS("#"+form+" button[type=submit]")))
			b.wait("document.querySelector('#" + form + " .msg.error')")
		}
	}

	anon := newBrowser(t, exe)
	for _, s := range []tourStop{
		{"login", "/login", nil},
		{"login-error", "/login", refused("login-form")},
		{"register", "/register", nil},
		{"reset-password", "/change-password/bob/a-code-from-the-admin", nil},
		{"not-found", "/no-such-page", nil},
	} {
		visit(anon, s)
	}

	ab := newBrowser(t, exe)
	uiLogin(ab, base, "alice", "alice-password")
	for _, s := range []tourStop{
		{"home", "/", nil},
		{"send-empty", "/send", nil},
		{"send", "/send", quoted},
		{"settings", "/settings", nil},
	} {
		visit(ab, s)
	}

	adm := newBrowser(t, exe)
	uiLogin(adm, base, "admin", "admin-password")
	for _, s := range []tourStop{
		{"admin-users", "/admin", nil},
		{"admin-invites", "/admin/invites", nil},
		{"admin-peers", "/admin/peers", nil},
		{"admin-withdrawals", "/admin/withdrawals", nil},
		{"admin-settlements", "/admin/settlements", nil},
		{"admin-settlements-error", "/admin/settlements", refused("settlement-form")},
		{"admin-settlement-methods", "/admin/settlement-methods", nil},
	} {
		visit(adm, s)
	}
}
