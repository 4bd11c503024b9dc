package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUISettlements: the admin manages the settlement methods in the UI
// (adds two, a bad link refused next to its field, disables and enables
// one, deletes the other), records a user's settlement, which the user's
// home page shows at once as an incoming payment with the new balance, and
// a peer's settlement, a record that leaves the trustline balance as it
// was; the list shows both, newest first.
func TestUISettlements(t *testing.T) {
	exe := chromiumPath(t)
	if testing.Short() {
		t.Skip("starts processes")
	}
	k1, k2 := startKitProcess(t, kitEnv(t, "test.one.")), startKitProcess(t, kitEnv(t, "test.two."))
	base := k1.base
	admin := login(t, base, "admin", "admin-password")
	for _, p := range []struct {
		admin *apiClient
		peer  string
	}{{admin, k2.host}, {login(t, k2.base, "admin", "admin-password"), k1.host}} {
		if code := p.admin.call("POST", "/api/peers", map[string]string{"hostname": p.peer, "limit": "1000000000000"}, nil); code != 201 {
			t.Fatalf("add peer %s: %d", p.peer, code)
		}
	}
	if code := newAPIClient(t, base).call("POST", "/api/users/carol", map[string]string{"password": "carol-password", "name": "Carol"}, nil); code != 201 {
		t.Fatalf("register carol %d", code)
	}

	b := newBrowser(t, exe)
	uiLogin(b, base, "admin", "admin-password")
	b.do("open methods", chromedp.Click(chromedp.CSS(`nav a[href="/admin"]`)))
	b.wait("document.getElementById('user-list')")
	b.do("open methods", chromedp.Click(chromedp.CSS(`nav.subnav a[href="/admin/settlement-methods"]`)))
	b.wait("document.getElementById('method-form') && document.getElementById('method-list')")
	if s := eval[string](b, "document.getElementById('method-list').textContent"); !strings.Contains(s, "No settlement methods") {
		t.Errorf("methods at first: %q", s)
	}
	// A link that is not http(s) is refused next to its field.
	b.do("bad link",
		chromedp.SetValue(chromedp.ID("method-type"), "cash"),
		chromedp.SendKeys(chromedp.ID("method-name"), "Cash desk"),
		chromedp.SendKeys(chromedp.ID("method-uri"), "ftp://pay.example"),
		chromedp.Click(chromedp.CSS("#method-form button[type=submit]")))
	b.wait("document.getElementById('method-uri-msg').textContent !== ''")
	eval[bool](b, "(document.getElementById('method-uri').value = '', true)")
	b.do("add cash desk",
		chromedp.SendKeys(chromedp.ID("method-description"), "Room 2, weekdays"),
		chromedp.Click(chromedp.CSS("#method-form button[type=submit]")))
	b.wait(`document.querySelector('#method-list [data-method="Cash desk"]')`)
	b.do("add old",
		chromedp.SetValue(chromedp.ID("method-type"), "paypal"),
		chromedp.SendKeys(chromedp.ID("method-name"), "Old"),
		chromedp.SendKeys(chromedp.ID("method-uri"), "https://pay.example/kit"),
		chromedp.Click(chromedp.CSS("#method-form button[type=submit]")))
	b.wait(`document.querySelector('#method-list [data-method="Old"]')`)
	b.noHorizontalScroll("admin settlement methods")
	b.do("disable", chromedp.Click(chromedp.CSS(`button[aria-label="Disable Cash desk"]`)))
	b.wait(`document.querySelector('button[aria-label="Enable Cash desk"]')`)
	var public []struct{ Name string }
	getJSON(t, base+"/api/settlement_methods", &public)
	if len(public) != 1 || public[0].Name != "Old" {
		t.Errorf("enabled methods after disabling the cash desk: %+v", public)
	}
	b.do("enable", chromedp.Click(chromedp.CSS(`button[aria-label="Enable Cash desk"]`)))
	b.wait(`document.querySelector('button[aria-label="Disable Cash desk"]')`)
	eval[bool](b, "(window.confirm = () => true, true)")
	b.do("delete", chromedp.Click(chromedp.CSS(`button[aria-label="Delete Old"]`)))
	b.wait(`document.getElementById('method-list') && !document.querySelector('#method-list [data-method="Old"]')`)
	var all []struct {
		Name, Type, Description string
		Enabled                 bool
	}
	admin.call("GET", "/api/settlement_methods?all=true", nil, &all)
	if len(all) != 1 || all[0].Name != "Cash desk" || all[0].Type != "cash" || all[0].Description != "Room 2, weekdays" || !all[0].Enabled {
		t.Errorf("methods after the UI: %+v", all)
	}

	// Carol watches her home page.
	carol := newBrowser(t, exe)
	uiLogin(carol, base, "carol", "carol-password")

	// A user's settlement.
	b.do("open settlements", chromedp.Click(chromedp.CSS(`nav.subnav a[href="/admin/settlements"]`)))
	b.wait("document.getElementById('settlement-form') && document.getElementById('settlement-list')")
	if s := eval[string](b, "document.getElementById('settlement-list').textContent"); !strings.Contains(s, "No settlements") {
		t.Errorf("settlements at first: %q", s)
	}
	// Nobody chosen, then no amount: refused next to the fields.
	b.do("nobody", chromedp.Click(chromedp.CSS("#settlement-form button[type=submit]")))
	b.wait("document.getElementById('settlement-who-msg').textContent !== ''")
	b.do("empty amount",
		chromedp.SetValue(chromedp.ID("settlement-who"), "user:carol"),
		chromedp.Click(chromedp.CSS("#settlement-form button[type=submit]")))
	b.wait("document.getElementById('settlement-amount-msg').textContent !== ''")
	methodID := eval[string](b, `[...document.getElementById('settlement-method').options].find(o => o.textContent === 'Cash desk').value`)
	b.do("settle carol",
		chromedp.SendKeys(chromedp.ID("settlement-amount"), "12.5"),
		chromedp.SetValue(chromedp.ID("settlement-method"), methodID),
		chromedp.SendKeys(chromedp.ID("settlement-note"), "coins"),
		chromedp.Click(chromedp.CSS("#settlement-form button[type=submit]")))
	b.wait("document.getElementById('settlement-result').textContent.includes('carol paid 12.5 USD (Cash desk)')")
	b.wait("document.querySelector('#settlement-list tbody tr')")
	row := eval[string](b, "document.querySelector('#settlement-list tbody tr').textContent")
	for _, want := range []string{"carol", "12.5 USD", "Cash desk", "coins"} {
		if !strings.Contains(row, want) {
			t.Errorf("settlement row %q lacks %q", row, want)
		}
	}
	carol.wait("[...document.querySelectorAll('#activity li.incoming')].some(li => li.textContent.includes('Settlement (Cash desk)') && li.textContent.includes('+12.5 USD') && li.textContent.includes('coins'))")
	carol.wait("document.getElementById('balance').textContent === '12.5 USD'")
	if s := eval[string](carol, "document.querySelector('#activity li.incoming .what').textContent"); strings.Contains(s, "Received from") {
		t.Errorf("a settlement shown as %q", s)
	}
	carol.noHorizontalScroll("home with a settlement")

	// A peer's settlement: a record only.
	var peers []struct{ ID, Hostname, Balance string }
	admin.call("GET", "/api/peers", nil, &peers)
	if len(peers) != 1 {
		t.Fatalf("peers %+v", peers)
	}
	b.do("peer",
		chromedp.SetValue(chromedp.ID("settlement-who"), "peer:"+peers[0].ID),
		chromedp.Evaluate[chromedp.Void]("document.getElementById('settlement-who').dispatchEvent(new Event('change'))"))
	if s := eval[string](b, "document.getElementById('settlement-who-hint').textContent"); !strings.Contains(s, "record only") {
		t.Errorf("hint for a peer: %q", s)
	}
	b.do("settle peer",
		chromedp.SendKeys(chromedp.ID("settlement-amount"), "3"),
		chromedp.Click(chromedp.CSS("#settlement-form button[type=submit]")))
	b.wait("document.getElementById('settlement-result').textContent.includes('" + k2.host + " paid 3 USD (manual)')")
	b.wait("document.querySelectorAll('#settlement-list tbody tr').length === 2")
	if row := eval[string](b, "document.querySelector('#settlement-list tbody tr').textContent"); !strings.Contains(row, k2.host+" (peer)") || !strings.Contains(row, "3 USD") {
		t.Errorf("newest settlement row %q", row)
	}
	var after []struct{ ID, Balance string }
	admin.call("GET", "/api/peers", nil, &after)
	if len(after) != 1 || after[0].Balance != peers[0].Balance {
		t.Errorf("peer balance %+v after a settlement, was %s", after, peers[0].Balance)
	}
	b.noHorizontalScroll("admin settlements")
}
