package web

import (
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/pgtest"
)

func TestSettlementsSQLite(t *testing.T)   { testSettlements(t, sqliteDSN(t)) }
func TestSettlementsPostgres(t *testing.T) { testSettlements(t, pgtest.DSN(t)) }

// testSettlements drives withdrawals, settlements and settlement methods
// through the API: the money moves exactly, every bad request is a JSON
// error that changes nothing, and the activity shows it all.
func testSettlements(t *testing.T, dsn string) {
	e := newEnv(t, dsn)
	alice := e.user("alice", "alice-password", e.invite("1000"))
	bob := e.user("bob", "bob-password", "")
	admin := e.admin()
	count := func(c *client, path string) int {
		t.Helper()
		var list []map[string]any
		r := c.do("GET", path, nil)
		expect(t, "GET "+path, r, 200, "")
		r.decode(t, &list)
		return len(list)
	}
	same := func(what string) {
		t.Helper()
		if a, b := e.balance("alice"), e.balance("bob"); a != "1000" || b != "0" {
			t.Errorf("%s: alice %s bob %s", what, a, b)
		}
		if n := count(admin, "/api/withdrawals"); n != 0 {
			t.Errorf("%s: %d withdrawals", what, n)
		}
		if n := count(admin, "/api/settlements"); n != 0 {
			t.Errorf("%s: %d settlements", what, n)
		}
		e.checkSum()
	}

	// Bad withdrawals.
	for _, bad := range []struct {
		body any
		code int
		id   string
	}{
		{map[string]any{"amount": "0"}, 400, "InvalidAmountError"},
		{map[string]any{"amount": "-5"}, 400, "InvalidAmountError"},
		{map[string]any{"amount": 5}, 400, "InvalidAmountError"},
		{map[string]any{"amount": "1.5"}, 400, "InvalidAmountError"},
		{map[string]any{"amount": "9223372036854775808"}, 400, "InvalidAmountError"},
		{map[string]any{"amount": "99999999999999999999"}, 400, "InvalidAmountError"},
		{map[string]any{"amount": "5", "to": "mallory"}, 400, "InvalidBodyError"},
		{map[string]any{}, 400, "InvalidBodyError"},
		{"[", 400, "InvalidBodyError"},
		{map[string]any{"amount": "1001"}, 422, "InsufficientFundsError"},
	} {
		expect(t, "withdraw "+string(must(bad.body)), alice.do("POST", "/api/withdrawals", bad.body), bad.code, bad.id)
	}
	expect(t, "bob withdraws", bob.do("POST", "/api/withdrawals", map[string]string{"amount": "1"}), 422, "InsufficientFundsError")
	same("after bad withdrawals")

	// Bad settlements and methods.
	for _, bad := range []struct {
		path string
		body any
		code int
		id   string
	}{
		{"/api/settlements/user/bob", map[string]any{"amount": "0"}, 400, "InvalidAmountError"},
		{"/api/settlements/user/bob", map[string]any{"amount": "-1"}, 400, "InvalidAmountError"},
		{"/api/settlements/user/bob", map[string]any{"amount": "9223372036854775808"}, 400, "InvalidAmountError"},
		{"/api/settlements/user/bob", map[string]any{"amount": "5", "user": "alice"}, 400, "InvalidBodyError"},
		{"/api/settlements/user/bob", map[string]any{"amount": "5", "currency": "EUR"}, 400, "InvalidSettlementError"},
		{"/api/settlements/user/bob", map[string]any{"method": "cash"}, 400, "InvalidBodyError"},
		{"/api/settlements/user/nobody", map[string]any{"amount": "5"}, 404, "NotFoundError"},
		{"/api/settlements/peer/nope", map[string]any{"amount": "5"}, 404, "NotFoundError"},
		{"/api/settlement_methods", map[string]any{"type": "gold"}, 400, "InvalidSettlementMethodError"},
		{"/api/settlement_methods", map[string]any{}, 400, "InvalidSettlementMethodError"},
		{"/api/settlement_methods", map[string]any{"type": "cash", "uri": "javascript:alert(1)"}, 400, "InvalidSettlementMethodError"},
		{"/api/settlement_methods", map[string]any{"type": "cash", "options": map[string]string{}}, 400, "InvalidBodyError"},
	} {
		expect(t, "POST "+bad.path+" "+string(must(bad.body)), admin.do("POST", bad.path, bad.body), bad.code, bad.id)
	}
	expect(t, "bob settles himself", bob.do("POST", "/api/settlements/user/bob", map[string]string{"amount": "5"}), 403, "ForbiddenError")
	expect(t, "bob adds a method", bob.do("POST", "/api/settlement_methods", map[string]string{"type": "cash"}), 403, "ForbiddenError")
	if n := count(admin, "/api/settlement_methods?all=true"); n != 0 {
		t.Errorf("%d methods after refusals", n)
	}
	same("after bad settlements")

	// A withdrawal, then its processing.
	var wd withdrawalJSON
	r := alice.do("POST", "/api/withdrawals", map[string]string{"amount": "300"})
	expect(t, "withdraw 300", r, 201, "")
	r.decode(t, &wd)
	if wd.Status != "pending" || wd.Amount != "300" || wd.Username != "alice" {
		t.Errorf("%+v", wd)
	}
	if a := e.balance("alice"); a != "700" {
		t.Errorf("alice %s after withdrawing 300", a)
	}
	if count(alice, "/api/withdrawals") != 1 || count(bob, "/api/withdrawals") != 0 || count(admin, "/api/withdrawals") != 1 {
		t.Error("withdrawal lists")
	}
	expect(t, "alice completes her own", alice.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "completed"}), 403, "ForbiddenError")
	expect(t, "status done", admin.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "done"}), 400, "InvalidStatusError")
	expect(t, "unknown field", admin.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "rejected", "amount": "1"}), 400, "InvalidBodyError")
	expect(t, "unknown withdrawal", admin.do("PUT", "/api/withdrawals/nope", map[string]string{"status": "rejected"}), 404, "NotFoundError")
	expect(t, "processing", admin.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "processing"}), 200, "")
	for i := 0; i < 3; i++ {
		r = admin.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "rejected"})
		expect(t, "rejected", r, 200, "")
	}
	if a := e.balance("alice"); a != "1000" {
		t.Errorf("alice %s after the rejection (refunded once?)", a)
	}
	expect(t, "completed after rejected", admin.do("PUT", "/api/withdrawals/"+wd.ID, map[string]string{"status": "completed"}), 409, "WithdrawalFinalError")
	e.checkSum()

	// Settlement methods.
	var m settlementMethodJSON
	r = admin.do("POST", "/api/settlement_methods", map[string]any{"type": "cash", "name": "Cash desk", "description": "Main Street 1"})
	expect(t, "a method", r, 201, "")
	r.decode(t, &m)
	if !m.Enabled || m.Type != "cash" || m.Name != "Cash desk" {
		t.Errorf("%+v", m)
	}
	anon := e.client()
	if count(anon, "/api/settlement_methods") != 1 {
		t.Error("the public list lacks the method")
	}
	expect(t, "disable", admin.do("PUT", "/api/settlement_methods/"+m.ID, map[string]any{"enabled": false}), 200, "")
	if count(anon, "/api/settlement_methods") != 0 || count(admin, "/api/settlement_methods?all=true") != 1 {
		t.Error("a disabled method is public, or hidden from the admin")
	}
	expect(t, "unknown method", admin.do("PUT", "/api/settlement_methods/nope", map[string]any{"enabled": true}), 404, "NotFoundError")

	// A settlement for bob, by the method's name.
	var st settlementJSON
	r = admin.do("POST", "/api/settlements/user/bob", map[string]string{"amount": "250", "method": "Cash desk", "note": "coins"})
	expect(t, "settle bob", r, 201, "")
	r.decode(t, &st)
	if st.Amount != "250" || st.Username != "bob" || st.Method != "Cash desk" || st.MethodID != m.ID || st.Currency != "USD" {
		t.Errorf("%+v", st)
	}
	if b := e.balance("bob"); b != "250" {
		t.Errorf("bob %s after a settlement of 250", b)
	}
	expect(t, "bob reads his settlement", bob.do("GET", "/api/settlements/"+st.ID, nil), 200, "")
	expect(t, "alice reads bob's settlement", alice.do("GET", "/api/settlements/"+st.ID, nil), 404, "NotFoundError")
	expect(t, "the admin reads it", admin.do("GET", "/api/settlements/"+st.ID, nil), 200, "")
	expect(t, "bob lists settlements", bob.do("GET", "/api/settlements", nil), 403, "ForbiddenError")
	if count(admin, "/api/settlements") != 1 {
		t.Error("settlement list")
	}
	expect(t, "delete the method", admin.do("DELETE", "/api/settlement_methods/"+m.ID, nil), 204, "")
	expect(t, "delete it again", admin.do("DELETE", "/api/settlement_methods/"+m.ID, nil), 404, "NotFoundError")
	expect(t, "the settlement stays", admin.do("GET", "/api/settlements/"+st.ID, nil), 200, "")
	e.checkSum()

	// The activity.
	var h struct {
		Payments []paymentJSON `json:"payments"`
	}
	alice.do("GET", "/api/payments", nil).decode(t, &h)
	var seen []string
	for _, p := range h.Payments {
		if p.Counterparty == "withdrawal" {
			seen = append(seen, p.Direction+" "+p.SourceAmount)
		}
	}
	if strings.Join(seen, ",") != "incoming 300,outgoing 300" && strings.Join(seen, ",") != "outgoing 300,incoming 300" {
		t.Errorf("alice's activity: %v", seen)
	}
	h.Payments = nil
	bob.do("GET", "/api/payments", nil).decode(t, &h)
	if len(h.Payments) != 1 || h.Payments[0].Counterparty != "settlement:Cash desk" || h.Payments[0].SourceAmount != "250" || h.Payments[0].Message != "coins" {
		t.Errorf("bob's activity: %+v", h.Payments)
	}
}
