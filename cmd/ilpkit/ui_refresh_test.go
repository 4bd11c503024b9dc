package main

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// curveLife is how long the test makes each liquidity curve look valid to
// the page. The kit's own quotes to its users last minutes (and remote
// ones the connector's quote expiry, 45 s), with no setting to shorten
// them; the browser is therefore shown each answer of GET
// /api/payments/curve with expiresAt moved to curveLife from now (the kit
// keeps its own, longer, expiry, so a payment on a refreshed curve is
// still accepted).
const curveLife = 6 * time.Second

// shownCurve is one curve the page was given.
type shownCurve struct {
	id        string
	fetchedAt time.Time
	expiresAt time.Time
}

// shortenCurves rewrites the expiry of every curve b's page fetches and
// records them.
func shortenCurves(t *testing.T, b *browser) func() []shownCurve {
	t.Helper()
	var (
		mu     sync.Mutex
		curves []shownCurve
	)
	go func() {
		for ev, err := range chromedp.Events(b.ctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			go func() {
				if err := rewriteCurve(b, ev, func(c shownCurve) {
					mu.Lock()
					curves = append(curves, c)
					mu.Unlock()
				}); err != nil {
					t.Errorf("rewriting %s: %v", ev.Request.URL, err)
					_, _ = chromedp.Call(b.ctx, fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: ev.RequestID})
				}
			}()
		}
	}()
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/api/payments/curve?*", RequestStage: fetch.RequestStageResponse},
	}}); err != nil {
		t.Fatal(err)
	}
	return func() []shownCurve {
		mu.Lock()
		defer mu.Unlock()
		return append([]shownCurve(nil), curves...)
	}
}

func rewriteCurve(b *browser, ev fetch.EventRequestPaused, record func(shownCurve)) error {
	body, err := chromedp.Call(b.ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
	if err != nil {
		return err
	}
	if ev.ResponseStatusCode != 200 {
		_, err := chromedp.Call(b.ctx, fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: ev.RequestID})
		return err
	}
	var q map[string]any
	if err := json.Unmarshal(body.Body, &q); err != nil {
		return err
	}
	now := time.Now()
	exp := now.Add(curveLife)
	q["expiresAt"] = exp.UTC().Format(time.RFC3339Nano)
	out, err := json.Marshal(q)
	if err != nil {
		return err
	}
	id, _ := q["id"].(string)
	record(shownCurve{id: id, fetchedAt: now, expiresAt: exp})
	var headers []*fetch.HeaderEntry
	for _, h := range ev.ResponseHeaders {
		if !strings.EqualFold(h.Name, "Content-Length") {
			headers = append(headers, h)
		}
	}
	_, err = chromedp.Call(b.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID: ev.RequestID, ResponseCode: 200, ResponseHeaders: headers, Body: out,
	})
	return err
}

// TestUICurveRefresh: the send page fetches a new liquidity curve before
// the one it shows expires, keeps the amounts typed (the other field
// recomputed, no error), never shows the quote as expired, and a payment
// made on the refreshed curve goes through with the amounts shown.
func TestUICurveRefresh(t *testing.T) {
	exe := chromiumPath(t)
	base, admin := uiKit(t)
	var inv struct{ Code string }
	if code := admin.call("POST", "/api/invites", map[string]string{"amount": "100000000000"}, &inv); code != 201 {
		t.Fatalf("invite %d", code)
	}
	pub := newAPIClient(t, base)
	if code := pub.call("POST", "/api/users/alice", map[string]string{"password": "alice-password", "inviteCode": inv.Code}, nil); code != 201 {
		t.Fatalf("register alice %d", code)
	}
	if code := pub.call("POST", "/api/users/bob", map[string]string{"password": "bob-password", "name": "Bob"}, nil); code != 201 {
		t.Fatalf("register bob %d", code)
	}

	b := newBrowser(t, exe)
	uiLogin(b, base, "alice", "alice-password")
	curves := shortenCurves(t, b)
	b.open(base, "/send")
	b.do("destination", chromedp.SendKeys(chromedp.ID("destination"), "bob"))
	b.wait("document.getElementById('send-form').dataset.curve")
	first := eval[string](b, "document.getElementById('send-form').dataset.curve")
	b.do("amount", chromedp.SendKeys(chromedp.ID("source"), "2.5"))
	if v := b.value("dest"); v != "2.5" {
		t.Fatalf("they receive %q", v)
	}

	// Watch the status until the page shows another curve: it must not
	// call the quote expired meanwhile.
	deadline := time.Now().Add(3 * curveLife)
	for eval[string](b, "document.getElementById('send-form').dataset.curve") == first {
		if s := eval[string](b, "document.getElementById('quote-status').textContent"); !strings.Contains(s, "valid for") {
			t.Fatalf("quote status %q while the first curve is shown", s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the curve was not refreshed in %s (curves %+v)", 3*curveLife, curves())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cs := curves()
	if len(cs) < 2 || cs[0].id != first {
		t.Fatalf("curves fetched: %+v", cs)
	}
	if !cs[1].fetchedAt.Before(cs[0].expiresAt) {
		t.Errorf("the second curve was fetched at %s, after the first expired at %s", cs[1].fetchedAt, cs[0].expiresAt)
	}
	if cs[1].id == first {
		t.Errorf("the refresh shows the same quote %s", first)
	}
	if v := []string{b.value("source"), b.value("dest")}; v[0] != "2.5" || v[1] != "2.5" {
		t.Errorf("amounts after the refresh %q", v)
	}
	if m := eval[string](b, "document.getElementById('source-msg').textContent + document.getElementById('dest-msg').textContent"); m != "" {
		t.Errorf("messages after the refresh: %q", m)
	}
	if s := eval[string](b, "document.getElementById('quote-status').textContent"); !strings.Contains(s, "valid for") {
		t.Errorf("quote status after the refresh %q", s)
	}

	// A payment on the refreshed curve.
	bobAPI := login(t, base, "bob", "bob-password")
	b.do("send", chromedp.Click(chromedp.ID("send-button")))
	b.wait("document.getElementById('send-result').className === 'ok'")
	if got := bobAPI.balance().String(); got != "2500000000" {
		t.Errorf("bob received %s base units, shown 2.5", got)
	}
}
