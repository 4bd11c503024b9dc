package main

import (
	"context"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
)

const peerKey = "Ivsltficn6wCUiDAoo8gCR0CO5yWb3KBED1a9GrHGwk"

// peerLedger is the ILP Kit 3 shape of a peer: the prefix of the
// plugin-virtual test vector (secret "seeecret", USD scale 2).
const peerLedgers = `{
  "peer.NavKx.usd.2.": {"currency": "USD", "plugin": "ilp-plugin-virtual", "store": true,
    "options": {"secret": "seeecret", "peerPublicKey": "` + peerKey + `", "currencyCode": "usd",
      "currencyScale": 2, "maxBalance": "1000", "rpcUri": "https://peer.example/api/peers/rpc",
      "info": {"connectors": ["peer.NavKx.usd.2.` + peerKey + `"]}}},
  "test1.usd.alice.": {"currency": "usd", "plugin": "local", "options": {"account": "alice", "maxBalance": 5000}}
}`

func load(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	return loadConfig(args, func(k string) string { return env[k] }, io.Discard)
}

func TestConfigDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:3000" || c.Backend != backendOneToOne || !c.BroadcastEnabled || !c.BroadcastCurves || !c.StoreCurves || c.AutoloadPeers || c.DebugEndpoints {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Spread.Cmp(connector.DefaultSpread()) != 0 || c.Slippage.Cmp(connector.DefaultSlippage()) != 0 {
		t.Fatalf("spread %v slippage %v", c.Spread, c.Slippage)
	}
	if c.MinMessageWindow != connector.DefaultMinMessageWindow || c.MaxHoldTime != connector.DefaultMaxHoldTime ||
		c.QuoteExpiry != connector.DefaultQuoteExpiry || c.RouteExpiry != connector.DefaultRouteExpiry ||
		c.BroadcastInterval != connector.DefaultBroadcastInterval || c.CleanupInterval != connector.DefaultCleanupInterval {
		t.Fatalf("durations: %+v", c)
	}
	if len(c.Ledgers) != 0 || c.Secret != nil {
		t.Fatalf("ledgers %v secret %v", c.Ledgers, c.Secret)
	}
}

func TestConfig2017Shapes(t *testing.T) {
	env := map[string]string{
		"CONNECTOR_LEDGERS":                  peerLedgers,
		"CONNECTOR_PEERS":                    "peer.NavKx.usd.2.other, test1.usd.alice.bob",
		"CONNECTOR_ROUTES":                   `[{"targetPrefix": "g.far.", "connectorLedger": "peer.NavKx.usd.2.", "connectorAccount": "peer.NavKx.usd.2.` + peerKey + `"}]`,
		"CONNECTOR_FX_SPREAD":                "0.01",
		"CONNECTOR_SLIPPAGE":                 "0",
		"CONNECTOR_MIN_MESSAGE_WINDOW":       "1.5",
		"CONNECTOR_MAX_HOLD_TIME":            "100",
		"CONNECTOR_QUOTE_EXPIRY":             "20000",
		"CONNECTOR_ROUTE_EXPIRY":             "600000",
		"CONNECTOR_ROUTE_BROADCAST_INTERVAL": "30000",
		"CONNECTOR_ROUTE_BROADCAST_ENABLED":  "false",
		"CONNECTOR_AUTOLOAD_PEERS":           "true",
		"CONNECTOR_ED25519_SECRET_KEY":       "peering-secret",
		"CONNECTOR_PORT":                     "0",
		"CONNECTOR_SECRET":                   "MDEyMzQ1Njc4OWFiY2RlZg==",
	}
	c, err := load(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Ledgers) != 2 || c.Ledgers[0].Prefix != "peer.NavKx.usd.2." || c.Ledgers[1].Prefix != "test1.usd.alice." {
		t.Fatalf("ledgers %+v", c.Ledgers)
	}
	v := c.Ledgers[0].Virtual
	if v == nil || v.Secret != "seeecret" || *v.CurrencyScale != 2 || v.maxBalance.String() != "1000" || len(v.Info.Connectors) != 1 {
		t.Fatalf("virtual %+v", v)
	}
	l := c.Ledgers[1]
	if l.Currency != "USD" || l.Local == nil || l.Local.Account != "alice" || *l.Local.CurrencyScale != 9 || l.Local.maxBalance.String() != "5000" {
		t.Fatalf("local %+v %+v", l, l.Local)
	}
	if len(c.Peers) != 2 || c.Peers[1] != "test1.usd.alice.bob" {
		t.Fatalf("peers %v", c.Peers)
	}
	if len(c.Routes) != 1 || c.Routes[0].TargetPrefix != "g.far." || c.Routes[0].Ledger != "peer.NavKx.usd.2." {
		t.Fatalf("routes %+v", c.Routes)
	}
	if c.Spread.Cmp(big.NewRat(1, 100)) != 0 || c.Slippage.Sign() != 0 {
		t.Fatalf("spread %v slippage %v", c.Spread, c.Slippage)
	}
	if c.MinMessageWindow != 1500*time.Millisecond || c.MaxHoldTime != 100*time.Second || c.QuoteExpiry != 20*time.Second || c.RouteExpiry != 10*time.Minute {
		t.Fatalf("durations %+v", c)
	}
	if c.BroadcastEnabled || c.Addr != "0.0.0.0:0" || string(c.Secret) != "0123456789abcdef" || !c.AutoloadPeers {
		t.Fatalf("%+v", c)
	}

	// A flag wins over the environment; a JSON array of peers is read too.
	env["CONNECTOR_PEERS"] = `["peer.NavKx.usd.2.x"]`
	c, err = load(t, env, "--fx-spread", "0.5", "--port", "8080")
	if err != nil {
		t.Fatal(err)
	}
	if c.Spread.Cmp(big.NewRat(1, 2)) != 0 || c.Addr != "0.0.0.0:8080" || len(c.Peers) != 1 {
		t.Fatalf("%+v", c)
	}
}

func TestConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connector.json")
	doc := `{"CONNECTOR_LEDGERS": ` + peerLedgers + `, "CONNECTOR_FX_SPREAD": 0.004, "CONNECTOR_PORT": "4100"}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, map[string]string{"CONNECTOR_PORT": "4200"}, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Ledgers) != 2 || c.Spread.Cmp(big.NewRat(4, 1000)) != 0 || c.Addr != "0.0.0.0:4200" {
		t.Fatalf("%+v", c)
	}
	if err := os.WriteFile(path, []byte(`{"CONNECTOR_FX_SPREDA": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, nil, "--config", path); err == nil || !strings.Contains(err.Error(), "CONNECTOR_FX_SPREDA") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ledgers not json", map[string]string{"CONNECTOR_LEDGERS": `["USD@http://ledger"]`}, "CONNECTOR_LEDGERS: not a JSON object"},
		{"unknown plugin", map[string]string{"CONNECTOR_LEDGERS": `{"g.x.": {"currency": "USD", "plugin": "ilp-plugin-bells"}}`}, `plugin "ilp-plugin-bells" is not supported`},
		{"bad prefix", map[string]string{"CONNECTOR_LEDGERS": `{"g.x": {"currency": "USD", "plugin": "local"}}`}, "ledger g.x"},
		{"no peer key", map[string]string{"CONNECTOR_LEDGERS": `{"peer.a.usd.2.": {"currency": "USD", "plugin": "ilp-plugin-virtual", "options": {"currencyScale": 2, "rpcUri": "http://x"}}}`}, "peerPublicKey is required"},
		{"no scale", map[string]string{"CONNECTOR_LEDGERS": `{"peer.a.usd.2.": {"currency": "USD", "plugin": "ilp-plugin-virtual", "options": {"peerPublicKey": "k", "rpcUri": "http://x"}}}`}, "currencyScale is required"},
		{"no secret", map[string]string{"CONNECTOR_LEDGERS": `{"peer.a.usd.2.": {"currency": "USD", "plugin": "ilp-plugin-virtual", "options": {"peerPublicKey": "k", "currencyScale": 2, "rpcUri": "http://x"}}}`}, "CONNECTOR_ED25519_SECRET_KEY"},
		{"bad max balance", map[string]string{"CONNECTOR_LEDGERS": `{"g.x.": {"currency": "USD", "plugin": "local", "options": {"maxBalance": "12.5"}}}`}, "options.maxBalance"},
		{"unknown option", map[string]string{"CONNECTOR_LEDGERS": `{"g.x.": {"currency": "USD", "plugin": "local", "options": {"acount": "bob"}}}`}, ""},
		{"spread", map[string]string{"CONNECTOR_FX_SPREAD": "1.5"}, "CONNECTOR_FX_SPREAD"},
		{"spread text", map[string]string{"CONNECTOR_FX_SPREAD": "abc"}, "CONNECTOR_FX_SPREAD"},
		{"hold time", map[string]string{"CONNECTOR_MAX_HOLD_TIME": "-1"}, "CONNECTOR_MAX_HOLD_TIME"},
		{"route expiry", map[string]string{"CONNECTOR_ROUTE_EXPIRY": "1000", "CONNECTOR_ROUTE_BROADCAST_INTERVAL": "2000"}, "must exceed"},
		{"bool", map[string]string{"CONNECTOR_STORE_CURVES": "maybe"}, "CONNECTOR_STORE_CURVES"},
		{"backend", map[string]string{"CONNECTOR_BACKEND": "ecb"}, "unknown backend"},
		{"fixerio uri", map[string]string{"CONNECTOR_BACKEND": "fixerio"}, "CONNECTOR_BACKEND_URI"},
		{"fixed without rates", map[string]string{"CONNECTOR_BACKEND": "fixed"}, "CONNECTOR_RATES"},
		{"fixed bad rate", map[string]string{"CONNECTOR_BACKEND": "fixed", "CONNECTOR_RATES": `{"base": "USD", "rates": {"EUR": "-1"}}`}, "CONNECTOR_RATES"},
		{"routes shape", map[string]string{"CONNECTOR_ROUTES": `[{"targetPrefix": "g.", "ledger": "x."}]`}, "CONNECTOR_ROUTES"},
		{"route ledger", map[string]string{"CONNECTOR_ROUTES": `[{"targetPrefix": "g.", "connectorLedger": "x.", "connectorAccount": "x.c"}]`}, "not in CONNECTOR_LEDGERS"},
		{"peer ledger", map[string]string{"CONNECTOR_PEERS": "g.nowhere.c"}, "on none of CONNECTOR_LEDGERS"},
		{"port", map[string]string{"CONNECTOR_PORT": "http"}, "CONNECTOR_PORT"},
		{"secret", map[string]string{"CONNECTOR_SECRET": "c2hvcnQ"}, "at least 16 bytes"},
		{"secret base64", map[string]string{"CONNECTOR_SECRET": "not base64!"}, "not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.env)
			if err == nil || !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := load(t, nil, "--no-such-flag"); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if code := run(context.Background(), []string{"extra"}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("extra argument: exit %d", code)
	}
}

