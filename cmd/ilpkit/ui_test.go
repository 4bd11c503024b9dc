package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ilpkit/ilpkit/curve"
)

// chromiumPath finds a Chromium to drive: the test skips without one,
// except on CI (CI=true), where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium binary found (CI=true: .ci/run installs Debian's chromium)")
	}
	t.Skip("no chromium binary found; install Debian's chromium to run the UI tests")
	return ""
}

// browser is one headless Chromium with its own profile (its own cookies),
// at a phone's width.
type browser struct {
	t    *testing.T
	ctx  context.Context
	reqs atomic.Int64 // requests the page has sent
}

func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(375, 812), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx}
	// The first run starts the browser: no timeout on it (see chromedp.Run).
	// Headless windows are at least 500 px wide: the viewport is emulated.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 812)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *network.EventRequestWillBeSent, network.EventRequestWillBeSent:
			b.reqs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a script in the page and decodes its value.
func eval[T any](b *browser, script string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", script, err)
	}
	return v
}

// wait polls until the script is truthy.
func (b *browser) wait(script string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void]("!!("+script+")", chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		html := eval[string](b, "document.body.innerHTML")
		b.t.Fatalf("waiting for %s: %v\npage: %s", script, err, html)
	}
}

func (b *browser) focused() string {
	b.t.Helper()
	return eval[string](b, "document.activeElement.id || document.activeElement.tagName")
}

func (b *browser) keys(k string) {
	b.t.Helper()
	b.do("keys "+k, chromedp.KeyEvent(k))
}

func (b *browser) value(id string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf("document.getElementById(%q).value", id))
}

