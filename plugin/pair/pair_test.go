package pair_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/kv"
	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

const prefix = "peer.NavKx.usd.9."

func options(clock ledger.Clock, limit ledger.Bound) pair.Options {
	return pair.Options{
		Prefix:        prefix,
		CurrencyCode:  "USD",
		CurrencyScale: 9,
		Clock:         clock,
		A:             pair.Side{Name: "alice", Backend: memory.New(), MaxBalance: limit, Connectors: []string{prefix + "bob"}},
		B:             pair.Side{Name: "bob", Backend: memory.New(), MaxBalance: limit},
	}
}

func harness() plugintest.Harness {
	return plugintest.Harness{
		Name: "pair",
		New: func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
			a, b, err := pair.New(options(cfg.Clock, cfg.Limit))
			if err != nil {
				tb.Fatal(err)
			}
			return a, b
		},
		ReceiverCreditsAtPrepare: true,
	}
}

func TestConformance(t *testing.T) {
	before := runtime.NumGoroutine()
	plugintest.Run(t, harness())
	noLeak(t, before)
}

// TestConformanceKV runs the suite with each end's state in a 2.x key-value
// store in files (backend/kv over a DirStore), a durable backend.
func TestConformanceKV(t *testing.T) {
	h := harness()
	h.Name = "pair on backend/kv"
	h.New = func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
		o := options(cfg.Clock, cfg.Limit)
		for _, side := range []*pair.Side{&o.A, &o.B} {
			store, err := kv.NewDirStore(tb.TempDir())
			if err != nil {
				tb.Fatal(err)
			}
			side.Backend = kv.FromStore(store)
		}
		a, b, err := pair.New(o)
		if err != nil {
			tb.Fatal(err)
		}
		return a, b
	}
	plugintest.Run(t, h)
}

// noLeak waits for the goroutine count to come back to what it was.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left over (had %d):\n%s", runtime.NumGoroutine()-before, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	shared := memory.New()
	cases := map[string]func(*pair.Options){
		"no prefix":        func(o *pair.Options) { o.Prefix = "" },
		"prefix without .": func(o *pair.Options) { o.Prefix = "peer.x" },
		"no currency":      func(o *pair.Options) { o.CurrencyCode = "" },
		"same names":       func(o *pair.Options) { o.B.Name = o.A.Name },
		"dotted name":      func(o *pair.Options) { o.A.Name = "al.ice" },
		"no backend":       func(o *pair.Options) { o.B.Backend = nil },
		"shared backend":   func(o *pair.Options) { o.A.Backend, o.B.Backend = shared, shared },
	}
	for name, change := range cases {
		o := options(nil, ledger.Bound{})
		change(&o)
		if _, _, err := pair.New(o); !errors.Is(err, pair.ErrBadOptions) {
			t.Errorf("%s: %v, want ErrBadOptions", name, err)
		}
	}
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	if a.Account() != prefix+"alice" || b.Account() != prefix+"bob" || a.Peer() != b || b.Peer() != a {
		t.Fatalf("accounts %q %q", a.Account(), b.Account())
	}
}

