package web

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// proxied is e's kit served again by a handler that trusts the proxies
// listed (ILPKIT_TRUSTED_PROXIES).
func proxied(t *testing.T, e *env, proxies string) *env {
	t.Helper()
	ps, err := ParseTrustedProxies(proxies)
	if err != nil {
		t.Fatal(err)
	}
	s := New(e.k, Options{TrustedProxies: ps})
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	p := *e
	p.s, p.srv = s, srv
	return &p
}

// register registers name from a client that sends X-Forwarded-For xff
// ("": none).
func register(e *env, name, xff string) resp {
	var hdr []string
	if xff != "" {
		hdr = []string{"X-Forwarded-For", xff}
	}
	return e.client().do("POST", "/api/users/"+name, map[string]string{"password": name + "-password"}, hdr...)
}

// TestParseTrustedProxies: addresses and prefixes, IPv4 and IPv6, spaces
// and empty items; anything else is an error.
func TestParseTrustedProxies(t *testing.T) {
	ps, err := ParseTrustedProxies(" 127.0.0.1, 10.0.0.0/8,,::1 ,2001:db8::/32, ::ffff:192.0.2.1, 192.168.1.7/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8::/32", "192.0.2.1/32", "192.168.0.0/16"}
	if len(ps) != len(want) {
		t.Fatalf("%v", ps)
	}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("%d: %s, want %s", i, p, want[i])
		}
	}
	if ps, err := ParseTrustedProxies(""); err != nil || ps != nil {
		t.Errorf("none: %v %v", ps, err)
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3", "fe80::1%eth0", "::ffff:10.0.0.0/104", "10.0.0.1:80"} {
		if _, err := ParseTrustedProxies("127.0.0.1," + bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestClientAddr: X-Forwarded-For counts only when the socket's peer is a
// trusted proxy, and then the rightmost hop that is not a trusted proxy is
// the client; whatever a client writes to the left of it is ignored.
func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, remote string
		xff          []string
		proxies      bool
		want         string
	}{
		{"no proxies", "127.0.0.1:1234", []string{"203.0.113.9"}, false, "127.0.0.1"},
		{"untrusted peer spoofs", "198.51.100.7:1234", []string{"203.0.113.9"}, true, "198.51.100.7"},
		{"untrusted peer spoofs a trusted one", "198.51.100.7:1234", []string{"10.0.0.1"}, true, "198.51.100.7"},
		{"trusted peer, no header", "127.0.0.1:1234", nil, true, "127.0.0.1"},
		{"trusted peer", "127.0.0.1:1234", []string{"203.0.113.9"}, true, "203.0.113.9"},
		{"client's spoof to the left", "127.0.0.1:1234", []string{"1.1.1.1, 203.0.113.9"}, true, "203.0.113.9"},
		{"chain of trusted proxies", "127.0.0.1:1234", []string{"6.6.6.6, 203.0.113.9, 10.1.2.3", "10.0.0.9"}, true, "203.0.113.9"},
		{"all trusted: the leftmost", "127.0.0.1:1234", []string{"10.0.0.2, 10.0.0.3"}, true, "10.0.0.2"},
		{"garbage after a trusted hop", "127.0.0.1:1234", []string{"203.0.113.9, unknown, 10.0.0.3"}, true, "10.0.0.3"},
		{"garbage at once", "127.0.0.1:1234", []string{"unknown"}, true, "127.0.0.1"},
		{"hops with ports", "127.0.0.1:1234", []string{"[2001:db8::5]:443"}, true, "2001:db8::5"},
		{"hop with port", "127.0.0.1:1234", []string{"203.0.113.9:5555"}, true, "203.0.113.9"},
		{"IPv6 peer", "[::1]:1234", []string{"2001:db8::7"}, true, "2001:db8::7"},
		{"mapped peer", "[::ffff:10.0.0.4]:1234", []string{"::ffff:203.0.113.9"}, true, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/api/config", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		var ps []netip.Prefix
		if c.proxies {
			ps = proxies
		}
		if got := clientAddr(r, ps); got != c.want {
			t.Errorf("%s: %s, want %s", c.what, got, c.want)
		}
	}
}

// TestTrustedProxies over HTTP: without trusted proxies a spoofed
// X-Forwarded-For changes nothing (every registration counts against the
// socket's address); trusting the kit's own loopback proxy, each forwarded
// client has its own count. Neither the cookie's Secure flag nor the
// public URL follows X-Forwarded-Proto or X-Forwarded-Host.
func TestTrustedProxies(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	for i := range registerBurst {
		expect(t, "spoofed", register(e, "user"+string(rune('a'+i)), "203.0.113."+jsonInt(int64(i))), 201, "")
	}
	expect(t, "spoofed address after the burst", register(e, "mallory", "198.51.100.1"), 429, "TooManyRequestsError")

	p := proxied(t, e, "127.0.0.1, ::1")
	for i := range registerBurst {
		// What a client puts before the hop the proxy appended is ignored.
		expect(t, "forwarded client", register(p, "fwd"+jsonInt(int64(i)), "1.1.1."+jsonInt(int64(i))+", 198.51.100.1"), 201, "")
	}
	expect(t, "forwarded client after the burst", register(p, "carol", "198.51.100.1"), 429, "TooManyRequestsError")
	expect(t, "spoofing in front of it", register(p, "carol", "198.51.100.9, 198.51.100.1"), 429, "TooManyRequestsError")
	expect(t, "another forwarded client", register(p, "carol", "198.51.100.2"), 201, "")
	expect(t, "the proxy itself", register(p, "dave", ""), 201, "")
	// The password limiter reads the same address: twenty failures lock
	// out one forwarded client, not the next.
	bad := map[string]string{"username": "carol", "password": "wrong-password"}
	for i := range freeIPFailures {
		r := p.client().do("POST", "/api/auth/login", map[string]string{"username": "nobody" + jsonInt(int64(i)), "password": "wrong-password"}, "X-Forwarded-For", "198.51.100.3")
		expect(t, "spray", r, 401, "UnauthorizedError")
	}
	expect(t, "sprayer locked out", p.client().do("POST", "/api/auth/login", bad, "X-Forwarded-For", "198.51.100.3"), 429, "TooManyRequestsError")
	expect(t, "other client not", p.client().do("POST", "/api/auth/login", bad, "X-Forwarded-For", "198.51.100.4"), 401, "UnauthorizedError")

	// Headers of a trusted proxy do not make the kit https or move it.
	r := p.client().do("POST", "/api/auth/login", map[string]string{"username": "admin", "password": adminPass},
		"X-Forwarded-For", "198.51.100.5", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example")
	expect(t, "login through the proxy", r, 200, "")
	for _, ck := range (&http.Response{Header: r.hdr}).Cookies() {
		if ck.Name == SessionCookie && ck.Secure {
			t.Error("X-Forwarded-Proto made the cookie Secure")
		}
	}
	var cfg struct {
		ClientURI string `json:"clientUri"`
	}
	p.client().do("GET", "/api/config", nil, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example").decode(t, &cfg)
	if cfg.ClientURI != e.k.PublicURL() || strings.Contains(cfg.ClientURI, "evil") {
		t.Errorf("public URL %q, want %q", cfg.ClientURI, e.k.PublicURL())
	}
}

// TestRegistrationLimit: registerBurst registrations per address, then 429
// TooManyRequestsError with Retry-After until the bucket gives one back,
// one each registerEvery by the kit's clock. Failed registrations are
// free; other addresses have their own bucket, an IPv6 /64 one together.
func TestRegistrationLimit(t *testing.T) {
	e := proxied(t, newEnv(t, sqliteDSN(t)), "127.0.0.1, ::1")
	const ip = "203.0.113.7"
	for range 10 {
		expect(t, "taken", register(e, "admin", ip), 409, "UsernameTakenError")
	}
	expect(t, "bad body", e.client().do("POST", "/api/users/xy", map[string]string{"password": "short"}, "X-Forwarded-For", ip), 400, "InvalidPasswordError")
	for i := range registerBurst {
		expect(t, "burst", register(e, "burst"+jsonInt(int64(i)), ip), 201, "")
	}
	r := register(e, "over", ip)
	expect(t, "over", r, 429, "TooManyRequestsError")
	if got, want := r.hdr.Get("Retry-After"), jsonInt(int64(registerEvery/time.Second)); got != want {
		t.Errorf("Retry-After %q, want %q", got, want)
	}
	if _, err := e.k.Store().UserByName(t.Context(), "over"); err == nil {
		t.Error("a refused registration made the user")
	}
	expect(t, "another address", register(e, "other", "203.0.113.8"), 201, "")

	e.clock.Advance(registerEvery - time.Second)
	r = register(e, "over", ip)
	if r.code != 429 || r.hdr.Get("Retry-After") != "1" {
		t.Errorf("a second early: %d %q", r.code, r.hdr.Get("Retry-After"))
	}
	e.clock.Advance(time.Second)
	expect(t, "one back", register(e, "over", ip), 201, "")
	expect(t, "only one", register(e, "over2", ip), 429, "TooManyRequestsError")
	e.clock.Advance(registerBurst * registerEvery)
	for i := range registerBurst {
		expect(t, "full again", register(e, "again"+jsonInt(int64(i)), ip), 201, "")
	}
	expect(t, "not fuller", register(e, "again9", ip), 429, "TooManyRequestsError")

	// IPv6: one /64, one bucket.
	for i := range registerBurst {
		expect(t, "v6", register(e, "six"+jsonInt(int64(i)), "2001:db8:1:2::"+jsonInt(int64(i+1))), 201, "")
	}
	expect(t, "same /64", register(e, "six9", "2001:db8:1:2:ffff::9"), 429, "TooManyRequestsError")
	expect(t, "next /64", register(e, "six10", "2001:db8:1:3::1"), 201, "")
}
