package virtual_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// TestFulfillInsideHandler: a receiver that fulfils from inside its
// incoming_prepare handler (while the sender still waits for the reply to
// send_transfer) must neither deadlock nor let the sender see the
// fulfillment before the prepare.
func TestFulfillInsideHandler(t *testing.T) {
	k := newKitPair(t, pairConfig{})
	connect(t, k.alice, k.bob)
	f := ilp.Fulfillment{8}
	errs := make(chan error, 1)
	k.bob.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingPrepare {
			errs <- k.bob.FulfillCondition(context.Background(), ev.Transfer.ID, f)
		}
	})
	var ev evlog
	k.alice.Subscribe(ev.handle)
	tr := ledger.Transfer{ID: "a0a0a0a0-0000-4000-8000-000000000001", To: k.bob.Account(), Amount: 12, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	start := time.Now()
	if err := k.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("FulfillCondition inside the handler: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s: the calls waited for each other", d)
	}
	waitKinds(t, &ev, tr.ID, "outgoing_prepare", "outgoing_fulfill")
	wantBalance(t, k.alice, -12)
	wantBalance(t, k.bob, 12)
}

// TestExpiredWhileDown: transfers that expire while both kits are down are
// cancelled, on both sides, when they connect again.
func TestExpiredWhileDown(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC))
	ab, bb := memory.New(), memory.New()
	k := newKitPair(t, pairConfig{clock: clock, aliceBackend: ab, bobBackend: bb})
	for _, p := range []*virtual.Plugin{k.alice, k.bob} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := ilp.Fulfillment{3}
	tr := ledger.Transfer{ID: "a0a0a0a0-0000-4000-8000-000000000002", To: k.bob.Account(), Amount: 40, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: clock.Now().Add(10 * time.Second)}
	if err := k.alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	wantBalance(t, k.bob, 40)
	for _, p := range []*virtual.Plugin{k.alice, k.bob} {
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)

	cfg := pairConfig{clock: clock, currency: "USD", scale: 9}
	alice := k.build(t, virtual.Options{Identity: k.aliceID, PeerPublicKey: k.bobID.PublicKey(), RPCURI: k.bobSrv.URL + "/api/peers/rpc", Backend: ab.Reopen()}, cfg)
	bob := k.build(t, virtual.Options{Identity: k.bobID, PeerPublicKey: k.aliceID.PublicKey(), RPCURI: k.aliceSrv.URL + "/api/peers/rpc", Backend: bb.Reopen()}, cfg)
	k.aliceMux.Add(alice)
	k.bobMux.Add(bob)
	var aEv, bEv evlog
	alice.Subscribe(aEv.handle)
	bob.Subscribe(bEv.handle)
	connect(t, bob, alice)
	waitKinds(t, &bEv, tr.ID, "incoming_cancel")
	waitKinds(t, &aEv, tr.ID, "outgoing_cancel")
	wantBalance(t, bob, 0)
	wantBalance(t, alice, 0)
	if err := bob.FulfillCondition(ctx, tr.ID, f); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
		t.Fatalf("fulfilling after the expiry: %v", err)
	}
}

// TestSetMaxBalance: a new limit shows in Info, in get_limit and in an
// info_change event, and applies to the next incoming transfer.
func TestSetMaxBalance(t *testing.T) {
	ctx := context.Background()
	k := newKitPair(t, pairConfig{limit: ledger.Limit(ledger.Int128FromInt64(100))})
	connect(t, k.alice, k.bob)
	if lim, err := k.alice.GetLimit(ctx); err != nil || lim != ledger.Limit(ledger.Int128FromInt64(-100)) {
		t.Fatalf("GetLimit %s %v, want -100", lim, err)
	}
	var changes []ledger.LedgerInfo
	k.bob.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventInfoChange {
			changes = append(changes, ev.Info)
		}
	})
	k.bob.SetMaxBalance(ledger.Limit(ledger.Int128FromInt64(10)))
	if len(changes) != 1 || changes[0].MaxBalance != ledger.Limit(ledger.Int128FromInt64(10)) || k.bob.Info().MaxBalance != changes[0].MaxBalance {
		t.Fatalf("info_change events %v", changes)
	}
	if lim, err := k.alice.GetLimit(ctx); err != nil || lim != ledger.Limit(ledger.Int128FromInt64(-10)) {
		t.Fatalf("GetLimit %s %v after the change, want -10", lim, err)
	}
	f := ilp.Fulfillment{1}
	tr := ledger.Transfer{ID: "a0a0a0a0-0000-4000-8000-000000000003", To: k.bob.Account(), Amount: 11, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := k.alice.SendTransfer(ctx, tr); ledger.ErrorName(err) != ledger.NameNotAccepted {
		t.Fatalf("transfer above the new limit: %v", err)
	}
	tr.ID, tr.Amount = "a0a0a0a0-0000-4000-8000-000000000004", 10
	if err := k.alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if bal, err := k.alice.PeerBalance(ctx); err != nil || bal != ledger.Int128FromInt64(-10) {
		t.Fatalf("PeerBalance %s %v, want -10", bal, err)
	}
}

