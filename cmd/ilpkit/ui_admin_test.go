package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uiLogin signs name in through the sign-in page.
func uiLogin(b *browser, base, name, password string) {
	b.t.Helper()
	b.do("open sign in", chromedp.Navigate(base+"/login"))
	b.wait("document.body.dataset.ready && document.getElementById('login-form')")
	b.do("sign in "+name,
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")))
	b.wait("location.pathname === '/' && document.getElementById('balance')")
}

// open goes to a page of the app and waits until it has loaded its data.
func (b *browser) open(base, path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(base+path))
	b.wait("document.body.dataset.ready && document.querySelector('main h1') && !document.querySelector('main [aria-busy=true]')")
}

func uiKit(t *testing.T) (string, *apiClient) {
	t.Helper()
	env := map[string]string{"ILPKIT_DATA_DIR": filepath.Join(t.TempDir(), "data"), "LOG_LEVEL": "warn",
		"API_REGISTRATION": "true", "API_LEDGER_ADMIN_PASS": "admin-password"}
	base, _, _ := startServe(t, env)
	return base, login(t, base, "admin", "admin-password")
}

// TestUIAdmin: the admin creates an invite in the UI and a new user
// registers with it; that user creates a token in Settings and sees it in
// the list; the admin pages are refused to a non-admin, whose menu has no
// admin link.
func TestUIAdmin(t *testing.T) {
	exe := chromiumPath(t)
	base, _ := uiKit(t)

	admin := newBrowser(t, exe)
	uiLogin(admin, base, "admin", "admin-password")
	admin.wait(`document.querySelector('nav a[href="/admin"]')`)
	admin.do("open admin", chromedp.Click(chromedp.CSS(`nav a[href="/admin"]`)))
	admin.wait("document.getElementById('user-list') && document.querySelector('[data-user=admin]')")
	admin.do("open invites", chromedp.Click(chromedp.CSS(`nav.subnav a[href="/admin/invites"]`)))
	admin.wait("document.getElementById('invite-form') && !document.querySelector('#invites[aria-busy]')")
	// An amount the API cannot take is refused next to the field.
	admin.do("bad amount",
		chromedp.SetValue(chromedp.ID("invite-amount"), "1.2.3"),
		chromedp.Click(chromedp.CSS("#invite-form button[type=submit]")))
	admin.wait("document.getElementById('invite-amount-msg').textContent !== ''")
	admin.do("create invite",
		chromedp.SetValue(chromedp.ID("invite-amount"), "7.5"),
		chromedp.Click(chromedp.CSS("#invite-form button[type=submit]")))
	admin.wait("document.getElementById('invite-link') && document.querySelector('#invite-list .invite-code')")
	link := eval[string](admin, "document.getElementById('invite-link').href")
	if !strings.Contains(link, "/register?invite=") {
		t.Fatalf("invite link %q", link)
	}
	admin.noHorizontalScroll("admin invites")

	carol := newBrowser(t, exe)
	carol.do("open invite link", chromedp.Navigate(link))
	carol.wait("document.body.dataset.ready && document.getElementById('register-form') && document.getElementById('invite').value")
	carol.do("register carol",
		chromedp.SendKeys(chromedp.ID("username"), "carol"),
		chromedp.SendKeys(chromedp.ID("password"), "carol-password"),
		chromedp.Click(chromedp.CSS("#register-form button[type=submit]")))
	carol.wait("location.pathname === '/' && document.getElementById('balance').textContent.startsWith('7.5 ')")
	// The admin's list shows the invite claimed.
	admin.open(base, "/admin/invites")
	if s := eval[string](admin, "document.getElementById('invite-list').textContent"); !strings.Contains(s, "claimed") {
		t.Errorf("invite list after registration: %q", s)
	}

	// Settings: a token, shown once, then listed.
	if eval[bool](carol, `!!document.querySelector('nav a[href="/admin"]')`) {
		t.Error("a non-admin's menu links to the admin pages")
	}
	carol.do("open settings", chromedp.Click(chromedp.CSS(`nav a[href="/settings"]`)))
	carol.wait("document.getElementById('token-form') && !document.querySelector('#tokens[aria-busy]')")
	carol.do("empty token name", chromedp.Click(chromedp.CSS("#token-form button[type=submit]")))
	carol.wait("document.getElementById('token-name-msg').textContent !== ''")
	carol.do("create token",
		chromedp.SendKeys(chromedp.ID("token-name"), "laptop"),
		chromedp.Click(chromedp.CSS("#token-form button[type=submit]")))
	carol.wait("document.getElementById('token-value') && document.getElementById('token-list') && document.getElementById('token-list').textContent.includes('laptop')")
	token := eval[string](carol, "document.getElementById('token-value').textContent")
	if len(token) < 16 {
		t.Errorf("token %q", token)
	}
	carol.noHorizontalScroll("settings")

	// Profile and password.
	carol.do("profile",
		chromedp.SendKeys(chromedp.ID("name"), "Carol"),
		chromedp.Click(chromedp.CSS("#profile-form button[type=submit]")))
	carol.wait("document.getElementById('profile-result').textContent !== ''")
	carol.do("wrong current password",
		chromedp.SendKeys(chromedp.ID("current-password"), "nope"),
		chromedp.SendKeys(chromedp.ID("new-password"), "carol-password-2"),
		chromedp.Click(chromedp.CSS("#password-form button[type=submit]")))
	carol.wait("document.getElementById('current-password-msg').textContent !== ''")
	carol.do("change password",
		chromedp.SetValue(chromedp.ID("current-password"), "carol-password"),
		chromedp.Click(chromedp.CSS("#password-form button[type=submit]")))
	carol.wait("document.getElementById('password-result').textContent !== ''")
	c := login(t, base, "carol", "carol-password-2")
	var me struct{ User struct{ Name string } }
	c.call("GET", "/api/auth/load", nil, &me)
	if me.User.Name != "Carol" {
		t.Errorf("name %q after saving the profile", me.User.Name)
	}

	// The admin pages are refused: the app goes home.
	for _, p := range []string{"/admin", "/admin/invites", "/admin/peers", "/admin/withdrawals", "/admin/settlements", "/admin/settlement-methods"} {
		carol.do("open "+p, chromedp.Navigate(base+p))
		carol.wait("document.body.dataset.ready && location.pathname === '/' && document.getElementById('balance')")
		if eval[bool](carol, "!!document.getElementById('invite-form') || !!document.getElementById('user-list')") {
			t.Errorf("%s shown to a non-admin", p)
		}
	}

	// The revoked token leaves the list.
	carol.open(base, "/settings")
	carol.do("revoke", chromedp.Click(chromedp.CSS(`#token-list button[aria-label="Revoke laptop"]`)))
	carol.wait("!document.getElementById('token-list') || !document.getElementById('token-list').textContent.includes('laptop')")

	// Admin: a withdrawal's status, a user's limits, a peer that cannot be
	// reached (refused next to the hostname).
	if code := c.call("POST", "/api/withdrawals", map[string]string{"amount": "2000000000"}, nil); code != 201 {
		t.Fatalf("withdrawal %d", code)
	}
	admin.open(base, "/admin/withdrawals")
	admin.do("complete withdrawal",
		chromedp.SetValue(chromedp.CSS("#withdrawal-list select"), "completed"),
		chromedp.Click(chromedp.CSS("#withdrawal-list button[type=submit]")))
	admin.wait("document.getElementById('withdrawal-list') && document.getElementById('withdrawal-list').textContent.includes('This status is final')")
	var ws []struct{ Status string }
	admin2 := login(t, base, "admin", "admin-password")
	admin2.call("GET", "/api/withdrawals", nil, &ws)
	if len(ws) != 1 || ws[0].Status != "completed" {
		t.Errorf("withdrawals after the UI: %+v", ws)
	}
	admin.open(base, "/admin")
	admin.do("limits",
		chromedp.SetValue(chromedp.CSS("li[data-user=carol] input[id$=-min]"), "-10"),
		chromedp.SetValue(chromedp.CSS("li[data-user=carol] input[id$=-max]"), "50"),
		chromedp.Click(chromedp.CSS("li[data-user=carol] button[type=submit]")))
	admin.wait("document.querySelector('li[data-user=carol]') && document.querySelector('li[data-user=carol]').textContent.includes('−10 USD to 50 USD')")
	// A password reset link, made by the admin, used by carol.
	admin.do("reset link", chromedp.Click(chromedp.CSS(`li[data-user=carol] button[aria-label^="Password reset link"]`)))
	admin.wait("document.querySelector('li[data-user=carol] .reset-link a')")
	resetURL := eval[string](admin, "new URL(document.querySelector('li[data-user=carol] .reset-link a').href).pathname")
	if !strings.HasPrefix(resetURL, "/change-password/carol/") {
		t.Fatalf("reset link %q", resetURL)
	}
	anon := newBrowser(t, exe)
	anon.open(base, resetURL)
	anon.do("new password",
		chromedp.SendKeys(chromedp.ID("reset-password"), "carol-password-3"),
		chromedp.Click(chromedp.CSS("#reset-form button[type=submit]")))
	anon.wait("document.getElementById('reset-result') && document.getElementById('reset-result').textContent.includes('password is set')")
	login(t, base, "carol", "carol-password-3")

	admin.open(base, "/admin/peers")
	admin.do("unreachable peer",
		chromedp.SendKeys(chromedp.ID("peer-host"), "no-such-kit.invalid"),
		chromedp.SendKeys(chromedp.ID("peer-limit"), "10"),
		chromedp.Click(chromedp.CSS("#peer-form button[type=submit]")))
	admin.wait("document.getElementById('peer-host-msg').textContent !== '' || document.querySelector('#peer-form .form-msg').textContent !== ''")
	admin.noHorizontalScroll("admin peers")
}