func TestInfoLimits(t *testing.T) {
	o := options(nil, ledger.Bound{})
	o.A.MaxBalance = ledger.Limit(ledger.Int128FromInt64(500))
	a, b, err := pair.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ai, bi := a.Info(), b.Info()
	if v, ok := ai.MaxBalance.Value(); !ok || v != ledger.Int128FromInt64(500) {
		t.Fatalf("alice maxBalance %s", ai.MaxBalance)
	}
	if _, ok := ai.MinBalance.Value(); ok {
		t.Fatalf("alice minBalance %s, want none (bob extends unlimited credit)", ai.MinBalance)
	}
	if v, ok := bi.MinBalance.Value(); !ok || v != ledger.Int128FromInt64(-500) {
		t.Fatalf("bob minBalance %s, want -500", bi.MinBalance)
	}
	if len(ai.Connectors) != 1 || ai.Connectors[0] != prefix+"bob" || len(bi.Connectors) != 0 {
		t.Fatalf("connectors %v, %v", ai.Connectors, bi.Connectors)
	}
	ai.Connectors[0] = "changed"
	if a.Info().Connectors[0] != prefix+"bob" {
		t.Fatal("Info shares its connectors slice with the caller")
	}

	ctx := context.Background()
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	var changes []ledger.Event
	unsub := b.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventInfoChange {
			changes = append(changes, ev)
		}
	})
	defer unsub()
	a.SetMaxBalance(ledger.Limit(ledger.Int128FromInt64(10)))
	if len(changes) != 1 {
		t.Fatalf("%d info_change events on the other end, want 1", len(changes))
	}
	if v, ok := changes[0].Info.MinBalance.Value(); !ok || v != ledger.Int128FromInt64(-10) {
		t.Fatalf("info_change carries minBalance %s, want -10", changes[0].Info.MinBalance)
	}
	// The new limit applies to the next transfer.
	f := ilp.Fulfillment{1}
	tr := ledger.Transfer{ID: "t-over", To: a.Account(), Amount: 11, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := b.SendTransfer(ctx, tr); !errors.Is(err, ledger.ErrMaximumExceeded) || ledger.ErrorName(err) != ledger.NameNotAccepted {
		t.Fatalf("transfer above the lowered limit: %v", err)
	}
	tr.ID, tr.Amount = "t-ok", 10
	if err := b.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
}

