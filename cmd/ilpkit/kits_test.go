package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/internal/pgtest"
)

// TestMain runs the binary's own main when a test re-executes it as a
// real "ilpkit" process (ILPKIT_TEST_EXEC=1, arguments in ILPKIT_TEST_ARGS).
func TestMain(m *testing.M) {
	if os.Getenv("ILPKIT_TEST_EXEC") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, strings.Fields(os.Getenv("ILPKIT_TEST_ARGS")), os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(pgtest.Run(m))
}

// kitProcess is an "ilpkit serve" process.
type kitProcess struct {
	cmd  *exec.Cmd
	base string
	host string
	done chan struct{}
}

// startKitProcess starts "ilpkit serve" as a process with env and waits
// until it answers.
func startKitProcess(t testing.TB, env map[string]string) *kitProcess {
	t.Helper()
	if env["API_PORT"] == "" {
		env["API_PORT"] = strconv.Itoa(freePort(t))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The process dies with the test (even one that times out and
	// skips its clean-ups).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "ILPKIT_TEST_EXEC=1", "ILPKIT_TEST_ARGS=serve")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if dir := os.Getenv("ILPKIT_TEST_LOGDIR"); dir != "" {
		// The whole log of every process, for debugging a failure.
		f, err := os.Create(filepath.Join(dir, "kit-"+env["API_PORT"]+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		cmd.Stderr = io.MultiWriter(logs, f)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &kitProcess{cmd: cmd, host: "127.0.0.1:" + env["API_PORT"], done: make(chan struct{})}
	t.Cleanup(func() {
		if t.Failed() {
			l := logs.String()
			t.Logf("log of the kit on port %s (end):\n%s", env["API_PORT"], l[max(0, len(l)-4000):])
		}
	})
	p.base = "http://" + p.host
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/health")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatal("ilpkit serve exited")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ilpkit serve not up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *kitProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func kitEnv(t *testing.T, prefix string) map[string]string {
	level := "warn"
	if l := os.Getenv("ILPKIT_TEST_LOG_LEVEL"); l != "" {
		level = l
	}
	return map[string]string{
		"ILPKIT_DATA_DIR": filepath.Join(t.TempDir(), "data"), "LOG_LEVEL": level,
		"API_HOSTNAME": "127.0.0.1", "API_REGISTRATION": "true", "API_LEDGER_ADMIN_PASS": "admin-password",
		"LEDGER_ILP_PREFIX": prefix, "ILPKIT_ALLOW_HTTP_PEERS": "true",
		"CONNECTOR_ROUTE_BROADCAST_INTERVAL": "200", "CONNECTOR_ROUTE_EXPIRY": "10000",
	}
}

// login signs name in on a kit.
func login(t *testing.T, base, name, password string) *apiClient {
	t.Helper()
	c := newAPIClient(t, base)
	var sess struct{ CSRFToken string }
	if code := c.call("POST", "/api/auth/login", map[string]string{"username": name, "password": password}, &sess); code != 200 {
		t.Fatalf("login %s: %d", name, code)
	}
	c.csrf = sess.CSRFToken
	return c
}

func (c *apiClient) balance() *big.Int {
	c.t.Helper()
	var me struct{ User struct{ Balance string } }
	if code := c.call("GET", "/api/auth/load", nil, &me); code != 200 {
		c.t.Fatalf("load: %d", code)
	}
	v, ok := new(big.Int).SetString(me.User.Balance, 10)
	if !ok {
		c.t.Fatalf("balance %q", me.User.Balance)
	}
	return v
}

// TestTwoKits: two "ilpkit serve" processes peered through their admin
// APIs; alice on the first pays bob@host on the second by source amount,
// by destination amount and from a liquidity curve (computing the amount
// from the curve as a client does); the balances move by exactly the
// accepted amounts and bob's event stream reports the payments.
func TestTwoKits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Run("sqlite", func(t *testing.T) { twoKits(t, kitEnv(t, "test.one."), kitEnv(t, "test.two.")) })
	t.Run("postgres", func(t *testing.T) {
		e1, e2 := kitEnv(t, "test.one."), kitEnv(t, "test.two.")
		e1["DB_URI"], e2["DB_URI"] = pgtest.DSN(t), pgtest.DSN(t)
		twoKits(t, e1, e2)
	})
}

func twoKits(t *testing.T, env1, env2 map[string]string) {
	k1, k2 := startKitProcess(t, env1), startKitProcess(t, env2)
	a1, a2 := login(t, k1.base, "admin", "admin-password"), login(t, k2.base, "admin", "admin-password")
	for _, p := range []struct {
		admin *apiClient
		peer  string
	}{{a1, k2.host}, {a2, k1.host}} {
		if code := p.admin.call("POST", "/api/peers", map[string]string{"hostname": p.peer, "limit": "1000000000000"}, nil); code != 201 {
			t.Fatalf("add peer %s: %d", p.peer, code)
		}
	}
	var inv struct{ Code string }
	if code := a1.call("POST", "/api/invites", map[string]string{"amount": "10000000000"}, &inv); code != 201 {
		t.Fatalf("invite: %d", code)
	}
	for _, u := range []struct {
		base, name, invite string
	}{{k1.base, "alice", inv.Code}, {k2.base, "bob", ""}} {
		body := map[string]string{"password": u.name + "-password", "name": strings.ToUpper(u.name[:1]) + u.name[1:]}
		if u.invite != "" {
			body["inviteCode"] = u.invite
		}
		if code := newAPIClient(t, u.base).call("POST", "/api/users/"+u.name, body, nil); code != 201 {
			t.Fatalf("register %s: %d", u.name, code)
		}
	}
	alice, bob := login(t, k1.base, "alice", "alice-password"), login(t, k2.base, "bob", "bob-password")
	aliceStart := alice.balance()

	// Bob's event stream.
	req, _ := http.NewRequest("GET", k2.base+"/api/events", nil)
	for _, ck := range bob.h.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("events: %v %v", res, err)
	}
	defer res.Body.Close()
	events := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"direction"`) {
				events <- sc.Text()
			}
		}
	}()

	dest := "bob@" + k2.host
	type quote struct {
		ID                string
		SourceAmount      string
		DestinationAmount string
		Points            [][2]string
	}
	var q quote
	deadline := time.Now().Add(30 * time.Second) // routes come with a broadcast
	for {
		if code := alice.call("POST", "/api/payments/quote", map[string]string{"destination": dest, "sourceAmount": "1000000"}, &q); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no route to bob")
		}
		time.Sleep(100 * time.Millisecond)
	}
	paid, got := new(big.Int), new(big.Int)
	pay := func(id, quoteID, src, dst string) {
		t.Helper()
		var p struct{ State, Error string }
		if code := alice.call("PUT", "/api/payments/"+id, map[string]string{"quoteId": quoteID, "sourceAmount": src, "destinationAmount": dst}, &p); code != 200 || p.State != "success" {
			t.Fatalf("pay %s: %d %+v", id, code, p)
		}
		s, _ := new(big.Int).SetString(src, 10)
		d, _ := new(big.Int).SetString(dst, 10)
		paid.Add(paid, s)
		got.Add(got, d)
		// A payment is reported when it appears and when it changes
		// state (the two may come as one): wait for its success.
		timeout := time.After(10 * time.Second)
		for seen := false; !seen; {
			select {
			case ev := <-events:
				seen = strings.Contains(ev, `"destinationAmount":"`+dst+`"`) && strings.Contains(ev, `"state":"success"`)
			case <-timeout:
				t.Errorf("bob's stream did not report payment %s", id)
				seen = true
			}
		}
	}
	pay("by-source", q.ID, q.SourceAmount, q.DestinationAmount)

	if code := alice.call("POST", "/api/payments/quote", map[string]string{"destination": dest, "destinationAmount": "500000"}, &q); code != 200 {
		t.Fatalf("quote by destination: %d", code)
	}
	pay("by-destination", q.ID, q.SourceAmount, "500000")

	if code := alice.call("GET", "/api/payments/curve?destination="+dest, nil, &q); code != 200 || len(q.Points) < 2 {
		t.Fatalf("curve: %d %+v", code, q)
	}
	pts := make([]curve.Point, len(q.Points))
	for i, p := range q.Points {
		x, _ := strconv.ParseUint(p[0], 10, 64)
		y, _ := strconv.ParseUint(p[1], 10, 64)
		pts[i] = curve.Point{X: x, Y: y}
	}
	c, err := curve.New(pts)
	if err != nil {
		t.Fatal(err)
	}
	pay("from-curve", q.ID, "2000000", fmt.Sprint(c.AmountAt(2_000_000)))

	if d := new(big.Int).Sub(aliceStart, alice.balance()); d.Cmp(paid) != 0 {
		t.Errorf("alice paid %s, accepted %s", d, paid)
	}
	if b := bob.balance(); b.Cmp(got) != 0 {
		t.Errorf("bob has %s, was sent %s", b, got)
	}
	// The admin sees the peer online, with the trustline balance.
	var peers []struct {
		Online  bool
		Balance string
	}
	if code := a1.call("GET", "/api/peers", nil, &peers); code != 200 || len(peers) != 1 || !peers[0].Online || !strings.HasPrefix(peers[0].Balance, "-") {
		t.Errorf("peers %d %+v", code, peers)
	}
}