// TestUIScreenshots takes the tour of every page (uiTour) and checks that
// none scrolls horizontally at 375 px. With ILPKIT_UI_SCREENSHOTS set to a
// directory (make screenshots) it writes <page>-<width>.png there.
func TestUIScreenshots(t *testing.T) {
	exe := chromiumPath(t)
	dir := os.Getenv("ILPKIT_UI_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uiTour(t, exe, func(b *browser, name string, width int64) {
		if width == 375 {
			b.noHorizontalScroll(name)
		}
		if dir == "" {
			return
		}
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		// Let fonts and pictures settle.
		time.Sleep(100 * time.Millisecond)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+"-"+strconv.FormatInt(width, 10)+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUIPeers: the admin of one kit adds another kit by hostname in the
// UI, sees it online with its limit and balance, changes the limit and
// removes it.
func TestUIPeers(t *testing.T) {
	exe := chromiumPath(t)
	if testing.Short() {
		t.Skip("starts processes")
	}
	k1, k2 := startKitProcess(t, kitEnv(t, "test.one.")), startKitProcess(t, kitEnv(t, "test.two."))
	a2 := login(t, k2.base, "admin", "admin-password")
	if code := a2.call("POST", "/api/peers", map[string]string{"hostname": k1.host, "limit": "1000000000000"}, nil); code != 201 {
		t.Fatalf("add peer on kit two: %d", code)
	}
	b := newBrowser(t, exe)
	uiLogin(b, k1.base, "admin", "admin-password")
	b.open(k1.base, "/admin/peers")
	b.do("add peer",
		chromedp.SendKeys(chromedp.ID("peer-host"), k2.host),
		chromedp.SendKeys(chromedp.ID("peer-limit"), "1000"),
		chromedp.Click(chromedp.CSS("#peer-form button[type=submit]")))
	sel := `document.querySelector('#peer-list [data-peer="` + k2.host + `"]')`
	b.wait(sel)
	for deadline := time.Now().Add(20 * time.Second); !eval[bool](b, sel+".textContent.includes('● online')"); {
		if time.Now().After(deadline) {
			t.Fatalf("peer never shown online: %s", eval[string](b, sel+".textContent"))
		}
		time.Sleep(200 * time.Millisecond)
		b.open(k1.base, "/admin/peers")
	}
	if s := eval[string](b, sel+".textContent"); !strings.Contains(s, "Limit 1000 USD") || !strings.Contains(s, "0 USD") {
		t.Errorf("peer shown as %q", s)
	}
	b.noHorizontalScroll("admin peers")
	b.do("change limit",
		chromedp.SetValue(chromedp.CSS(`[data-peer="`+k2.host+`"] input`), "500"),
		chromedp.Click(chromedp.CSS(`[data-peer="`+k2.host+`"] button[type=submit]`)))
	b.wait(sel + " && " + sel + ".textContent.includes('Limit 500 USD')")
	eval[bool](b, "(window.confirm = () => true, true)")
	b.do("remove", chromedp.Click(chromedp.CSS(`[data-peer="`+k2.host+`"] button.secondary`)))
	b.wait("document.getElementById('peer-list') && !" + sel)
	var peers []struct{ Hostname string }
	login(t, k1.base, "admin", "admin-password").call("GET", "/api/peers", nil, &peers)
	if len(peers) != 0 {
		t.Errorf("peers after removal: %+v", peers)
	}
}
