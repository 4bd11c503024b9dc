package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServe runs "ilpkit serve" in this process with env and returns its
// base URL, its output and a function that stops it (as SIGTERM does) and
// returns its error.
func startServe(t *testing.T, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	port := freePort(t)
	if env["API_PORT"] == "" {
		env["API_PORT"] = strconv.Itoa(port)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, nil, func(k string) string { return env[k] }, out, errOut) }()
	base := "http://127.0.0.1:" + env["API_PORT"]
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return base, out, stop
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v: %s", url, err, b)
		}
	}
	return resp.StatusCode
}

// TestServeZeroConfig: "ilpkit serve" with nothing but a data directory
// starts, prints the generated admin password once, answers health,
// config, WebFinger and SPSP, shuts down cleanly, and after a restart has
// the same identity and no new password.
func TestServeZeroConfig(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ILPKIT_DATA_DIR": filepath.Join(dir, "data"), "LOG_LEVEL": "warn"}
	base, out, stop := startServe(t, env)
	if !strings.Contains(out.String(), `Created the admin user "admin" with the password `) {
		t.Errorf("no admin password printed: %q", out.String())
	}
	var cfg map[string]any
	if code := getJSON(t, base+"/api/config", &cfg); code != 200 || cfg["currencyCode"] != "USD" || cfg["currencyScale"] != 9.0 {
		t.Errorf("config %d %v", code, cfg)
	}
	prefix, _ := cfg["ilpPrefix"].(string)
	if !strings.HasPrefix(prefix, "private.ilpkit.") {
		t.Errorf("prefix %q", prefix)
	}
	host := "localhost:" + env["API_PORT"]
	var doc struct {
		Subject string `json:"subject"`
		Links   []struct{ Rel, Href string }
	}
	if code := getJSON(t, base+"/.well-known/webfinger?resource=acct:admin@"+host, &doc); code != 200 || doc.Subject != "acct:admin@"+host {
		t.Errorf("webfinger %d %+v", code, doc)
	}
	if code := getJSON(t, base+"/.well-known/webfinger?resource=acct:nobody@"+host, nil); code != 404 {
		t.Errorf("webfinger of an unknown user: %d", code)
	}
	var sp map[string]any
	if code := getJSON(t, base+"/api/spsp/admin", &sp); code != 200 || !strings.HasPrefix(sp["destination_account"].(string), prefix+"admin.") {
		t.Errorf("spsp %d %v", code, sp)
	}
	var e map[string]string
	if code := getJSON(t, base+"/api/spsp/nobody", &e); code != 404 || e["id"] != "NotFoundError" {
		t.Errorf("spsp of an unknown user: %d %v", code, e)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	base, out, _ = startServe(t, env)
	if strings.Contains(out.String(), "password") {
		t.Errorf("second start printed a password: %q", out.String())
	}
	getJSON(t, base+"/api/config", &cfg)
	if cfg["ilpPrefix"] != prefix {
		t.Errorf("prefix changed: %v then %v", prefix, cfg["ilpPrefix"])
	}
}

// TestServeBadSettings: a bad setting is a clear error before anything
// starts.
func TestServeBadSettings(t *testing.T) {
	for _, env := range []map[string]string{
		{"API_PORT": "x"},
		{"LEDGER_CURRENCY_SCALE": "40"},
		{"API_PUBLIC_HTTPS": "maybe"},
		{"CONNECTOR_MAX_HOLD_TIME": "-1"},
		{"LOG_LEVEL": "loud"},
		{"ILPKIT_TRUSTED_PROXIES": "127.0.0.1, proxy.example"},
		{"ILPKIT_TRUSTED_PROXIES": "10.0.0.0/40"},
	} {
		env["ILPKIT_DATA_DIR"] = t.TempDir()
		var out, errOut bytes.Buffer
		err := runServe(context.Background(), nil, func(k string) string { return env[k] }, &out, &errOut)
		if err == nil {
			t.Errorf("%v: no error", env)
		}
	}
}

// TestServeTrustedProxies: ILPKIT_TRUSTED_PROXIES (or --trusted-proxies)
// is listed in --help and reaches the handler: without it, a client's
// X-Forwarded-For changes nothing (every registration counts against
// 127.0.0.1, and the sixth in a row is refused); with 127.0.0.1 trusted,
// each forwarded client has its own count.
func TestServeTrustedProxies(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runServe(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--trusted-proxies, ILPKIT_TRUSTED_PROXIES") {
		t.Errorf("--help does not list the setting:\n%s", out.String())
	}
	env := map[string]string{"ILPKIT_DATA_DIR": t.TempDir(), "ILPKIT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
	c, err := loadServeConfig([]string{"--trusted-proxies", "::1,192.0.2.0/24"}, func(k string) string { return env[k] }, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.proxies) != 2 || c.proxies[0].String() != "::1/128" || c.proxies[1].String() != "192.0.2.0/24" {
		t.Errorf("the flag: %v", c.proxies)
	}

	register := func(base, name, xff string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/users/"+name, strings.NewReader(`{"password":"`+name+`-password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, proxies := range []string{"", "127.0.0.1"} {
		env := map[string]string{"ILPKIT_DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn", "API_REGISTRATION": "true", "ILPKIT_TRUSTED_PROXIES": proxies}
		base, _, _ := startServe(t, env)
		codes := ""
		for i := range 6 {
			codes += strconv.Itoa(register(base, "user"+strconv.Itoa(i), "203.0.113."+strconv.Itoa(i))) + " "
		}
		want := "201 201 201 201 201 429 "
		if proxies != "" {
			want = "201 201 201 201 201 201 "
		}
		if codes != want {
			t.Errorf("trusted %q: %s, want %s", proxies, codes, want)
		}
	}
}
