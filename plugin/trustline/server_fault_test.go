package trustline_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ledger"
)

// faultyBackend is a memory backend whose transfer log fails on demand:
// before the operation (nothing is recorded) or after it (recorded, but
// the caller is told it failed, as when a commit's answer is lost).
type faultyBackend struct {
	*memory.Backend
	log *faultyLog
}

type faultyLog struct {
	ledger.TransferLog
	mode atomic.Int32    // faultNone, faultBefore, faultAfter, faultSlow or faultSlowAfter
	ctx  context.Context // of the call in progress (the slow modes)
}

const (
	faultNone = iota
	faultBefore
	faultAfter
	faultSlow      // waits until the call's context ends, records nothing
	faultSlowAfter // waits until the call's context ends, records, fails
)

var errInjected = errors.New("injected store failure")

func newFaultyBackend() *faultyBackend {
	m := memory.New()
	return &faultyBackend{Backend: m, log: &faultyLog{TransferLog: m.TransferLog()}}
}

func (b *faultyBackend) TransferLog() ledger.TransferLog { return b.log }

func (l *faultyLog) run(f func() (ledger.Result, error)) (ledger.Result, error) {
	switch l.mode.Swap(faultNone) {
	case faultBefore:
		return ledger.Result{}, errInjected
	case faultAfter:
		if _, err := f(); err != nil {
			return ledger.Result{}, err
		}
		return ledger.Result{}, errInjected
	case faultSlow:
		<-l.ctx.Done()
		return ledger.Result{}, l.ctx.Err()
	case faultSlowAfter:
		<-l.ctx.Done()
		if _, err := f(); err != nil {
			return ledger.Result{}, err
		}
		return ledger.Result{}, l.ctx.Err()
	}
	return f()
}

func (l *faultyLog) Create(ctx context.Context, rec ledger.Record, ch ...ledger.Change) (ledger.Result, error) {
	return l.run(func() (ledger.Result, error) { return l.TransferLog.Create(ctx, rec, ch...) })
}

func (l *faultyLog) Fulfill(ctx context.Context, id, f string, ch ...ledger.Change) (ledger.Result, error) {
	l.ctx = ctx
	return l.run(func() (ledger.Result, error) { return l.TransferLog.Fulfill(context.WithoutCancel(ctx), id, f, ch...) })
}

func (l *faultyLog) Cancel(ctx context.Context, id string, ch ...ledger.Change) (ledger.Result, error) {
	return l.run(func() (ledger.Result, error) { return l.TransferLog.Cancel(ctx, id, ch...) })
}

