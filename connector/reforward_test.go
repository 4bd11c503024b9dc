package connector_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// logSink is a slog handler that hands the messages logged to a test.
type logSink struct{ ch chan string }

func newLogSink() *logSink { return &logSink{ch: make(chan string, 256)} }

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.ch <- r.Message:
	default:
	}
	return nil
}
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logSink) WithGroup(string) slog.Handler      { return l }

func (l *logSink) wait(t *testing.T, msg string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-l.ch:
			if m == msg {
				return
			}
		case <-deadline:
			t.Fatalf("never logged %q", msg)
		}
	}
}

const testSecret = "0123456789abcdef-secret" // newConnector's

// TestForwardIDAlreadyUsed: the id derived for the outgoing transfer is
// already used on the next ledger by a transfer with other figures (an
// earlier forward of the same source transfer). The connector leaves the
// source transfer alone: the earlier transfer can still be fulfilled, and
// its fulfillment pays the source transfer.
func TestForwardIDAlreadyUsed(t *testing.T) {
	logs := newLogSink()
	ch := newChain(t, 1, func(cfg *connector.Config) { cfg.Logger = slog.New(logs) })
	ch.propagate(t)
	ch.receiver.mu.Lock()
	ch.receiver.hold = true
	ch.receiver.mu.Unlock()
	ctx := context.Background()
	bob := ch.bob.Account()
	id := "1d000000-0000-4000-8000-000000000001"
	outID := connector.OutgoingTransferID([]byte(testSecret), "test1.l0.", id)
	cond := ch.receiver.condition(id)
	earlier := ledger.Transfer{
		ID: outID, To: bob, Amount: 500_000, ILP: payment(t, bob, 500_000),
		ExecutionCondition: cond, ExpiresAt: ch.clock.Now().Add(4 * time.Second),
		NoteToSelf: []byte(`{"source_transfer_ledger":"test1.l0.","source_transfer_id":"` + id + `","source_transfer_amount":"1000000"}`),
	}
	if err := ch.outs[0].SendTransfer(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	<-ch.receiver.prepared

	tr := ledger.Transfer{
		ID: id, To: ch.ins[0].Account(), Amount: 1_000_000, ILP: payment(t, bob, 990_000),
		ExecutionCondition: cond, ExpiresAt: ch.clock.Now().Add(5 * time.Second),
	}
	if err := ch.alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	logs.wait(t, "incoming transfer already forwarded")
	// Neither paid twice nor refused.
	select {
	case in := <-ch.receiver.prepared:
		t.Fatalf("bob got a second transfer %+v", in)
	default:
	}
	if got := balance(t, ch.bob); got.Int64() != 500_000 {
		t.Errorf("bob holds %s, want the earlier 500000 only", got)
	}
	ch.sender.mu.Lock()
	ev, done := ch.sender.got[id]
	ch.sender.mu.Unlock()
	if done {
		t.Fatalf("source transfer ended with %v %+v", ev.Kind, ev.Rejection)
	}

	ch.receiver.mu.Lock()
	f := ch.receiver.preimg[cond]
	ch.receiver.mu.Unlock()
	if err := ch.bob.FulfillCondition(ctx, outID, f); err != nil {
		t.Fatal(err)
	}
	if ev := ch.sender.wait(t, id); ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("source transfer ended with %v", ev.Kind)
	}
	ch.wantBalances(t, 1_000_000, 500_000)
}

// spyPlugin passes everything to a pair end, keeps the incoming prepare
// events so that a test can deliver one again, and reports each outgoing
// transfer sent and each incoming one rejected.
type spyPlugin struct {
	*pair.End
	mu       sync.Mutex
	handlers []ledger.EventHandler
	prepares []ledger.Event
	rejects  int
	sends    chan sendCall
}

type sendCall struct {
	t   ledger.Transfer
	err error
}

func spy(e *pair.End) *spyPlugin { return &spyPlugin{End: e, sends: make(chan sendCall, 16)} }

func (s *spyPlugin) Subscribe(h ledger.EventHandler) func() {
	s.mu.Lock()
	s.handlers = append(s.handlers, h)
	s.mu.Unlock()
	return s.End.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingPrepare {
			s.mu.Lock()
			s.prepares = append(s.prepares, ev)
			s.mu.Unlock()
		}
		h(ev)
	})
}

func (s *spyPlugin) SendTransfer(ctx context.Context, t ledger.Transfer) error {
	err := s.End.SendTransfer(ctx, t)
	s.sends <- sendCall{t, err}
	return err
}

