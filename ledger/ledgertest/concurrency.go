package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

// goroutines is how many goroutines the concurrency tests run at once.
const goroutines = 32

func runConcurrency(t *testing.T, h Harness) {
	t.Run("a limited balance under many goroutines stays within its limits and loses no update", func(t *testing.T) {
		s := newStore(t, h)
		seed := seedFor(t)
		raceOnBalance(t, seed, []ledger.Backend{s.b}, 150)
	})

	t.Run("concurrent creates of one id apply once", func(t *testing.T) {
		s := newStore(t, h)
		ctx := context.Background()
		payer := s.balance(t, "payer", ledger.BalanceOptions{})
		log := s.b.TransferLog()
		rec := prepared("once-1", 10, false)
		var applied, noop atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := log.Create(ctx, rec, ledger.Debit(payer, 10))
				switch {
				case err != nil:
					t.Errorf("create: %v", err)
				case res.Applied:
					applied.Add(1)
				default:
					noop.Add(1)
				}
			}()
		}
		wg.Wait()
		if applied.Load() != 1 || noop.Load() != goroutines-1 {
			t.Fatalf("%d creates applied and %d were no-ops; want 1 and %d", applied.Load(), noop.Load(), goroutines-1)
		}
		wantBalance(t, payer, i128(-10))
	})

	t.Run("a transfer resolves once when fulfill and cancel race", func(t *testing.T) {
		s := newStore(t, h)
		raceToResolve(t, seedFor(t), []ledger.Backend{s.b}, 20)
	})

	t.Run("money is conserved under concurrent prepare, fulfill and cancel", func(t *testing.T) {
		s := newStore(t, h)
		conserveMoney(t, seedFor(t), []ledger.Backend{s.b}, 25)
	})
}

