package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// TestGoldenFigures reproduces the figures of two 2017 connectors with the
// default spread, scale 9 and limits 10^15 everywhere: a sender on the first
// connector's ledger quoting to a receiver on the second's.
func TestGoldenFigures(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	c0 := ch.ins[0].Account()
	bob := ch.bob.Account()
	if got := bySource(t, ch.alice, c0, bob, 1_000_000_000); got != 996_003_999 {
		t.Errorf("by source 1e9 = %d, want 996003999", got)
	}
	if got := byDestination(t, ch.alice, c0, bob, 1_000_000_000); got != 1_004_012_034 {
		t.Errorf("by destination 1e9 = %d, want 1004012034", got)
	}
}

func shift1(c curve.Curve) curve.Curve {
	s, err := c.ShiftXInt64(1)
	if err != nil {
		panic(err)
	}
	return s
}

// TestChainQuotes checks the three ILQP forms across three connectors against
// the curves and against each other.
func TestChainQuotes(t *testing.T) {
	ch := newChain(t, 3, nil)
	ch.propagate(t)
	c0 := ch.ins[0].Account()
	bob := ch.bob.Account()

	// What the first connector should hold: its own pair joined with what
	// the second broadcast (its shifted pair joined with the third's shifted
	// pair); the liquidity answer is that, shifted.
	want := pairCurve.Join(shift1(pairCurve).Join(shift1(pairCurve)))
	lq := liquidity(t, ch.alice, c0, bob)
	got, err := curve.FromBinary(lq.LiquidityCurve)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(shift1(want)) {
		t.Fatalf("liquidity curve %v, want %v", got.Points(), shift1(want).Points())
	}
	if lq.AppliesToPrefix != "test1.l9." {
		t.Errorf("applies to %q", lq.AppliesToPrefix)
	}
	// three hops of 1 s each on top of the 3 s asked for
	if lq.SourceHoldDuration != 6000 {
		t.Errorf("source hold %d ms, want 6000", lq.SourceHoldDuration)
	}
	if !lq.ExpiresAt.Equal(t0.Add(45 * time.Second)) {
		t.Errorf("expires %v", lq.ExpiresAt)
	}
	// too little to deliver anything: F00, as 2017 refused it
	r := request(t, ch.alice, c0, &ilp.QuoteBySourceRequest{DestinationAccount: bob, SourceAmount: 2, DestinationHoldDuration: 3000})
	if e, ok := r.(*ilp.Error); !ok || e.Code != ilp.CodeBadRequest {
		t.Errorf("by source 2: %T %v", r, r)
	}
	for _, amt := range []uint64{1, 2, 999, 1_000_000, 123_456_789, 1_000_000_000, 77_777_777_777} {
		if amt < 1000 {
			s := byDestination(t, ch.alice, c0, bob, amt)
			if w, _ := got.AmountReverse(amt); s != w {
				t.Errorf("by destination %d = %d, curve says %d", amt, s, w)
			}
			continue
		}
		d := bySource(t, ch.alice, c0, bob, amt*3)
		if w := got.AmountAt(amt*3 + 1); d != w {
			t.Errorf("by source %d = %d, curve says %d", amt*3, d, w)
		}
		s := byDestination(t, ch.alice, c0, bob, amt)
		if w, _ := got.AmountReverse(amt); s != w {
			t.Errorf("by destination %d = %d, curve says %d", amt, s, w)
		}
		back := bySource(t, ch.alice, c0, bob, s)
		if back+3 < amt {
			t.Errorf("by destination %d needs %d, which by source gives only %d", amt, s, back)
		}
	}
}

// pay sends amount from alice towards bob for dest and returns the final event.
func (ch *chain) pay(t *testing.T, id string, amount, dest uint64, expiry time.Duration) ledger.Event {
	t.Helper()
	tr := ledger.Transfer{
		ID:                 id,
		To:                 ch.ins[0].Account(),
		Amount:             amount,
		ILP:                payment(t, ch.bob.Account(), dest),
		ExecutionCondition: ch.receiver.condition(id),
		ExpiresAt:          ch.clock.Now().Add(expiry),
	}
	if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	return ch.sender.wait(t, id)
}

