package trustline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

var t0 = time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)

// kit is a test server with connected views of some accounts and a log of
// the admin view's events.
type kit struct {
	t     *testing.T
	s     *trustline.Server
	clock *plugintest.Clock
	views map[string]ledger.Plugin

	mu     sync.Mutex
	events []adminEvent
}

type adminEvent struct {
	account string
	ev      ledger.Event
}

// newKit returns a server on backend with the issuer and users (default
// limits), each with a connected view, and the issuer funding each user
// with fund.
func newKit(t *testing.T, backend ledger.Backend, fund uint64, users ...string) *kit {
	t.Helper()
	return newKitWith(t, backend, nil, fund, users...)
}

func newKitWith(t *testing.T, backend ledger.Backend, mod func(*trustline.Config), fund uint64, users ...string) *kit {
	t.Helper()
	k := &kit{t: t, clock: plugintest.NewClock(t0), views: make(map[string]ledger.Plugin)}
	k.s = newServer(t, backend, k.clock, mod)
	k.s.Subscribe(func(account string, ev ledger.Event) {
		k.mu.Lock()
		k.events = append(k.events, adminEvent{account, ev})
		k.mu.Unlock()
	})
	ctx := context.Background()
	for _, u := range users {
		if err := k.s.CreateAccount(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range append([]string{k.s.Issuer()}, users...) {
		p, err := k.s.Plugin(u)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Disconnect(context.Background()) })
		k.views[u] = p
	}
	for _, u := range users {
		if fund > 0 {
			k.pay(k.s.Issuer(), u, fund)
		}
	}
	return k
}

func (k *kit) addr(name string) string { return testPrefix + name }

var seq int

func nextID() string {
	seq++
	return fmt.Sprintf("id-%d-%d", seq, rand.Uint32())
}

// pay sends an unconditional transfer.
func (k *kit) pay(from, to string, n uint64) {
	k.t.Helper()
	tr := ledger.Transfer{ID: nextID(), To: k.addr(to), Amount: n}
	if err := k.views[from].SendTransfer(context.Background(), tr); err != nil {
		k.t.Fatalf("pay %s -> %s %d: %v", from, to, n, err)
	}
	checkTotals(k.t, k.s)
}

// conditional returns a conditional transfer and its fulfillment.
func (k *kit) conditional(to string, n uint64) (ledger.Transfer, ilp.Fulfillment) {
	f := ilp.Fulfillment{byte(rand.Uint32()), byte(seq), 7}
	return ledger.Transfer{ID: nextID(), To: k.addr(to), Amount: n, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: k.clock.Now().Add(10 * time.Second)}, f
}

// prepare sends a conditional transfer and fails on an error.
func (k *kit) prepare(from, to string, n uint64) (ledger.Transfer, ilp.Fulfillment) {
	k.t.Helper()
	tr, f := k.conditional(to, n)
	if err := k.views[from].SendTransfer(context.Background(), tr); err != nil {
		k.t.Fatalf("prepare %s -> %s %d: %v", from, to, n, err)
	}
	checkTotals(k.t, k.s)
	return tr, f
}

// balances checks the balance, held and pending amounts of account name.
func (k *kit) want(name string, balance, held, pending int64) {
	k.t.Helper()
	info, err := k.s.AccountInfo(context.Background(), name)
	if err != nil {
		k.t.Fatal(err)
	}
	if info.Balance != ledger.Int128FromInt64(balance) || info.Held != ledger.Int128FromInt64(held) || info.Pending != ledger.Int128FromInt64(pending) {
		k.t.Fatalf("%s: balance %s held %s pending %s; want %d %d %d", name, info.Balance, info.Held, info.Pending, balance, held, pending)
	}
	if p := k.views[name]; p != nil {
		b, err := p.Balance(context.Background())
		if err != nil || b != info.Balance {
			k.t.Fatalf("%s: view balance %s, %v; AccountInfo says %s", name, b, err, info.Balance)
		}
	}
	checkTotals(k.t, k.s)
}

// kinds returns the admin events of account name about transfer id.
func (k *kit) kinds(name, id string) []ledger.EventKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []ledger.EventKind
	for _, e := range k.events {
		if e.account == name && e.ev.Transfer.ID == id {
			out = append(out, e.ev.Kind)
		}
	}
	return out
}