// TestRepairOnConnect builds the states an interrupted change can leave
// (the receiving end's record ahead of or behind the sending end's) and
// checks that connecting the receiving end puts them right.
func TestRepairOnConnect(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC))
	o := options(clock, ledger.Bound{})
	memA, memB := o.A.Backend.(*memory.Backend), o.B.Backend.(*memory.Backend)
	logA, logB := memA.TransferLog(), memB.TransferLog()
	credit := func(n uint64) ledger.Change { return ledger.Change{Balance: "", Amount: n} }
	f := ilp.Fulfillment{7}
	mk := func(id string, amount uint64) ledger.Transfer {
		return ledger.Transfer{ID: id, Ledger: prefix, From: prefix + "alice", To: prefix + "bob", Amount: amount,
			ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: clock.Now().Add(time.Minute)}
	}
	// orphan: bob recorded it, alice never did (stopped between the two
	// Creates). executed: alice recorded the fulfillment, bob did not.
	// cancelled: alice cancelled, bob did not. live: both prepared.
	for id, amt := range map[string]uint64{"orphan": 1, "executed": 10, "cancelled": 100, "live": 1000} {
		if _, err := logB.Create(ctx, ledger.Record{Transfer: mk(id, amt), Incoming: true}, credit(amt)); err != nil {
			t.Fatal(err)
		}
		if id != "orphan" {
			if _, err := logA.Create(ctx, ledger.Record{Transfer: mk(id, amt)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := logA.Fulfill(ctx, "executed", f.String(), ledger.Change{Amount: 10, Sub: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := logA.Cancel(ctx, "cancelled"); err != nil {
		t.Fatal(err)
	}

	a, b, err := pair.New(o)
	if err != nil {
		t.Fatal(err)
	}
	var events []ledger.Event
	b.Subscribe(func(ev ledger.Event) { events = append(events, ev) })
	if err := a.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Disconnect(ctx)
	defer b.Disconnect(ctx)

	bal, err := b.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := ledger.Int128FromInt64(10 + 1000); bal != want {
		t.Fatalf("bob's balance after repair %s, want %s (executed + live)", bal, want)
	}
	states := map[string]ledger.State{"orphan": ledger.StateCancelled, "executed": ledger.StateExecuted, "cancelled": ledger.StateCancelled, "live": ledger.StatePrepared}
	for id, want := range states {
		rec, err := logB.Get(ctx, id)
		if err != nil || rec.State != want {
			t.Fatalf("bob's %s: %v %v, want %s", id, rec.State, err, want)
		}
	}
	kinds := map[string]ledger.EventKind{}
	for _, ev := range events {
		if ev.Transfer.ID != "" {
			kinds[ev.Transfer.ID] = ev.Kind
		}
	}
	if kinds["executed"] != ledger.EventIncomingFulfill || kinds["cancelled"] != ledger.EventIncomingCancel || len(kinds) != 2 {
		t.Fatalf("repair events %v: want incoming_fulfill for executed and incoming_cancel for cancelled only", kinds)
	}
	// The live one still works, and still expires on alice's timer.
	clock.Advance(2 * time.Minute)
	if rec, _ := logB.Get(ctx, "live"); rec.State != ledger.StateCancelled {
		t.Fatalf("live transfer after its expiry: %s", rec.State)
	}
	if bal, _ := b.Balance(ctx); bal != ledger.Int128FromInt64(10) {
		t.Fatalf("bob's balance after the expiry %s, want 10", bal)
	}
}

// TestRestart stops both ends with a transfer prepared, opens new ends over
// the same stores, and checks that the transfer still expires (the timer is
// armed again on Connect) and that balances survived.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC))
	o := options(clock, ledger.Bound{})
	a, b, err := pair.New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := ilp.Fulfillment{3}
	base := ledger.Transfer{To: b.Account(), ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: clock.Now().Add(time.Minute)}
	done, pending := base, base
	done.ID, done.Amount = "done", 40
	pending.ID, pending.Amount = "pending", 2
	for _, tr := range []ledger.Transfer{done, pending} {
		if err := a.SendTransfer(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.FulfillCondition(ctx, "done", f); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := clock.Pending(); n != 0 {
		t.Fatalf("%d timers left armed after Disconnect", n)
	}

	o.A.Backend = o.A.Backend.(*memory.Backend).Reopen()
	o.B.Backend = o.B.Backend.(*memory.Backend).Reopen()
	a2, b2, err := pair.New(o)
	if err != nil {
		t.Fatal(err)
	}
	var cancels int
	a2.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventOutgoingCancel && ev.Transfer.ID == "pending" {
			cancels++
		}
	})
	for _, p := range []*pair.End{b2, a2} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	ab, _ := a2.Balance(ctx)
	bb, _ := b2.Balance(ctx)
	if ab != ledger.Int128FromInt64(-40) || bb != ledger.Int128FromInt64(42) {
		t.Fatalf("balances after restart %s, %s; want -40, 42", ab, bb)
	}
	clock.Advance(2 * time.Minute)
	if cancels != 1 {
		t.Fatalf("%d outgoing_cancel events for the pending transfer after restart, want 1", cancels)
	}
	bb, _ = b2.Balance(ctx)
	if bb != ledger.Int128FromInt64(40) {
		t.Fatalf("bob's balance after the expiry %s, want 40", bb)
	}
}

// TestDisconnectWaitsForCalls checks that Disconnect returns only once the
// calls in progress have left, and that a handler blocking forever makes
// Disconnect give up with its context.
func TestDisconnectWaitsForCalls(t *testing.T) {
	ctx := context.Background()
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	entered, release := make(chan struct{}), make(chan struct{})
	b.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingTransfer {
			close(entered)
			<-release
		}
	})
	sent := make(chan error, 1)
	go func() { sent <- a.SendTransfer(ctx, ledger.Transfer{ID: "slow", To: b.Account(), Amount: 1}) }()
	<-entered
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := b.Disconnect(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Disconnect with a handler stuck: %v", err)
	}
	if b.IsConnected() {
		t.Fatal("still connected after Disconnect gave up")
	}
	close(release)
	if err := <-sent; err != nil {
		t.Fatalf("the call in progress failed: %v", err)
	}
	if err := a.SendTransfer(ctx, ledger.Transfer{ID: "later", To: b.Account(), Amount: 1}); ledger.ErrorName(err) != ledger.NameUnreachable {
		t.Fatalf("sending to a disconnected end: %v", err)
	}
	if err := a.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestHandlerPanic checks that a panicking event handler neither breaks the
// call that emitted the event nor keeps other handlers from the event.
func TestHandlerPanic(t *testing.T) {
	ctx := context.Background()
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	b.Subscribe(func(ev ledger.Event) { panic("handler bug") })
	got := 0
	b.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingTransfer {
			got++
		}
	})
	if err := a.SendTransfer(ctx, ledger.Transfer{ID: "p", To: b.Account(), Amount: 5}); err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Fatalf("the second handler got %d events", got)
	}
	if bal, _ := b.Balance(ctx); bal != ledger.Int128FromInt64(5) {
		t.Fatalf("balance %s after a panicking handler, want 5", bal)
	}
}