// TestStoreFailures injects store failures before and after each kind of
// step and checks that the sum stays zero, that a failed step changes
// nothing or completes, and that a transfer recorded despite a failure
// still expires.
func TestStoreFailures(t *testing.T) {
	b := newFaultyBackend()
	k := newKit(t, b, 100, "alice", "bob")
	ctx := context.Background()
	alice, bob := k.views["alice"], k.views["bob"]

	// Prepare fails before: nothing happens.
	tr, f := k.conditional("bob", 10)
	b.log.mode.Store(faultBefore)
	if err := alice.SendTransfer(ctx, tr); !errors.Is(err, errInjected) {
		t.Fatalf("send with a failing store: %v", err)
	}
	k.want("alice", 100, 0, 0)
	k.want("bob", 100, 0, 0)
	if n := len(k.kinds("bob", tr.ID)); n != 0 {
		t.Fatalf("%d events for a transfer the store refused", n)
	}
	// The same transfer again works.
	if err := alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	k.want("alice", 90, 10, 0)

	// Fulfill fails before: still prepared; fails after: done, and a
	// retry is a no-op.
	b.log.mode.Store(faultBefore)
	if err := bob.FulfillCondition(ctx, tr.ID, f); !errors.Is(err, errInjected) {
		t.Fatalf("fulfill with a failing store: %v", err)
	}
	k.want("bob", 100, 0, 10)
	b.log.mode.Store(faultAfter)
	if err := bob.FulfillCondition(ctx, tr.ID, f); !errors.Is(err, errInjected) {
		t.Fatalf("fulfill with a store failing after: %v", err)
	}
	k.want("alice", 90, 0, 0)
	k.want("bob", 110, 0, 0)
	if err := bob.FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatalf("fulfilling again: %v", err)
	}

	// Reject fails before: still prepared, a retry works.
	tr2, _ := k.prepare("alice", "bob", 20)
	b.log.mode.Store(faultBefore)
	if err := bob.RejectIncomingTransfer(ctx, tr2.ID, ledger.Rejection{Code: "F99"}); !errors.Is(err, errInjected) {
		t.Fatalf("reject with a failing store: %v", err)
	}
	k.want("alice", 70, 20, 0)
	if err := bob.RejectIncomingTransfer(ctx, tr2.ID, ledger.Rejection{Code: "F99"}); err != nil {
		t.Fatal(err)
	}
	k.want("alice", 90, 0, 0)

	// Prepare recorded although the store said it failed: it expires.
	tr3, _ := k.conditional("bob", 30)
	b.log.mode.Store(faultAfter)
	if err := alice.SendTransfer(ctx, tr3); !errors.Is(err, errInjected) {
		t.Fatalf("send with a store failing after: %v", err)
	}
	k.want("alice", 60, 30, 0)
	k.want("bob", 110, 0, 30)
	k.clock.Advance(11 * time.Second)
	k.want("alice", 90, 0, 0)
	k.want("bob", 110, 0, 0)

	// The expiry's cancel fails: the transfer stays prepared, a
	// fulfillment after the expiry is still refused, and the expiry is
	// tried again.
	tr4, f4 := k.prepare("alice", "bob", 5)
	b.log.mode.Store(faultBefore)
	k.clock.Advance(10 * time.Second)
	k.want("alice", 85, 5, 0)
	if n := len(k.kinds("alice", tr4.ID)); n != 1 {
		t.Fatalf("%d events for alice after a failed expiry, want the prepare", n)
	}
	b.log.mode.Store(faultBefore)
	if err := bob.FulfillCondition(ctx, tr4.ID, f4); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
		t.Fatalf("fulfilling after the expiry: %v", err)
	}
	k.want("alice", 85, 5, 0)
	k.clock.Advance(time.Second)
	k.want("alice", 90, 0, 0)
	k.want("bob", 110, 0, 0)
	if got := k.kinds("alice", tr4.ID); len(got) != 2 || got[1] != ledger.EventOutgoingCancel {
		t.Fatalf("alice's events %v", got)
	}

	// Reject recorded although the store said it failed: the money is
	// back and nothing expires later.
	tr5, _ := k.prepare("alice", "bob", 7)
	b.log.mode.Store(faultAfter)
	if err := bob.RejectIncomingTransfer(ctx, tr5.ID, ledger.Rejection{Code: "F99"}); !errors.Is(err, errInjected) {
		t.Fatalf("reject with a store failing after: %v", err)
	}
	k.want("alice", 90, 0, 0)
	if err := bob.RejectIncomingTransfer(ctx, tr5.ID, ledger.Rejection{Code: "F99"}); err != nil {
		t.Fatalf("rejecting again: %v", err)
	}
	k.clock.Advance(time.Minute)
	k.want("alice", 90, 0, 0)
}

// TestFulfillmentWrittenTooLate: a fulfillment asked for in time whose
// write the store takes up only once the transfer has expired is refused
// (the transfer then expires); one the store wrote all the same stands.
func TestFulfillmentWrittenTooLate(t *testing.T) {
	b := newFaultyBackend()
	k := newKit(t, b, 100, "alice", "bob")
	ctx := context.Background()
	alice, bob := k.views["alice"], k.views["bob"]

	tr, f := k.conditional("bob", 10)
	tr.ExpiresAt = k.clock.Now().Add(50 * time.Millisecond)
	if err := alice.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	b.log.mode.Store(faultSlow)
	if err := bob.FulfillCondition(ctx, tr.ID, f); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
		t.Fatalf("fulfillment the store wrote too late: %v", err)
	}
	k.clock.Advance(time.Second)
	k.want("alice", 100, 0, 0)
	k.want("bob", 100, 0, 0)

	tr2, f2 := k.conditional("bob", 20)
	tr2.ExpiresAt = k.clock.Now().Add(50 * time.Millisecond)
	if err := alice.SendTransfer(ctx, tr2); err != nil {
		t.Fatal(err)
	}
	b.log.mode.Store(faultSlowAfter)
	if err := bob.FulfillCondition(ctx, tr2.ID, f2); err != nil {
		t.Fatalf("fulfillment the store wrote although the call gave up: %v", err)
	}
	if kinds := k.kinds("bob", tr2.ID); len(kinds) == 0 || kinds[len(kinds)-1] != ledger.EventIncomingFulfill {
		t.Fatalf("bob's events %v", kinds)
	}
	k.clock.Advance(time.Second)
	k.want("alice", 80, 0, 0)
	k.want("bob", 120, 0, 0)
}