func wantName(t *testing.T, err error, what string, names ...string) {
	t.Helper()
	got := ledger.ErrorName(err)
	for _, n := range names {
		if got == n {
			return
		}
	}
	t.Fatalf("%s: %v (%s), want %v", what, err, got, names)
}

func TestLocalPaymentAndIssuer(t *testing.T) {
	k := newKit(t, memory.New(), 0, "alice", "bob")
	ctx := context.Background()
	iss := k.s.Issuer()
	// The issuer can go negative; a user cannot by default.
	k.pay(iss, "alice", 1000)
	k.want(iss, -1000, 0, 0)
	k.want("alice", 1000, 0, 0)
	tr, _ := k.conditional("bob", 1001)
	wantName(t, k.views["alice"].SendTransfer(ctx, tr), "overdraft", ledger.NameInsufficientBalance)
	k.want("alice", 1000, 0, 0)
	k.want("bob", 0, 0, 0)
	over := ledger.Transfer{ID: nextID(), To: k.addr("alice"), Amount: 1}
	wantName(t, k.views["bob"].SendTransfer(ctx, over), "bob without money", ledger.NameInsufficientBalance)

	// Held at prepare, credited at fulfill, locally.
	tr, f := k.prepare("alice", "bob", 300)
	k.want("alice", 700, 300, 0)
	k.want("bob", 0, 0, 300)
	if err := k.views["bob"].FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatal(err)
	}
	k.want("alice", 700, 0, 0)
	k.want("bob", 300, 0, 0)
	if got := k.kinds("alice", tr.ID); len(got) != 2 || got[0] != ledger.EventOutgoingPrepare || got[1] != ledger.EventOutgoingFulfill {
		t.Fatalf("alice's admin events %v", got)
	}
	if got := k.kinds("bob", tr.ID); len(got) != 2 || got[0] != ledger.EventIncomingPrepare || got[1] != ledger.EventIncomingFulfill {
		t.Fatalf("bob's admin events %v", got)
	}

	// Rejected: the amount returns.
	tr, _ = k.prepare("alice", "bob", 200)
	if err := k.views["bob"].RejectIncomingTransfer(ctx, tr.ID, ledger.Rejection{Code: "F99"}); err != nil {
		t.Fatal(err)
	}
	k.want("alice", 700, 0, 0)
	k.want("bob", 300, 0, 0)

	// Paying to the issuer (a user cashing out) takes money out.
	k.pay("bob", iss, 300)
	k.want(iss, -700, 0, 0)
	k.want("bob", 0, 0, 0)

	// A PSK address under bob's account is bob's; the record says bob.
	tr, f = k.conditional("bob", 5)
	tr.To = k.addr("bob") + ".yWv2_rKYQs.token"
	if err := k.views["alice"].SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	tr2 := tr
	tr2.To = k.addr("bob")
	if err := k.views["alice"].SendTransfer(ctx, tr2); err != nil {
		t.Fatalf("repeat addressed to the account: %v", err)
	}
	if err := k.views["bob"].FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatal(err)
	}
	k.want("bob", 5, 0, 0)
	k.mu.Lock()
	for _, e := range k.events {
		if e.ev.Transfer.ID == tr.ID && e.ev.Transfer.To != k.addr("bob") {
			t.Errorf("%s event with To %q", e.ev.Kind, e.ev.Transfer.To)
		}
	}
	k.mu.Unlock()
}

func TestDestinations(t *testing.T) {
	k := newKit(t, memory.New(), 100, "alice", "bob")
	ctx := context.Background()
	for _, c := range []struct {
		to   string
		want string
	}{
		{testPrefix + "nobody", ledger.NameAccountNotFound},
		{testPrefix + "nobody.sub", ledger.NameAccountNotFound},
		{"g.elsewhere.bob", ledger.NameAccountNotFound},
		{testPrefix + "bo b", ledger.NameInvalidFields},
		{testPrefix + "alice", ledger.NameInvalidFields}, // to itself
		{"", ledger.NameInvalidFields},
	} {
		tr, _ := k.conditional("bob", 1)
		tr.To = c.to
		wantName(t, k.views["alice"].SendTransfer(ctx, tr), "to "+c.to, c.want)
	}
	k.want("alice", 100, 0, 0)
	if _, err := k.s.Plugin("nobody"); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Fatalf("Plugin of an unknown account: %v", err)
	}
}