// wantBalances checks every end's balance: ledger k's two ends hold -amt[k]
// (payer) and +amt[k] (payee).
func (ch *chain) wantBalances(t *testing.T, amts ...uint64) {
	t.Helper()
	n := len(ch.conns)
	for k := 0; k <= n; k++ {
		var payer, payee = ch.alice, ch.ins[0]
		switch {
		case k == n:
			payer, payee = ch.outs[n-1], ch.bob
		case k > 0:
			payer, payee = ch.outs[k-1], ch.ins[k]
		}
		a := new(big.Int).SetUint64(amts[k])
		if got := balance(t, payee); got.Cmp(a) != 0 {
			t.Errorf("ledger %d: payee %s balance %s, want %s", k, payee.Account(), got, a)
		}
		if got := balance(t, payer); got.Cmp(new(big.Int).Neg(a)) != 0 {
			t.Errorf("ledger %d: payer %s balance %s, want -%s", k, payer.Account(), got, a)
		}
	}
}

func TestChainPayment(t *testing.T) {
	ch := newChain(t, 3, nil)
	ch.propagate(t)
	const src = 1_000_000_000
	dest := bySource(t, ch.alice, ch.ins[0].Account(), ch.bob.Account(), src)
	ev := ch.pay(t, "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01", src, dest, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment ended with %v %+v", ev.Kind, ev.Rejection)
	}
	// Each intermediate hop pays what its own pair curve gives; the last
	// pays the packet's amount.
	a1 := pairCurve.AmountAt(src)
	a2 := pairCurve.AmountAt(a1)
	if a2 < dest {
		t.Fatalf("third hop receives %d, less than the %d delivered", a2, dest)
	}
	ch.wantBalances(t, src, a1, a2, dest)
	if w := pairCurve.Join(shift1(pairCurve).Join(shift1(pairCurve))).AmountAt(src); dest != w {
		t.Errorf("three-hop quote by source 1e9 = %d, curves give %d", dest, w)
	}
}