func (s *spyPlugin) RejectIncomingTransfer(ctx context.Context, id string, r ledger.Rejection) error {
	s.mu.Lock()
	s.rejects++
	s.mu.Unlock()
	return s.End.RejectIncomingTransfer(ctx, id, r)
}

// redeliver hands the first incoming prepare event to the connector again.
func (s *spyPlugin) redeliver(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	hs := slices.Clone(s.handlers)
	if len(s.prepares) == 0 {
		s.mu.Unlock()
		t.Fatal("no prepare to deliver again")
	}
	ev := s.prepares[0]
	s.mu.Unlock()
	for _, h := range hs {
		h(ev)
	}
}

func (s *spyPlugin) nextSend(t *testing.T) sendCall {
	t.Helper()
	select {
	case c := <-s.sends:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the connector sent nothing")
	}
	return sendCall{}
}

// TestReforward: the same incoming prepared transfer delivered again, while
// its payment is under way and after it was fulfilled, is forwarded under
// the same id and so pays nothing twice and refuses nothing.
func TestReforward(t *testing.T) {
	clock := plugintest.NewClock(t0)
	alice, inEnd := trustline(t, clock, "test1.l0.", "alice", "c0", limit(e15), false)
	bob, outEnd := trustline(t, clock, "test1.l9.", "bob", "c0", limit(e15), false)
	in, out := spy(inEnd), spy(outEnd)
	c := newConnector(t, clock, nil)
	add(t, c, in)
	add(t, c, out)
	sender, rcv := watch(t, alice), receive(t, bob)
	rcv.mu.Lock()
	rcv.hold = true
	rcv.mu.Unlock()
	ctx := context.Background()

	id := "2e000000-0000-4000-8000-000000000001"
	const amt = 1_000_000
	dest := pairCurve.AmountAt(amt)
	cond := rcv.condition(id)
	tr := ledger.Transfer{
		ID: id, To: inEnd.Account(), Amount: amt, ILP: payment(t, bob.Account(), dest),
		ExecutionCondition: cond, ExpiresAt: clock.Now().Add(5 * time.Second),
	}
	if err := alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	first := out.nextSend(t)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if want := connector.OutgoingTransferID([]byte(testSecret), "test1.l0.", id); first.t.ID != want {
		t.Fatalf("outgoing id %s, want %s", first.t.ID, want)
	}
	<-rcv.prepared

	check := func(when string, bobHolds uint64) {
		t.Helper()
		again := out.nextSend(t)
		if again.t.ID != first.t.ID || again.t.Amount != first.t.Amount || !again.t.ExpiresAt.Equal(first.t.ExpiresAt) {
			t.Errorf("%s: forwarded again as %+v, first as %+v", when, again.t, first.t)
		}
		if again.err != nil && !errors.Is(again.err, ledger.ErrDuplicateID) {
			t.Errorf("%s: sending again: %v", when, again.err)
		}
		select {
		case p := <-rcv.prepared:
			t.Errorf("%s: bob got another transfer %s", when, p.ID)
		default:
		}
		if got := balance(t, bob); got.Uint64() != bobHolds {
			t.Errorf("%s: bob holds %s, want %d", when, got, bobHolds)
		}
		if got := balance(t, inEnd); got.Uint64() != amt {
			t.Errorf("%s: the connector holds %s on the source ledger, want %d", when, got, amt)
		}
		in.mu.Lock()
		n := in.rejects
		in.mu.Unlock()
		if n != 0 {
			t.Errorf("%s: source transfer rejected", when)
		}
	}

	// while prepared
	in.redeliver(t)
	check("while prepared", dest)
	sender.mu.Lock()
	_, done := sender.got[id]
	sender.mu.Unlock()
	if done {
		t.Fatal("payment ended after the second delivery")
	}

	rcv.mu.Lock()
	f := rcv.preimg[cond]
	rcv.mu.Unlock()
	if err := bob.FulfillCondition(ctx, first.t.ID, f); err != nil {
		t.Fatal(err)
	}
	if ev := sender.wait(t, id); ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment ended with %v", ev.Kind)
	}

	// after it was fulfilled
	in.redeliver(t)
	check("after fulfillment", dest)
	if got := balance(t, outEnd); got.Int64() != -int64(dest) {
		t.Errorf("the connector paid %s on the next ledger, want %d", got.Neg(got), dest)
	}
	if got := balance(t, alice); got.Int64() != -amt {
		t.Errorf("alice paid %s", got.Neg(got))
	}
	// nothing is left to expire or refund
	clock.Advance(10 * time.Second)
	if got := balance(t, bob); got.Uint64() != dest {
		t.Errorf("after expiry time bob holds %s", got)
	}
}
