package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// Two connectors peered over plugin/virtual: connector 1 holds the local
// ledger of alice, connector 2 that of bob.
const (
	aliceLedger = "test1.alice."
	bobLedger   = "test1.bob."
	secret1     = "c2VjcmV0LW9uZS1mb3ItdGhlLWZpcnN0LWNvbm5lY3Rvcg"
	secret2     = "c2VjcmV0LXR3by1mb3ItdGhlLXNlY29uZC1jb25uZWN0b3I"
	creditLimit = 1_000_000_000_000 // 1e12 base units, every trustline
)

// pairEnv returns the environments of the two connectors, whose RPC
// endpoints are at url1 and url2, and the peering prefix.
func pairEnv(t testing.TB, url1, url2 string) (env1, env2 map[string]string, peerPrefix string) {
	t.Helper()
	id1, err := virtual.NewIdentity(secret1)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := virtual.NewIdentity(secret2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := id1.Peer(id2.PublicKey(), "USD", 9)
	if err != nil {
		t.Fatal(err)
	}
	ledgers := func(localPrefix, account string, peerKey, rpc string) string {
		m := map[string]any{
			localPrefix: map[string]any{"currency": "USD", "plugin": "local", "options": map[string]any{
				"account": account, "maxBalance": fmt.Sprint(creditLimit), "receiverSecret": account + "-receiver-secret"}},
			p.Prefix: map[string]any{"currency": "USD", "plugin": "ilp-plugin-virtual", "store": true, "options": map[string]any{
				"peerPublicKey": peerKey, "currencyCode": "usd", "currencyScale": 9,
				"maxBalance": fmt.Sprint(creditLimit), "rpcUri": rpc + "/rpc"}},
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	common := map[string]string{
		"CONNECTOR_BIND_IP":                  "127.0.0.1",
		"CONNECTOR_MIN_MESSAGE_WINDOW":       "0.2",
		"CONNECTOR_ROUTE_BROADCAST_INTERVAL": "500",
		"CONNECTOR_ROUTE_EXPIRY":             "5000",
		"CONNECTOR_DEBUG_ENDPOINTS":          "true",
		"CONNECTOR_LOG_LEVEL":                "warn",
		"CONNECTOR_AUTOLOAD_PEERS":           "true",
	}
	env1, env2 = map[string]string{}, map[string]string{}
	for k, v := range common {
		env1[k], env2[k] = v, v
	}
	env1["CONNECTOR_ED25519_SECRET_KEY"] = secret1
	env2["CONNECTOR_ED25519_SECRET_KEY"] = secret2
	env1["CONNECTOR_LEDGERS"] = ledgers(aliceLedger, "alice", id2.PublicKey(), url2)
	env2["CONNECTOR_LEDGERS"] = ledgers(bobLedger, "bob", id1.PublicKey(), url1)
	return env1, env2, p.Prefix
}

func portOf(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// client talks to one connector's HTTP listener.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
}

func (c *client) do(t testing.TB, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func (c *client) text(t testing.TB, path string) string {
	t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type health struct {
	Status  string `json:"status"`
	Ledgers []struct {
		Prefix    string `json:"prefix"`
		Connected bool   `json:"connected"`
	} `json:"ledgers"`
	Destinations []string `json:"destinations"`
}

// waitRoute waits until the connector's /health answers and lists dest.
func (c *client) waitRoute(t testing.TB, dest string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.hc.Get(c.base + "/health")
		if err == nil {
			var h health
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && slices.Contains(h.Destinations, dest) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no route to %s", c.base, dest)
}

type receiverParams struct {
	DestinationAccount string `json:"destination_account"`
	SharedSecret       string `json:"shared_secret"`
}

func (c *client) receiver(t testing.TB, ledger string) receiverParams {
	t.Helper()
	var p receiverParams
	if code := c.do(t, "POST", "/debug/receiver?ledger="+ledger, nil, &p); code != 200 {
		t.Fatalf("receiver: %d", code)
	}
	return p
}

func (c *client) balances(t testing.TB) map[string]map[string]string {
	t.Helper()
	var out map[string]map[string]string
	if code := c.do(t, "GET", "/debug/balances", nil, &out); code != 200 {
		t.Fatalf("balances: %d", code)
	}
	return out
}

// waitBalances polls until the balances of c equal want (prefix → role →
// amount), for the money that settles after a payment's outcome is known.
func (c *client) waitBalances(t testing.TB, want map[string]map[string]string) {
	t.Helper()
	var got map[string]map[string]string
	for range 200 {
		got = c.balances(t)
		ok := true
		for p, roles := range want {
			for r, v := range roles {
				if got[p][r] != v {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s balances: got %v, want %v", c.base, got, want)
}

func metricLine(t testing.TB, metrics, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("metrics: no line starting %q", prefix)
	return ""
}

// startInProcess runs a connector from env on listener ln; stop (also
// called at cleanup, once) shuts it down.
func startInProcess(t testing.TB, env map[string]string, ln net.Listener) (m *Main, stop func()) {
	t.Helper()
	cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m = &Main{Config: cfg, Listener: ln}
	if err := m.Open(context.Background()); err != nil {
		_ = m.Close(context.Background())
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Close(ctx); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return m, stop
}