// shot writes a PNG of the page to $ILPKIT_UI_SCREENSHOTS/<name>.png when
// that variable names a directory (a first step towards make screenshots).
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("ILPKIT_UI_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := screenshotPNG(b)
	if err := os.WriteFile(filepath.Join(dir, name+"-375x812.png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func screenshotPNG(b *browser) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// noHorizontalScroll: the page fits the 375 px window.
func (b *browser) noHorizontalScroll(page string) {
	b.t.Helper()
	if w := eval[[]int](b, "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"); w[0] > w[1] {
		b.t.Errorf("%s scrolls horizontally at %d px: %d px wide", page, w[1], w[0])
	}
}

// TestUI: in real Chromium against a real "ilpkit serve", two users
// register, the sender signs out and in, and does the send flow with the
// keyboard alone; while amounts are typed the page sends no request and
// fills the other field at once from the curve; the amount debited is the
// amount shown; the receiver's home page shows the payment without a
// reload.
func TestUI(t *testing.T) {
	exe := chromiumPath(t)
	env := map[string]string{"ILPKIT_DATA_DIR": filepath.Join(t.TempDir(), "data"), "LOG_LEVEL": "warn",
		"API_REGISTRATION": "true", "API_LEDGER_ADMIN_PASS": "admin-password"}
	base, _, _ := startServe(t, env)

	admin := login(t, base, "admin", "admin-password")
	var inv struct{ Code string }
	if code := admin.call("POST", "/api/invites", map[string]string{"amount": "100000000000"}, &inv); code != 201 {
		t.Fatalf("invite %d", code)
	}
	var cfg struct {
		CurrencyCode  string
		CurrencyScale int
	}
	getJSON(t, base+"/api/config", &cfg)
	if cfg.CurrencyScale != 9 {
		t.Fatalf("the test assumes scale 9, the kit has %d", cfg.CurrencyScale)
	}

	register := func(b *browser, name, invite string) {
		t.Helper()
		b.do("open register", chromedp.Navigate(base+"/register"))
		b.wait("document.body.dataset.ready && document.getElementById('register-form')")
		b.noHorizontalScroll("register")
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.ID("username"), name),
			chromedp.SendKeys(chromedp.ID("password"), name+"-password"),
		}
		if invite != "" {
			steps = append(steps, chromedp.SendKeys(chromedp.ID("invite"), invite))
		}
		steps = append(steps, chromedp.Click(chromedp.CSS("#register-form button[type=submit]")))
		b.do("register "+name, steps...)
		b.wait("location.pathname === '/' && document.getElementById('balance')")
	}

	bob := newBrowser(t, exe)
	register(bob, "bob", "")
	bob.noHorizontalScroll("home")
	alice := newBrowser(t, exe)
	register(alice, "alice", inv.Code)
	alice.wait("document.getElementById('balance').textContent === '100 " + cfg.CurrencyCode + "'")

	// Sign out, and in again with the keyboard (Enter submits).
	alice.do("sign out", chromedp.Click(chromedp.ID("signout")))
	alice.wait("location.pathname === '/login' && document.getElementById('login-form')")
	alice.noHorizontalScroll("login")
	alice.keys(kb.Tab) // from the heading to the first field
	if f := alice.focused(); f != "username" {
		t.Fatalf("focus after Tab on the sign-in page: %s", f)
	}
	alice.keys("alice" + kb.Tab + "alice-password" + kb.Enter)
	alice.wait("location.pathname === '/' && document.getElementById('balance')")

	// Bob's page must not reload: a mark on the window survives only
	// without one.
	eval[bool](bob, "window.__kept = true")

	// The send flow, keyboard alone once on the page.
	alice.do("open send", chromedp.Click(chromedp.CSS(`nav a[href="/send"]`)))
	shown := sendByKeyboard(t, alice, "bob", "", cfg.CurrencyCode)
	if shown != [2]string{"1.25", "1.25"} { // a local payment: one for one
		t.Errorf("shown %v", shown)
	}

	var me struct{ User struct{ Balance string } }
	alice2 := login(t, base, "alice", "alice-password")
	alice2.call("GET", "/api/auth/load", nil, &me)
	debited := 100_000_000_000 - mustAtoi(t, me.User.Balance)
	if want := decimalUnits(t, shown[0], 9); debited != want {
		t.Errorf("debited %d, shown %s (%d)", debited, shown[0], want)
	}

	// Bob's home page shows it without a reload.
	bob.wait("[...document.querySelectorAll('#activity li[data-id]')].some(li => li.textContent.includes('+1.25 " + cfg.CurrencyCode + "'))")
	bob.wait("document.getElementById('balance').textContent === '1.25 " + cfg.CurrencyCode + "'")
	if !eval[bool](bob, "window.__kept === true") {
		t.Error("bob's page reloaded")
	}
	bob.noHorizontalScroll("home with activity")
	bob.shot("home")
	alice.shot("send-done")
}

// sendByKeyboard does the send flow on b's send page with the keyboard
// alone: Tab to the destination, type it, Tab to "you send" and type 2.5,
// Tab to "they receive" and type 1.25, Enter. While the amounts are typed
// the page sends no request and the other field follows. tooMuch, if
// given, is typed first in "you send" and must be refused as more than the
// curve's liquidity. It returns the two amounts shown when Enter was
// pressed.
func sendByKeyboard(t *testing.T, b *browser, dest, tooMuch, currencyCode string) [2]string {
	t.Helper()
	b.wait("document.getElementById('send-form') && document.activeElement.tagName === 'H1'")
	b.noHorizontalScroll("send")
	b.keys(kb.Tab)
	if f := b.focused(); f != "destination" {
		t.Fatalf("focus after Tab on the send page: %s", f)
	}
	b.keys(dest)
	b.wait("document.getElementById('send-form').dataset.curve && !document.getElementById('recipient').hidden")
	if s := eval[string](b, "document.getElementById('recipient-detail').textContent"); !strings.Contains(s, currencyCode) {
		t.Errorf("recipient shown as %q", s)
	}
	if s := eval[string](b, "document.getElementById('quote-status').textContent"); !strings.Contains(s, "valid for") {
		t.Errorf("quote status %q", s)
	}

	before := b.reqs.Load()
	b.keys(kb.Tab)
	if f := b.focused(); f != "source" {
		t.Fatalf("focus after the destination: %s", f)
	}
	if tooMuch != "" {
		b.keys(tooMuch)
		if m := eval[string](b, "document.getElementById('source-msg').textContent"); !strings.Contains(m, "liquidity") {
			t.Errorf("no liquidity message for %s: %q", tooMuch, m)
		}
		b.keys(strings.Repeat(kb.Backspace, len(tooMuch)))
	}
	b.keys("2.5")
	if v := b.value("dest"); v == "" || !strings.HasPrefix(v, "2.") {
		t.Errorf("they receive %q for 2.5", v)
	}
	// The other field is filled in the input event itself: before any
	// frame is drawn.
	if v := eval[string](b, `(() => { const s = document.getElementById('source');
		s.value = '3'; s.dispatchEvent(new Event('input')); return document.getElementById('dest').value })()`); v == "" {
		t.Errorf("they receive %q right after the input event", v)
	}
	// An amount the API cannot take is refused next to the field.
	eval[bool](b, `(() => { const s = document.getElementById('source');
		s.value = '99999999999'; s.dispatchEvent(new Event('input')); return true })()`)
	if m := eval[string](b, "document.getElementById('source-msg').textContent"); m == "" {
		t.Error("no message for a huge amount")
	}
	b.keys(kb.Tab)
	if f := b.focused(); f != "dest" {
		t.Fatalf("focus after you send: %s", f)
	}
	b.keys(strings.Repeat(kb.Backspace, 20) + "1.25")
	if v := b.value("dest"); v != "1.25" {
		t.Errorf("they receive %q after typing 1.25", v)
	}
	if v := b.value("source"); v == "" || !strings.HasPrefix(v, "1.2") {
		t.Errorf("you send %q for 1.25", v)
	}
	if m := eval[string](b, "document.getElementById('source-msg').textContent + document.getElementById('dest-msg').textContent"); m != "" {
		t.Errorf("messages for a good amount: %q", m)
	}
	if n := b.reqs.Load() - before; n != 0 {
		t.Errorf("%d network requests while typing amounts", n)
	}
	b.shot("send")
	shown := [2]string{b.value("source"), b.value("dest")}
	b.keys(kb.Enter)
	b.wait("document.getElementById('send-result').className === 'ok'")
	return shown
}

// TestUITwoKits: alice on one kit pays bob on another through the UI,
// with a curve that the peering limits: an amount above its liquidity is
// refused next to the field, and the amounts debited and credited are
// those shown; then again with bob's SPSP URL as the destination.
func TestUITwoKits(t *testing.T) {
	exe := chromiumPath(t)
	if testing.Short() {
		t.Skip("starts processes")
	}
	k1, k2 := startKitProcess(t, kitEnv(t, "test.one.")), startKitProcess(t, kitEnv(t, "test.two."))
	a1, a2 := login(t, k1.base, "admin", "admin-password"), login(t, k2.base, "admin", "admin-password")
	for _, p := range []struct {
		admin *apiClient
		peer  string
	}{{a1, k2.host}, {a2, k1.host}} {
		if code := p.admin.call("POST", "/api/peers", map[string]string{"hostname": p.peer, "limit": "1000000000000"}, nil); code != 201 {
			t.Fatalf("add peer %s: %d", p.peer, code)
		}
	}
	var inv struct{ Code string }
	if code := a1.call("POST", "/api/invites", map[string]string{"amount": "100000000000"}, &inv); code != 201 {
		t.Fatalf("invite: %d", code)
	}
	if code := newAPIClient(t, k2.base).call("POST", "/api/users/bob", map[string]string{"password": "bob-password", "name": "Bob"}, nil); code != 201 {
		t.Fatalf("register bob: %d", code)
	}
	alice := newBrowser(t, exe)
	alice.do("open register", chromedp.Navigate(k1.base+"/register?invite="+inv.Code))
	alice.wait("document.body.dataset.ready && document.getElementById('register-form')")
	if v := alice.value("invite"); v != inv.Code {
		t.Errorf("invite field %q from the link", v)
	}
	alice.do("register alice",
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-password"),
		chromedp.Click(chromedp.CSS("#register-form button[type=submit]")))
	alice.wait("location.pathname === '/' && document.getElementById('balance')")

	// Routes come with a broadcast: wait for one before opening the page.
	aliceAPI := login(t, k1.base, "alice", "alice-password")
	dest := "bob@" + k2.host
	for deadline := time.Now().Add(30 * time.Second); ; {
		if code := aliceAPI.call("GET", "/api/payments/curve?destination="+dest, nil, nil); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no route to bob")
		}
		time.Sleep(100 * time.Millisecond)
	}
	aliceStart := aliceAPI.balance()
	bobAPI := login(t, k2.base, "bob", "bob-password")
	bobStart := bobAPI.balance()

	alice.do("open send", chromedp.Click(chromedp.CSS(`nav a[href="/send"]`)))
	shown := sendByKeyboard(t, alice, dest, "5000", "USD")
	debited := new(big.Int).Sub(aliceStart, aliceAPI.balance())
	credited := new(big.Int).Sub(bobAPI.balance(), bobStart)
	if want := decimalUnits(t, shown[0], 9); debited.Int64() != want {
		t.Errorf("debited %s, shown %s", debited, shown[0])
	}
	if want := decimalUnits(t, shown[1], 9); credited.Int64() != want {
		t.Errorf("credited %s, shown %s", credited, shown[1])
	}

	// The same with bob's SPSP URL as the destination.
	aliceStart, bobStart = aliceAPI.balance(), bobAPI.balance()
	alice.open(k1.base, "/send")
	shown = sendByKeyboard(t, alice, k2.base+"/api/spsp/bob", "", "USD")
	if s := eval[string](alice, "document.getElementById('recipient-name').textContent"); s != "Bob" {
		t.Errorf("receiver of the SPSP URL shown as %q", s)
	}
	debited = new(big.Int).Sub(aliceStart, aliceAPI.balance())
	credited = new(big.Int).Sub(bobAPI.balance(), bobStart)
	if want := decimalUnits(t, shown[0], 9); debited.Int64() != want {
		t.Errorf("SPSP URL: debited %s, shown %s", debited, shown[0])
	}
	if want := decimalUnits(t, shown[1], 9); credited.Int64() != want || want == 0 {
		t.Errorf("SPSP URL: credited %s, shown %s", credited, shown[1])
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var v int64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return v
}

// decimalUnits reads "1.25" as base units of the given scale.
func decimalUnits(t *testing.T, s string, scale int) int64 {
	t.Helper()
	i, f, _ := strings.Cut(s, ".")
	f += strings.Repeat("0", scale-len(f))
	return mustAtoi(t, i+f)
}

// TestUICurveMath: the browser's BigInt port of AmountAt and AmountReverse
// (web/ui/curve.js) gives the Go functions' answer on random curves, at
// the points, between them and outside them, up to 2^64-1.
func TestUICurveMath(t *testing.T) {
	exe := chromiumPath(t)
	env := map[string]string{"ILPKIT_DATA_DIR": filepath.Join(t.TempDir(), "data"), "LOG_LEVEL": "warn"}
	base, _, _ := startServe(t, env)
	b := newBrowser(t, exe)
	b.do("open", chromedp.Navigate(base+"/login"))
	b.wait("document.body.dataset.ready")

	type check struct {
		Points  [][2]string `json:"points"`
		X       []string    `json:"x"`
		At      []string    `json:"at"`
		Y       []string    `json:"y"`
		Reverse []*string   `json:"reverse"` // nil: not payable
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var checks []check
	for i := 0; i < 200; i++ {
		n := 1 + rng.IntN(6)
		big := i%3 == 0
		var pts []curve.Point
		var x, y uint64
		for j := 0; j < n; j++ {
			step := func() uint64 {
				if big {
					return rng.Uint64() >> 3
				}
				return uint64(rng.IntN(1000))
			}
			if j > 0 || rng.IntN(2) == 0 {
				x += 1 + step()
				y += step()
			}
			pts = append(pts, curve.Point{X: x, Y: y})
		}
		if i%10 == 0 {
			pts = append(pts, curve.Point{X: math.MaxUint64, Y: math.MaxUint64})
		}
		c, err := curve.New(pts)
		if err != nil {
			continue
		}
		ch := check{}
		for _, p := range pts {
			ch.Points = append(ch.Points, [2]string{fmt.Sprint(p.X), fmt.Sprint(p.Y)})
		}
		last := pts[len(pts)-1]
		var xs, ys []uint64
		for _, p := range pts {
			xs = append(xs, p.X, p.X+1, p.X-1)
			ys = append(ys, p.Y, p.Y+1, p.Y-1)
		}
		for k := 0; k < 20; k++ {
			xs = append(xs, rng.Uint64N(last.X/2+1)*2+uint64(rng.IntN(2)))
			ys = append(ys, rng.Uint64N(last.Y/2+1)*2+uint64(rng.IntN(2)))
		}
		for _, x := range xs {
			ch.X = append(ch.X, fmt.Sprint(x))
			ch.At = append(ch.At, fmt.Sprint(c.AmountAt(x)))
		}
		for _, y := range ys {
			ch.Y = append(ch.Y, fmt.Sprint(y))
			if x, ok := c.AmountReverse(y); ok {
				s := fmt.Sprint(x)
				ch.Reverse = append(ch.Reverse, &s)
			} else {
				ch.Reverse = append(ch.Reverse, nil)
			}
		}
		checks = append(checks, ch)
	}
	in, _ := json.Marshal(checks)
	bad := eval[[]string](b, `import('/curve.js').then(m => {
		const bad = [];
		for (const c of `+string(in)+`) {
			const p = m.parsePoints(c.points);
			c.x.forEach((x, i) => {
				const got = m.amountAt(p, BigInt(x)).toString();
				if (got !== c.at[i]) bad.push(JSON.stringify(c.points) + " amountAt " + x + ": " + got + " want " + c.at[i]);
			});
			c.y.forEach((y, i) => {
				const r = m.amountReverse(p, BigInt(y));
				const got = r === null ? null : r.toString();
				if (got !== c.reverse[i]) bad.push(JSON.stringify(c.points) + " amountReverse " + y + ": " + got + " want " + c.reverse[i]);
			});
		}
		return bad.slice(0, 10);
	})`)
	if len(checks) < 100 {
		t.Fatalf("only %d valid curves", len(checks))
	}
	for _, s := range bad {
		t.Error(s)
	}
	dec := eval[[]string](b, `import('/curve.js').then(m => [
		m.formatDecimal(1250000000n, 9), m.formatDecimal(5n, 9), m.formatDecimal(0n, 2), m.formatDecimal(120n, 0),
		m.parseDecimal("1.25", 9).toString(), m.parseDecimal(".5", 2).toString(), m.parseDecimal("7", 0).toString(),
		(() => { try { m.parseDecimal("1.234", 2); return "no error" } catch (e) { return e.message } })(),
		(() => { try { m.parseDecimal("-1", 2); return "no error" } catch (e) { return e.message } })(),
		(() => { try { m.parseDecimal("9223372036854775808", 0); return "no error" } catch (e) { return e.message } })(),
	])`)
	want := []string{"1.25", "0.000000005", "0", "120", "1250000000", "50", "7",
		"At most 2 decimal places", "Enter an amount such as 12.50", "That amount is too large"}
	for i := range want {
		if dec[i] != want[i] {
			t.Errorf("decimal case %d: %q, want %q", i, dec[i], want[i])
		}
	}
}