// raceOnBalance runs goroutines that add and sub random amounts on one
// limited balance, through handles of every backend given (several
// backends on one store when the store is shared), and checks that no
// result ever leaves the limits, that both limits refused something, and
// that the final value is the start plus every acknowledged change.
func raceOnBalance(t *testing.T, seed uint64, backends []ledger.Backend, perGoroutine int) {
	ctx := context.Background()
	const lo, hi = -2000, 2000
	opts := limits(ledger.Limit(i128(lo)), ledger.Limit(i128(hi)))
	var sum, refusedMax, refusedMin, done atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand(seed, uint64(g))
			bal := backends[g%len(backends)].Balance("contended", opts)
			if err := bal.Connect(ctx); err != nil {
				t.Errorf("connect: %v", err)
				return
			}
			for i := 0; i < perGoroutine; i++ {
				n := 1 + r.Uint64N(400)
				var v ledger.Int128
				var err error
				sub := r.IntN(2) == 0
				if sub {
					v, err = bal.Sub(ctx, n)
				} else {
					v, err = bal.Add(ctx, n)
				}
				switch {
				case errors.Is(err, ledger.ErrMaximumExceeded) && !sub:
					refusedMax.Add(1)
				case errors.Is(err, ledger.ErrMinimumExceeded) && sub:
					refusedMin.Add(1)
				case err != nil:
					t.Errorf("change: %v", err)
					return
				default:
					if v.Cmp(i128(lo)) < 0 || v.Cmp(i128(hi)) > 0 {
						t.Errorf("a change returned %s, outside [%d, %d]", v, lo, hi)
					}
					if sub {
						sum.Add(-int64(n))
					} else {
						sum.Add(int64(n))
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d changes applied, %d refused at the maximum, %d at the minimum", done.Load(), refusedMax.Load(), refusedMin.Load())
	if refusedMax.Load() == 0 || refusedMin.Load() == 0 || done.Load() == 0 {
		t.Fatalf("the run did not reach both limits (%d applied, %d/%d refused); the test proves nothing", done.Load(), refusedMax.Load(), refusedMin.Load())
	}
	for _, b := range backends {
		wantBalance(t, b.Balance("contended", opts), i128(sum.Load()))
	}
}

// raceToResolve prepares transfers and lets goroutines race to fulfill and
// cancel each one, through every backend given: exactly one resolution is
// applied, every other call is a no-op or the matching refusal, and the
// balances show exactly the winner's changes.
func raceToResolve(t *testing.T, seed uint64, backends []ledger.Backend, transfers int) {
	ctx := context.Background()
	none := ledger.BalanceOptions{}
	b0 := backends[0]
	payer, hold, payee := b0.Balance("payer", none), b0.Balance("hold", none), b0.Balance("payee", none)
	r := newRand(seed, 99)
	var wantPayer, wantPayee int64
	for i := 0; i < transfers; i++ {
		id := fmt.Sprintf("race-%d", i)
		amount := 1 + r.Uint64N(1000)
		_, err := b0.TransferLog().Create(ctx, prepared(id, amount, false), ledger.Debit(payer, amount), ledger.Credit(hold, amount))
		wantOK(t, err, "create")
		f, _ := fulfillmentFor(id)
		var fulfilled, cancelled atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				log := backends[g%len(backends)].TransferLog()
				if g%2 == 0 {
					res, err := log.Fulfill(ctx, id, f, ledger.Debit(hold, amount), ledger.Credit(payee, amount))
					switch {
					case err == nil && res.Applied:
						fulfilled.Add(1)
					case err == nil && res.Record.State == ledger.StateExecuted:
					case errors.Is(err, ledger.ErrAlreadyRolledBack):
					default:
						t.Errorf("fulfill %s: %+v, %v", id, res, err)
					}
					return
				}
				res, err := log.Cancel(ctx, id, ledger.Debit(hold, amount), ledger.Credit(payer, amount))
				switch {
				case err == nil && res.Applied:
					cancelled.Add(1)
				case err == nil && res.Record.State == ledger.StateCancelled:
				case errors.Is(err, ledger.ErrAlreadyFulfilled):
				default:
					t.Errorf("cancel %s: %+v, %v", id, res, err)
				}
			}()
		}
		wg.Wait()
		if fulfilled.Load()+cancelled.Load() != 1 {
			t.Fatalf("%s: %d fulfills and %d cancels applied; want exactly one resolution", id, fulfilled.Load(), cancelled.Load())
		}
		rec, err := b0.TransferLog().Get(ctx, id)
		wantOK(t, err, "get")
		if fulfilled.Load() == 1 {
			if rec.State != ledger.StateExecuted {
				t.Fatalf("%s: a fulfill won but the state is %s", id, rec.State)
			}
			wantPayer -= int64(amount)
			wantPayee += int64(amount)
		} else if rec.State != ledger.StateCancelled {
			t.Fatalf("%s: a cancel won but the state is %s", id, rec.State)
		}
	}
	wantBalance(t, payer, i128(wantPayer))
	wantBalance(t, hold, ledger.Int128{})
	wantBalance(t, payee, i128(wantPayee))
}

// conserveMoney runs goroutines that each prepare transfers with a hold and
// resolve them at random, through every backend given, with a minimum on
// the payer so that some prepares are refused. At the end the balances
// equal what the transfers' final states imply and add up to zero.
func conserveMoney(t *testing.T, seed uint64, backends []ledger.Backend, perGoroutine int) {
	ctx := context.Background()
	payerOpts := limits(ledger.Limit(i128(-20_000)), ledger.Unlimited())
	holdOpts := limits(ledger.Limit(i128(0)), ledger.Unlimited())
	none := ledger.BalanceOptions{}
	var wantPayee, refused atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand(seed, uint64(g))
			b := backends[g%len(backends)]
			payer, hold, payee := b.Balance("payer", payerOpts), b.Balance("hold", holdOpts), b.Balance("payee", none)
			log := b.TransferLog()
			var open []ledger.Record
			for i := 0; i < perGoroutine; i++ {
				id := fmt.Sprintf("cons-%d-%d", g, i)
				amount := 1 + r.Uint64N(300)
				res, err := log.Create(ctx, prepared(id, amount, false), ledger.Debit(payer, amount), ledger.Credit(hold, amount))
				switch {
				case errors.Is(err, ledger.ErrMinimumExceeded):
					refused.Add(1)
				case err != nil:
					t.Errorf("create %s: %v", id, err)
					return
				default:
					open = append(open, res.Record)
				}
				// Resolve some of the open transfers, oldest first.
				for len(open) > 0 && r.IntN(3) > 0 {
					rec := open[0]
					open = open[1:]
					id, n := rec.Transfer.ID, rec.Transfer.Amount
					if r.IntN(2) == 0 {
						f, _ := fulfillmentFor(id)
						_, err = log.Fulfill(ctx, id, f, ledger.Debit(hold, n), ledger.Credit(payee, n))
						wantPayee.Add(int64(n))
					} else {
						_, err = log.Cancel(ctx, id, ledger.Debit(hold, n), ledger.Credit(payer, n))
					}
					if err != nil {
						t.Errorf("resolve %s: %v", id, err)
						return
					}
				}
			}
			for _, rec := range open {
				id, n := rec.Transfer.ID, rec.Transfer.Amount
				if _, err := log.Cancel(ctx, id, ledger.Debit(hold, n), ledger.Credit(payer, n)); err != nil {
					t.Errorf("cancel %s: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d prepares refused at the payer's minimum", refused.Load())
	if refused.Load() == 0 {
		t.Fatal("no prepare reached the payer's minimum; the test proves less than it should")
	}
	b := backends[0]
	wantBalance(t, b.Balance("payer", payerOpts), i128(-wantPayee.Load()))
	wantBalance(t, b.Balance("hold", holdOpts), ledger.Int128{})
	wantBalance(t, b.Balance("payee", none), i128(wantPayee.Load()))
	ps, err := b.TransferLog().Prepared(ctx)
	wantOK(t, err, "Prepared")
	if len(ps) != 0 {
		t.Fatalf("Prepared lists %d transfers after all were resolved", len(ps))
	}
}
