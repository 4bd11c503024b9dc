package virtual_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// TestRefulfilled: two processes of one kit share alice's backend; the
// peer's fulfillment reached the first, which executed the transfer (and
// may have died before passing it back); the peer asks again, the call
// reaching the second process, which tells its kit (Refulfilled) rather
// than answering a silent success. A different fulfillment is refused and
// tells nothing.
func TestRefulfilled(t *testing.T) {
	shared := memory.New()
	k := newKitPair(t, pairConfig{aliceBackend: shared})
	connect(t, k.alice, k.bob)
	type refulfill struct {
		t ledger.Transfer
		f ilp.Fulfillment
	}
	told := make(chan refulfill, 4)
	alice2, err := virtual.New(virtual.Options{Identity: k.aliceID, PeerPublicKey: k.bobID.PublicKey(), RPCURI: k.bobSrv.URL + "/api/peers/rpc",
		Backend: shared, CurrencyCode: "USD", CurrencyScale: 9,
		Refulfilled: func(t ledger.Transfer, f ilp.Fulfillment) { told <- refulfill{t, f} }})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, alice2)
	mux2 := virtual.NewMux()
	mux2.Add(alice2)
	srv2 := httptest.NewServer(mux2)
	defer srv2.Close()

	f := ilp.Fulfillment{4, 2}
	tr := ledger.Transfer{ID: "b0b0b0b0-0000-4000-8000-000000000001", To: k.bob.Account(), Amount: 7,
		ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
	var ev evlog
	k.alice.Subscribe(ev.handle)
	if err := k.alice.SendTransfer(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	if err := k.bob.FulfillCondition(context.Background(), tr.ID, f); err != nil {
		t.Fatal(err)
	}
	waitKinds(t, &ev, tr.ID, "outgoing_prepare", "outgoing_fulfill")

	token := k.bob.Peering().AuthToken
	url := srv2.URL + "/api/peers/rpc"
	if status, body := rpc(t, url, "fulfill_condition", alice2.Prefix(), token, mustJSON(t, []string{tr.ID, f.String()})); status != http.StatusOK {
		t.Fatalf("repeated fulfillment: %d %s", status, body)
	}
	select {
	case got := <-told:
		if got.t.ID != tr.ID || got.f != f {
			t.Errorf("Refulfilled(%s, %v)", got.t.ID, got.f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second process did not tell its kit")
	}
	other := ilp.Fulfillment{9}
	if status, _ := rpc(t, url, "fulfill_condition", alice2.Prefix(), token, mustJSON(t, []string{tr.ID, other.String()})); status == http.StatusOK {
		t.Error("another fulfillment of an executed transfer was accepted")
	}
	select {
	case got := <-told:
		t.Errorf("told of a refused fulfillment: %v", got)
	case <-time.After(100 * time.Millisecond):
	}
	wantBalance(t, alice2, -7)
}
