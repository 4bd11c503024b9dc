package kit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTwoProcessesOneDatabase runs two kits on one PostgreSQL database, as
// two `ilpkit serve` processes would: a user registered through one pays
// through the other; the first hears of it (a waiting event stream, the
// user's connected ledger view); one of them leads, and when it stops the
// other takes over and expires a transfer the first left prepared.
func TestTwoProcessesOneDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	cfg := kit.Config{DBURI: dsn, AdminPass: "admin-password", Registration: true, Hostname: "wallet.test", LeaderInterval: 100 * time.Millisecond}
	k1 := open(t, cfg)
	eventually(t, "the first process leads", k1.Leading)
	k2 := open(t, cfg)
	if !k1.Shared() || !k2.Shared() {
		t.Fatal("a PostgreSQL kit is not shared")
	}
	time.Sleep(300 * time.Millisecond)
	if k2.Leading() {
		t.Fatal("two leaders")
	}

	if _, err := k1.Store().CreateInvite(ctx, "fund-alice", 1000); err != nil {
		t.Fatal(err)
	}
	alice, err := k1.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", InviteCode: "fund-alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := k2.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "each process knows the user registered through the other", func() bool {
		a, err1 := k2.Balance(ctx, "alice")
		_, err2 := k1.Balance(ctx, "bob")
		return err1 == nil && err2 == nil && a.String() == "1000"
	})

	// Bob's event stream and his ledger view on the first process.
	watch, stop := k1.Watch(bob.ID)
	defer stop()
	view, err := k1.Server().Plugin("bob")
	if err != nil {
		t.Fatal(err)
	}
	heard := make(chan ledger.Event, 16)
	view.Subscribe(func(ev ledger.Event) { heard <- ev })
	if err := view.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer view.Disconnect(ctx)

	q, err := k2.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob", SourceAmount: 100})
	if err != nil {
		t.Fatal(err)
	}
	p, err := k2.Pay(ctx, alice, kit.PayRequest{ID: "p1", QuoteID: q.ID, SourceAmount: 100, DestinationAmount: 100})
	if err != nil || p.State != store.PaymentSuccess {
		t.Fatalf("pay through the second process: %+v %v", p, err)
	}
	select {
	case <-watch:
	case <-time.After(5 * time.Second):
		t.Fatal("bob's watcher on the first process was not told")
	}
	for found := false; !found; {
		select {
		case ev := <-heard:
			if ev.Transfer.ID == "" {
				continue // connect
			}
			found = true
			if !ev.Remote || ev.Transfer.Amount != 100 || !ev.Kind.Incoming() {
				t.Errorf("bob's view heard %v remote=%v amount %d", ev.Kind, ev.Remote, ev.Transfer.Amount)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("bob's view on the first process heard nothing of the payment")
		}
	}
	if b := balance(t, k1, "bob"); b != "100" {
		t.Errorf("bob on the first process: %s", b)
	}

	// A transfer prepared through the first process, which then stops:
	// the second takes over and expires it.
	av, err := k1.Server().Plugin("alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := av.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	f := ilp.Fulfillment{1, 2, 3}
	tr := ledger.Transfer{ID: "11111111-2222-4333-8444-555555555555", To: k1.Prefix() + "bob", Amount: 300,
		ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(1500 * time.Millisecond)}
	if err := av.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second process sees alice's hold", func() bool { return balance(t, k2, "alice") == "600" })
	start := time.Now()
	if err := k1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second process takes over", k2.Leading)
	t.Logf("takeover after %v", time.Since(start))
	eventually(t, "the orphaned transfer expires", func() bool { return balance(t, k2, "alice") == "900" })
	if b := balance(t, k2, "bob"); b != "100" {
		t.Errorf("bob %s", b)
	}
	checkSum(t, k2)
}

// TestProcessesStartTogether: three processes started at once on a fresh
// database agree on one identity, one admin and one leader.
func TestProcessesStartTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg := kit.Config{DBURI: dsn, Hostname: "wallet.test", LeaderInterval: 100 * time.Millisecond}
	kits := make([]*kit.Kit, 3)
	errs := make(chan error, len(kits))
	for i := range kits {
		go func() {
			k, err := kit.Open(context.Background(), cfg)
			kits[i] = k
			errs <- err
		}()
	}
	for range kits {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range kits {
		t.Cleanup(func() { _ = k.Close(context.Background()) })
	}
	generated := 0
	for _, k := range kits {
		if k.Prefix() != kits[0].Prefix() || k.PeeringSecret() != kits[0].PeeringSecret() {
			t.Errorf("identities differ: %s %s", k.Prefix(), kits[0].Prefix())
		}
		if k.GeneratedAdminPassword() != "" {
			generated++
		}
	}
	if generated != 1 {
		t.Errorf("%d processes generated an admin password", generated)
	}
	eventually(t, "one leader", func() bool {
		n := 0
		for _, k := range kits {
			if k.Leading() {
				n++
			}
		}
		return n == 1
	})
	eventually(t, "every process has the admin's account", func() bool {
		for _, k := range kits {
			if _, err := k.Balance(context.Background(), "admin"); err != nil {
				return false
			}
		}
		return true
	})
}

// TestRequestAcrossProcesses: a request from a view on one process reaches
// the client of the account connected to the other, and its answer comes
// back; a request to an account no process has a client of fails as
// "no subscriptions".
func TestRequestAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	cfg := kit.Config{DBURI: dsn, AdminPass: "admin-password", Registration: true, Hostname: "wallet.test", LeaderInterval: 100 * time.Millisecond}
	k1 := open(t, cfg)
	k2 := open(t, cfg)
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := k1.Register(ctx, kit.NewUser{Username: u, Password: u + "-password"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the second process knows the users", func() bool {
		_, err := k2.Balance(ctx, "carol")
		return err == nil
	})
	bob, err := k2.Server().Plugin("bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer bob.Disconnect(ctx)
	if err := bob.RegisterRequestHandler(func(_ context.Context, m ledger.Message) (ledger.Message, error) {
		return ledger.Message{Custom: []byte(`{"echo":` + string(m.Custom) + `}`)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	alice, err := k1.Server().Plugin("alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer alice.Disconnect(ctx)
	resp, err := alice.SendRequest(ctx, ledger.Message{ID: "m1", To: k1.Prefix() + "bob", Custom: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Custom) != `{"echo":{"n":1}}` || resp.From != k1.Prefix()+"bob" || resp.To != k1.Prefix()+"alice" || resp.ID != "m1" {
		t.Errorf("answer %+v %s", resp, resp.Custom)
	}
	if _, err := alice.SendRequest(ctx, ledger.Message{ID: "m2", To: k1.Prefix() + "carol", Custom: []byte(`{}`)}); !errors.Is(err, ledger.ErrNoSubscriptions) {
		t.Errorf("to an account nobody has a client of: %v", err)
	}
}
