package web

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
)

// TestBodies: unknown fields, bad JSON, oversized bodies and malformed
// amounts are refused with a JSON error, and change nothing.
func TestBodies(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	alice := e.user("alice", "alice-password", e.invite("100"))
	e.user("bob", "bob-password", "")
	cases := []struct {
		what, method, path string
		body               any
		code               int
		id                 string
	}{
		{"unknown field", "POST", "/api/auth/login", `{"username":"alice","password":"alice-password","remember":true}`, 400, "InvalidBodyError"},
		{"unknown field", "POST", "/api/users/carol", `{"password":"carol-password","isAdmin":true}`, 400, "InvalidBodyError"},
		{"unknown field", "PUT", "/api/users/alice", `{"name":"A","isAdmin":true}`, 400, "InvalidBodyError"},
		{"unknown field", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"1","x":1}`, 400, "InvalidBodyError"},
		{"not JSON", "POST", "/api/tokens", `{name:`, 400, "InvalidBodyError"},
		{"two values", "POST", "/api/tokens", `{"name":"a"}{"name":"b"}`, 400, "InvalidBodyError"},
		{"empty", "POST", "/api/tokens", ``, 400, "InvalidBodyError"},
		{"wrong type", "POST", "/api/tokens", `{"name":5}`, 400, "InvalidBodyError"},
		{"too big", "POST", "/api/tokens", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "BodyTooLargeError"},
		{"form", "POST", "/api/tokens", []byte("name=x"), 415, "UnsupportedMediaTypeError"},
		{"float", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":1.5}`, 400, "InvalidAmountError"},
		{"number", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":1}`, 400, "InvalidAmountError"},
		{"decimal string", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"1.5"}`, 400, "InvalidAmountError"},
		{"negative", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"-5"}`, 400, "InvalidAmountError"},
		{"exponent", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"1e3"}`, 400, "InvalidAmountError"},
		{"over 2^63-1", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"9223372036854775808"}`, 400, "InvalidAmountError"},
		{"huge", "POST", "/api/payments/quote", `{"destination":"bob","sourceAmount":"99999999999999999999999"}`, 400, "InvalidAmountError"},
		{"no amount", "PUT", "/api/payments/x1", `{"quoteId":"q"}`, 404, "QuoteNotFoundError"},
		{"negative invite", "POST", "/api/invites", `{"amount":"-1"}`, 403, "ForbiddenError"},
	}
	for _, c := range cases {
		var hdr []string
		if c.what == "form" {
			hdr = []string{"Content-Type", "application/x-www-form-urlencoded"}
		}
		expect(t, c.what+" "+c.path, alice.do(c.method, c.path, c.body, hdr...), c.code, c.id)
	}
	// A cross-site form posting "JSON" as text/plain to log in.
	expect(t, "text/plain login", e.client().do("POST", "/api/auth/login", `{"username":"alice","password":"alice-password"}`, "Content-Type", "text/plain"), 415, "UnsupportedMediaTypeError")
	admin := e.admin()
	expect(t, "admin negative invite", admin.do("POST", "/api/invites", `{"amount":"-1"}`), 400, "InvalidAmountError")
	expect(t, "admin float invite", admin.do("POST", "/api/invites", `{"amount":1.0}`), 400, "InvalidAmountError")
	expect(t, "limits float", admin.do("PUT", "/api/users/alice/limits", `{"minBalance":-1.5,"maxBalance":null}`), 400, "InvalidAmountError")
	expect(t, "limits unknown", admin.do("PUT", "/api/users/alice/limits", `{"min":"1"}`), 400, "InvalidBodyError")
	if _, err := e.k.Store().UserByName(t.Context(), "carol"); err == nil {
		t.Error("carol registered with a refused body")
	}
	if e.balance("alice") != "100" {
		t.Errorf("alice %s", e.balance("alice"))
	}
	// Unknown endpoints and methods answer JSON.
	expect(t, "unknown endpoint", alice.do("GET", "/api/nothing", nil), 404, "NotFoundError")
	r := alice.do("DELETE", "/api/payments/stats", nil)
	expect(t, "wrong method", r, 405, "MethodNotAllowedError")
	if r.hdr.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", r.hdr.Get("Allow"))
	}
	expect(t, "wrong method on a pattern", alice.do("PATCH", "/api/users/alice", `{}`), 405, "MethodNotAllowedError")
}

