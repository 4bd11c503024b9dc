package kit_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/web"
)

// testLogger logs to the test's output with ILPKIT_TEST_LOG=1.
func testLogger(t *testing.T, name string) *slog.Logger {
	if os.Getenv("ILPKIT_TEST_LOG") != "1" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("kit", name)
}

// served is a kit served over HTTP on loopback.
type served struct {
	k    *kit.Kit
	host string
}

func serveKit(t *testing.T, name string) served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	k := open(t, kit.Config{
		DBURI: filepath.Join(t.TempDir(), name+".db"), Hostname: "127.0.0.1", Port: port,
		Prefix: "test." + name + ".", AdminPass: "admin-password", Registration: true,
		AllowHTTPPeers: true, BroadcastInterval: 200 * time.Millisecond, RouteExpiry: 10 * time.Second,
		Logger: testLogger(t, name),
	})
	srv := &http.Server{Handler: web.New(k, web.Options{Version: "test"})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return served{k: k, host: "127.0.0.1:" + strconv.Itoa(port)}
}

// TestPeeredKits: two kits peered through their host names; alice on the
// first pays bob on the second by bob@host, by source and by destination
// amount and from a curve, and the balances match the accepted amounts.
func TestPeeredKits(t *testing.T) {
	ctx := context.Background()
	a, b := serveKit(t, "red"), serveKit(t, "blue")
	if _, err := a.k.Store().CreateInvite(ctx, "fund", 10_000_000); err != nil {
		t.Fatal(err)
	}
	alice, err := a.k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", Name: "Alice", InviteCode: "fund"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := a.k.AddPeer(ctx, kit.PeerRequest{Hostname: b.host, Limit: 1_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.k.AddPeer(ctx, kit.PeerRequest{Hostname: a.host, Limit: 1_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if pa.Prefix != pb.Prefix {
		t.Fatalf("the two sides derived %s and %s", pa.Prefix, pb.Prefix)
	}
	if _, err := a.k.AddPeer(ctx, kit.PeerRequest{Hostname: b.host, Limit: 1}); !errors.Is(err, kit.ErrPeerExists) {
		t.Errorf("second add: %v", err)
	}
	dest := "bob@" + b.host
	// Routes arrive with the next broadcast.
	var q kit.Quote
	deadline := time.Now().Add(30 * time.Second) // routes come with a broadcast; CI may be slow
	for {
		q, err = a.k.Quote(ctx, alice, kit.QuoteRequest{Destination: dest, SourceAmount: 1_000_000})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if q.Local || q.DestinationAmount == 0 || q.DestinationAmount > 1_000_000 || q.ReceiverName != "Bob" {
		t.Fatalf("quote %+v", q)
	}
	paid, got := uint64(0), uint64(0)
	pay := func(id string, q kit.Quote, src, dst uint64) {
		t.Helper()
		p, err := a.k.Pay(ctx, alice, kit.PayRequest{ID: id, QuoteID: q.ID, SourceAmount: src, DestinationAmount: dst, Message: "from red"})
		if err != nil || p.State != store.PaymentSuccess {
			t.Fatalf("pay %s: %+v %v", id, p, err)
		}
		paid, got = paid+src, got+dst
	}
	pay("by-source", q, q.SourceAmount, q.DestinationAmount)

	q, err = a.k.Quote(ctx, alice, kit.QuoteRequest{Destination: dest, DestinationAmount: 500_000})
	if err != nil {
		t.Fatal(err)
	}
	pay("by-destination", q, q.SourceAmount, 500_000)

	cq, err := a.k.Quote(ctx, alice, kit.QuoteRequest{Destination: dest})
	if err != nil || len(cq.Curve) < 2 {
		t.Fatalf("curve %+v %v", cq, err)
	}
	// What a client computes from the curve: its amount at 2,000,000.
	dst := curveAt(cq, 2_000_000)
	pay("from-curve", cq, 2_000_000, dst)

	if got, want := balance(t, a.k, "alice"), strconv.FormatUint(10_000_000-paid, 10); got != want {
		t.Errorf("alice %s, want %s", got, want)
	}
	wantBob := strconv.FormatUint(got, 10)
	deadline = time.Now().Add(5 * time.Second)
	for balance(t, b.k, "bob") != wantBob && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := balance(t, b.k, "bob"); got != wantBob {
		t.Errorf("bob %s, want %s", got, wantBob)
	}
	hist, err := b.k.Store().Payments(ctx, bob.ID, store.Cursor{}, 10)
	if err != nil || len(hist) != 3 || hist[0].Counterparty != "alice@"+a.host || hist[0].Message != "from red" {
		t.Errorf("bob's history %+v %v", hist, err)
	}
	ps, err := a.k.Peers(ctx, time.Second)
	// Kit A's connector paid into the trustline what it forwarded (the
	// source amounts less its spread), which kit B's connector paid on to
	// bob less its own: A owes B an amount between the two.
	if err != nil || len(ps) != 1 || !ps[0].Online {
		t.Fatalf("peers %+v %v", ps, err)
	}
	owed, _ := ps[0].Balance.Neg()
	if owed.Cmp(ledger.Int128FromUint64(got)) < 0 || owed.Cmp(ledger.Int128FromUint64(paid)) > 0 {
		t.Errorf("kit A owes kit B %s; alice paid %d and bob got %d", owed, paid, got)
	}
	checkSum(t, a.k)
	checkSum(t, b.k)
}

// curveAt is what a client computes from a curve quote.
func curveAt(q kit.Quote, x uint64) uint64 {
	c, err := curve.New(q.Curve)
	if err != nil {
		panic(err)
	}
	return c.AmountAt(x)
}
