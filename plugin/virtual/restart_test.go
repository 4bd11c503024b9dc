package virtual_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/kv"
	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// waitKinds waits until the events of id are want.
func waitKinds(t *testing.T, l *evlog, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := l.kinds(id)
		if len(got) == len(want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("events of %s: %v, want %v", id, got, want)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events of %s: %v, want %v", id, got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func wantBalance(t *testing.T, p *virtual.Plugin, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := p.Balance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got == ledger.Int128FromInt64(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("balance of %s: %s, want %d", p.Account(), got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRestart stops both kits with prepared transfers, reopens their
// SQLite files in new plugins and checks that the transfers expire on time
// on both sides and the balances come back.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC))
	prefix := peeringPrefix(t, "USD", 9)
	files := []string{filepath.Join(t.TempDir(), "alice.db"), filepath.Join(t.TempDir(), "bob.db")}
	open := func() (dbs []*sqlbackend.DB, backends []ledger.Backend) {
		for _, f := range files {
			db, err := sqlbackend.Open(ctx, "sqlite:"+f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := db.Backend(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			dbs, backends = append(dbs, db), append(backends, b)
		}
		return dbs, backends
	}
	dbs, backends := open()
	k := newKitPair(t, pairConfig{clock: clock, aliceBackend: backends[0], bobBackend: backends[1]})
	for _, p := range []*virtual.Plugin{k.alice, k.bob} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := ilp.Fulfillment{4}
	short := ledger.Transfer{ID: "e0e0e0e0-0000-4000-8000-000000000001", To: k.bob.Account(), Amount: 100, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: clock.Now().Add(10 * time.Second)}
	long := short
	long.ID, long.Amount, long.ExpiresAt = "e0e0e0e0-0000-4000-8000-000000000002", 30, clock.Now().Add(20*time.Second)
	for _, tr := range []ledger.Transfer{short, long} {
		if err := k.alice.SendTransfer(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	wantBalance(t, k.bob, 130)
	for _, p := range []*virtual.Plugin{k.alice, k.bob} {
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, db := range dbs {
		db.Close()
	}
	if n := clock.Pending(); n != 0 {
		t.Fatalf("%d timers still armed after Disconnect", n)
	}

	// New processes: reopen the files, build new plugins on the same URLs.
	dbs, backends = open()
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	cfg := pairConfig{clock: clock, currency: "USD", scale: 9}
	alice := k.build(t, virtual.Options{Identity: k.aliceID, PeerPublicKey: k.bobID.PublicKey(), RPCURI: k.bobSrv.URL + "/api/peers/rpc", Backend: backends[0]}, cfg)
	bob := k.build(t, virtual.Options{Identity: k.bobID, PeerPublicKey: k.aliceID.PublicKey(), RPCURI: k.aliceSrv.URL + "/api/peers/rpc", Backend: backends[1]}, cfg)
	k.aliceMux.Add(alice)
	k.bobMux.Add(bob)
	var aEv, bEv evlog
	alice.Subscribe(aEv.handle)
	bob.Subscribe(bEv.handle)
	connect(t, alice, bob)
	wantBalance(t, bob, 130)
	if n := clock.Pending(); n != 4 {
		t.Fatalf("%d timers armed after Connect, want one per transfer and side", n)
	}

	clock.Advance(10 * time.Second)
	waitKinds(t, &aEv, short.ID, "outgoing_cancel")
	waitKinds(t, &bEv, short.ID, "incoming_cancel")
	wantBalance(t, bob, 30)
	waitKinds(t, &aEv, long.ID)

	// The long one can still be fulfilled after the restart.
	if err := bob.FulfillCondition(ctx, long.ID, f); err != nil {
		t.Fatal(err)
	}
	waitKinds(t, &aEv, long.ID, "outgoing_fulfill")
	wantBalance(t, alice, -30)
	wantBalance(t, bob, 30)
	clock.Advance(time.Minute)
	if got := aEv.kinds(long.ID); len(got) != 1 {
		t.Fatalf("events of the fulfilled transfer after its expiry: %v", got)
	}
}

// TestStoreFromKit2 builds a plugin on a 2.x store (no backend), as ILP Kit
// 2.x left it, and checks that it reads and keeps writing the 2.x keys.
func TestStoreFromKit2(t *testing.T) {
	ctx := context.Background()
	aliceID, bobID := identity(t, aliceSecret), identity(t, bobSecret)
	peering, err := aliceID.Peer(bobID.PublicKey(), "USD", 9)
	if err != nil {
		t.Fatal(err)
	}
	old := ilp.Fulfillment{5}
	oldTransfer := map[string]any{"id": "f0f0f0f0-0000-4000-8000-000000000001", "ledger": peering.Prefix, "from": peering.PeerAccount, "to": peering.Account,
		"amount": "250", "executionCondition": ilp.ConditionOf(old).String(), "expiresAt": "2017-07-01T10:00:00.000Z", "direction": "incoming"}
	stored, _ := json.Marshal(map[string]any{"transfer": oldTransfer, "state": "executed", "isIncoming": true, "fulfillment": old.String(), "written": true})
	store := kv.NewMapStore()
	store.Put(ctx, "balance__", "250")
	store.Put(ctx, "transfer_f0f0f0f0-0000-4000-8000-000000000001", string(stored))

	k := newKitPair(t, pairConfig{})
	alice, err := virtual.New(virtual.Options{Identity: aliceID, PeerPublicKey: bobID.PublicKey(), CurrencyCode: "USD", CurrencyScale: 9,
		RPCURI: k.bobSrv.URL + "/api/peers/rpc", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	k.aliceMux.Add(alice)
	connect(t, alice, k.bob)
	wantBalance(t, alice, 250)
	if got, err := alice.Fulfillment(ctx, "f0f0f0f0-0000-4000-8000-000000000001"); err != nil || got != old {
		t.Fatalf("2.x transfer's fulfillment: %s %v", got, err)
	}

	f := ilp.Fulfillment{6}
	tr := ledger.Transfer{ID: "f0f0f0f0-0000-4000-8000-000000000002", To: alice.Account(), Amount: 10, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := k.bob.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if err := alice.FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := store.Get(ctx, "balance__"); v != "260" {
		t.Fatalf("balance__ = %q, want 260", v)
	}
	v, ok, _ := store.Get(ctx, "transfer_"+tr.ID)
	var rec struct {
		Transfer    map[string]any `json:"transfer"`
		State       string         `json:"state"`
		IsIncoming  bool           `json:"isIncoming"`
		Fulfillment string         `json:"fulfillment"`
	}
	if !ok || json.Unmarshal([]byte(v), &rec) != nil || rec.State != "executed" || !rec.IsIncoming || rec.Fulfillment != f.String() || rec.Transfer["amount"] != "10" {
		t.Fatalf("transfer_%s = %s", tr.ID, v)
	}
}