// TestProfilePicture: upload as a body or a form, sniffed type, 1 MiB
// limit, placeholder SVG.
func TestProfilePicture(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	alice := e.user("alice", "alice-password", "")
	r := alice.do("GET", "/api/users/alice/profilepic", nil)
	if r.code != 200 || r.hdr.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(r.body, []byte(">A</text>")) {
		t.Errorf("placeholder %d %s %s", r.code, r.hdr.Get("Content-Type"), r.body)
	}
	expect(t, "unknown user", alice.do("GET", "/api/users/nobody/profilepic", nil), 404, "NotFoundError")
	expect(t, "not an image", alice.do("POST", "/api/users/alice/profilepic", "<svg onload=alert(1)></svg>", "Content-Type", "image/png"), 415, "InvalidImageError")
	big := append(append([]byte{}, pngPixel...), make([]byte, 1<<20)...)
	expect(t, "too big", alice.do("POST", "/api/users/alice/profilepic", big, "Content-Type", "image/png"), 413, "BodyTooLargeError")
	expect(t, "raw", alice.do("POST", "/api/users/alice/profilepic", pngPixel, "Content-Type", "application/octet-stream"), 200, "")
	r = alice.do("GET", "/api/users/alice/profilepic", nil)
	if r.code != 200 || r.hdr.Get("Content-Type") != "image/png" || !bytes.Equal(r.body, pngPixel) || r.hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("picture %d %v", r.code, r.hdr)
	}
	// A form; a GIF this time.
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "me.gif")
	fw.Write(gif)
	mw.Close()
	expect(t, "form", alice.do("POST", "/api/users/alice/profilepic", form.Bytes(), "Content-Type", mw.FormDataContentType()), 200, "")
	if r = alice.do("GET", "/api/users/alice/profilepic", nil); r.hdr.Get("Content-Type") != "image/gif" {
		t.Errorf("gif %v", r.hdr)
	}
	var big2 bytes.Buffer
	mw = multipart.NewWriter(&big2)
	fw, _ = mw.CreateFormFile("file", "big.png")
	fw.Write(big)
	mw.Close()
	expect(t, "form too big", alice.do("POST", "/api/users/alice/profilepic", big2.Bytes(), "Content-Type", mw.FormDataContentType()), 413, "BodyTooLargeError")
	// The admin may set anyone's.
	expect(t, "admin", e.admin().do("POST", "/api/users/alice/profilepic", pngPixel), 200, "")
}

func TestUsersSQLite(t *testing.T)   { testUsers(t, sqliteDSN(t)) }
func TestUsersPostgres(t *testing.T) { testUsers(t, pgtest.DSN(t)) }

