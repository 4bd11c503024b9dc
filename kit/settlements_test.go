package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

// TestWithdrawalsAndSettlements on SQLite and PostgreSQL: a withdrawal
// debits at once and a rejection refunds once, however often repeated and
// even concurrently; a settlement credits; bad requests change nothing;
// the books add up after each step; all of it shows in the activity.
func TestWithdrawalsAndSettlements(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "kit.db") }},
		{"postgres", func(tb testing.TB) string { return pgtest.DSN(tb) }},
	} {
		t.Run(db.name, func(t *testing.T) { testWithdrawals(t, db.dsn(t)) })
	}
}

func testWithdrawals(t *testing.T, dsn string) {
	ctx := context.Background()
	k, alice, bob := twoUsers(t, dsn)
	want := func(what, a, b string) {
		t.Helper()
		if ga, gb := balance(t, k, "alice"), balance(t, k, "bob"); ga != a || gb != b {
			t.Errorf("%s: alice %s bob %s, want %s %s", what, ga, gb, a, b)
		}
		checkSum(t, k)
	}

	// Refused: nothing, too much, more than alice has, bob with nothing.
	for _, bad := range []uint64{0, math.MaxInt64 + 1, math.MaxUint64} {
		if _, err := k.Withdraw(ctx, alice, bad); !errors.Is(err, kit.ErrInvalidAmount) {
			t.Errorf("withdraw %d: %v", bad, err)
		}
	}
	if _, err := k.Withdraw(ctx, alice, 1001); !errors.Is(err, kit.ErrInsufficientFunds) {
		t.Errorf("withdraw 1001 of 1000: %v", err)
	}
	if _, err := k.Withdraw(ctx, bob, 1); !errors.Is(err, kit.ErrInsufficientFunds) {
		t.Errorf("bob withdraws 1 of 0: %v", err)
	}
	if ws, _ := k.Withdrawals(ctx, 0, 10); len(ws) != 0 {
		t.Errorf("refused withdrawals recorded: %+v", ws)
	}
	want("after refusals", "1000", "0")

	w1, err := k.Withdraw(ctx, alice, 300)
	if err != nil || w1.Status != store.WithdrawalPending || w1.Amount != 300 || w1.Username != "alice" {
		t.Fatalf("%+v %v", w1, err)
	}
	want("withdrew 300", "700", "0")
	w2, err := k.Withdraw(ctx, alice, 200)
	if err != nil {
		t.Fatal(err)
	}
	want("withdrew 200", "500", "0")
	if ws, _ := k.Withdrawals(ctx, bob.ID, 10); len(ws) != 0 {
		t.Errorf("bob's withdrawals: %+v", ws)
	}
	if ws, _ := k.Withdrawals(ctx, alice.ID, 10); len(ws) != 2 || ws[0].ID != w2.ID {
		t.Errorf("alice's withdrawals: %+v", ws)
	}

	// Status changes.
	if _, err := k.SetWithdrawalStatus(ctx, w1.ID, "done"); !errors.Is(err, kit.ErrInvalidStatus) {
		t.Errorf("status done: %v", err)
	}
	if _, err := k.SetWithdrawalStatus(ctx, "nope", "completed"); !errors.Is(err, kit.ErrWithdrawalNotFound) {
		t.Errorf("unknown withdrawal: %v", err)
	}
	if w, err := k.SetWithdrawalStatus(ctx, w1.ID, store.WithdrawalProcessing); err != nil || w.Status != "processing" {
		t.Fatalf("%+v %v", w, err)
	}
	if w, err := k.SetWithdrawalStatus(ctx, w1.ID, store.WithdrawalCompleted); err != nil || w.Status != "completed" {
		t.Fatalf("%+v %v", w, err)
	}
	if _, err := k.SetWithdrawalStatus(ctx, w1.ID, store.WithdrawalRejected); !errors.Is(err, kit.ErrWithdrawalFinal) {
		t.Errorf("reject a completed withdrawal: %v", err)
	}
	want("completed", "500", "0")

	// Rejected, many times at once: refunded once.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := k.SetWithdrawalStatus(ctx, w2.ID, store.WithdrawalRejected); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := k.SetWithdrawalStatus(ctx, w2.ID, store.WithdrawalRejected); err != nil {
		t.Error(err)
	}
	want("rejected", "700", "0")
	if _, err := k.SetWithdrawalStatus(ctx, w2.ID, store.WithdrawalPending); !errors.Is(err, kit.ErrWithdrawalFinal) {
		t.Errorf("reopen a rejected withdrawal: %v", err)
	}

	// Settlements for a user.
	for _, bad := range []kit.SettlementRequest{
		{Amount: 0}, {Amount: math.MaxInt64 + 1}, {Amount: 5, Currency: "EUR"}, {Amount: 5, Currency: "U$"},
		{Amount: 5, Note: string(make([]byte, 2000))},
	} {
		if _, err := k.SettleUser(ctx, "bob", bad); err == nil {
			t.Errorf("settlement %+v accepted", bad)
		}
	}
	if _, err := k.SettleUser(ctx, "nobody", kit.SettlementRequest{Amount: 5}); !errors.Is(err, kit.ErrUserNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := k.SettlePeer(ctx, "nope", kit.SettlementRequest{Amount: 5}); !errors.Is(err, kit.ErrPeerNotFound) {
		t.Errorf("unknown peer: %v", err)
	}
	want("refused settlements", "700", "0")
	m, err := k.CreateSettlementMethod(ctx, kit.SettlementMethodInput{Type: ptr("cash"), Name: ptr("Cash desk")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := k.SettleUser(ctx, "bob", kit.SettlementRequest{Amount: 250, Method: "cash desk", Note: "paid in coins"})
	if err != nil || st.Username != "bob" || st.Method != "Cash desk" || st.MethodID != m.ID || st.Currency != "USD" {
		t.Fatalf("%+v %v", st, err)
	}
	want("settled 250 for bob", "700", "250")
	if got, err := k.Settlement(ctx, st.ID); err != nil || got.Amount != 250 || got.Note != "paid in coins" {
		t.Errorf("%+v %v", got, err)
	}
	if ss, _ := k.Settlements(ctx, 10); len(ss) != 1 {
		t.Errorf("settlements %+v", ss)
	}

	// The activity: alice's two withdrawals and the refund, bob's
	// settlement.
	ps, err := k.Store().Payments(ctx, alice.ID, store.Cursor{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	var out, in int64
	for _, p := range ps {
		if p.Counterparty != kit.CounterpartyWithdrawal {
			continue
		}
		if p.Direction == "outgoing" {
			out += p.SourceAmount
		} else {
			in += p.SourceAmount
		}
	}
	if out != 500 || in != 200 {
		t.Errorf("alice's activity: withdrawn %d refunded %d: %+v", out, in, ps)
	}
	ps, _ = k.Store().Payments(ctx, bob.ID, store.Cursor{}, 20)
	if len(ps) != 1 || ps[0].Counterparty != "settlement:Cash desk" || ps[0].Direction != "incoming" || ps[0].SourceAmount != 250 {
		t.Errorf("bob's activity: %+v", ps)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPeerSettlementMethods: the settlement methods one kit's admin
// configures are what its peer gets for a settlement_methods_request, at
// once after each change; a settlement recorded for a peer changes no
// balance.
func TestPeerSettlementMethods(t *testing.T) {
	ctx := context.Background()
	a, b := serveKit(t, "red"), serveKit(t, "blue")
	pa, err := a.k.AddPeer(ctx, kit.PeerRequest{Hostname: b.host, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.k.AddPeer(ctx, kit.PeerRequest{Hostname: a.host, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ask := func() []map[string]any {
		t.Helper()
		raw, err := b.k.PeerSettlementMethods(ctx, pb.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := ask(); len(got) != 0 {
		t.Errorf("no methods yet: %v", got)
	}
	m, err := a.k.CreateSettlementMethod(ctx, kit.SettlementMethodInput{
		Type: ptr("paypal"), Name: ptr("PayPal"), URI: ptr("https://paypal.example/kit"), Description: ptr("pay us"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := ask()
	if len(got) != 1 || got[0]["id"] != m.ID || got[0]["name"] != "PayPal" || got[0]["type"] != "paypal" ||
		got[0]["uri"] != "https://paypal.example/kit" || got[0]["description"] != "pay us" {
		t.Errorf("one method: %v", got)
	}
	if _, err := a.k.UpdateSettlementMethod(ctx, m.ID, kit.SettlementMethodInput{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got := ask(); len(got) != 0 {
		t.Errorf("disabled: %v", got)
	}
	if _, err := a.k.UpdateSettlementMethod(ctx, m.ID, kit.SettlementMethodInput{Enabled: ptr(true), Type: ptr("gold")}); !errors.Is(err, kit.ErrInvalidSettlementMethod) {
		t.Errorf("bad type: %v", err)
	}
	if got := ask(); len(got) != 0 {
		t.Errorf("a refused update changed the list: %v", got)
	}
	if _, err := a.k.UpdateSettlementMethod(ctx, m.ID, kit.SettlementMethodInput{Enabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got := ask(); len(got) != 1 {
		t.Errorf("enabled again: %v", got)
	}
	if err := a.k.DeleteSettlementMethod(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if got := ask(); len(got) != 0 {
		t.Errorf("deleted: %v", got)
	}

	// A peer's settlement is a record; no balance moves.
	before, err := a.k.Peers(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.k.SettlePeer(ctx, pa.ID, kit.SettlementRequest{Amount: 40, Method: "bank", Note: "wire 2026-01"})
	if err != nil || st.PeerID != pa.ID || st.PeerHost != b.host || st.Currency != "USD" || st.UserID != nil {
		t.Fatalf("%+v %v", st, err)
	}
	after, _ := a.k.Peers(ctx, time.Second)
	if before[0].Balance != after[0].Balance {
		t.Errorf("peer balance moved: %s -> %s", before[0].Balance, after[0].Balance)
	}
	checkSum(t, a.k)
}

// TestWithdrawalRestart: what a stop between the steps of a withdrawal or
// a rejection leaves is finished on the next start: a withdrawal whose
// transfer never happened is forgotten (after a grace period, for other
// processes still at work), a rejected one gets its refund, once.
func TestWithdrawalRestart(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kit.db")
	clock := plugintest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := kit.Config{DBURI: dsn, AdminPass: "admin-password", Registration: true, Hostname: "wallet.test", Clock: clock}
	k := open(t, cfg)
	if _, err := k.Store().CreateInvite(ctx, "fund", 1000); err != nil {
		t.Fatal(err)
	}
	alice, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", InviteCode: "fund"})
	if err != nil {
		t.Fatal(err)
	}
	// A withdrawal row whose transfer a stop prevented.
	if _, err := k.Store().CreateWithdrawal(ctx, store.Withdrawal{ID: "lost", UserID: alice.ID, Amount: 5, Status: "pending", TransferID: "not-sent"}); err != nil {
		t.Fatal(err)
	}
	// A rejection whose refund a stop prevented.
	w, err := k.Withdraw(ctx, alice, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Store().SetWithdrawalStatus(ctx, w.ID, store.WithdrawalRejected, store.WithdrawalPending); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	k = open(t, cfg) // too soon to forget "lost"
	if _, err := k.Store().Withdrawal(ctx, "lost"); err != nil {
		t.Errorf("forgotten within the grace period: %v", err)
	}
	if b := balance(t, k, "alice"); b != "1000" {
		t.Errorf("alice %s after the refund on start", b)
	}
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	k = open(t, cfg)
	if _, err := k.Store().Withdrawal(ctx, "lost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a withdrawal never paid is kept: %v", err)
	}
	if b := balance(t, k, "alice"); b != "1000" {
		t.Errorf("alice %s after two starts (refunded twice?)", b)
	}
	if ws, _ := k.Withdrawals(ctx, 0, 10); len(ws) != 1 || ws[0].Status != "rejected" {
		t.Errorf("%+v", ws)
	}
	checkSum(t, k)
}
