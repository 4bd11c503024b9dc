package e2e_test

import (
	"bufio"
	"context"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
)

// TestPaymentsAcrossKits: alice on kit A pays bob on kit B through the
// connector, over the trustline interface of a kit process: fulfilled,
// rejected, expired, and with the paying client killed mid-payment.
func TestPaymentsAcrossKits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	k := newKit(t, "a,b", "alice,bob", 10*time.Second)
	k.start()
	alice, bob := k.client("a", "alice"), k.client("b", "bob")
	rcv, out := receive(t, bob), watch(t, alice)
	const src = 1_000_000
	dst := quote(t, alice, "test.kitb.bob", src)
	if dst == 0 || dst > src {
		t.Fatalf("quote: %d for %d", dst, src)
	}
	ctx := context.Background()
	start := k.totals()
	expect := func(what string, alicePaid, bobGot uint64) {
		t.Helper()
		tot := k.totals()
		a := new(big.Int).Sub(balanceOf(start, "a", "alice"), balanceOf(tot, "a", "alice"))
		b := new(big.Int).Sub(balanceOf(tot, "b", "bob"), balanceOf(start, "b", "bob"))
		if a.Uint64() != alicePaid || b.Uint64() != bobGot || !a.IsUint64() || !b.IsUint64() {
			t.Errorf("%s: alice paid %s, bob got %s; want %d and %d", what, a, b, alicePaid, bobGot)
		}
		for kit, tt := range tot {
			for acct, h := range tt.Held {
				if h != "0" {
					t.Errorf("%s: %s on kit %s holds %s", what, acct, kit, h)
				}
			}
		}
	}

	id := uuid(1, 1)
	if err := alice.SendTransfer(ctx, payment(t, alice, id, "test.kitb.bob", src, dst, rcv.condition(id, ""), 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := out.wait(t, id, 5*time.Second); got != ledger.EventOutgoingFulfill {
		t.Fatalf("payment ended with %v", got)
	}
	expect("fulfilled", src, dst)

	id = uuid(2, 1)
	if err := alice.SendTransfer(ctx, payment(t, alice, id, "test.kitb.bob", src, dst, rcv.condition(id, "reject"), 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := out.wait(t, id, 5*time.Second); got != ledger.EventOutgoingReject {
		t.Fatalf("rejected payment ended with %v", got)
	}
	expect("rejected", src, dst)

	id = uuid(3, 1)
	if err := alice.SendTransfer(ctx, payment(t, alice, id, "test.kitb.bob", src, dst, rcv.condition(id, "hold"), 1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// The destination transfer expires first; the connector passes its
	// R00 back before the source transfer expires.
	if got := out.wait(t, id, 5*time.Second); got == ledger.EventOutgoingFulfill || out.code(id) != "R00" {
		t.Fatalf("held payment ended with %v %s", got, out.code(id))
	}
	expect("expired", src, dst)

	// A paying client killed after its transfer is prepared: the held
	// amount returns when the transfer expires.
	payer := exec.Command(os.Args[0], "-test.run=^$")
	// The process dies with the test (even one that times out and
	// skips its clean-ups).
	payer.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	payer.Env = append(os.Environ(), envRole+"=payer", envURL+"="+k.url("a"), envToken+"="+token("a", "alice"), envTo+"=test.kita.bob")
	payer.Stderr = os.Stderr
	pout, err := payer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := payer.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pout)
	if !sc.Scan() || sc.Text() != "SENT" {
		_ = payer.Process.Kill()
		t.Fatalf("payer: %q %v", sc.Text(), sc.Err())
	}
	_ = payer.Process.Kill()
	_ = payer.Wait()
	if h := k.totals()["a"].Held["alice"]; h != "1000" {
		t.Errorf("alice holds %s after the payer died, want 1000", h)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.totals()["a"].Held["alice"] != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the dead payer's transfer did not expire")
		}
		time.Sleep(100 * time.Millisecond)
	}
	expect("payer killed", src, dst)
}

// TestKillKit kills the kit process with SIGKILL at random points while
// payments run through it, 20 times, and restarts it: every ledger adds up
// after each restart, and once the hold time has passed every transfer has
// ended, fulfilled on both kits or returned on both.
func TestKillKit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Run("sqlite", func(t *testing.T) { killKit(t, "") })
	t.Run("postgres", func(t *testing.T) { killKit(t, pgtest.DSN(t)) })
}

// killKit runs TestKillKit with the kit's database at dsn ("" for a SQLite
// file).
func killKit(t *testing.T, dsn string) {
	const (
		// A restart must fit between a payment's two expiries (the message
		// window) for the connector to pass a fulfillment back; a kit built
		// with -race takes a second or two to start.
		hold   = 6 * time.Second
		window = 2500 * time.Millisecond
		kills  = 20
		src    = 1_000_000
	)
	k := newKit(t, "a,b", "alice,bob", hold)
	k.env = append(k.env, envWin+"="+window.String())
	if dsn != "" {
		k.env = append(k.env, envDB+"="+dsn)
	}
	k.start()
	alice, bob := k.client("a", "alice"), k.client("b", "bob")
	rcv := receive(t, bob)
	dst := quote(t, alice, "test.kitb.bob", src)
	start := k.totals()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var seq, sent atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := int(seq.Add(1))
				id := uuid(n, 2)
				err := alice.SendTransfer(ctx, payment(t, alice, id, "test.kitb.bob", src, dst, rcv.condition(id, ""), 4*time.Second))
				if err != nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				sent.Add(1)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(100+rng.IntN(1400)) * time.Millisecond)
		k.kill()
		k.start()
		k.totals() // fails the test unless each ledger adds up
	}
	cancel()
	wg.Wait()
	// Every transfer ends within the hold time (plus the connector's
	// retries and the clients' reconnections).
	deadline := time.Now().Add(hold + 5*time.Second)
	var tot map[string]totals
	for {
		tot = k.totals()
		held := false
		for _, tt := range tot {
			for _, h := range tt.Held {
				held = held || h != "0"
			}
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfers still held %v after the hold time: %+v", hold+5*time.Second, tot)
		}
		time.Sleep(200 * time.Millisecond)
	}
	paid := new(big.Int).Sub(balanceOf(start, "a", "alice"), balanceOf(tot, "a", "alice"))
	got := new(big.Int).Sub(balanceOf(tot, "b", "bob"), balanceOf(start, "b", "bob"))
	nA, remA := new(big.Int).QuoRem(paid, big.NewInt(src), new(big.Int))
	nB, remB := new(big.Int).QuoRem(got, new(big.Int).SetUint64(dst), new(big.Int))
	t.Logf("%d kills; %d transfers prepared; %s payments fulfilled on kit A, %s on kit B", kills, sent.Load(), nA, nB)
	if remA.Sign() != 0 || remB.Sign() != 0 || nA.Cmp(nB) != 0 {
		t.Errorf("alice paid %s (%s payments of %d), bob got %s (%s of %d)", paid, nA, src, got, nB, dst)
	}
	if nA.Sign() == 0 {
		t.Error("no payment went through")
	}
}