// testUsers: profile and password changes, the admin's user list, limits,
// reset links and invites.
func testUsers(t *testing.T, dsn string) {
	e := newEnv(t, dsn)
	alice := e.user("alice", "alice-password", "")
	bob := e.user("bob", "bob-password", "")
	admin := e.admin()

	// Registration refusals.
	anon := e.client()
	expect(t, "taken", anon.do("POST", "/api/users/alice", map[string]string{"password": "some-password"}), 409, "UsernameTakenError")
	expect(t, "bad name", anon.do("POST", "/api/users/Al!ce", map[string]string{"password": "some-password"}), 400, "InvalidUsernameError")
	expect(t, "short password", anon.do("POST", "/api/users/dave", map[string]string{"password": "short"}), 400, "InvalidPasswordError")
	expect(t, "bad invite", anon.do("POST", "/api/users/dave", map[string]string{"password": "some-password", "inviteCode": "nope"}), 400, "InvalidInviteError")

	// Profile.
	var sj sessionJSON
	r := alice.do("PUT", "/api/users/alice", map[string]string{"name": "Alice Liddell", "email": "al@mail.test"})
	expect(t, "profile", r, 200, "")
	r.decode(t, &sj)
	if sj.User.Name != "Alice Liddell" || sj.User.Email != "al@mail.test" {
		t.Errorf("profile %s", r.body)
	}
	expect(t, "email taken", alice.do("PUT", "/api/users/alice", map[string]string{"email": "bob@mail.test"}), 409, "EmailTakenError")
	expect(t, "bad email", alice.do("PUT", "/api/users/alice", map[string]string{"email": "nope"}), 400, "InvalidProfileError")

	// Password change: needs the current one; ends other sessions, keeps
	// this one with a new cookie and CSRF token.
	other := e.client()
	other.login("alice", "alice-password")
	expect(t, "no current", alice.do("PUT", "/api/users/alice", map[string]string{"newPassword": "alice-new-password"}), 400, "InvalidBodyError")
	expect(t, "wrong current", alice.do("PUT", "/api/users/alice", map[string]string{"password": "nope-nope", "newPassword": "alice-new-password"}), 401, "UnauthorizedError")
	r = alice.do("PUT", "/api/users/alice", map[string]string{"password": "alice-password", "newPassword": "alice-new-password"})
	expect(t, "change", r, 200, "")
	r.decode(t, &sj)
	if sj.CSRFToken == "" || sj.CSRFToken == alice.csrf {
		t.Errorf("no new CSRF token: %s", r.body)
	}
	alice.csrf = sj.CSRFToken
	expect(t, "this session", alice.do("POST", "/api/tokens", map[string]string{"name": "t"}), 201, "")
	expect(t, "other session", other.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
	e.client().login("alice", "alice-new-password")
	expect(t, "admin sets no password", admin.do("PUT", "/api/users/alice", map[string]string{"password": adminPass, "newPassword": "by-the-admin"}), 403, "ForbiddenError")

	// The admin reads anyone, lists everyone with balances and limits.
	expect(t, "admin reads", admin.do("GET", "/api/users/bob", nil), 200, "")
	expect(t, "admin reads nobody", admin.do("GET", "/api/users/nobody", nil), 404, "NotFoundError")
	var users []userJSON
	admin.do("GET", "/api/users", nil).decode(t, &users)
	if len(users) != 3 || users[1].Username != "alice" || users[1].Balance != "0" || *users[1].MinBalance != "0" || users[1].MaxBalance != nil {
		t.Errorf("users %+v", users)
	}

	// Limits: alice may go to -500; bob's maximum is 10.
	r = admin.do("PUT", "/api/users/alice/limits", map[string]any{"minBalance": "-500", "maxBalance": nil})
	expect(t, "limits", r, 200, "")
	var u userJSON
	r.decode(t, &u)
	if !u.CustomLimits || *u.MinBalance != "-500" || u.MaxBalance != nil {
		t.Errorf("limits %s", r.body)
	}
	expect(t, "bob's max", admin.do("PUT", "/api/users/bob/limits", map[string]any{"minBalance": nil, "maxBalance": "10"}), 200, "")
	expect(t, "min above max", admin.do("PUT", "/api/users/bob/limits", map[string]any{"minBalance": "20", "maxBalance": "10"}), 400, "InvalidLimitsError")
	expect(t, "limits of nobody", admin.do("PUT", "/api/users/nobody/limits", map[string]any{"minBalance": nil, "maxBalance": nil}), 404, "NotFoundError")
	var q quoteJSON
	alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "11"}).decode(t, &q)
	expect(t, "over bob's max", alice.do("PUT", "/api/payments/l1", map[string]string{"quoteId": q.ID, "sourceAmount": "11", "destinationAmount": "11"}), 422, "InsufficientFundsError")
	alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "10"}).decode(t, &q)
	expect(t, "on credit", alice.do("PUT", "/api/payments/l2", map[string]string{"quoteId": q.ID, "sourceAmount": "10", "destinationAmount": "10"}), 200, "")
	if a, b := e.balance("alice"), e.balance("bob"); a != "-10" || b != "10" {
		t.Errorf("alice %s bob %s", a, b)
	}
	if row, _ := e.k.Store().UserByName(t.Context(), "alice"); row.MinBalance == nil || *row.MinBalance != -500 || row.MaxBalance != nil {
		t.Errorf("limits not kept: %+v", row)
	}
	expect(t, "back to defaults", admin.do("PUT", "/api/users/bob/limits", map[string]any{"minBalance": nil, "maxBalance": nil}), 200, "")
	admin.do("GET", "/api/users/bob", nil).decode(t, &u)
	if u.CustomLimits || u.MaxBalance != nil || *u.MinBalance != "0" {
		t.Errorf("defaults %+v", u)
	}

	// A reset link, used once.
	r = admin.do("POST", "/api/users/bob/reset-link", nil)
	expect(t, "reset link", r, 201, "")
	var link struct {
		Code, Link string
	}
	r.decode(t, &link)
	if link.Code == "" || !strings.Contains(link.Link, link.Code) {
		t.Fatalf("link %s", r.body)
	}
	expect(t, "wrong code", anon.do("POST", "/api/auth/reset", map[string]string{"username": "bob", "code": "nope", "password": "bob-new-password"}), 400, "InvalidCodeError")
	expect(t, "wrong user", anon.do("POST", "/api/auth/reset", map[string]string{"username": "alice", "code": link.Code, "password": "bob-new-password"}), 400, "InvalidCodeError")
	expect(t, "short", anon.do("POST", "/api/auth/reset", map[string]string{"username": "bob", "code": link.Code, "password": "short"}), 400, "InvalidPasswordError")
	expect(t, "reset", anon.do("POST", "/api/auth/reset", map[string]string{"username": "bob", "code": link.Code, "password": "bob-new-password"}), 204, "")
	expect(t, "used up", anon.do("POST", "/api/auth/reset", map[string]string{"username": "bob", "code": link.Code, "password": "bob-other-password"}), 400, "InvalidCodeError")
	expect(t, "bob's old session", bob.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
	e.client().login("bob", "bob-new-password")
	r = admin.do("POST", "/api/users/bob/reset-link", nil)
	r.decode(t, &link)
	e.clock.Advance(25 * 3600 * 1e9)
	expect(t, "expired code", anon.do("POST", "/api/auth/reset", map[string]string{"username": "bob", "code": link.Code, "password": "bob-other-password"}), 400, "InvalidCodeError")

	// Invites: create, list, check, claim once, delete.
	admin = e.admin()
	r = admin.do("POST", "/api/invites", map[string]string{"amount": "25"})
	expect(t, "invite", r, 201, "")
	var in inviteJSON
	r.decode(t, &in)
	var ins []inviteJSON
	admin.do("GET", "/api/invites", nil).decode(t, &ins)
	if len(ins) != 1 || ins[0].Code != in.Code || ins[0].Amount != "25" || ins[0].Claimed {
		t.Errorf("invites %+v", ins)
	}
	r = anon.do("GET", "/api/invites/"+in.Code, nil)
	expect(t, "check", r, 200, "")
	if strings.Contains(string(r.body), "createdAt") {
		t.Errorf("public check shows more: %s", r.body)
	}
	expect(t, "claim", anon.do("POST", "/api/users/carol", map[string]string{"password": "carol-password", "inviteCode": in.Code}), 201, "")
	expect(t, "claim again", anon.do("POST", "/api/users/dave", map[string]string{"password": "dave-password", "inviteCode": in.Code}), 400, "InvalidInviteError")
	if e.balance("carol") != "25" {
		t.Errorf("carol %s", e.balance("carol"))
	}
	expect(t, "delete", admin.do("DELETE", "/api/invites/"+in.Code, nil), 204, "")
	expect(t, "deleted", anon.do("GET", "/api/invites/"+in.Code, nil), 404, "NotFoundError")
	expect(t, "delete again", admin.do("DELETE", "/api/invites/"+in.Code, nil), 404, "NotFoundError")
	e.checkSum()
}

