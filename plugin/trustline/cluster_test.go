package trustline_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// eventLog collects a view's events.
type eventLog struct {
	mu  sync.Mutex
	evs []ledger.Event
}

func (l *eventLog) add(ev ledger.Event) { l.mu.Lock(); l.evs = append(l.evs, ev); l.mu.Unlock() }

func (l *eventLog) find(kind ledger.EventKind, id string) (ledger.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.evs {
		if ev.Kind == kind && ev.Transfer.ID == id {
			return ev, true
		}
	}
	return ledger.Event{}, false
}

// TestTwoServersOneBackend runs two servers, as two processes of one kit
// would, on one SQLite file, relaying their events to each other: a
// user's view on the second server hears of a transfer the first
// committed, fulfils it there, and the first's sender hears of that; a
// transfer prepared on the first, which then stops, expires on the second,
// which keeps the expiries.
func TestTwoServersOneBackend(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kit.db")
	clock := plugintest.NewClock(t0)
	var to1, to2 atomic.Pointer[trustline.Server]
	relay := func(to *atomic.Pointer[trustline.Server]) func(string, ledger.Event) {
		return func(account string, ev ledger.Event) {
			if s := to.Load(); s != nil {
				s.Deliver(account, ev)
			}
		}
	}
	newOne := func(to *atomic.Pointer[trustline.Server]) *trustline.Server {
		cfg := trustline.Config{Prefix: testPrefix, CurrencyCode: "USD", CurrencyScale: 2,
			Backend: sqliteBackendAt(t, path), Clock: clock, Relay: relay(to)}
		s, err := trustline.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"alice", "bob"} {
			if err := s.CreateAccount(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := newOne(&to2)
	s2 := newOne(&to1)
	to1.Store(s1)
	to2.Store(s2)
	defer s2.Close(ctx)
	view := func(s *trustline.Server, name string, log *eventLog) ledger.Plugin {
		p, err := s.Plugin(name)
		if err != nil {
			t.Fatal(err)
		}
		if log != nil {
			p.Subscribe(log.add)
		}
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var aliceLog, bobLog eventLog
	issuer1 := view(s1, s1.Issuer(), nil)
	alice1 := view(s1, "alice", &aliceLog)
	bob2 := view(s2, "bob", &bobLog)
	if err := issuer1.SendTransfer(ctx, ledger.Transfer{ID: nextID(), To: testPrefix + "alice", Amount: 100}); err != nil {
		t.Fatal(err)
	}

	k := &kit{t: t, clock: clock}
	tr, f := k.conditional("bob", 30)
	if err := alice1.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "bob's view on the other server hears the prepare", func() bool {
		ev, ok := bobLog.find(ledger.EventIncomingPrepare, tr.ID)
		return ok && ev.Remote
	})
	if err := bob2.FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatalf("fulfil on the other server: %v", err)
	}
	waitUntil(t, "alice's view hears the fulfillment", func() bool {
		ev, ok := aliceLog.find(ledger.EventOutgoingFulfill, tr.ID)
		return ok && ev.Remote && ev.Fulfillment == f
	})
	for _, s := range []*trustline.Server{s1, s2} {
		if info, err := s.AccountInfo(ctx, "alice"); err != nil || info.Held.Sign() != 0 || info.Balance != ledger.Int128FromInt64(70) {
			t.Fatalf("alice after the payment: %+v, %v", info, err)
		}
	}

	// The first server prepares a transfer and stops, as a killed process
	// would (its timers gone); the second keeps the expiries.
	if err := s2.KeepExpiries(ctx, true); err != nil {
		t.Fatal(err)
	}
	tr2, _ := k.conditional("bob", 40)
	if err := alice1.SendTransfer(ctx, tr2); err != nil {
		t.Fatal(err)
	}
	to1.Store(nil)
	if err := s1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Second)
	waitUntil(t, "the other server expires the orphaned transfer", func() bool {
		_, ok := bobLog.find(ledger.EventIncomingCancel, tr2.ID)
		return ok
	})
	info, err := s2.AccountInfo(ctx, "alice")
	if err != nil || info.Balance != ledger.Int128FromInt64(70) || info.Pending.Sign() != 0 {
		t.Fatalf("alice after the expiry: %+v, %v", info, err)
	}
	checkTotals(t, s2)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