// TestConfigFixedRates: the fixed backend reads its table exactly and the
// connector quotes with it.
func TestConfigFixedRates(t *testing.T) {
	c, err := load(t, map[string]string{"CONNECTOR_BACKEND": "fixed", "CONNECTOR_RATES": `{"base": "usd", "rates": {"EUR": "0.9", "JPY": 110.25}}`})
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend != backendFixed {
		t.Fatalf("backend %q", c.Backend)
	}
	r, err := c.Rates.Rate(context.Background(), "USD", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if r.Cmp(big.NewRat(9, 10)) != 0 {
		t.Fatalf("USD->EUR rate %v, want 9/10", r)
	}
	r, err = c.Rates.Rate(context.Background(), "EUR", "JPY")
	if err != nil {
		t.Fatal(err)
	}
	if r.Cmp(big.NewRat(11025, 90)) != 0 {
		t.Fatalf("EUR->JPY rate %v, want 11025/90", r)
	}
}

// TestWrongPeerPrefix: a peer ledger keyed by a prefix the peering does not
// derive is refused at start with the right prefix in the error.
func TestWrongPeerPrefix(t *testing.T) {
	c, err := load(t, map[string]string{"CONNECTOR_PORT": "0", "CONNECTOR_BIND_IP": "127.0.0.1", "CONNECTOR_LEDGERS": strings.ReplaceAll(peerLedgers, "peer.NavKx.usd.2.", "peer.wrong.usd.2.")})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: c}
	err = m.Open(context.Background())
	_ = m.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "peer.NavKx.usd.2.") {
		t.Fatalf("got %v", err)
	}
}
