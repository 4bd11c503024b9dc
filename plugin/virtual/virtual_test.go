package virtual_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// Two kits' peering secrets; any text works.
const (
	aliceSecret = "YWxpY2Ugb2Ygd29uZGVybGFuZCwgcGVlcmluZyBzZWNyZXQ"
	bobSecret   = "Ym9iIHRoZSBidWlsZGVyLCBwZWVyaW5nIHNlY3JldCBoZXJl"
)

// kitPair is two kits peered over loopback HTTP: each kit's Mux behind its
// own httptest.Server, each plugin calling the other's server.
type kitPair struct {
	alice, bob       *virtual.Plugin
	aliceMux, bobMux *virtual.Mux
	aliceSrv, bobSrv *httptest.Server
	aliceID, bobID   virtual.Identity
}

type pairConfig struct {
	clock          ledger.Clock
	limit          ledger.Bound
	aliceBackend   ledger.Backend
	bobBackend     ledger.Backend
	currency       string
	scale          int
	timeout        time.Duration
	aliceTransport http.RoundTripper
}

func identity(tb testing.TB, secret string) virtual.Identity {
	tb.Helper()
	id, err := virtual.NewIdentity(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// newKitPair starts the two servers and builds the plugins, not connected.
func newKitPair(tb testing.TB, cfg pairConfig) *kitPair {
	tb.Helper()
	if cfg.currency == "" {
		cfg.currency, cfg.scale = "USD", 9
	}
	if cfg.aliceBackend == nil {
		cfg.aliceBackend = memory.New()
	}
	if cfg.bobBackend == nil {
		cfg.bobBackend = memory.New()
	}
	k := &kitPair{aliceMux: virtual.NewMux(), bobMux: virtual.NewMux(), aliceID: identity(tb, aliceSecret), bobID: identity(tb, bobSecret)}
	k.aliceSrv = httptest.NewServer(k.aliceMux)
	k.bobSrv = httptest.NewServer(k.bobMux)
	tb.Cleanup(k.aliceSrv.Close)
	tb.Cleanup(k.bobSrv.Close)
	var aliceClient *http.Client
	if cfg.aliceTransport != nil {
		aliceClient = &http.Client{Transport: cfg.aliceTransport}
	}
	k.alice = k.build(tb, virtual.Options{Identity: k.aliceID, PeerPublicKey: k.bobID.PublicKey(), RPCURI: k.bobSrv.URL + "/api/peers/rpc",
		Backend: cfg.aliceBackend, HTTPClient: aliceClient}, cfg)
	k.bob = k.build(tb, virtual.Options{Identity: k.bobID, PeerPublicKey: k.aliceID.PublicKey(), RPCURI: k.aliceSrv.URL + "/api/peers/rpc",
		Backend: cfg.bobBackend}, cfg)
	k.aliceMux.Add(k.alice)
	k.bobMux.Add(k.bob)
	return k
}

func (k *kitPair) build(tb testing.TB, o virtual.Options, cfg pairConfig) *virtual.Plugin {
	tb.Helper()
	o.CurrencyCode, o.CurrencyScale = cfg.currency, cfg.scale
	o.MaxBalance, o.Clock, o.Timeout = cfg.limit, cfg.clock, cfg.timeout
	p, err := virtual.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func harness() plugintest.Harness {
	return plugintest.Harness{
		Name: "virtual over loopback HTTP",
		New: func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
			k := newKitPair(tb, pairConfig{clock: cfg.Clock, limit: cfg.Limit})
			return k.alice, k.bob
		},
		ReceiverCreditsAtPrepare: true,
	}
}

func TestConformance(t *testing.T) {
	before := runtime.NumGoroutine()
	plugintest.Run(t, harness())
	noLeak(t, before)
}

// TestConformanceSQLite runs the suite with each kit's state in its own
// SQLite file, through backend/sql, in the 2.x table layout.
func TestConformanceSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("SQLite run skipped in -short mode")
	}
	h := harness()
	h.Name = "virtual on SQLite"
	h.New = func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
		prefix := peeringPrefix(tb, "USD", 9)
		backends := make([]ledger.Backend, 2)
		for i := range backends {
			db, err := sqlbackend.Open(context.Background(), "sqlite:"+filepath.Join(tb.TempDir(), "kit.db"))
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			if backends[i], err = db.Backend(context.Background(), prefix); err != nil {
				tb.Fatal(err)
			}
		}
		k := newKitPair(tb, pairConfig{clock: cfg.Clock, limit: cfg.Limit, aliceBackend: backends[0], bobBackend: backends[1]})
		return k.alice, k.bob
	}
	plugintest.Run(t, h)
}

func peeringPrefix(tb testing.TB, code string, scale int) string {
	tb.Helper()
	p, err := identity(tb, aliceSecret).Peer(identity(tb, bobSecret).PublicKey(), code, scale)
	if err != nil {
		tb.Fatal(err)
	}
	return p.Prefix
}

// noLeak waits for the goroutine count to come back to what it was.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left over (had %d):\n%s", runtime.NumGoroutine()-before, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
