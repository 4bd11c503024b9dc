package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/web"
)

type testKit struct {
	k    *kit.Kit
	host string
}

// peeredKits opens two kits served on loopback and peers them.
func peeredKits(t *testing.T) (red, blue testKit) {
	t.Helper()
	ctx := context.Background()
	mk := func(name string) testKit {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		k, err := kit.Open(ctx, kit.Config{
			DBURI: filepath.Join(t.TempDir(), name+".db"), Hostname: "127.0.0.1", Port: port,
			Prefix: "test." + name + ".", AdminPass: "admin-password", Registration: true,
			AllowHTTPPeers: true, BroadcastInterval: 200 * time.Millisecond, RouteExpiry: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: web.New(k, web.Options{Version: "test"})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() {
			_ = srv.Close()
			_ = k.Close(context.Background())
		})
		return testKit{k: k, host: "127.0.0.1:" + strconv.Itoa(port)}
	}
	red, blue = mk("red"), mk("blue")
	if _, err := red.k.AddPeer(ctx, kit.PeerRequest{Hostname: blue.host, Limit: 1_000_000_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := blue.k.AddPeer(ctx, kit.PeerRequest{Hostname: red.host, Limit: 1_000_000_000}); err != nil {
		t.Fatal(err)
	}
	return red, blue
}

// user registers name on k (with an invite worth funds) and returns a
// trustline token for it.
func user(t *testing.T, k *kit.Kit, name string, funds int64) string {
	t.Helper()
	ctx := context.Background()
	nu := kit.NewUser{Username: name, Password: name + "-password"}
	if funds > 0 {
		nu.InviteCode = "fund-" + name
		if _, err := k.Store().CreateInvite(ctx, nu.InviteCode, funds); err != nil {
			t.Fatal(err)
		}
	}
	u, err := k.Register(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := k.CreateToken(ctx, u.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestClientCommand: "ilpkit client" as alice on one kit pays bob on
// another by bob@host, and as bob listens with a receiver of its own and
// receives a payment from alice.
func TestClientCommand(t *testing.T) {
	red, blue := peeredKits(t)
	aliceTok, bobTok := user(t, red.k, "alice", 10_000_000), user(t, blue.k, "bob", 0)
	env := func(host, tok string) func(string) string {
		return func(k string) string {
			switch k {
			case "ILPKIT_URL":
				return "http://" + host + "/api/trustline"
			case "ILPKIT_TOKEN":
				return tok
			}
			return ""
		}
	}
	ctx := context.Background()
	var out strings.Builder
	var err error
	deadline := time.Now().Add(30 * time.Second) // routes come with a broadcast; CI may be slow
	for {
		out.Reset()
		err = runClient(ctx, []string{"pay", "--to", "bob@" + blue.host, "--amount", "1000000", "--allow-http", "--message", "hi"}, env(red.host, aliceTok), &out, io.Discard)
		if err == nil || time.Now().After(deadline) || !strings.Contains(err.Error(), "no quote") {
			break
		}
		time.Sleep(100 * time.Millisecond) // routes not yet broadcast
	}
	if err != nil {
		t.Fatalf("pay: %v", err)
	}
	if !strings.HasPrefix(out.String(), "paid 1000000, ") {
		t.Errorf("pay printed %q", out.String())
	}
	bobGot, err := blue.k.Balance(ctx, "bob")
	if err != nil || bobGot.Sign() <= 0 {
		t.Fatalf("bob %s %v", bobGot, err)
	}
	out.Reset()
	if err := runClient(ctx, []string{"balance"}, env(red.host, aliceTok), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "9000000 USD") {
		t.Errorf("balance: %q %v", out.String(), err)
	}

	// bob listens with a receiver of his own; alice pays its address.
	lctx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runClient(lctx, []string{"listen"}, env(blue.host, bobTok), pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("listen printed nothing")
	}
	var params map[string]string
	if err := json.Unmarshal(lines.Bytes(), &params); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = runClient(ctx, []string{"pay", "--to", params["destination_account"], "--shared-secret", params["shared_secret"], "--receive", "500", "--message", "to the listener"}, env(red.host, aliceTok), &out, io.Discard)
	if err != nil {
		t.Fatalf("pay to the listener: %v", err)
	}
	if !lines.Scan() {
		t.Fatal("listen printed no payment")
	}
	var got map[string]string
	if err := json.Unmarshal(lines.Bytes(), &got); err != nil || got["amount"] != "500" || got["message"] != "to the listener" {
		t.Errorf("listen printed %q (%v)", lines.Text(), err)
	}
	stop()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := <-done; err != nil {
		t.Errorf("listen: %v", err)
	}
	after, _ := blue.k.Balance(ctx, "bob")
	if d, _ := after.Sub(bobGot); d.String() != "500" {
		t.Errorf("bob got %s from the listened payment, want 500", d)
	}
}
