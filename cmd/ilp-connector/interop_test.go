package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// TestInterop2017 puts the 2017 JavaScript connector (ilp-connector 21.1.10
// with ilp-plugin-virtual 16.0.1, run by testdata/js2017/harness.js) between
// two ilp-connector processes: alice on the first pays bob on the second
// through it. It runs only with ILPKIT_JS2017=1 and the packages installed
// (cd testdata/js2017 && npm install --ignore-scripts).
func TestInterop2017(t *testing.T) {
	if os.Getenv("ILPKIT_JS2017") != "1" {
		t.Skip("set ILPKIT_JS2017=1 (and npm install in testdata/js2017) to run against the 2017 connector")
	}
	dir, err := filepath.Abs("testdata/js2017")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ilp-connector")); err != nil {
		t.Fatalf("2017 packages not installed in %s: %v", dir, err)
	}
	const secretJS = "c2VjcmV0LW9mLXRoZS0yMDE3LWNvbm5lY3Rvcg"
	id1, _ := virtual.NewIdentity(secret1)
	id2, _ := virtual.NewIdentity(secret2)
	idJ, _ := virtual.NewIdentity(secretJS)
	p1, err := id1.Peer(idJ.PublicKey(), "USD", 9)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := id2.Peer(idJ.PublicKey(), "USD", 9)
	if err != nil {
		t.Fatal(err)
	}
	a1, a2, aJ := freeAddr(t), freeAddr(t), freeAddr(t)
	u1, u2, uJ := "http://"+a1, "http://"+a2, "http://"+aJ

	peerOpts := func(secret, peerKey, prefix, rpc string) map[string]any {
		return map[string]any{"currency": "USD", "plugin": "ilp-plugin-virtual", "store": true, "options": map[string]any{
			"secret": secret, "peerPublicKey": peerKey, "currencyCode": "usd", "currencyScale": 9,
			"maxBalance": fmt.Sprint(creditLimit), "rpcUri": rpc + "/rpc", "prefix": prefix,
			"info": map[string]any{"connectors": []string{prefix + peerKey}}}}
	}
	local := func(account string) map[string]any {
		return map[string]any{"currency": "USD", "plugin": "local", "options": map[string]any{
			"account": account, "maxBalance": fmt.Sprint(creditLimit), "receiverSecret": account + "-receiver-secret"}}
	}
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	common := map[string]string{
		"CONNECTOR_BIND_IP":                  "127.0.0.1",
		"CONNECTOR_ROUTE_BROADCAST_INTERVAL": "1000",
		"CONNECTOR_ROUTE_EXPIRY":             "10000",
		"CONNECTOR_AUTOLOAD_PEERS":           "true",
		"CONNECTOR_DEBUG_ENDPOINTS":          "true",
		"CONNECTOR_LOG_LEVEL":                "warn",
	}
	env1, env2 := map[string]string{}, map[string]string{}
	for k, v := range common {
		env1[k], env2[k] = v, v
	}
	env1["CONNECTOR_ED25519_SECRET_KEY"] = secret1
	env1["CONNECTOR_LEDGERS"] = js(map[string]any{aliceLedger: local("alice"), p1.Prefix: peerOpts(secret1, idJ.PublicKey(), p1.Prefix, uJ)})
	env2["CONNECTOR_ED25519_SECRET_KEY"] = secret2
	env2["CONNECTOR_LEDGERS"] = js(map[string]any{bobLedger: local("bob"), p2.Prefix: peerOpts(secret2, idJ.PublicKey(), p2.Prefix, uJ)})

	// The 2017 connector, peered with both.
	cmd := exec.Command("node", filepath.Join(dir, "harness.js"))
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"HARNESS_PORT=" + portOf(t, aJ),
		"CONNECTOR_BACKEND=one-to-one",
		"DB_URI=memory",
		"CONNECTOR_AUTOLOAD_PEERS=true",
		"CONNECTOR_ROUTE_BROADCAST_INTERVAL=1000",
		"CONNECTOR_ROUTE_EXPIRY=10000",
		"CONNECTOR_LEDGERS=" + js(map[string]any{
			p1.Prefix: peerOpts(secretJS, id1.PublicKey(), p1.Prefix, u1),
			p2.Prefix: peerOpts(secretJS, id2.PublicKey(), p2.Prefix, u2),
		}),
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("2017 connector log:\n%s", stderr.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "READY") {
				close(ready)
			}
		}
	}()

	bin := buildBinary(t)
	startProcess(t, bin, env1, portOf(t, a1))
	startProcess(t, bin, env2, portOf(t, a2))
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the 2017 connector did not start")
	}
	c1, c2 := newClient(u1), newClient(u2)
	c1.waitRoute(t, bobLedger)
	c2.waitRoute(t, aliceLedger)
	rp := c2.receiver(t, bobLedger)

	const src = 1_000_000
	var q quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, SourceAmount: src}, &q); code != 200 || q.DestinationAmount == 0 {
		t.Fatalf("quote by source: %d %+v", code, q)
	}
	var qd quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, DestinationAmount: q.DestinationAmount}, &qd); code != 200 || qd.SourceAmount < src-3 || qd.SourceAmount > src+5 {
		t.Fatalf("quote by destination: %d %+v (by source: %d → %d)", code, qd, src, q.DestinationAmount)
	}
	var ql quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, Liquidity: true}, &ql); code != 200 || len(ql.LiquidityCurve) < 2 {
		t.Fatalf("liquidity quote: %d %+v", code, ql)
	}
	t.Logf("through the 2017 connector: %d → %d, %d ← %d, curve %v", src, q.DestinationAmount, qd.SourceAmount, q.DestinationAmount, ql.LiquidityCurve)

	var pr payResponse
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, SourceAmount: src, DestinationAmount: q.DestinationAmount}, &pr)
	if pr.Fulfilled != 1 {
		t.Fatalf("payment: %+v", pr)
	}
	after1 := map[string]map[string]string{aliceLedger: {"user": fmt.Sprint(-src)}}
	after2 := map[string]map[string]string{bobLedger: {"user": fmt.Sprint(q.DestinationAmount)}}
	c1.waitBalances(t, after1)
	c2.waitBalances(t, after2)

	pr = payResponse{}
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, SourceAmount: src, DestinationAmount: 2 * q.DestinationAmount}, &pr)
	if pr.Rejected != 1 || pr.Codes["R01"] != 1 {
		t.Fatalf("rejected payment: %+v", pr)
	}
	pr = payResponse{}
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, DestinationAmount: 5000, DestinationHoldDuration: 1000, Data: holdData}, &pr)
	if pr.Fulfilled != 0 || pr.Rejected+pr.Expired != 1 {
		t.Fatalf("held payment: %+v", pr)
	}
	t.Logf("held payment: %+v", pr)
	c1.waitBalances(t, after1)
	c2.waitBalances(t, after2)
}
