package plugintest

import (
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// settle gives a plugin that delivers events asynchronously the time to
// deliver what it would, before the suite checks that nothing came.
const settle = 50 * time.Millisecond

func testDisconnect(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr1, f1 := e.prepare(e.s, e.r, 50)

	// The receiver goes away.
	wantOK(t, e.r.Disconnect(c), "Disconnect")
	e.rEv.wait(t, ledger.EventDisconnect, "")
	if e.r.IsConnected() {
		t.Fatal("IsConnected after Disconnect")
	}
	wantOK(t, e.r.Disconnect(c), "second Disconnect")
	seen := len(e.rEv.all())
	wantErr(t, e.r.FulfillCondition(c, tr1.ID, f1), "FulfillCondition after Disconnect", ledger.NameUnreachable)
	_, err := e.r.Balance(c)
	wantErr(t, err, "Balance after Disconnect", ledger.NameUnreachable)
	_, err = e.r.Fulfillment(c, tr1.ID)
	wantErr(t, err, "Fulfillment after Disconnect", ledger.NameUnreachable)
	back, _ := e.conditional(e.r, e.s, 1)
	wantErr(t, e.r.SendTransfer(c, back), "SendTransfer after Disconnect", ledger.NameUnreachable)
	_, err = e.r.SendRequest(c, ledger.Message{To: e.s.Account(), ILP: samplePacket})
	wantErr(t, err, "SendRequest after Disconnect", ledger.NameUnreachable)

	// What the sender does meanwhile reaches no handler of the receiver. A
	// plugin may refuse the transfer or accept it and let it expire.
	tr2, _ := e.conditional(e.s, e.r, 60)
	_ = e.s.SendTransfer(c, tr2)
	e.clock.Advance(time.Second)
	time.Sleep(settle)
	if n := len(e.rEv.all()); n != seen {
		t.Fatalf("the receiver delivered %d events while disconnected", n-seen)
	}

	// Back: the prepared transfer is still there and can be fulfilled.
	wantOK(t, e.r.Connect(c), "Connect again")
	if !eventually(func() bool { return e.rEv.count(ledger.EventConnect, "") == 2 }) {
		t.Fatal("no connect event on reconnecting")
	}
	e.fulfill(e.s, e.r, tr1, f1)
	e.clock.Advance(hold + time.Second) // tr2, if it was accepted, expires
	e.wantBalances(minus(50), plus(50))

	// The sender goes away.
	wantOK(t, e.s.Disconnect(c), "Disconnect")
	e.sEv.wait(t, ledger.EventDisconnect, "")
	seen = len(e.sEv.all())
	tr3, _ := e.conditional(e.r, e.s, 70)
	_ = e.r.SendTransfer(c, tr3)
	e.clock.Advance(time.Second)
	time.Sleep(settle)
	if n := len(e.sEv.all()); n != seen {
		t.Fatalf("the sender delivered %d events while disconnected", n-seen)
	}
	wantOK(t, e.s.Connect(c), "Connect again")
	e.clock.Advance(hold + time.Second) // tr3, if it was accepted, expires
	e.wantBalances(minus(50), plus(50))

	// And payments work again.
	tr4, f4 := e.prepare(e.s, e.r, 5)
	e.fulfill(e.s, e.r, tr4, f4)
	e.wantBalances(minus(55), plus(55))
}

func testUnsubscribe(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	extra := newRecorder()
	unsubscribe := e.r.Subscribe(extra.handle)
	tr1, f1 := e.prepare(e.s, e.r, 1)
	extra.wait(t, ledger.EventIncomingPrepare, tr1.ID)
	unsubscribe()
	unsubscribe() // again: nothing happens
	e.fulfill(e.s, e.r, tr1, f1)
	tr2, _ := e.prepare(e.s, e.r, 2)
	time.Sleep(settle)
	extra.none(t, tr1.ID, ledger.EventIncomingFulfill)
	extra.none(t, tr2.ID, ledger.EventIncomingPrepare)
	if n := len(extra.all()); n != 1 {
		t.Fatalf("an unsubscribed handler got %d events, want the 1 before unsubscribing", n)
	}
}
