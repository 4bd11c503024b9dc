package connector_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// lister is a pair end that lists the transfers still prepared to it, as
// the trustline server's views do.
type lister struct {
	*pair.End
	mu  sync.Mutex
	inc map[string]ledger.Transfer
}

func listing(t testing.TB, e *pair.End) *lister {
	l := &lister{End: e, inc: map[string]ledger.Transfer{}}
	t.Cleanup(e.Subscribe(func(ev ledger.Event) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch ev.Kind {
		case ledger.EventIncomingPrepare:
			l.inc[ev.Transfer.ID] = ev.Transfer
		case ledger.EventIncomingFulfill, ledger.EventIncomingReject, ledger.EventIncomingCancel:
			delete(l.inc, ev.Transfer.ID)
		}
	}))
	return l
}

func (l *lister) PreparedIncoming(context.Context) ([]ledger.Transfer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ledger.Transfer, 0, len(l.inc))
	for _, t := range l.inc {
		out = append(out, t)
	}
	return out, nil
}

// TestRecover: a connector stopped in the middle of payments, replaced by a
// new one with the same secret, finishes each payment the way its outgoing
// transfer ended: fulfilled, rejected, still under way, or never sent.
func TestRecover(t *testing.T) {
	cases := []struct {
		name string
		// down runs while no connector listens; it gets bob's held transfer
		// (zero when the payment was never forwarded).
		down func(t *testing.T, bob *pair.End, out ledger.Transfer, rcv *receiver)
		// forwardFirst makes the first connector forward the payment.
		forwardFirst bool
		// finishedOnly recovers as a process sharing the backends with
		// live ones (RecoverFinished).
		finishedOnly bool
		want         connector.Recovered
		wantKind     ledger.EventKind
	}{
		{"fulfilled while stopped", func(t *testing.T, bob *pair.End, out ledger.Transfer, rcv *receiver) {
			rcv.mu.Lock()
			f := rcv.preimg[out.ExecutionCondition]
			rcv.mu.Unlock()
			if err := bob.FulfillCondition(context.Background(), out.ID, f); err != nil {
				t.Fatal(err)
			}
		}, true, false, connector.Recovered{Fulfilled: 1}, ledger.EventOutgoingFulfill},
		{"rejected while stopped", func(t *testing.T, bob *pair.End, out ledger.Transfer, _ *receiver) {
			r := ledger.NewRejection("F99", bob.Account(), "no thanks", t0)
			if err := bob.RejectIncomingTransfer(context.Background(), out.ID, r); err != nil {
				t.Fatal(err)
			}
		}, true, false, connector.Recovered{Rejected: 1}, ledger.EventOutgoingReject},
		{"still under way", func(*testing.T, *pair.End, ledger.Transfer, *receiver) {}, true, false,
			connector.Recovered{Pending: 1}, ledger.EventOutgoingFulfill},
		{"never forwarded", func(*testing.T, *pair.End, ledger.Transfer, *receiver) {}, false, false,
			connector.Recovered{Forwarded: 1}, ledger.EventOutgoingFulfill},
		// Beside live processes, a source with no outgoing transfer may be
		// about to be forwarded by one of them: it is left to expire.
		{"never forwarded, shared", func(*testing.T, *pair.End, ledger.Transfer, *receiver) {}, false, true,
			connector.Recovered{Skipped: 1}, ledger.EventOutgoingCancel},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := plugintest.NewClock(t0)
			alice, inEnd := trustline(t, clock, "test1.l0.", "alice", "c0", limit(e15), false)
			bob, outEnd := trustline(t, clock, "test1.l9.", "bob", "c0", limit(e15), false)
			in := listing(t, inEnd)
			sender, rcv := watch(t, alice), receive(t, bob)
			rcv.mu.Lock()
			rcv.hold = true
			rcv.mu.Unlock()
			ctx := context.Background()

			c1 := newConnector(t, clock, nil)
			if tc.forwardFirst {
				add(t, c1, in)
				add(t, c1, outEnd)
			}
			id := "3e000000-0000-4000-8000-000000000001"
			const amt = 1_000_000
			dest := pairCurve.AmountAt(amt)
			cond := rcv.condition(id)
			if err := alice.SendTransfer(ctx, ledger.Transfer{
				ID: id, To: inEnd.Account(), Amount: amt, ILP: payment(t, bob.Account(), dest),
				ExecutionCondition: cond, ExpiresAt: clock.Now().Add(5 * time.Second),
			}); err != nil {
				t.Fatal(err)
			}
			var out ledger.Transfer
			if tc.forwardFirst {
				out = <-rcv.prepared
				for _, p := range []string{"test1.l0.", "test1.l9."} {
					if err := c1.RemovePlugin(ctx, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			c1.Close()
			tc.down(t, bob, out, rcv)

			rcv.mu.Lock()
			rcv.hold = false
			rcv.mu.Unlock()
			c2 := newConnector(t, clock, nil)
			add(t, c2, in)
			add(t, c2, outEnd)
			recover := c2.Recover
			if tc.finishedOnly {
				recover = c2.RecoverFinished
			}
			got, err := recover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantKind == ledger.EventOutgoingCancel {
				clock.Advance(6 * time.Second)
			}
			if got != tc.want {
				t.Errorf("Recover = %+v, want %+v", got, tc.want)
			}
			if tc.want.Pending == 1 {
				// The receiver fulfills now; the new connector hears of it.
				rcv.mu.Lock()
				f := rcv.preimg[cond]
				rcv.mu.Unlock()
				if err := bob.FulfillCondition(ctx, out.ID, f); err != nil {
					t.Fatal(err)
				}
			}
			if ev := sender.wait(t, id); ev.Kind != tc.wantKind {
				t.Fatalf("payment ended with %v, want %v", ev.Kind, tc.wantKind)
			}
			// Balances: alice paid exactly when bob was paid.
			paid := balance(t, alice).Int64() != 0
			received := balance(t, bob).Int64() != 0
			if paid != received || paid != (tc.wantKind == ledger.EventOutgoingFulfill) {
				t.Errorf("alice %s, bob %s", balance(t, alice), balance(t, bob))
			}
			if paid && balance(t, bob).Uint64() != dest {
				t.Errorf("bob got %s, want %d", balance(t, bob), dest)
			}
			// A second Recover finds nothing left to do.
			if again, err := c2.Recover(ctx); err != nil || again != (connector.Recovered{}) {
				t.Errorf("second Recover = %+v, %v", again, err)
			}
		})
	}
}
