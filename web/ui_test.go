package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUIRoutes: the app's files are served from the binary, every other
// GET path outside /api and /.well-known answers index.html (the app
// routes itself), and the API's 404s stay JSON.
func TestUIRoutes(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, p := range []string{"/", "/send", "/login", "/register", "/settings", "/admin/settlements", "/admin/settlement-methods", "/no/such/page", "/index.html"} {
		res, body := get("GET", p)
		if res.StatusCode != 200 || !strings.Contains(body, `<script type="module" src="/app.js">`) ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %q", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	for p, ct := range map[string]string{"/app.js": "text/javascript", "/curve.js": "text/javascript", "/pages.js": "text/javascript",
		"/settlements.js": "text/javascript", "/style.css": "text/css"} {
		res, body := get("GET", p)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ct) || body == "" {
			t.Errorf("GET %s: %d %q", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/api/nope", "/.well-known/nope"} {
		res, body := get("GET", p)
		if res.StatusCode != 404 || !strings.Contains(body, "NotFoundError") {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, body)
		}
	}
	if res, _ := get("POST", "/send"); res.StatusCode != 405 {
		t.Errorf("POST /send: %d", res.StatusCode)
	}
	if res, body := get("HEAD", "/send"); res.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /send: %d %q", res.StatusCode, body)
	}
}
