package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// env is a kit on a real database served over real HTTP, with a clock
// that moves only when told.
type env struct {
	t     testing.TB
	k     *kit.Kit
	s     *Server
	srv   *httptest.Server
	clock *plugintest.Clock
}

const adminPass = "admin-password"

func sqliteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "kit.db") }

func newEnv(t testing.TB, dsn string, tweak ...func(*kit.Config)) *env {
	t.Helper()
	clock := plugintest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := kit.Config{DBURI: dsn, AdminPass: adminPass, Registration: true, Hostname: "wallet.test", Clock: clock}
	for _, f := range tweak {
		f(&cfg)
	}
	k, err := kit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(k, Options{})
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		srv.Close()
		_ = k.Close(context.Background())
	})
	return &env{t: t, k: k, s: s, srv: srv, clock: clock}
}

// client is one HTTP client of the API: a cookie jar, and the CSRF token
// of its session or a fixed Authorization header.
type client struct {
	e     *env
	h     *http.Client
	csrf  string
	authz string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, h: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// resp is an answer: status, headers, body.
type resp struct {
	code int
	hdr  http.Header
	body []byte
}

// errID is the id of a JSON error answer ("" if the body is not one).
func (r resp) errID() string {
	var e apiError
	if json.Unmarshal(r.body, &e) != nil || e.Message == "" {
		return ""
	}
	return e.ID
}

func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
}

// do sends body (a string or []byte as it is, anything else as JSON).
func (c *client) do(method, path string, body any, hdr ...string) resp {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.h.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, hdr: res.Header, body: b}
}

// login signs c in with a session cookie and keeps its CSRF token.
func (c *client) login(user, pw string) resp {
	c.e.t.Helper()
	r := c.do("POST", "/api/auth/login", map[string]string{"username": user, "password": pw})
	if r.code != 200 {
		c.e.t.Fatalf("login %s: %d %s", user, r.code, r.body)
	}
	var s struct {
		CSRFToken string `json:"csrfToken"`
	}
	r.decode(c.e.t, &s)
	c.csrf = s.CSRFToken
	return r
}

// signedIn registers (when pw is new) and signs in a user.
func (e *env) user(name, pw string, invite string) *client {
	e.t.Helper()
	c := e.client()
	body := map[string]string{"password": pw, "name": strings.ToUpper(name[:1]) + name[1:], "email": name + "@mail.test"}
	if invite != "" {
		body["inviteCode"] = invite
	}
	if r := c.do("POST", "/api/users/"+name, body); r.code != 201 {
		e.t.Fatalf("register %s: %d %s", name, r.code, r.body)
	}
	c.login(name, pw)
	return c
}

func (e *env) admin() *client {
	c := e.client()
	c.login("admin", adminPass)
	return c
}

// invite makes an invite worth amount through the API.
func (e *env) invite(amount string) string {
	e.t.Helper()
	r := e.admin().do("POST", "/api/invites", map[string]string{"amount": amount})
	if r.code != 201 {
		e.t.Fatalf("invite: %d %s", r.code, r.body)
	}
	var in struct{ Code string }
	r.decode(e.t, &in)
	return in.Code
}

func (e *env) balance(user string) string {
	e.t.Helper()
	b, err := e.k.Balance(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	return b.String()
}

func (e *env) checkSum() {
	e.t.Helper()
	tot, err := e.k.Server().Totals(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := tot.Check(); err != nil {
		e.t.Errorf("ledger does not add up: %v", err)
	}
}

// expect checks an answer's status and, for errors, its JSON id.
func expect(t *testing.T, what string, r resp, code int, id string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: status %d, want %d: %s", what, r.code, code, r.body)
		return
	}
	if id != "" && r.errID() != id {
		t.Errorf("%s: error id %q, want %q: %s", what, r.errID(), id, r.body)
	}
}

func must(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
