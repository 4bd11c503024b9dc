package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// pngPixel is a 1×1 PNG.
var pngPixel, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

// route is one request of the walk: the pattern it exercises, and what
// an outsider (another user, or nobody) may get.
type route struct {
	method, pattern, path string
	body                  any
	// other is the status another user gets, anon the status with no
	// credentials (0: as other).
	other, anon int
}

// TestEveryRouteAsAnotherUser walks every route of the API as bob (with a
// session cookie, HTTP Basic and a bearer token) and with no credentials,
// against alice's resources: bob gets 401/403/404 or only his own data,
// and nothing of alice's changes.
func TestEveryRouteAsAnotherUser(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	ctx := context.Background()
	alice := e.user("alice", "alice-password", e.invite("1000"))
	bob := e.user("bob", "bob-password", e.invite("50"))
	e.user("carol", "carol-password", "")
	inviteCode := e.invite("7")

	// Alice's things: a token, a quote, a payment to carol.
	r := alice.do("POST", "/api/tokens", map[string]string{"name": "alice's client"})
	expect(t, "alice's token", r, 201, "")
	var tok tokenJSON
	r.decode(t, &tok)
	var q quoteJSON
	alice.do("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "10"}).decode(t, &q)
	expect(t, "alice pays", alice.do("PUT", "/api/payments/a1", map[string]string{"quoteId": q.ID, "sourceAmount": "10", "destinationAmount": "10"}), 200, "")
	var q2 quoteJSON
	alice.do("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "20"}).decode(t, &q2)

	admin := e.admin()
	// Alice's withdrawal (pending), a settlement that credited her back,
	// and a settlement method.
	var wd withdrawalJSON
	r = alice.do("POST", "/api/withdrawals", map[string]string{"amount": "10"})
	expect(t, "alice withdraws", r, 201, "")
	r.decode(t, &wd)
	var sm settlementJSON
	r = admin.do("POST", "/api/settlements/user/alice", map[string]string{"amount": "10", "method": "cash"})
	expect(t, "alice settles", r, 201, "")
	r.decode(t, &sm)
	var method settlementMethodJSON
	r = admin.do("POST", "/api/settlement_methods", map[string]any{"type": "cash", "description": "at the desk"})
	expect(t, "a settlement method", r, 201, "")
	r.decode(t, &method)
	snapshot := func() string {
		t.Helper()
		var b strings.Builder
		b.Write(admin.do("GET", "/api/users/alice", nil).body)
		aliceRow, err := e.k.Store().UserByName(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s|%v|%v|%v|%s|", aliceRow.PasswordHash, aliceRow.MinBalance, aliceRow.MaxBalance, aliceRow.HasPicture, e.balance("alice"))
		ts, _ := e.k.Store().Tokens(ctx, aliceRow.ID)
		for _, t := range ts {
			fmt.Fprintf(&b, "token %d %s %v|", t.ID, t.Name, t.RevokedAt)
		}
		ps, _ := e.k.Store().Payments(ctx, aliceRow.ID, store.Cursor{}, 100)
		for _, p := range ps {
			fmt.Fprintf(&b, "payment %s %s %d|", p.ID, p.State, p.SourceAmount)
		}
		info, _ := e.k.Server().AccountInfo(ctx, "alice")
		fmt.Fprintf(&b, "limits %s %s|", info.Limits.Minimum, info.Limits.Maximum)
		ins, _ := e.k.Store().Invites(ctx)
		fmt.Fprintf(&b, "invites %d|", len(ins))
		ws, _ := e.k.Withdrawals(ctx, 0, 100)
		for _, w := range ws {
			fmt.Fprintf(&b, "withdrawal %s %s %s %d|", w.ID, w.Username, w.Status, w.Amount)
		}
		ss, _ := e.k.Settlements(ctx, 100)
		fmt.Fprintf(&b, "settlements %d|", len(ss))
		ms, _ := e.k.SettlementMethods(ctx, false)
		for _, m := range ms {
			fmt.Fprintf(&b, "method %s %s %v|", m.ID, m.Name, m.Enabled)
		}
		return b.String()
	}
	before := snapshot()

	routes := []route{
		{"POST", "/api/auth/login", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong-password"}, 401, 401},
		{"GET", "/api/auth/load", "/api/auth/load", nil, 200, 401},
		{"POST", "/api/auth/reset", "/api/auth/reset", map[string]string{"username": "alice", "code": "guess", "password": "new-password"}, 400, 400},
		{"GET", "/api/users", "/api/users", nil, 403, 401},
		{"POST", "/api/users/{username}", "/api/users/alice", map[string]string{"password": "takeover-pw"}, 409, 409},
		{"GET", "/api/users/{username}", "/api/users/alice", nil, 403, 401},
		{"PUT", "/api/users/{username}", "/api/users/alice", map[string]string{"name": "Hacked", "email": "x@evil.test"}, 403, 401},
		{"PUT", "/api/users/{username}", "/api/users/alice", map[string]string{"password": "bob-password", "newPassword": "hacked-pw"}, 403, 401},
		{"PUT", "/api/users/{username}/limits", "/api/users/alice/limits", map[string]any{"minBalance": "-1000000", "maxBalance": nil}, 403, 401},
		{"PUT", "/api/users/{username}/limits", "/api/users/bob/limits", map[string]any{"minBalance": "-1000000", "maxBalance": nil}, 403, 401},
		{"POST", "/api/users/{username}/reset-link", "/api/users/alice/reset-link", nil, 403, 401},
		{"POST", "/api/users/{username}/profilepic", "/api/users/alice/profilepic", pngPixel, 403, 401},
		{"GET", "/api/users/{username}/profilepic", "/api/users/alice/profilepic", nil, 200, 200},
		{"GET", "/api/tokens", "/api/tokens", nil, 200, 401},
		{"POST", "/api/tokens", "/api/tokens", map[string]string{"name": "bob's"}, 201, 401},
		{"DELETE", "/api/tokens/{id}", "/api/tokens/" + strconv.FormatInt(tok.ID, 10), nil, 404, 401},
		{"POST", "/api/payments/quote", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "1"}, 200, 401},
		{"GET", "/api/payments/curve", "/api/payments/curve?destination=carol", nil, 200, 401},
		{"PUT", "/api/payments/{id}", "/api/payments/b1", map[string]string{"quoteId": q2.ID, "sourceAmount": "20", "destinationAmount": "20"}, 404, 401},
		{"PUT", "/api/payments/{id}", "/api/payments/a1", map[string]string{"quoteId": q.ID, "sourceAmount": "10", "destinationAmount": "10"}, 404, 401},
		{"GET", "/api/payments", "/api/payments", nil, 200, 401},
		{"GET", "/api/payments/stats", "/api/payments/stats", nil, 200, 401},
		{"GET", "/api/parse/destination", "/api/parse/destination?destination=alice", nil, 200, 401},
		{"GET", "/api/admin/ledger", "/api/admin/ledger", nil, 403, 401},
		{"GET", "/api/admin/limits", "/api/admin/limits", nil, 403, 401},
		{"PUT", "/api/admin/limits", "/api/admin/limits", map[string]any{"minBalance": "-5", "maxBalance": nil}, 403, 401},
		{"GET", "/api/peers", "/api/peers", nil, 403, 401},
		{"POST", "/api/peers", "/api/peers", map[string]string{"hostname": "example.com", "limit": "1"}, 403, 401},
		{"PUT", "/api/peers/{id}", "/api/peers/some-id", map[string]string{"limit": "1"}, 403, 401},
		{"DELETE", "/api/peers/{id}", "/api/peers/some-id", nil, 403, 401},
		{"GET", "/api/peers/{id}/settlement_methods", "/api/peers/some-id/settlement_methods", nil, 403, 401},
		{"GET", "/api/invites", "/api/invites", nil, 403, 401},
		{"POST", "/api/invites", "/api/invites", map[string]string{"amount": "1000000"}, 403, 401},
		{"GET", "/api/invites/{code}", "/api/invites/" + inviteCode, nil, 200, 200},
		{"DELETE", "/api/invites/{code}", "/api/invites/" + inviteCode, nil, 403, 401},
		{"POST", "/api/withdrawals", "/api/withdrawals", map[string]string{"amount": "1000000"}, 422, 401},
		{"GET", "/api/withdrawals", "/api/withdrawals", nil, 200, 401},
		{"PUT", "/api/withdrawals/{id}", "/api/withdrawals/" + wd.ID, map[string]string{"status": "rejected"}, 403, 401},
		{"POST", "/api/settlements/user/{username}", "/api/settlements/user/bob", map[string]string{"amount": "1000"}, 403, 401},
		{"POST", "/api/settlements/peer/{peerId}", "/api/settlements/peer/some-id", map[string]string{"amount": "1000"}, 403, 401},
		{"GET", "/api/settlements", "/api/settlements", nil, 403, 401},
		{"GET", "/api/settlements/{id}", "/api/settlements/" + sm.ID, nil, 404, 401},
		{"GET", "/api/settlement_methods", "/api/settlement_methods", nil, 200, 200},
		{"GET", "/api/settlement_methods", "/api/settlement_methods?all=true", nil, 403, 401},
		{"POST", "/api/settlement_methods", "/api/settlement_methods", map[string]string{"type": "custom"}, 403, 401},
		{"PUT", "/api/settlement_methods/{id}", "/api/settlement_methods/" + method.ID, map[string]any{"enabled": false}, 403, 401},
		{"DELETE", "/api/settlement_methods/{id}", "/api/settlement_methods/" + method.ID, nil, 403, 401},
		{"GET", "/api/events", "/api/events", nil, 0, 401}, // bob's own stream: below
		{"POST", "/api/auth/logout", "/api/auth/logout", nil, 204, 401},
	}

	// Every registered route is walked.
	covered := map[string]bool{}
	for _, rt := range routes {
		covered[rt.method+" "+rt.pattern] = true
	}
	for path, ms := range e.s.api.methods {
		for _, m := range ms {
			if !covered[m+" "+path] {
				t.Errorf("route %s %s is not walked", m, path)
			}
		}
	}

	// Bob's credentials three ways.
	var bt tokenJSON
	bob.do("POST", "/api/tokens", map[string]string{"name": "bob's client"}).decode(t, &bt)
	basic := e.client()
	basic.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:bob-password"))
	bearer := e.client()
	bearer.authz = "Bearer " + bt.Token
	anon := e.client()

	for _, who := range []struct {
		name string
		c    *client
	}{{"cookie", bob}, {"basic", basic}, {"bearer", bearer}, {"anonymous", anon}} {
		// Forget the wrong passwords of the last round (they are
		// rate-limited, tested elsewhere).
		e.clock.Advance(forgetAfter + time.Second)
		for _, rt := range routes {
			if rt.pattern == "/api/auth/logout" && who.c == bob {
				continue
			}
			want := rt.other
			if who.c == anon {
				want = rt.anon
			}
			if want == 0 {
				continue // bob's own event stream: below
			}
			r := who.c.do(rt.method, rt.path, rt.body)
			if r.code != want {
				t.Errorf("%s %s %s: %d, want %d: %s", who.name, rt.method, rt.path, r.code, want, r.body)
			}
			if r.code >= 400 && r.errID() == "" {
				t.Errorf("%s %s %s: not a JSON error: %s", who.name, rt.method, rt.path, r.body)
			}
			// What bob may read is his own.
			if r.code == 200 && rt.method == "GET" && bytes.Contains(r.body, []byte(`"id":"a1"`)) && rt.pattern != "/api/users/{username}/profilepic" {
				t.Errorf("%s %s: shows alice's payment: %s", who.name, rt.path, r.body)
			}
			if r.code == 200 && (rt.pattern == "/api/withdrawals" || rt.pattern == "/api/payments") && (bytes.Contains(r.body, []byte(wd.ID)) || bytes.Contains(r.body, []byte(sm.ID))) {
				t.Errorf("%s %s: shows alice's withdrawal or settlement: %s", who.name, rt.path, r.body)
			}
			if r.code == 200 && rt.pattern == "/api/tokens" && bytes.Contains(r.body, []byte("alice")) {
				t.Errorf("%s: shows alice's token: %s", who.name, r.body)
			}
		}
	}

	// Bob's event stream tells nothing of alice's payments.
	stream := bob.events(t)
	stream.next(t, "balance")
	alice.do("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "5"}).decode(t, &q)
	expect(t, "alice pays again", alice.do("PUT", "/api/payments/a2", map[string]string{"quoteId": q.ID, "sourceAmount": "5", "destinationAmount": "5"}), 200, "")
	var bq quoteJSON
	bob.do("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "1"}).decode(t, &bq)
	expect(t, "bob pays", bob.do("PUT", "/api/payments/b9", map[string]string{"quoteId": bq.ID, "sourceAmount": "1", "destinationAmount": "1"}), 200, "")
	if ev := stream.next(t, "payment"); !strings.Contains(ev, `"id":"b9"`) {
		t.Errorf("bob's stream: %s", ev)
	}
	stream.cancel()
	expect(t, "bob logs out", bob.do("POST", "/api/auth/logout", nil), 204, "")

	// Alice's a2 and bob's payments aside, nothing of alice's changed.
	after := snapshot()
	after = strings.Replace(after, "payment 2:a2 success 5|", "", 1)
	before = strings.Replace(before, `"balance":"990"`, `"balance":"985"`, 1)
	before = strings.Replace(before, "|990|", "|985|", 1)
	if before != after {
		t.Errorf("alice changed:\n%s\n%s", before, after)
	}
	e.clock.Advance(forgetAfter + time.Second)
	alice.login("alice", "alice-password")
	if e.balance("bob") != "49" {
		t.Errorf("bob %s", e.balance("bob"))
	}
	e.checkSum()
}