func TestAccountsAdmin(t *testing.T) {
	k := newKit(t, memory.New(), 0, "alice")
	ctx := context.Background()
	if err := k.s.CreateAccount(ctx, "alice", nil); !errors.Is(err, trustline.ErrAccountExists) {
		t.Fatalf("second alice: %v", err)
	}
	if err := k.s.CreateAccount(ctx, k.s.Issuer(), nil); !errors.Is(err, trustline.ErrAccountExists) {
		t.Fatalf("second issuer: %v", err)
	}
	for _, bad := range []string{"", "a.b", "a:in", "é", "a b"} {
		if err := k.s.CreateAccount(ctx, bad, nil); !errors.Is(err, trustline.ErrInvalidAccountName) {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
	bad := trustline.Limits{Minimum: ledger.Limit(ledger.Int128FromInt64(5)), Maximum: ledger.Limit(ledger.Int128FromInt64(1))}
	if err := k.s.CreateAccount(ctx, "carol", &bad); !errors.Is(err, trustline.ErrInvalidLimits) {
		t.Fatalf("bad limits: %v", err)
	}
	info := k.views["alice"].Info()
	if min, ok := info.MinBalance.Value(); !ok || min.Sign() != 0 || info.MaxBalance != ledger.Unlimited() {
		t.Fatalf("alice's info limits %s %s, want 0 and unlimited", info.MinBalance, info.MaxBalance)
	}
	if len(info.Connectors) != 1 || info.Connectors[0] != testPrefix+trustline.DefaultIssuer || info.Prefix != testPrefix || info.CurrencyCode != "USD" || info.CurrencyScale != 2 {
		t.Fatalf("info %+v", info)
	}
	if iinfo := k.views[k.s.Issuer()].Info(); iinfo.MinBalance != ledger.Unlimited() {
		t.Fatalf("issuer's minimum %s", iinfo.MinBalance)
	}
	changes := make(chan ledger.LedgerInfo, 1)
	k.views["alice"].Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventInfoChange {
			changes <- ev.Info
		}
	})
	l := trustline.Limits{Minimum: ledger.Limit(ledger.Int128FromInt64(-50)), Maximum: ledger.Limit(ledger.Int128FromInt64(70))}
	if err := k.s.SetLimits(ctx, "alice", l); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-changes:
		if got.MinBalance != l.Minimum || got.MaxBalance != l.Maximum {
			t.Fatalf("info_change carries %s %s", got.MinBalance, got.MaxBalance)
		}
	default:
		t.Fatal("no info_change event")
	}
	// The new minimum lets alice owe 50.
	k.pay("alice", k.s.Issuer(), 50)
	tr := ledger.Transfer{ID: nextID(), To: k.addr(k.s.Issuer()), Amount: 1}
	wantName(t, k.views["alice"].SendTransfer(ctx, tr), "beyond -50", ledger.NameInsufficientBalance)
	list, err := k.s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "alice" || list[1].Name != k.s.Issuer() || list[0].Address != testPrefix+"alice" ||
		list[0].Balance != ledger.Int128FromInt64(-50) || list[0].Limits != l {
		t.Fatalf("accounts %+v", list)
	}
}

func TestMaximumCountsPending(t *testing.T) {
	k := newKit(t, memory.New(), 0, "alice", "bob")
	k.pay(k.s.Issuer(), "alice", 1000)
	ctx := context.Background()
	max := trustline.Limits{Minimum: ledger.Limit(ledger.Int128{}), Maximum: ledger.Limit(ledger.Int128FromInt64(500))}
	if err := k.s.SetLimits(ctx, "bob", max); err != nil {
		t.Fatal(err)
	}
	t1, _ := k.prepare("alice", "bob", 300)
	over, _ := k.conditional("bob", 201)
	wantName(t, k.views["alice"].SendTransfer(ctx, over), "pending 300 + 201", ledger.NameNotAccepted)
	k.want("alice", 700, 300, 0)
	k.want("bob", 0, 0, 300)
	t2, f2 := k.prepare("alice", "bob", 200) // exactly at the maximum
	if err := k.views["bob"].RejectIncomingTransfer(ctx, t1.ID, ledger.Rejection{Code: "F99"}); err != nil {
		t.Fatal(err)
	}
	if err := k.views["bob"].FulfillCondition(ctx, t2.ID, f2); err != nil {
		t.Fatal(err)
	}
	k.want("bob", 200, 0, 0)
	wantName(t, k.views["alice"].SendTransfer(ctx, ledger.Transfer{ID: nextID(), To: k.addr("bob"), Amount: 301}), "200 + 301 unconditional", ledger.NameNotAccepted)
	k.pay("alice", "bob", 300)
	k.want("bob", 500, 0, 0)
	k.want("alice", 500, 0, 0)
}

