package connector_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// TestRemoteQuote: the first connector has only a static route (no curve) to
// the receiver's ledger, so it asks the next connector for its curve.
func TestRemoteQuote(t *testing.T) {
	ch := newChain(t, 2, func(cfg *connector.Config) {
		cfg.StaticRoutes = []connector.StaticRoute{{TargetPrefix: "test1.l9.", Ledger: "peer.pb.usd.9.", Account: "peer.pb.usd.9.c1"}}
	})
	// Only the second connector learns routes (from nobody: its pairs are
	// local). The first never hears a broadcast.
	c0 := ch.ins[0].Account()
	bob := ch.bob.Account()
	hop, ok := ch.conns[0].LocalTables().FindBestHopForSourceAmount("test1.l0.", bob, 0)
	if !ok || hop.Route.Curve != nil {
		t.Fatalf("want a curve-less static route, got %v %+v", ok, hop)
	}
	// the second connector's liquidity answer is its pair shifted; joined
	// after the first connector's pair.
	tail := shift1(pairCurve)
	want := pairCurve.Join(tail)
	lq := liquidity(t, ch.alice, c0, bob)
	got, err := curve.FromBinary(lq.LiquidityCurve)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(shift1(want)) {
		t.Errorf("curve %v, want %v", got.Points(), shift1(want).Points())
	}
	// 3 s asked + 1 s at the second connector + 1 s here
	if lq.SourceHoldDuration != 5000 {
		t.Errorf("source hold %d", lq.SourceHoldDuration)
	}
	if d := bySource(t, ch.alice, c0, bob, 1_000_000_000); d != 996_003_999 {
		t.Errorf("remote by source = %d, want the golden 996003999", d)
	}
	// and a payment over the static route works
	ev := ch.pay(t, "aaaaaaaa-0000-4000-8000-000000000001", 1_000_000_000, 996_003_999, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment %v %+v", ev.Kind, ev.Rejection)
	}
	// An error from the next connector comes back with our account in
	// forwarded_by.
	r := request(t, ch.alice, c0, &ilp.QuoteBySourceRequest{DestinationAccount: "test1.l9.", SourceAmount: 1, DestinationHoldDuration: 3000})
	if e, ok := r.(*ilp.Error); !ok || e.Code != ilp.CodeBadRequest || e.TriggeredBy != c0 {
		t.Errorf("remote quote delivering nothing: %T %v", r, r)
	}
	if err := ch.conns[1].RemovePlugin(context.Background(), "test1.l9."); err != nil {
		t.Fatal(err)
	}
	// The first answer is kept until it expires; only then is the next
	// connector asked again, and its refusal passed on.
	if d := bySource(t, ch.alice, c0, bob, 1_000_000_000); d != 996_003_999 {
		t.Errorf("cached by source = %d, want 996003999", d)
	}
	ch.clock.Advance(45 * time.Second)
	r = request(t, ch.alice, c0, &ilp.QuoteLiquidityRequest{DestinationAccount: bob, DestinationHoldDuration: 3000})
	e, ok := r.(*ilp.Error)
	if !ok || e.Code != ilp.CodeBadRequest {
		t.Fatalf("remote error: %T %v", r, r)
	}
	if len(e.ForwardedBy) != 1 || e.ForwardedBy[0] != c0 || e.TriggeredBy != "peer.pb.usd.9.c1" {
		t.Errorf("remote error %+v, want triggered by the next connector and forwarded by %s", e, c0)
	}
}

func TestPlugins(t *testing.T) {
	ch := newChain(t, 1, nil)
	c := ch.conns[0]
	if err := c.AddPlugin(context.Background(), ch.ins[0], connector.PluginOptions{}); !errors.Is(err, connector.ErrDuplicateLedger) {
		t.Errorf("second add: %v", err)
	}
	if err := c.RemovePlugin(context.Background(), "test1.unknown."); !errors.Is(err, connector.ErrUnknownLedger) {
		t.Errorf("remove unknown: %v", err)
	}
	if got := c.Ledgers(); len(got) != 2 || got[0] != "test1.l0." || got[1] != "test1.l9." {
		t.Errorf("ledgers %v", got)
	}
	// a local payment through one connector
	const amt = 1_000_000
	d := bySource(t, ch.alice, ch.ins[0].Account(), ch.bob.Account(), amt)
	if d != pairCurve.AmountAt(amt) {
		t.Errorf("one hop by source %d", d)
	}
	ev := ch.pay(t, "bbbbbbbb-0000-4000-8000-000000000001", amt, d, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment %v", ev.Kind)
	}
	ch.wantBalances(t, amt, d)
	if err := c.RemovePlugin(context.Background(), "test1.l9."); err != nil {
		t.Fatal(err)
	}
	r := request(t, ch.alice, ch.ins[0].Account(), &ilp.QuoteBySourceRequest{DestinationAccount: ch.bob.Account(), SourceAmount: 10, DestinationHoldDuration: 3000})
	if _, ok := r.(*ilp.Error); !ok {
		t.Errorf("quote to a removed ledger: %T", r)
	}
	// the removed plugin's handler is released: it can be added again
	if err := c.AddPlugin(context.Background(), ch.outs[0], connector.PluginOptions{}); err != nil {
		t.Fatal(err)
	}
	if d2 := bySource(t, ch.alice, ch.ins[0].Account(), ch.bob.Account(), amt); d2 == 0 {
		t.Error("no quote after adding back")
	}
}

// TestRun: Run broadcasts at once, then on its interval, on the injected
// clock, and removes expired routes.
func TestRun(t *testing.T) {
	ch := newChain(t, 2, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wgDone = make(chan struct{}, 2)
		for _, c := range ch.conns {
			go func() { c.Run(ctx); wgDone <- struct{}{} }()
		}
		<-wgDone
		<-wgDone
	}()
	defer func() { cancel(); <-done }()
	bob := ch.bob.Account()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := ch.conns[0].LocalTables().FindBestHopForSourceAmount("test1.l0.", bob, 10); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("routes never propagated")
		}
		ch.clock.Advance(time.Second)
		time.Sleep(2 * time.Millisecond)
	}
	// keep time moving well past the hold-down: the heartbeats keep the route
	for range 120 {
		ch.clock.Advance(time.Second)
		time.Sleep(time.Millisecond)
	}
	if _, ok := ch.conns[0].LocalTables().FindBestHopForSourceAmount("test1.l0.", bob, 10); !ok {
		t.Fatal("route lost although the peer kept broadcasting")
	}
}

// TestNoGoroutineLeft: once the connectors are closed and the plugins
// disconnected, nothing of the connector keeps running.
func TestNoGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	ev := ch.pay(t, "99999999-0000-4000-8000-000000000001", 1_000_000, 990_000, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment %v", ev.Kind)
	}
	for _, c := range ch.conns {
		c.Close()
		c.Close() // twice is fine
	}
	for _, e := range append(append([]*pair.End{ch.alice, ch.bob}, ch.ins...), ch.outs...) {
		_ = e.Disconnect(context.Background())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
