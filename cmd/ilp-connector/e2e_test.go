package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// expectedBySource is what the two hops deliver for a source amount: the
// first connector's pair curve [[0,0],[1e12, 0.998e12]], then the second's as
// broadcast, shifted one source unit ([[1,0],[1e12+1, 0.998e12]]), each floored
// (PROTOCOLS.md 3.5).
func expectedBySource(src uint64) uint64 {
	hop := func(x uint64, shift int64) uint64 {
		v := new(big.Int).SetUint64(x)
		v.Sub(v, big.NewInt(shift))
		v.Mul(v, big.NewInt(998))
		v.Quo(v, big.NewInt(1000))
		return v.Uint64()
	}
	return hop(hop(src, 0), 1)
}

// scenario runs the payment checks against two peered connectors: quotes
// in all three forms, a fulfilled payment with the balances the curves
// predict, a rejected one and one that expires, then the metrics.
// It returns the balances of connector 1 at the end.
func scenario(t *testing.T, c1, c2 *client, peerPrefix string) map[string]map[string]string {
	c1.waitRoute(t, bobLedger)
	c2.waitRoute(t, aliceLedger)
	rp := c2.receiver(t, bobLedger)
	if !strings.HasPrefix(rp.DestinationAccount, bobLedger+"bob.") {
		t.Fatalf("receiver address %s", rp.DestinationAccount)
	}

	const src = 1_000_000
	want := expectedBySource(src)
	var q quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, SourceAmount: src}, &q); code != 200 {
		t.Fatalf("quote by source: %d", code)
	}
	if q.DestinationAmount != want {
		t.Fatalf("quote by source %d: got %d, want %d", src, q.DestinationAmount, want)
	}
	if q.SourceHoldDuration != 3000+2*200 {
		t.Errorf("source hold %d ms, want 3400 (two hops of 200 ms)", q.SourceHoldDuration)
	}
	var qd quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, DestinationAmount: want}, &qd); code != 200 {
		t.Fatalf("quote by destination: %d", code)
	}
	// The reverse lookup is on the shifted curve: it asks at most a few units
	// more than the forward quote.
	if qd.SourceAmount < src-2 || qd.SourceAmount > src+3 {
		t.Fatalf("quote by destination %d: source %d, want about %d", want, qd.SourceAmount, src)
	}
	var ql quoteResponse
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, Liquidity: true}, &ql); code != 200 {
		t.Fatalf("liquidity quote: %d", code)
	}
	if len(ql.LiquidityCurve) < 2 || ql.AppliesToPrefix == "" || ql.ExpiresAt == nil {
		t.Fatalf("liquidity quote: %+v", ql)
	}
	var qe ilpFailure
	if code := c1.do(t, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: "test1.nowhere.x", SourceAmount: src}, &qe); code != 422 || qe.Code == "" {
		t.Fatalf("quote to nowhere: %d %+v", code, qe)
	}

	// A payment across, fulfilled.
	var pr payResponse
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, SourceAmount: src, DestinationAmount: want}, &pr)
	if pr.Fulfilled != 1 {
		t.Fatalf("payment: %+v", pr)
	}
	hop1 := fmt.Sprint(src * 998 / 1000)
	after1 := map[string]map[string]string{
		aliceLedger: {"user": fmt.Sprint(-src), "connector": fmt.Sprint(src)},
		peerPrefix:  {"connector": "-" + hop1},
	}
	after2 := map[string]map[string]string{
		bobLedger:  {"user": fmt.Sprint(want), "connector": fmt.Sprint(-int64(want))},
		peerPrefix: {"connector": hop1},
	}
	c1.waitBalances(t, after1)
	c2.waitBalances(t, after2)

	// Asking for more than the curve gives: the last connector refuses (R01)
	// and nothing moves.
	pr = payResponse{}
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, SourceAmount: src, DestinationAmount: 2 * want}, &pr)
	if pr.Rejected != 1 || pr.Codes["R01"] != 1 {
		t.Fatalf("rejected payment: %+v", pr)
	}
	c1.waitBalances(t, after1)
	c2.waitBalances(t, after2)

	// The receiver holds the payment: it expires and the held amounts
	// return on every ledger.
	start := time.Now()
	pr = payResponse{}
	c1.do(t, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, DestinationAmount: 5000, DestinationHoldDuration: 300, Data: holdData}, &pr)
	if pr.Fulfilled != 0 || pr.Rejected+pr.Expired != 1 || pr.Codes["R00"] != 1 {
		t.Fatalf("held payment: %+v", pr)
	}
	// Expiries travel in whole milliseconds (truncated), so the transfers
	// may end up to a millisecond or two before start + 300 ms.
	if d := time.Since(start); d < 290*time.Millisecond {
		t.Fatalf("held payment ended after %v, before its expiry", d)
	}
	c1.waitBalances(t, after1)
	c2.waitBalances(t, after2)

	m1 := c1.text(t, "/metrics")
	for _, p := range []string{
		`ilp_connector_transfers_total{direction="incoming",event="fulfill",ledger="` + aliceLedger + `"} 1`,
		`ilp_connector_fulfilled_amount_total{direction="incoming",ledger="` + aliceLedger + `"} 1e+06`,
		`ilp_connector_rejections_total{code="R01",direction="incoming",ledger="` + aliceLedger + `"} 1`,
		`ilp_connector_quote_duration_seconds_count{ledger="` + aliceLedger + `",result="ok",type="source"}`,
		`ilp_connector_plugin_connected{ledger="` + peerPrefix + `"} 1`,
	} {
		metricLine(t, m1, p)
	}
	m2 := c2.text(t, "/metrics")
	metricLine(t, m2, `ilp_connector_rejections_total{code="R00",direction="outgoing",ledger="`+bobLedger+`"} 1`)
	return after1
}