// TestNestedCalls checks that a handler may call the plugin synchronously:
// bob fulfills from inside his incoming_prepare handler, and alice still
// sees her prepare before her fulfill.
func TestNestedCalls(t *testing.T) {
	ctx := context.Background()
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	f := ilp.Fulfillment{9}
	b.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingPrepare {
			if err := b.FulfillCondition(ctx, ev.Transfer.ID, f); err != nil {
				t.Errorf("nested fulfill: %v", err)
			}
		}
	})
	var kinds []ledger.EventKind
	a.Subscribe(func(ev ledger.Event) { kinds = append(kinds, ev.Kind) })
	tr := ledger.Transfer{ID: "nested", To: b.Account(), Amount: 3, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := a.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 2 || kinds[0] != ledger.EventOutgoingPrepare || kinds[1] != ledger.EventOutgoingFulfill {
		t.Fatalf("alice's events %v", kinds)
	}
}

// lateClock is a clock whose timers never fire, as when a timer is late
// under load: the time moves only by set.
type lateClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *lateClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lateClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *lateClock) AfterFunc(time.Duration, func()) ledger.Timer { return stoppedTimer{} }

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return true }

// TestFulfillAfterExpiryBeforeTimer checks that a fulfillment arriving after
// the expiry is refused even when the expiry timer has not run yet, and
// that the transfer is then cancelled on both ends.
func TestFulfillAfterExpiryBeforeTimer(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)
	clock := &lateClock{now: t0}
	a, b, err := pair.New(options(clock, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range []*pair.End{a, b} {
		p.Subscribe(func(ev ledger.Event) {
			if ev.Kind.Final() {
				kinds = append(kinds, ev.Kind.String())
			}
		})
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	f := ilp.Fulfillment{4}
	tr := ledger.Transfer{ID: "late", To: b.Account(), Amount: 8, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: t0.Add(time.Minute)}
	if err := a.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Minute)) // exactly at the expiry: too late
	if err := b.FulfillCondition(ctx, "late", f); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
		t.Fatalf("fulfilling at the expiry: %v, want ErrAlreadyRolledBack", err)
	}
	if len(kinds) != 2 || kinds[0] != "incoming_cancel" || kinds[1] != "outgoing_cancel" {
		t.Fatalf("final events %v, want incoming_cancel and outgoing_cancel", kinds)
	}
	ab, _ := a.Balance(ctx)
	bb, _ := b.Balance(ctx)
	if ab.Sign() != 0 || bb.Sign() != 0 {
		t.Fatalf("balances %s, %s after the expiry, want 0, 0", ab, bb)
	}
}