func TestDisabled(t *testing.T) {
	k := newKit(t, memory.New(), 100, "alice", "bob")
	ctx := context.Background()
	pending, f := k.prepare("alice", "bob", 10)
	if err := k.s.SetDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	tr, _ := k.conditional("bob", 1)
	wantName(t, k.views["alice"].SendTransfer(ctx, tr), "to a disabled account", ledger.NameNotAccepted)
	tr, _ = k.conditional("alice", 1)
	wantName(t, k.views["bob"].SendTransfer(ctx, tr), "from a disabled account", ledger.NameNotAccepted)
	_, err := k.views["alice"].SendRequest(ctx, ledger.Message{To: k.addr("bob"), Custom: []byte(`{}`)})
	wantName(t, err, "request to a disabled account", ledger.NameNotAccepted)
	if info, _ := k.s.AccountInfo(ctx, "bob"); !info.Disabled {
		t.Fatal("AccountInfo does not say disabled")
	}
	// A pending transfer still resolves.
	if err := k.views["bob"].FulfillCondition(ctx, pending.ID, f); err != nil {
		t.Fatalf("fulfilling while disabled: %v", err)
	}
	k.want("bob", 110, 0, 0)
	if err := k.s.SetDisabled(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	k.prepare("alice", "bob", 1)
}

func TestMaxHoldTime(t *testing.T) {
	k := newKitWith(t, memory.New(), func(c *trustline.Config) { c.MaxHoldTime = 30 * time.Second }, 100, "alice", "bob")
	ctx := context.Background()
	tr, _ := k.conditional("bob", 1)
	tr.ExpiresAt = k.clock.Now().Add(31 * time.Second)
	wantName(t, k.views["alice"].SendTransfer(ctx, tr), "hold too long", ledger.NameNotAccepted)
	tr.ExpiresAt = k.clock.Now().Add(30 * time.Second)
	if err := k.views["alice"].SendTransfer(ctx, tr); err != nil {
		t.Fatalf("at the maximum hold time: %v", err)
	}
	k.want("alice", 99, 1, 0)
}

func TestWrongAccount(t *testing.T) {
	k := newKit(t, memory.New(), 100, "alice", "bob", "carol")
	ctx := context.Background()
	tr, f := k.prepare("alice", "bob", 40)
	check := func() {
		t.Helper()
		k.want("alice", 60, 40, 0)
		k.want("bob", 100, 0, 40)
		k.want("carol", 100, 0, 0)
	}
	wantName(t, k.views["carol"].FulfillCondition(ctx, tr.ID, f), "carol fulfills", ledger.NameTransferNotFound)
	wantName(t, k.views["carol"].RejectIncomingTransfer(ctx, tr.ID, ledger.Rejection{Code: "F99"}), "carol rejects", ledger.NameTransferNotFound)
	wantName(t, k.views["alice"].FulfillCondition(ctx, tr.ID, f), "the sender fulfills", ledger.NameNotAccepted)
	wantName(t, k.views["alice"].RejectIncomingTransfer(ctx, tr.ID, ledger.Rejection{Code: "F99"}), "the sender rejects", ledger.NameNotAccepted)
	_, err := k.views["carol"].Fulfillment(ctx, tr.ID)
	wantName(t, err, "carol's Fulfillment", ledger.NameTransferNotFound)
	check()
	// Sending from another account.
	other, _ := k.conditional("carol", 5)
	other.From = k.addr("bob")
	wantName(t, k.views["alice"].SendTransfer(ctx, other), "from bob through alice's view", ledger.NameInvalidFields)
	_, err = k.views["alice"].SendRequest(ctx, ledger.Message{From: k.addr("bob"), To: k.addr("carol"), Custom: []byte(`{}`)})
	wantName(t, err, "request from bob through alice's view", ledger.NameInvalidFields)
	check()
	if err := k.views["bob"].FulfillCondition(ctx, tr.ID, f); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"alice", "bob"} {
		if got, err := k.views[p].Fulfillment(ctx, tr.ID); err != nil || got != f {
			t.Fatalf("%s's Fulfillment: %v", p, err)
		}
	}
	_, err = k.views["carol"].Fulfillment(ctx, tr.ID)
	wantName(t, err, "carol's Fulfillment after", ledger.NameTransferNotFound)
}