func TestChainLiquidityExhausted(t *testing.T) {
	ch := newChain(t, 3, nil)
	ch.propagate(t)
	// bob now accepts at most 1000 units from his connector; the curves
	// still show the old limit, so the last hop's transfer is refused.
	ch.bob.SetMaxBalance(limit(1000))
	ev := ch.pay(t, "b7c0e3a4-1111-4a2b-8c3d-000000000001", 1_000_000, 990_000, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingReject {
		t.Fatalf("payment ended with %v", ev.Kind)
	}
	if ev.Rejection.Code != ilp.CodeInsufficientLiquidity {
		t.Errorf("code %s, want T04", ev.Rejection.Code)
	}
	if ev.Rejection.ForwardedBy != ch.ins[0].Account() {
		t.Errorf("forwarded by %q, want %q", ev.Rejection.ForwardedBy, ch.ins[0].Account())
	}
	if ev.Rejection.TriggeredBy != ch.ins[2].Account() {
		t.Errorf("triggered by %q, want the last connector %q", ev.Rejection.TriggeredBy, ch.ins[2].Account())
	}
	waitBalancesZero(t, ch)
}

func waitBalancesZero(t *testing.T, ch *chain) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		for _, e := range append(append(append([]*pair.End{}, ch.ins...), ch.outs...), ch.alice, ch.bob) {
			if balance(t, e).Sign() != 0 {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			ch.wantBalances(t, 0, 0, 0, 0)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChainWrongFulfillment(t *testing.T) {
	ch := newChain(t, 3, nil)
	ch.propagate(t)
	ch.receiver.mu.Lock()
	ch.receiver.hold = true
	ch.receiver.mu.Unlock()
	id := "c1d2e3f4-0000-4000-8000-000000000002"
	tr := ledger.Transfer{
		ID: id, To: ch.ins[0].Account(), Amount: 1_000_000,
		ILP:                payment(t, ch.bob.Account(), 990_000),
		ExecutionCondition: ch.receiver.condition(id),
		ExpiresAt:          ch.clock.Now().Add(5 * time.Second),
	}
	if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	var in ledger.Transfer
	select {
	case in = <-ch.receiver.prepared:
	case <-time.After(5 * time.Second):
		t.Fatal("bob got nothing")
	}
	var wrong ilp.Fulfillment
	copy(wrong[:], "not the preimage of the condition")
	err := ch.bob.FulfillCondition(context.Background(), in.ID, wrong)
	if !errors.Is(err, ledger.ErrNotAccepted) {
		t.Fatalf("wrong fulfillment: %v, want not accepted", err)
	}
	ch.receiver.mu.Lock()
	right := ch.receiver.preimg[tr.ExecutionCondition]
	ch.receiver.mu.Unlock()
	if err := ch.bob.FulfillCondition(context.Background(), in.ID, right); err != nil {
		t.Fatal(err)
	}
	if ev := ch.sender.wait(t, id); ev.Kind != ledger.EventOutgoingFulfill || ev.Fulfillment != right {
		t.Fatalf("sender saw %v", ev.Kind)
	}
}

// TestChainExpiry lets the payment expire at the last hop (bob holds) and, in
// another chain, at a middle hop (the last connector is gone): every held
// amount comes back and the sender hears why.
func TestChainExpiry(t *testing.T) {
	t.Run("last hop", func(t *testing.T) {
		ch := newChain(t, 3, nil)
		ch.propagate(t)
		ch.receiver.mu.Lock()
		ch.receiver.hold = true
		ch.receiver.mu.Unlock()
		id := "e0000000-0000-4000-8000-000000000003"
		tr := ledger.Transfer{
			ID: id, To: ch.ins[0].Account(), Amount: 1_000_000,
			ILP:                payment(t, ch.bob.Account(), 990_000),
			ExecutionCondition: ch.receiver.condition(id),
			ExpiresAt:          ch.clock.Now().Add(5 * time.Second),
		}
		if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
		in := <-ch.receiver.prepared
		if want := tr.ExpiresAt.Add(-3 * time.Second); !in.ExpiresAt.Equal(want) {
			t.Errorf("last transfer expires %v, want %v", in.ExpiresAt, want)
		}
		if got := balance(t, ch.bob); got.Int64() != 990_000 {
			t.Errorf("bob holds %s while prepared", got)
		}
		ch.clock.Advance(5 * time.Second)
		ev := ch.sender.wait(t, id)
		if ev.Kind != ledger.EventOutgoingReject && ev.Kind != ledger.EventOutgoingCancel {
			t.Fatalf("sender saw %v", ev.Kind)
		}
		if ev.Kind == ledger.EventOutgoingReject && ev.Rejection.Code != ilp.CodeTransferTimedOut {
			t.Errorf("code %s, want R00", ev.Rejection.Code)
		}
		waitBalancesZero(t, ch)
	})
	t.Run("middle hop", func(t *testing.T) {
		ch := newChain(t, 3, nil)
		ch.propagate(t)
		if err := ch.conns[2].RemovePlugin(context.Background(), ch.ins[2].Info().Prefix); err != nil {
			t.Fatal(err)
		}
		id := "e0000000-0000-4000-8000-000000000004"
		tr := ledger.Transfer{
			ID: id, To: ch.ins[0].Account(), Amount: 1_000_000,
			ILP:                payment(t, ch.bob.Account(), 990_000),
			ExecutionCondition: ch.receiver.condition(id),
			ExpiresAt:          ch.clock.Now().Add(5 * time.Second),
		}
		if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
		// wait until the second connector's transfer sits on the last peering ledger
		deadline := time.Now().Add(5 * time.Second)
		for balance(t, ch.ins[2]).Sign() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("payment did not reach the third connector's ledger")
			}
			time.Sleep(time.Millisecond)
		}
		ch.clock.Advance(5 * time.Second)
		ev := ch.sender.wait(t, id)
		if ev.Kind == ledger.EventOutgoingFulfill {
			t.Fatal("fulfilled")
		}
		if ev.Kind == ledger.EventOutgoingReject {
			if ev.Rejection.Code != ilp.CodeTransferTimedOut || ev.Rejection.ForwardedBy != ch.ins[0].Account() {
				t.Errorf("rejection %+v", ev.Rejection)
			}
		}
		waitBalancesZero(t, ch)
	})
}

// TestHoldDown: a peer that stops broadcasting loses its routes once the
// hold-down time has passed; its heartbeats keep them.
func TestHoldDown(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	c0 := ch.ins[0].Account()
	bob := ch.bob.Account()
	ch.clock.Advance(40 * time.Second)
	if lost := ch.conns[0].RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("lost %v before the hold-down", lost)
	}
	// a heartbeat from the second connector renews the routes
	if err := ch.conns[1].Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch.clock.Advance(40 * time.Second)
	if lost := ch.conns[0].RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("lost %v despite the heartbeat", lost)
	}
	_ = bySource(t, ch.alice, c0, bob, 1000)
	ch.clock.Advance(6 * time.Second)
	lost := ch.conns[0].RemoveExpiredRoutes()
	if len(lost) != 1 || lost[0] != "test1.l9." {
		t.Fatalf("lost %v, want [test1.l9.]", lost)
	}
	r := request(t, ch.alice, c0, &ilp.QuoteBySourceRequest{DestinationAccount: bob, SourceAmount: 1000, DestinationHoldDuration: 3000})
	e, ok := r.(*ilp.Error)
	if !ok || e.Code != ilp.CodeBadRequest {
		t.Fatalf("quote after hold-down: %T %v", r, r)
	}
}