func TestTokenLastUsedSQLite(t *testing.T)   { testTokenLastUsed(t, sqliteDSN(t)) }
func TestTokenLastUsedPostgres(t *testing.T) { testTokenLastUsed(t, pgtest.DSN(t)) }

// testTokenLastUsed: GET /api/tokens shows when each token was last used
// (null: never), by the kit's clock; a token used all the time is recorded
// at most once a minute; using the list with a cookie uses no token.
func testTokenLastUsed(t *testing.T, dsn string) {
	e := newEnv(t, dsn)
	alice := e.user("alice", "alice-password", "")
	var tok tokenJSON
	alice.do("POST", "/api/tokens", map[string]string{"name": "shop"}).decode(t, &tok)
	alice.do("POST", "/api/tokens", map[string]string{"name": "unused"})
	list := func() map[string]*time.Time {
		t.Helper()
		var ts []tokenJSON
		r := alice.do("GET", "/api/tokens", nil)
		expect(t, "list", r, 200, "")
		r.decode(t, &ts)
		if !bytes.Contains(r.body, []byte(`"lastUsedAt":null`)) {
			t.Errorf("the unused token's lastUsedAt is not null: %s", r.body)
		}
		out := map[string]*time.Time{}
		for _, x := range ts {
			out[x.Name] = x.LastUsedAt
		}
		return out
	}
	if got := list(); got["shop"] != nil || got["unused"] != nil || len(got) != 2 {
		t.Fatalf("new tokens: %v", got)
	}
	bearer := e.client()
	bearer.authz = "Bearer " + tok.Token
	use := func() {
		t.Helper()
		expect(t, "bearer", bearer.do("GET", "/api/auth/load", nil), 200, "")
	}
	first := e.clock.Now()
	use()
	if got := list()["shop"]; got == nil || !got.Equal(first) {
		t.Errorf("after the first use: %v, want %v", got, first)
	}
	e.clock.Advance(30 * time.Second)
	use()
	e.clock.Advance(29 * time.Second)
	use()
	if got := list()["shop"]; got == nil || !got.Equal(first) {
		t.Errorf("within the minute: %v, want %v", got, first)
	}
	e.clock.Advance(time.Second)
	use()
	if got := list()["shop"]; got == nil || !got.Equal(first.Add(time.Minute)) {
		t.Errorf("a minute later: %v, want %v", got, first.Add(time.Minute))
	}
	// The cookie's own requests use no token.
	e.clock.Advance(time.Hour)
	if got := list()["shop"]; got == nil || !got.Equal(first.Add(time.Minute)) {
		t.Errorf("after cookie requests: %v", got)
	}
	// A refused token (revoked) records nothing.
	expect(t, "revoke", alice.do("DELETE", "/api/tokens/"+jsonInt(tok.ID), nil), 204, "")
	expect(t, "revoked", bearer.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
	u, err := e.k.Store().UserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := e.k.Store().Tokens(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if x.Name == "shop" && (x.LastUsedAt == nil || !x.LastUsedAt.Equal(first.Add(time.Minute))) {
			t.Errorf("revoked token's last use %v", x.LastUsedAt)
		}
	}
}
