package kit_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/psk"
	"github.com/ilpkit/ilpkit/spsp"
)

// twoUsers opens a kit with alice (funded with 1000 by an invite) and bob.
func twoUsers(t *testing.T, dsn string) (*kit.Kit, store.User, store.User) {
	t.Helper()
	ctx := context.Background()
	k := open(t, kit.Config{DBURI: dsn, AdminPass: "admin-password", Registration: true, Hostname: "wallet.test"})
	if _, err := k.Store().CreateInvite(ctx, "fund-alice", 1000); err != nil {
		t.Fatal(err)
	}
	alice, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", Name: "Alice", InviteCode: "fund-alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	return k, alice, bob
}

func balance(t *testing.T, k *kit.Kit, user string) string {
	t.Helper()
	b, err := k.Balance(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkSum(t *testing.T, k *kit.Kit) {
	t.Helper()
	tot, err := k.Server().Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := tot.Check(); err != nil {
		t.Errorf("ledger does not add up: %v", err)
	}
}

// TestLocalPayments: quotes by source, by destination and by curve to a
// user of the same kit, each paid in one local step; retries and bad
// requests change nothing.
func TestLocalPayments(t *testing.T) {
	ctx := context.Background()
	k, alice, bob := twoUsers(t, filepath.Join(t.TempDir(), "kit.db"))

	q, err := k.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob", SourceAmount: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !q.Local || q.Destination != "bob@wallet.test" || q.ReceiverName != "Bob" {
		t.Errorf("quote %+v", q)
	}
	pay := kit.PayRequest{ID: "p1", QuoteID: q.ID, SourceAmount: 100, DestinationAmount: 100, Message: "lunch"}
	p, err := k.Pay(ctx, alice, pay)
	if err != nil || p.State != store.PaymentSuccess {
		t.Fatalf("%+v %v", p, err)
	}
	if a, b := balance(t, k, "alice"), balance(t, k, "bob"); a != "900" || b != "100" {
		t.Errorf("after paying 100: alice %s bob %s", a, b)
	}
	// The same request again: the same payment, nothing more paid.
	again, err := k.Pay(ctx, alice, pay)
	if err != nil || again.ID != p.ID || balance(t, k, "alice") != "900" {
		t.Errorf("retry: %+v %v, alice %s", again, err, balance(t, k, "alice"))
	}
	// The same id with another body: a conflict.
	other := pay
	other.Message = "dinner"
	if _, err := k.Pay(ctx, alice, other); !errors.Is(err, kit.ErrPaymentConflict) {
		t.Errorf("conflicting retry: %v", err)
	}
	// Bob sees the payment with alice's name and the message.
	hist, err := k.Store().Payments(ctx, bob.ID, store.Cursor{}, 10)
	if err != nil || len(hist) != 1 || hist[0].Counterparty != "alice@wallet.test" || hist[0].Message != "lunch" || hist[0].SourceAmount != 100 {
		t.Errorf("bob's history %+v %v", hist, err)
	}

	// By destination, and from a curve: the amounts the client computed.
	q, err = k.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob@wallet.test", DestinationAmount: 50})
	if err != nil || q.SourceAmount != 50 {
		t.Fatalf("%+v %v", q, err)
	}
	if _, err := k.Pay(ctx, alice, kit.PayRequest{ID: "p2", QuoteID: q.ID, SourceAmount: 51, DestinationAmount: 50}); !errors.Is(err, kit.ErrAmountMismatch) {
		t.Errorf("mismatched amounts: %v", err)
	}
	if _, err := k.Pay(ctx, alice, kit.PayRequest{ID: "p2", QuoteID: q.ID, SourceAmount: 50, DestinationAmount: 50}); err != nil {
		t.Fatal(err)
	}
	cq, err := k.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob"})
	if err != nil || len(cq.Curve) < 2 {
		t.Fatalf("curve %+v %v", cq, err)
	}
	if _, err := k.Pay(ctx, alice, kit.PayRequest{ID: "p3", QuoteID: cq.ID, SourceAmount: 25, DestinationAmount: 25}); err != nil {
		t.Fatal(err)
	}
	if a, b := balance(t, k, "alice"), balance(t, k, "bob"); a != "825" || b != "175" {
		t.Errorf("alice %s bob %s", a, b)
	}

	// More than alice has: refused, recorded as failed, nothing moves.
	q, _ = k.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob", SourceAmount: 5000})
	if _, err := k.Pay(ctx, alice, kit.PayRequest{ID: "p4", QuoteID: q.ID, SourceAmount: 5000, DestinationAmount: 5000}); !errors.Is(err, kit.ErrInsufficientFunds) {
		t.Errorf("overdraft: %v", err)
	}
	if a := balance(t, k, "alice"); a != "825" {
		t.Errorf("alice %s after a refused payment", a)
	}
	// Another user's quote, an unknown one, paying oneself.
	if _, err := k.Pay(ctx, bob, kit.PayRequest{ID: "p5", QuoteID: cq.ID, SourceAmount: 1, DestinationAmount: 1}); !errors.Is(err, kit.ErrQuoteNotFound) {
		t.Errorf("someone else's quote: %v", err)
	}
	if _, err := k.Quote(ctx, alice, kit.QuoteRequest{Destination: "alice", SourceAmount: 1}); !errors.Is(err, kit.ErrInvalidDestination) {
		t.Errorf("paying oneself: %v", err)
	}
	if _, err := k.Quote(ctx, alice, kit.QuoteRequest{Destination: "carol", SourceAmount: 1}); !errors.Is(err, kit.ErrReceiverNotFound) {
		t.Errorf("unknown receiver: %v", err)
	}
	if _, err := k.Pay(ctx, alice, kit.PayRequest{ID: "bad id!", QuoteID: cq.ID, SourceAmount: 1, DestinationAmount: 1}); !errors.Is(err, kit.ErrInvalidPaymentID) {
		t.Errorf("bad id: %v", err)
	}
	checkSum(t, k)
}

// TestReceivePSK: a PSK payment arriving for a user at the address the
// user's SPSP endpoint gave is fulfilled and recorded with the sender's
// headers, whatever software sent it; a wrong amount is rejected.
func TestReceivePSK(t *testing.T) {
	ctx := context.Background()
	k, _, bob := twoUsers(t, filepath.Join(t.TempDir(), "kit.db"))
	resp, err := spsp.NewResponse(nil, spsp.Setup{Account: k.Prefix() + "bob", ReceiverSecret: k.ReceiverSecret("bob"), CurrencyCode: "USD", CurrencyScale: 9})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := ilp.DecodeBase64(resp.SharedSecret)
	issuer, err := k.Server().Plugin(kit.IssuerAccount)
	if err != nil {
		t.Fatal(err)
	}
	if err := issuer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer issuer.Disconnect(ctx)
	done := make(chan ledger.Event, 4)
	defer issuer.Subscribe(func(ev ledger.Event) {
		switch ev.Kind {
		case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			done <- ev
		}
	})()
	send := func(id string, amount, packetAmount uint64) ledger.Event {
		pkt, err := psk.CreatePacketAndCondition(psk.PaymentParams{
			DestinationAccount: resp.DestinationAccount, DestinationAmount: packetAmount, SharedSecret: secret,
			Headers: psk.Headers{{Name: "Source-Identifier", Value: "carol@elsewhere.test"}, {Name: "Source-Name", Value: "Carol"}, {Name: "Message", Value: "hi"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = issuer.SendTransfer(ctx, ledger.Transfer{ID: id, To: resp.DestinationAccount, Amount: amount, ILP: pkt.ILP(),
			ExecutionCondition: pkt.Condition.String(), ExpiresAt: time.Now().Add(5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-done:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no outcome")
		}
		return ledger.Event{}
	}
	if ev := send("5e000000-0000-4000-8000-000000000001", 300, 300); ev.Kind != ledger.EventOutgoingFulfill {
		t.Fatalf("payment ended with %v", ev.Kind)
	}
	if b := balance(t, k, "bob"); b != "300" {
		t.Errorf("bob %s", b)
	}
	var hist []store.Payment
	deadline := time.Now().Add(5 * time.Second)
	for {
		hist, err = k.Store().Payments(ctx, bob.ID, store.Cursor{}, 10)
		if err == nil && len(hist) == 1 && hist[0].State == store.PaymentSuccess || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(hist) != 1 || hist[0].Counterparty != "carol@elsewhere.test" || hist[0].CounterpartyName != "Carol" || hist[0].Message != "hi" || hist[0].State != store.PaymentSuccess {
		t.Errorf("bob's history %+v", hist)
	}
	// Less than the packet says: rejected, nothing credited.
	if ev := send("5e000000-0000-4000-8000-000000000002", 299, 300); ev.Kind != ledger.EventOutgoingReject {
		t.Errorf("short payment ended with %v", ev.Kind)
	}
	if b := balance(t, k, "bob"); b != "300" {
		t.Errorf("bob %s after a rejected payment", b)
	}
	checkSum(t, k)
}