func TestNoRoute(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	c0 := ch.ins[0].Account()
	r := request(t, ch.alice, c0, &ilp.QuoteBySourceRequest{DestinationAccount: "test1.nowhere.carl", SourceAmount: 1000, DestinationHoldDuration: 3000})
	e, ok := r.(*ilp.Error)
	if !ok {
		t.Fatalf("got %T", r)
	}
	if e.Code != ilp.CodeBadRequest || e.TriggeredBy != c0 || len(e.ForwardedBy) != 0 {
		t.Errorf("error %+v", e)
	}
	var data struct{ Message string }
	if err := json.Unmarshal(e.Data, &data); err != nil || !strings.Contains(data.Message, "No route found") {
		t.Errorf("data %s", e.Data)
	}

	// forwarding without a route: F02
	ev := func() ledger.Event {
		id := "f0200000-0000-4000-8000-000000000005"
		tr := ledger.Transfer{
			ID: id, To: c0, Amount: 1000,
			ILP:                payment(t, "test1.nowhere.carl", 900),
			ExecutionCondition: ch.receiver.condition(id),
			ExpiresAt:          ch.clock.Now().Add(5 * time.Second),
		}
		if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
		return ch.sender.wait(t, id)
	}()
	if ev.Kind != ledger.EventOutgoingReject || ev.Rejection.Code != ilp.CodeUnreachable || ev.Rejection.TriggeredBy != c0 {
		t.Errorf("forward without route: %v %+v", ev.Kind, ev.Rejection)
	}
}

