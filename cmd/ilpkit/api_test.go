package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// apiClient is a browser-like client of a running kit: a cookie jar and
// the CSRF token of its session.
type apiClient struct {
	t    *testing.T
	base string
	h    *http.Client
	csrf string
}

func newAPIClient(t *testing.T, base string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: base, h: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (c *apiClient) call(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.h.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && json.Unmarshal(b, out) != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

// TestServeAPI: on a running "ilpkit serve", two users register, sign in
// with session cookies, one pays the other through the REST API, the
// payee's event stream reports it, and shutting down with the stream
// still open is prompt.
func TestServeAPI(t *testing.T) {
	env := map[string]string{"ILPKIT_DATA_DIR": filepath.Join(t.TempDir(), "data"), "LOG_LEVEL": "warn",
		"API_REGISTRATION": "true", "API_LEDGER_ADMIN_PASS": "admin-password"}
	base, _, stop := startServe(t, env)

	admin := newAPIClient(t, base)
	var sess struct{ CSRFToken string }
	if code := admin.call("POST", "/api/auth/login", map[string]string{"username": "admin", "password": "admin-password"}, &sess); code != 200 {
		t.Fatalf("admin login %d", code)
	}
	admin.csrf = sess.CSRFToken
	var inv struct{ Code string }
	if code := admin.call("POST", "/api/invites", map[string]string{"amount": "1000"}, &inv); code != 201 {
		t.Fatalf("invite %d", code)
	}
	users := map[string]*apiClient{}
	for _, name := range []string{"alice", "bob"} {
		c := newAPIClient(t, base)
		body := map[string]string{"password": name + "-password"}
		if name == "alice" {
			body["inviteCode"] = inv.Code
		}
		if code := c.call("POST", "/api/users/"+name, body, nil); code != 201 {
			t.Fatalf("register %s: %d", name, code)
		}
		if code := c.call("POST", "/api/auth/login", map[string]string{"username": name, "password": name + "-password"}, &sess); code != 200 {
			t.Fatalf("login %s: %d", name, code)
		}
		c.csrf = sess.CSRFToken
		users[name] = c
	}

	// Bob listens.
	req, _ := http.NewRequest("GET", base+"/api/events", nil)
	for _, ck := range users["bob"].h.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("events: %v %v", res, err)
	}
	defer res.Body.Close()
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				events <- sc.Text()
			}
		}
		close(events)
	}()
	<-events // the balance

	var q struct{ ID string }
	alice := users["alice"]
	if code := alice.call("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "250"}, &q); code != 200 {
		t.Fatalf("quote %d", code)
	}
	var p struct{ State string }
	if code := alice.call("PUT", "/api/payments/first", map[string]string{"quoteId": q.ID, "sourceAmount": "250", "destinationAmount": "250"}, &p); code != 200 || p.State != "success" {
		t.Fatalf("pay %d %+v", code, p)
	}
	select {
	case ev := <-events:
		if !strings.Contains(ev, `"sourceAmount":"250"`) || !strings.Contains(ev, `"direction":"incoming"`) {
			t.Errorf("event %s", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no payment event")
	}
	var me struct{ User struct{ Balance string } }
	users["bob"].call("GET", "/api/auth/load", nil, &me)
	if me.User.Balance != "250" {
		t.Errorf("bob's balance %s", me.User.Balance)
	}

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown with an open stream took %v", d)
	}
}