func TestViewsAndAdmin(t *testing.T) {
	k := newKit(t, memory.New(), 100, "alice", "bob")
	ctx := context.Background()
	// A second view of bob gets bob's events too; a disconnected one not.
	second, err := k.s.Plugin("bob")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []ledger.EventKind
	second.Subscribe(func(ev ledger.Event) {
		mu.Lock()
		got = append(got, ev.Kind)
		mu.Unlock()
	})
	tr, _ := k.prepare("alice", "bob", 1)
	if err := second.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	tr2, f2 := k.prepare("alice", "bob", 2)
	if err := second.FulfillCondition(ctx, tr2.ID, f2); err != nil {
		t.Fatalf("fulfilling through the second view: %v", err)
	}
	if err := second.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	k.prepare("alice", "bob", 3)
	mu.Lock()
	want := []ledger.EventKind{ledger.EventConnect, ledger.EventIncomingPrepare, ledger.EventIncomingFulfill, ledger.EventDisconnect}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second view's events %v, want %v", got, want)
	}
	mu.Unlock()
	// The admin view saw every account's events, connected or not.
	if got := k.kinds("bob", tr.ID); len(got) != 1 || got[0] != ledger.EventIncomingPrepare {
		t.Fatalf("admin events of bob for %s: %v", tr.ID, got)
	}
	if got := k.kinds(k.s.Issuer(), ""); len(got) != 0 {
		t.Fatalf("admin saw connection events %v", got)
	}

	// Requests go to the view with a handler.
	_, err = k.views["alice"].SendRequest(ctx, ledger.Message{To: k.addr("bob"), Custom: []byte(`{"q":1}`)})
	wantName(t, err, "no handler", ledger.NameNotAccepted, ledger.NameNoSubscriptions)
	third, _ := k.s.Plugin("bob")
	if err := third.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer third.Disconnect(ctx)
	third.RegisterRequestHandler(func(ctx context.Context, m ledger.Message) (ledger.Message, error) {
		return ledger.Message{Custom: []byte(`{"a":2}`)}, nil
	})
	resp, err := k.views["alice"].SendRequest(ctx, ledger.Message{To: k.addr("bob") + ".sub", Custom: []byte(`{"q":1}`)})
	if err != nil || string(resp.Custom) != `{"a":2}` || resp.From != k.addr("bob") || resp.To != k.addr("alice") {
		t.Fatalf("request: %+v, %v", resp, err)
	}
	third.Disconnect(ctx)
	_, err = k.views["alice"].SendRequest(ctx, ledger.Message{To: k.addr("carol"), Custom: []byte(`{"q":1}`)})
	wantName(t, err, "unknown account", ledger.NameAccountNotFound)
	// Before Connect of the server, a view cannot connect.
	s2, err := trustline.New(trustline.Config{Prefix: testPrefix, CurrencyCode: "USD", Backend: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s2.Plugin(s2.Issuer())
	if err := p.Connect(ctx); !errors.Is(err, ledger.ErrNotConnected) {
		t.Fatalf("view Connect before the server's: %v", err)
	}
}

// lateClock is a clock whose timers never fire.
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

func TestFulfillAtExpiryBeforeTimer(t *testing.T) {
	clock := &lateClock{now: t0}
	s := newServer(t, memory.New(), clock, nil)
	ctx := context.Background()
	var kinds []string
	var mu sync.Mutex
	s.Subscribe(func(account string, ev ledger.Event) {
		mu.Lock()
		kinds = append(kinds, account+":"+ev.Kind.String())
		mu.Unlock()
	})
	if err := s.CreateAccount(ctx, "bob", nil); err != nil {
		t.Fatal(err)
	}
	iss, _ := s.Plugin(s.Issuer())
	bob, _ := s.Plugin("bob")
	for _, p := range []ledger.Plugin{iss, bob} {
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := ilp.Fulfillment{9}
	tr := ledger.Transfer{ID: "late", To: bob.Account(), Amount: 8, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: t0.Add(time.Minute)}
	if err := iss.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Minute))
	if err := bob.FulfillCondition(ctx, "late", f); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
		t.Fatalf("fulfilling at the expiry: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "[connector:outgoing_prepare bob:incoming_prepare bob:incoming_cancel connector:outgoing_cancel]"
	if fmt.Sprint(kinds) != want {
		t.Fatalf("events %v, want %s", kinds, want)
	}
}

// TestRestartRearmsExpiry prepares transfers, closes the server, starts a
// new one on the same backend and checks that the transfers expire on
// time (one already due expires at Connect) and the money returns.
func TestRestartRearmsExpiry(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(t *testing.T) (first, second ledger.Backend)
	}{
		{"memory", func(*testing.T) (ledger.Backend, ledger.Backend) {
			b := memory.New()
			return b, b.Reopen()
		}},
		{"sqlite", func(t *testing.T) (ledger.Backend, ledger.Backend) {
			path := t.TempDir() + "/kit.db"
			return sqliteBackendAt(t, path), sqliteBackendAt(t, path)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			first, second := c.open(t)
			ctx := context.Background()
			clock := plugintest.NewClock(t0)
			s1, err := trustline.New(trustline.Config{Prefix: testPrefix, CurrencyCode: "USD", Backend: first, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			if err := s1.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"alice", "bob"} {
				if err := s1.CreateAccount(ctx, u, nil); err != nil {
					t.Fatal(err)
				}
			}
			iss, _ := s1.Plugin(s1.Issuer())
			alice, _ := s1.Plugin("alice")
			iss.Connect(ctx)
			alice.Connect(ctx)
			if err := iss.SendTransfer(ctx, ledger.Transfer{ID: "fund", To: alice.Account(), Amount: 100}); err != nil {
				t.Fatal(err)
			}
			f := ilp.Fulfillment{1}
			cond := ilp.ConditionOf(f).String()
			for i, d := range []time.Duration{5 * time.Second, 20 * time.Second} {
				tr := ledger.Transfer{ID: fmt.Sprintf("t%d", i), To: testPrefix + "bob", Amount: 10, ExecutionCondition: cond, ExpiresAt: t0.Add(d)}
				if err := alice.SendTransfer(ctx, tr); err != nil {
					t.Fatal(err)
				}
			}
			checkTotals(t, s1)
			if err := s1.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if alice.IsConnected() {
				t.Fatal("a view is still connected after Close")
			}
			clock.Advance(10 * time.Second) // t0 is due while no server runs
			if p := clock.Pending(); p != 0 {
				t.Fatalf("%d timers still armed after Close", p)
			}

			s2 := newServer(t, second, clock, nil)
			var mu sync.Mutex
			cancelled := map[string]string{}
			s2.Subscribe(func(account string, ev ledger.Event) {
				if ev.Kind == ledger.EventOutgoingCancel || ev.Kind == ledger.EventIncomingCancel {
					mu.Lock()
					cancelled[ev.Transfer.ID+"/"+account] = ev.Rejection.Code
					mu.Unlock()
				}
			})
			for _, u := range []string{"alice", "bob"} {
				if err := s2.CreateAccount(ctx, u, nil); err != nil {
					t.Fatal(err)
				}
			}
			info, err := s2.AccountInfo(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			// t0 expired at Connect; t1 is still held.
			if info.Balance != ledger.Int128FromInt64(90) {
				t.Fatalf("alice's balance %s after the restart, want 90 (t0 returned, t1 held)", info.Balance)
			}
			if info.Held != ledger.Int128FromInt64(10) {
				t.Fatalf("alice's held %s, want 10", info.Held)
			}
			checkTotals(t, s2)
			clock.Advance(9 * time.Second) // 19s: t1 not due yet
			mu.Lock()
			if _, ok := cancelled["t1/alice"]; ok {
				t.Fatal("t1 expired early")
			}
			mu.Unlock()
			clock.Advance(time.Second)
			mu.Lock()
			if cancelled["t1/alice"] != ilp.CodeTransferTimedOut || cancelled["t1/bob"] != ilp.CodeTransferTimedOut {
				t.Fatalf("cancel events %v", cancelled)
			}
			mu.Unlock()
			info, _ = s2.AccountInfo(ctx, "alice")
			if info.Balance != ledger.Int128FromInt64(100) || info.Held.Sign() != 0 {
				t.Fatalf("alice after both expiries: %+v", info)
			}
		})
	}
}

// TestConcurrentPayments has many goroutines paying each other with every
// outcome; the sum stays zero and every balance is what the outcomes say.
func TestConcurrentPayments(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testConcurrentPayments(t, memory.New(), 200) })
	t.Run("sqlite", func(t *testing.T) { testConcurrentPayments(t, sqliteBackend(t), 40) })
}