// TestForwardChecks covers the refusals made on the first hop.
func TestForwardChecks(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	c0 := ch.ins[0].Account()
	cases := []struct {
		name   string
		amount uint64
		dest   uint64
		ilp    string
		expiry time.Duration
		code   string
	}{
		{"too little for the last hop", 1_000_000, 997_100, "", 5 * time.Second, ilp.CodeInsufficientSourceAmount},
		{"hold too long", 1_000_000, 990_000, "", 20 * time.Second, ilp.CodeInsufficientTimeout},
		{"expires too soon", 1_000_000, 990_000, "", 800 * time.Millisecond, ilp.CodeInsufficientTimeout},
		{"bad packet", 1_000_000, 0, "AAAA", 5 * time.Second, ilp.CodeInvalidPacket},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "0c0c0c0c-0000-4000-8000-00000000000" + string(rune('0'+i))
			p := tc.ilp
			if p == "" {
				p = payment(t, ch.bob.Account(), tc.dest)
			}
			tr := ledger.Transfer{ID: id, To: c0, Amount: tc.amount, ILP: p,
				ExecutionCondition: ch.receiver.condition(id), ExpiresAt: ch.clock.Now().Add(tc.expiry)}
			if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
				t.Fatal(err)
			}
			ev := ch.sender.wait(t, id)
			if ev.Kind != ledger.EventOutgoingReject || ev.Rejection.Code != tc.code {
				t.Errorf("got %v %+v, want %s", ev.Kind, ev.Rejection, tc.code)
			}
		})
	}
	// within the slippage: 0.1% less than the curve gives is still paid
	dest := bySource(t, ch.alice, c0, ch.bob.Account(), 1_000_000)
	ev := ch.pay(t, "0c0c0c0c-0000-4000-8000-0000000000ff", 1_000_000, dest+dest/1000, 5*time.Second)
	if ev.Kind != ledger.EventOutgoingFulfill {
		t.Errorf("payment within slippage: %v %+v", ev.Kind, ev.Rejection)
	}
}

// TestFulfillmentRetry: the source ledger is unreachable when the receiver
// fulfills; the connector keeps trying until it is back, and the sender is
// paid for exactly once.
func TestFulfillmentRetry(t *testing.T) {
	ch := newChain(t, 1, nil)
	ch.propagate(t)
	ch.receiver.mu.Lock()
	ch.receiver.hold = true
	ch.receiver.mu.Unlock()
	const amt = 1_000_000
	dest := pairCurve.AmountAt(amt)
	id := "dddddddd-0000-4000-8000-000000000001"
	tr := ledger.Transfer{
		ID: id, To: ch.ins[0].Account(), Amount: amt,
		ILP:                payment(t, ch.bob.Account(), dest),
		ExecutionCondition: ch.receiver.condition(id),
		ExpiresAt:          ch.clock.Now().Add(5 * time.Second),
	}
	if err := ch.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	in := <-ch.receiver.prepared
	// the sender's end goes away: fulfilling the source transfer fails
	if err := ch.alice.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch.receiver.mu.Lock()
	f := ch.receiver.preimg[tr.ExecutionCondition]
	ch.receiver.mu.Unlock()
	if err := ch.bob.FulfillCondition(context.Background(), in.ID, f); err != nil {
		t.Fatal(err)
	}
	// a few retries fail while it is away
	for range 5 {
		time.Sleep(2 * time.Millisecond)
		ch.clock.Advance(100 * time.Millisecond)
	}
	if got, err := ch.ins[0].Fulfillment(context.Background(), id); err == nil {
		t.Fatalf("source fulfilled while the sender was away: %v", got)
	}
	if err := ch.alice.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ch.clock.Advance(500 * time.Millisecond)
		if got, err := ch.ins[0].Fulfillment(context.Background(), id); err == nil {
			if got != f {
				t.Fatal("wrong fulfillment passed back")
			}
			break
		}
		if time.Now().After(deadline) || ch.clock.Now().After(tr.ExpiresAt) {
			t.Fatal("fulfillment never passed back")
		}
		time.Sleep(2 * time.Millisecond)
	}
	ch.wantBalances(t, amt, dest)
}
