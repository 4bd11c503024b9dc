package connector_test

import (
	"context"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// peeredKits is the setting of the golden figures with the real
// peering plugin: alice on the first kit's local ledger, the first
// connector, a plugin/virtual trustline over loopback HTTP, the second
// connector, and bob on the second kit's local ledger. Scale 9 and limits
// 10^15 everywhere, the default spread.
type peeredKits struct {
	clock      *plugintest.Clock
	alice, bob *pair.End
	c0in, c1ot *pair.End       // the connectors' ends of the local ledgers
	v0, v1     *virtual.Plugin // the two sides of the peering
	c0, c1     *connector.Connector
	sender     *watcher
	receiver   *receiver
}

// Peering secrets of the two kits (any text works).
const (
	kit0Secret = "a2l0IHplcm8sIHBlZXJpbmcgc2VjcmV0IGZvciB0aGUgdGVzdHM"
	kit1Secret = "a2l0IG9uZSwgcGVlcmluZyBzZWNyZXQgZm9yIHRoZSB0ZXN0cyE"
)

// virtualPeers starts each kit's RPC server (a virtual.Mux behind an
// httptest server) and returns the two connected sides of the peering.
func virtualPeers(t testing.TB, clock ledger.Clock, max ledger.Bound) (*virtual.Plugin, *virtual.Plugin) {
	t.Helper()
	id0, err := virtual.NewIdentity(kit0Secret)
	if err != nil {
		t.Fatal(err)
	}
	id1, err := virtual.NewIdentity(kit1Secret)
	if err != nil {
		t.Fatal(err)
	}
	mux0, mux1 := virtual.NewMux(), virtual.NewMux()
	srv0, srv1 := httptest.NewServer(mux0), httptest.NewServer(mux1)
	t.Cleanup(srv0.Close)
	t.Cleanup(srv1.Close)
	build := func(id virtual.Identity, peer, uri string) *virtual.Plugin {
		p, err := virtual.New(virtual.Options{
			Identity: id, PeerPublicKey: peer, RPCURI: uri + "/api/peers/rpc",
			CurrencyCode: "USD", CurrencyScale: 9, MaxBalance: max,
			Backend: memory.New(), Clock: clock,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	v0 := build(id0, id1.PublicKey(), srv1.URL)
	v1 := build(id1, id0.PublicKey(), srv0.URL)
	mux0.Add(v0)
	mux1.Add(v1)
	for _, p := range []*virtual.Plugin{v0, v1} {
		if err := p.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// Disconnect before the servers close (cleanups run last first).
	t.Cleanup(func() {
		_ = v0.Disconnect(context.Background())
		_ = v1.Disconnect(context.Background())
	})
	return v0, v1
}

func newPeeredKits(t *testing.T, mod func(*connector.Config)) *peeredKits {
	t.Helper()
	k := &peeredKits{clock: plugintest.NewClock(t0)}
	k.alice, k.c0in = trustline(t, k.clock, "test1.l0.", "alice", "c0", limit(e15), false)
	k.bob, k.c1ot = trustline(t, k.clock, "test1.l9.", "bob", "c1", limit(e15), false)
	k.v0, k.v1 = virtualPeers(t, k.clock, limit(e15))
	if k.v0.Info().Prefix != k.v1.Info().Prefix {
		t.Fatalf("the two sides derived prefixes %q and %q", k.v0.Info().Prefix, k.v1.Info().Prefix)
	}
	k.c0 = newConnector(t, k.clock, mod)
	add(t, k.c0, k.c0in)
	add(t, k.c0, k.v0)
	k.c1 = newConnector(t, k.clock, mod)
	add(t, k.c1, k.v1)
	add(t, k.c1, k.c1ot)
	k.sender = watch(t, k.alice)
	k.receiver = receive(t, k.bob)
	return k
}

// propagate lets the second connector tell the first about bob's ledger
// (and back), twice, over the peering.
func (k *peeredKits) propagate(t *testing.T) {
	t.Helper()
	for range 2 {
		for _, c := range []*connector.Connector{k.c1, k.c0} {
			if err := c.Broadcast(context.Background()); err != nil {
				t.Fatalf("broadcast: %v", err)
			}
		}
	}
}

func (k *peeredKits) send(t *testing.T, id string, amount, dest uint64, expiry time.Duration) ledger.Transfer {
	t.Helper()
	tr := ledger.Transfer{
		ID:                 id,
		To:                 k.c0in.Account(),
		Amount:             amount,
		ILP:                payment(t, k.bob.Account(), dest),
		ExecutionCondition: k.receiver.condition(id),
		ExpiresAt:          k.clock.Now().Add(expiry),
	}
	if err := k.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

type balancer interface {
	Account() string
	Balance(ctx context.Context) (ledger.Int128, error)
}

func balanceOf(t testing.TB, p balancer) *big.Int {
	t.Helper()
	b, err := p.Balance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b.Big()
}

// balances returns, in this order, what alice, the first connector (l0),
// the first connector's peering side, the second's, the second connector
// (l9) and bob hold.
func (k *peeredKits) balances(t testing.TB) [6]int64 {
	t.Helper()
	var out [6]int64
	for i, p := range []balancer{k.alice, k.c0in, k.v0, k.v1, k.c1ot, k.bob} {
		b := balanceOf(t, p)
		if !b.IsInt64() {
			t.Fatalf("%s holds %s", p.Account(), b)
		}
		out[i] = b.Int64()
	}
	return out
}

// want is the state after src entered l0, hop crossed the peering and dst
// reached bob.
func want(src, hop, dst int64) [6]int64 { return [6]int64{-src, src, -hop, hop, -dst, dst} }

// waitBalances waits for the balances to settle at w.
func (k *peeredKits) waitBalances(t *testing.T, w [6]int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := k.balances(t)
		if got == w {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("balances (alice, c0, c0 peering, c1 peering, c1, bob) = %v, want %v", got, w)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestGoldenFiguresVirtual: the figures with the connectors peered
// by plugin/virtual over real HTTP, and a fulfilled, a rejected and an
// expired payment across that peering.
func TestGoldenFiguresVirtual(t *testing.T) {
	k := newPeeredKits(t, nil)
	k.propagate(t)
	c0, bob := k.c0in.Account(), k.bob.Account()
	if got := bySource(t, k.alice, c0, bob, 1_000_000_000); got != 996_003_999 {
		t.Errorf("by source 1e9 = %d, want 996003999", got)
	}
	if got := byDestination(t, k.alice, c0, bob, 1_000_000_000); got != 1_004_012_034 {
		t.Errorf("by destination 1e9 = %d, want 1004012034", got)
	}
	// The first connector's route to bob's ledger goes through the peer.
	hop, ok := k.c0.LocalTables().FindBestHopForSourceAmount("test1.l0.", bob, 0)
	if !ok || hop.NextHop != k.v1.Account() || hop.Route.NextLedger != k.v0.Info().Prefix {
		t.Fatalf("route to bob: %v %+v", ok, hop)
	}

	t.Run("fulfilled", func(t *testing.T) {
		const src = 1_000_000_000
		ev := func() ledger.Event {
			k.send(t, "a0000000-0000-4000-8000-000000000001", src, 996_003_999, 5*time.Second)
			return k.sender.wait(t, "a0000000-0000-4000-8000-000000000001")
		}()
		if ev.Kind != ledger.EventOutgoingFulfill {
			t.Fatalf("payment ended with %v %+v", ev.Kind, ev.Rejection)
		}
		// The first connector pays its pair curve's amount across the
		// peering; the second pays bob the packet's amount.
		hop := pairCurve.AmountAt(src)
		if hop != 998_000_000 {
			t.Fatalf("pair curve at 1e9 = %d", hop)
		}
		k.waitBalances(t, want(src, int64(hop), 996_003_999))
		// both sides of the trustline agree
		if a, b := balanceOf(t, k.v0), balanceOf(t, k.v1); new(big.Int).Neg(a).Cmp(b) != 0 {
			t.Errorf("peering sides hold %s and %s", a, b)
		}
		peer, err := k.v0.PeerBalance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if peer.Big().Cmp(big.NewInt(-998_000_000)) != 0 {
			t.Errorf("first side sees the peer's balance as %s, want -998000000", peer.Big())
		}
	})
	after := k.balances(t)

	t.Run("rejected", func(t *testing.T) {
		// More than the route gives, even allowing for the slippage: the
		// second connector refuses it on the last hop, after it crossed the
		// peering.
		id := "a0000000-0000-4000-8000-000000000002"
		k.send(t, id, 1_000_000_000, 997_100_000, 5*time.Second)
		ev := k.sender.wait(t, id)
		if ev.Kind != ledger.EventOutgoingReject {
			t.Fatalf("payment ended with %v", ev.Kind)
		}
		if ev.Rejection.Code != ilp.CodeInsufficientSourceAmount {
			t.Errorf("code %s, want R01", ev.Rejection.Code)
		}
		if ev.Rejection.TriggeredBy != k.v1.Account() || ev.Rejection.ForwardedBy != c0 {
			t.Errorf("triggered by %q forwarded by %q, want %q and %q", ev.Rejection.TriggeredBy, ev.Rejection.ForwardedBy, k.v1.Account(), c0)
		}
		k.waitBalances(t, after)
	})

	t.Run("expired", func(t *testing.T) {
		k.receiver.mu.Lock()
		k.receiver.hold = true
		k.receiver.mu.Unlock()
		id := "a0000000-0000-4000-8000-000000000003"
		tr := k.send(t, id, 1_000_000, 990_000, 5*time.Second)
		var in ledger.Transfer
		select {
		case in = <-k.receiver.prepared:
		case <-time.After(5 * time.Second):
			t.Fatal("bob got nothing")
		}
		// one second per hop
		if w := tr.ExpiresAt.Add(-2 * time.Second); !in.ExpiresAt.Equal(w) {
			t.Errorf("bob's transfer expires %v, want %v", in.ExpiresAt, w)
		}
		hop := int64(pairCurve.AmountAt(1_000_000))
		held := after
		// Incoming prepared amounts count at once on the receiving side;
		// outgoing ones only when fulfilled.
		held[1] += 1_000_000
		held[3] += hop
		held[5] += 990_000
		k.waitBalances(t, held)
		k.clock.Advance(5 * time.Second)
		ev := k.sender.wait(t, id)
		if ev.Kind == ledger.EventOutgoingFulfill {
			t.Fatal("fulfilled")
		}
		k.waitBalances(t, after)
	})
}