// TestSystemClockExpiryAndNoLeak runs expiries on the real clock, then
// disconnects with a transfer still pending and checks that no goroutine
// of the pair is left and the pending expiry does not fire while
// disconnected, but does after reconnecting.
func TestSystemClockExpiryAndNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	cancels := make(chan string, 10)
	a.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventOutgoingCancel {
			cancels <- ev.Transfer.ID
		}
	})
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := ilp.Fulfillment{5}
	send := func(id string, d time.Duration) {
		t.Helper()
		tr := ledger.Transfer{ID: id, To: b.Account(), Amount: 1, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(d)}
		if err := a.SendTransfer(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	send("soon", 30*time.Millisecond)
	send("later", 300*time.Millisecond)
	select {
	case id := <-cancels:
		if id != "soon" {
			t.Fatalf("%s expired first", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no expiry on the system clock")
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	noLeak(t, before)
	time.Sleep(400 * time.Millisecond)
	select {
	case id := <-cancels:
		t.Fatalf("%s expired while disconnected", id)
	default:
	}
	for _, p := range []*pair.End{b, a} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case id := <-cancels:
		if id != "later" {
			t.Fatalf("%s expired on reconnecting", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the overdue transfer did not expire on reconnecting")
	}
	if bal, _ := b.Balance(ctx); bal.Sign() != 0 {
		t.Fatalf("bob's balance %s after both expiries", bal)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	noLeak(t, before)
}

// TestSubAddress checks that an end accepts a transfer addressed under its
// account (a PSK address) as its own, records it with its account, and
// that other addresses are still refused.
func TestSubAddress(t *testing.T) {
	ctx := context.Background()
	a, b, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pair.End{a, b} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	var mu sync.Mutex
	var got []ledger.Event
	b.Subscribe(func(ev ledger.Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	})
	f := ilp.Fulfillment{7}
	cond := ilp.ConditionOf(f).String()
	psk := b.Account() + ".yWv2_rKYQs_5fGWI3JzMYg.0eVnxD3Vc8Lbnw2Jtar24UyfQmTjBzn3" // receiver id and token
	tr := ledger.Transfer{ID: "sub-1", To: psk, Amount: 5, ExecutionCondition: cond, ExpiresAt: time.Now().Add(time.Minute)}
	if err := a.SendTransfer(ctx, tr); err != nil {
		t.Fatalf("transfer to %s: %v", psk, err)
	}
	// A repeat of the same transfer, addressed to the account itself, is
	// the same transfer.
	tr2 := tr
	tr2.To = b.Account()
	if err := a.SendTransfer(ctx, tr2); err != nil {
		t.Fatalf("repeat addressed to the account: %v", err)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Kind != ledger.EventIncomingPrepare || got[0].Transfer.To != b.Account() {
		t.Fatalf("bob's events %+v, want one incoming_prepare to %s", got, b.Account())
	}
	mu.Unlock()
	if err := b.FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Balance(ctx); err != nil || v != ledger.Int128FromInt64(5) {
		t.Fatalf("bob's balance %s, %v, want 5", v, err)
	}
	if v, err := a.Balance(ctx); err != nil || v != ledger.Int128FromInt64(-5) {
		t.Fatalf("alice's balance %s, %v, want -5", v, err)
	}

	for _, c := range []struct {
		to   string
		want string
	}{
		{a.Account() + ".x", ledger.NameAccountNotFound},       // under the sender's own account
		{b.Account() + "by.x", ledger.NameAccountNotFound},     // another account that starts with bob's name
		{b.Account() + ".", ledger.NameInvalidFields},          // not an address
		{b.Account() + ".a..b", ledger.NameInvalidFields},      // empty segment
		{"example.other." + "bob.x", ledger.NameInvalidFields}, // another ledger
	} {
		tr := ledger.Transfer{ID: "sub-bad", To: c.to, Amount: 1, ExecutionCondition: cond, ExpiresAt: time.Now().Add(time.Minute)}
		if err := a.SendTransfer(ctx, tr); ledger.ErrorName(err) != c.want {
			t.Errorf("transfer to %q: %v, want %s", c.to, err, c.want)
		}
	}
	if v, err := b.Balance(ctx); err != nil || v != ledger.Int128FromInt64(5) {
		t.Fatalf("bob's balance %s, %v after refusals, want 5", v, err)
	}
}