// TestTwoConnectorsInProcess runs two Mains in this process, peered over
// loopback HTTP, with their state in memory.
func TestTwoConnectorsInProcess(t *testing.T) { inProcess(t, false) }

// TestTwoConnectorsSQLite is the same with each connector's plugins in a
// SQLite file of its own (DB_URI).
func TestTwoConnectorsSQLite(t *testing.T) { inProcess(t, true) }

func inProcess(t *testing.T, sqlite bool) {
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u1, u2 := "http://"+ln1.Addr().String(), "http://"+ln2.Addr().String()
	env1, env2, peer := pairEnv(t, u1, u2)
	if sqlite {
		dir := t.TempDir()
		env1["DB_URI"] = filepath.Join(dir, "one.sqlite")
		env2["DB_URI"] = filepath.Join(dir, "two.sqlite")
	}
	_, stop1 := startInProcess(t, env1, ln1)
	startInProcess(t, env2, ln2)
	c1 := newClient(u1)
	after1 := scenario(t, c1, newClient(u2), peer)
	if !sqlite {
		return
	}
	// The state outlives the process: connector 1 restarted on its database
	// finds the same balances.
	stop1()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startInProcess(t, env1, ln)
	newClient("http://"+ln.Addr().String()).waitBalances(t, after1)
}

// buildBinary builds the command into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ilp-connector")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startProcess runs the binary with env (and nothing of this process's
// environment but PATH, HOME and the Go runtime's GOGC, GOMEMLIMIT and
// GOMAXPROCS) and stops it with SIGTERM at cleanup,
// checking that it exits cleanly.
func startProcess(t testing.TB, bin string, env map[string]string, port string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "CONNECTOR_PORT=" + port}
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("connector exited with %v; log:\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("connector did not stop on SIGINT; log:\n%s", stderr.String())
		}
	})
}

// TestTwoProcesses builds the binary and runs the scenario against two
// processes peered over loopback HTTP.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	a1, a2 := freeAddr(t), freeAddr(t)
	u1, u2 := "http://"+a1, "http://"+a2
	env1, env2, peer := pairEnv(t, u1, u2)
	startProcess(t, bin, env1, portOf(t, a1))
	startProcess(t, bin, env2, portOf(t, a2))
	scenario(t, newClient(u1), newClient(u2), peer)
}

// TestHelpDocumentsEverySetting: --help names every flag and variable.
func TestHelpDocumentsEverySetting(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"--help"}, nil, &out, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "--"+s.flag+", "+s.env) {
			t.Errorf("--help lacks %s / %s", s.flag, s.env)
		}
	}
	if !strings.Contains(out.String(), "off by default") {
		t.Error("--help does not say the debug endpoints are off by default")
	}
}

// TestDebugOffByDefault: without --debug-endpoints there is no /debug/ route,
// while /health, /metrics and /rpc answer.
func TestDebugOffByDefault(t *testing.T) {
	c, err := loadConfig([]string{"--bind-ip", "127.0.0.1", "--port", "0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: c}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	cl := newClient(m.URL())
	var h health
	if code := cl.do(t, "GET", "/health", nil, &h); code != 200 || h.Status != "ok" {
		t.Fatalf("health: %d %+v", code, h)
	}
	if code := cl.do(t, "POST", "/debug/pay", map[string]any{}, nil); code != 404 {
		t.Fatalf("/debug/pay: %d", code)
	}
	if code := cl.do(t, "POST", "/rpc?method=get_limit&prefix=peer.x.usd.9.", []any{}, nil); code != 401 {
		t.Fatalf("/rpc without a peer: %d", code)
	}
	if !strings.Contains(cl.text(t, "/metrics"), "go_goroutines") {
		t.Fatal("metrics lack the Go collector")
	}
}