// TestNewOptions checks the refusals of New and the derived accounts.
func TestNewOptions(t *testing.T) {
	bobPub := identity(t, bobSecret).PublicKey()
	base := virtual.Options{Secret: aliceSecret, PeerPublicKey: bobPub, CurrencyCode: "USD", CurrencyScale: 9, RPCURI: "http://127.0.0.1:1/rpc", Backend: memory.New()}
	bad := map[string]func(*virtual.Options){
		"no secret":      func(o *virtual.Options) { o.Secret = "" },
		"bad peer key":   func(o *virtual.Options) { o.PeerPublicKey = "abc" },
		"no rpc uri":     func(o *virtual.Options) { o.RPCURI = "" },
		"ftp rpc uri":    func(o *virtual.Options) { o.RPCURI = "ftp://127.0.0.1/" },
		"no backend":     func(o *virtual.Options) { o.Backend = nil },
		"other prefix":   func(o *virtual.Options) { o.Prefix = "peer.abcde.usd.9." },
		"bad currency":   func(o *virtual.Options) { o.CurrencyCode = "U.S" },
		"negative scale": func(o *virtual.Options) { o.CurrencyScale = -1 },
	}
	for name, change := range bad {
		o := base
		change(&o)
		if _, err := virtual.New(o); !errors.Is(err, virtual.ErrBadOptions) {
			t.Errorf("%s: %v, want ErrBadOptions", name, err)
		}
	}
	p, err := virtual.New(base)
	if err != nil {
		t.Fatal(err)
	}
	info := p.Info()
	if info.CurrencyCode != "USD" || info.CurrencyScale != 9 || info.Prefix != p.Prefix() || p.Account() != p.Prefix()+identity(t, aliceSecret).PublicKey() {
		t.Fatalf("info %+v, account %s", info, p.Account())
	}
	if len(info.Connectors) != 1 || info.Connectors[0] != p.Prefix()+bobPub {
		t.Fatalf("connectors %v, want the peer's account as ILP Kit set it", info.Connectors)
	}
	if _, err := p.Balance(context.Background()); !errors.Is(err, ledger.ErrNotConnected) {
		t.Fatalf("Balance before Connect: %v", err)
	}
}

// TestNoTimerLeftAfterQuickFulfill checks that a transfer fulfilled while
// it is still being announced (bob fulfills from inside his
// incoming_prepare handler, so alice's fulfill_condition arrives before her
// send_transfer call returns) leaves no expiry timer armed on either side.
func TestNoTimerLeftAfterQuickFulfill(t *testing.T) {
	ctx := context.Background()
	k := newKitPair(t, pairConfig{})
	for _, p := range []*virtual.Plugin{k.alice, k.bob} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	f := ilp.Fulfillment{4, 5, 6}
	k.bob.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingPrepare {
			if err := k.bob.FulfillCondition(ctx, ev.Transfer.ID, f); err != nil {
				t.Errorf("fulfill: %v", err)
			}
		}
	})
	for i := range 5 {
		tr := ledger.Transfer{ID: fmt.Sprintf("quick-%d", i), To: k.bob.Account(), Amount: 1, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := k.alice.SendTransfer(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := k.alice.ArmedTimers(), k.bob.ArmedTimers(); a != 0 || b != 0 {
		t.Fatalf("timers armed after fulfilled transfers: alice %d, bob %d", a, b)
	}
}
