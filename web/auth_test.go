package web

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit"
)

// TestSessionCookie: the login cookie is a random token (only its hash is
// stored), HttpOnly, SameSite=Lax, Path=/, for 30 days, and Secure when the
// kit's public URL is https.
func TestSessionCookie(t *testing.T) {
	for _, https := range []bool{false, true} {
		e := newEnv(t, sqliteDSN(t), func(c *kit.Config) { c.PublicHTTPS = https })
		r := e.client().do("POST", "/api/auth/login", map[string]string{"username": "admin", "password": adminPass})
		expect(t, "login", r, 200, "")
		res := http.Response{Header: r.hdr}
		var ck *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == SessionCookie {
				ck = c
			}
		}
		if ck == nil {
			t.Fatalf("no cookie: %v", r.hdr)
		}
		raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
		if len(raw) != 32 || err != nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
			ck.MaxAge != 30*24*3600 || ck.Secure != https {
			t.Errorf("https=%v cookie %+v", https, ck)
		}
		if _, err := e.k.Store().Session(t.Context(), ck.Value); err == nil {
			t.Error("the session is stored under the token itself")
		}
		if _, err := e.k.Store().Session(t.Context(), kit.SessionHash(ck.Value)); err != nil {
			t.Errorf("the session is not stored under the token's hash: %v", err)
		}
	}
}

// TestCSRF: a cookie-authenticated write needs the session's CSRF token in
// X-CSRF-Token; reads do not, nor Basic or bearer writes.
func TestCSRF(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	alice := e.user("alice", "alice-password", "")
	csrf := alice.csrf
	alice.csrf = ""
	expect(t, "read without", alice.do("GET", "/api/tokens", nil), 200, "")
	expect(t, "write without", alice.do("POST", "/api/tokens", map[string]string{"name": "x"}), 403, "CsrfError")
	expect(t, "write with a wrong one", alice.do("POST", "/api/tokens", map[string]string{"name": "x"}, "X-CSRF-Token", "wrong"), 403, "CsrfError")
	expect(t, "update without", alice.do("PUT", "/api/users/alice", map[string]string{"name": "Mallory"}), 403, "CsrfError")
	expect(t, "logout without", alice.do("POST", "/api/auth/logout", nil), 403, "CsrfError")
	// Another session's token does not do.
	other := e.client()
	other.login("alice", "alice-password")
	expect(t, "another session's", alice.do("POST", "/api/tokens", map[string]string{"name": "x"}, "X-CSRF-Token", other.csrf), 403, "CsrfError")
	if ts, _ := e.k.Store().Tokens(t.Context(), 2); len(ts) != 0 {
		t.Errorf("a refused write made tokens: %v", ts)
	}
	alice.csrf = csrf
	r := alice.do("POST", "/api/tokens", map[string]string{"name": "x"})
	expect(t, "write with", r, 201, "")
	var tok tokenJSON
	r.decode(t, &tok)

	// Basic and bearer need none; a bearer beats a cookie.
	basic := e.client()
	basic.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-password"))
	expect(t, "basic write", basic.do("POST", "/api/tokens", map[string]string{"name": "y"}), 201, "")
	bearer := e.client()
	bearer.authz = "Bearer " + tok.Token
	expect(t, "bearer write", bearer.do("PUT", "/api/users/alice", map[string]string{"name": "Alice A."}), 200, "")
	bad := e.client()
	bad.authz = "Bearer ilpkit_nope"
	expect(t, "unknown bearer", bad.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
	bad.authz = "Digest x"
	expect(t, "other scheme", bad.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")

	// A revoked token stops working.
	expect(t, "revoke", alice.do("DELETE", "/api/tokens/"+jsonInt(tok.ID), nil), 204, "")
	expect(t, "revoked bearer", bearer.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
}

// TestRateLimit: after five wrong passwords for a user name, logins wait
// one second, then twice as long after each further failure (429 with
// Retry-After, by the kit's clock); a right password resets the count.
// Basic auth counts the same, and a client address gets twenty failures
// across names.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	e.user("alice", "alice-password", "")
	c := e.client()
	login := func(pw string) resp {
		return c.do("POST", "/api/auth/login", map[string]string{"username": "alice", "password": pw})
	}
	for i := 0; i < 5; i++ {
		expect(t, "wrong", login("wrong-password"), 401, "UnauthorizedError")
	}
	r := login("alice-password")
	expect(t, "locked out", r, 429, "TooManyRequestsError")
	if r.hdr.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.hdr.Get("Retry-After"))
	}
	// Basic auth is locked out too.
	basic := e.client()
	basic.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-password"))
	expect(t, "basic locked out", basic.do("GET", "/api/auth/load", nil), 429, "TooManyRequestsError")
	e.clock.Advance(time.Second)
	expect(t, "sixth wrong", login("wrong-password"), 401, "UnauthorizedError")
	r = login("alice-password")
	if r.code != 429 || r.hdr.Get("Retry-After") != "2" {
		t.Errorf("after six: %d %q", r.code, r.hdr.Get("Retry-After"))
	}
	e.clock.Advance(2 * time.Second)
	expect(t, "basic wrong", func() resp {
		b := e.client()
		b.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wrong-password"))
		return b.do("GET", "/api/auth/load", nil)
	}(), 401, "UnauthorizedError")
	if r = login("alice-password"); r.hdr.Get("Retry-After") != "4" {
		t.Errorf("after seven: %d %q", r.code, r.hdr.Get("Retry-After"))
	}
	e.clock.Advance(4 * time.Second)
	expect(t, "right password", login("alice-password"), 200, "")
	// The count starts again.
	for i := 0; i < 4; i++ {
		expect(t, "wrong again", login("wrong-password"), 401, "UnauthorizedError")
	}
	expect(t, "not locked", login("alice-password"), 200, "")

	// One address, many names: locked out after twenty.
	for i := 0; i < 20-11; i++ { // eleven wrong passwords so far
		name := "user" + strings.Repeat("x", i%3) + string(rune('a'+i))
		r := c.do("POST", "/api/auth/login", map[string]string{"username": name, "password": "wrong-password"})
		expect(t, "spray", r, 401, "UnauthorizedError")
	}
	expect(t, "address locked out", c.do("POST", "/api/auth/login", map[string]string{"username": "admin", "password": adminPass}), 429, "TooManyRequestsError")
	e.clock.Advance(time.Second)
	expect(t, "address free", c.do("POST", "/api/auth/login", map[string]string{"username": "admin", "password": adminPass}), 200, "")
}

func jsonInt(v int64) string { return strings.TrimSpace(string(must(v))) }