func testConcurrentPayments(t *testing.T, backend ledger.Backend, perWorker int) {
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	k := newKit(t, backend, 10000, users...)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var expiring int
	for w := range 12 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWorker {
				from, to := users[r.IntN(len(users))], users[r.IntN(len(users))]
				if from == to {
					continue
				}
				f := ilp.Fulfillment{byte(w), byte(i), byte(i >> 8)}
				tr := ledger.Transfer{ID: fmt.Sprintf("w%d-%d", w, i), To: testPrefix + to, Amount: uint64(1 + r.IntN(50)),
					ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: t0.Add(time.Minute)}
				err := k.views[from].SendTransfer(ctx, tr)
				if err != nil {
					if ledger.ErrorName(err) != ledger.NameInsufficientBalance {
						t.Errorf("send: %v", err)
					}
					continue
				}
				switch r.IntN(4) {
				case 0, 1:
					err = k.views[to].FulfillCondition(ctx, tr.ID, f)
				case 2:
					err = k.views[to].RejectIncomingTransfer(ctx, tr.ID, ledger.Rejection{Code: "F99"})
				case 3:
					mu.Lock()
					expiring++
					mu.Unlock()
				}
				if err != nil {
					t.Errorf("resolve: %v", err)
				}
			}
		})
	}
	wg.Wait()
	checkTotals(t, k.s)
	k.clock.Advance(2 * time.Minute)
	checkTotals(t, k.s)
	list, err := k.s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Held.Sign() != 0 || a.Pending.Sign() != 0 {
			t.Fatalf("%s still has held %s pending %s after every expiry", a.Name, a.Held, a.Pending)
		}
		if a.Name != k.s.Issuer() && a.Balance.Sign() < 0 {
			t.Fatalf("%s went below its minimum: %s", a.Name, a.Balance)
		}
	}
	t.Logf("%d transfers left to expire", expiring)
}

// TestPreparedIncoming checks the list a reconnecting client gets: the
// transfers still prepared to its account, without the sender's note.
func TestPreparedIncoming(t *testing.T) {
	k := newKit(t, memory.New(), 100, "alice", "bob")
	ctx := context.Background()
	lister, ok := k.views["bob"].(interface {
		PreparedIncoming(context.Context) ([]ledger.Transfer, error)
	})
	if !ok {
		t.Fatal("a view does not list its prepared incoming transfers")
	}
	if err := k.views["bob"].Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	// Accepted while bob is away.
	later, _ := k.conditional("bob", 2)
	later.ExpiresAt = later.ExpiresAt.Add(time.Second)
	later.NoteToSelf = []byte(`{"secret":1}`)
	if err := k.views["alice"].SendTransfer(ctx, later); err != nil {
		t.Fatal(err)
	}
	first, f := k.prepare("alice", "bob", 1)
	done, doneF := k.prepare("alice", "bob", 3)
	if _, err := lister.PreparedIncoming(ctx); !errors.Is(err, ledger.ErrNotConnected) {
		t.Fatalf("PreparedIncoming while disconnected: %v", err)
	}
	if err := k.views["bob"].Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.views["bob"].FulfillCondition(ctx, done.ID, doneF); err != nil {
		t.Fatal(err)
	}
	k.prepare("bob", "alice", 4) // outgoing for bob: not listed
	got, err := lister.PreparedIncoming(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != first.ID || got[1].ID != later.ID || len(got[1].NoteToSelf) != 0 || got[1].To != k.addr("bob") {
		t.Fatalf("prepared incoming %+v", got)
	}
	if err := k.views["bob"].FulfillCondition(ctx, first.ID, f); err != nil {
		t.Fatal(err)
	}
}
