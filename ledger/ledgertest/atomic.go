package ledgertest

import (
	"context"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

// runAtomic checks that a transfer's state change and its balance changes
// happen together or not at all.
func runAtomic(t *testing.T, h Harness) {
	ctx := context.Background()
	unlimited := ledger.BalanceOptions{}

	t.Run("a refused create records neither the transfer nor any balance change", func(t *testing.T) {
		s := newStore(t, h)
		payer := s.balance(t, "payer", unlimited)
		hold := s.balance(t, "hold", limits(ledger.Unlimited(), ledger.Limit(i128(10))))
		log := s.b.TransferLog()
		rec := prepared("refused-1", 50, false)
		_, err := log.Create(ctx, rec, ledger.Debit(payer, 50), ledger.Credit(hold, 50))
		wantErr(t, err, ledger.ErrMaximumExceeded, "create past the hold's maximum")
		wantNotStored(t, log, "refused-1")
		if _, ok := log.GetCached("refused-1"); ok {
			t.Fatal("a refused transfer is cached")
		}
		wantBalance(t, payer, ledger.Int128{})
		wantBalance(t, hold, ledger.Int128{})
		ps, err := log.Prepared(ctx)
		wantOK(t, err, "Prepared")
		if len(ps) != 0 {
			t.Fatalf("Prepared lists %d transfers after a refused create", len(ps))
		}

		// The id is not used up: the same transfer within limits goes through.
		rec.Transfer.Amount = 10
		res, err := log.Create(ctx, rec, ledger.Debit(payer, 10), ledger.Credit(hold, 10))
		wantOK(t, err, "create within limits")
		wantBalances(t, res, i128(-10), i128(10))
	})

	t.Run("a refused fulfill leaves the transfer prepared and the balances untouched", func(t *testing.T) {
		s := newStore(t, h)
		hold := s.balance(t, "hold", unlimited)
		payee := s.balance(t, "payee", limits(ledger.Unlimited(), ledger.Limit(i128(5))))
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("refused-2", 20, false), ledger.Credit(hold, 20))
		wantOK(t, err, "create")
		f, _ := fulfillmentFor("refused-2")
		_, err = log.Fulfill(ctx, "refused-2", f, ledger.Debit(hold, 20), ledger.Credit(payee, 20))
		wantErr(t, err, ledger.ErrMaximumExceeded, "fulfill past the payee's maximum")
		want := prepared("refused-2", 20, false)
		want.State = ledger.StatePrepared
		wantStored(t, log, want)
		wantBalance(t, hold, i128(20))
		wantBalance(t, payee, ledger.Int128{})
		_, err = log.GetFulfillment(ctx, "refused-2")
		wantErr(t, err, ledger.ErrMissingFulfillment, "GetFulfillment after a refused fulfill")

		// Still prepared, so it can be rolled back.
		_, err = log.Cancel(ctx, "refused-2", ledger.Debit(hold, 20))
		wantOK(t, err, "cancel")
		wantBalance(t, hold, ledger.Int128{})
	})

	t.Run("a refused cancel leaves the transfer prepared and the balances untouched", func(t *testing.T) {
		s := newStore(t, h)
		payer := s.balance(t, "payer", limits(ledger.Unlimited(), ledger.Limit(i128(0))))
		hold := s.balance(t, "hold", limits(ledger.Limit(i128(0)), ledger.Unlimited()))
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("refused-3", 20, false), ledger.Debit(payer, 20), ledger.Credit(hold, 20))
		wantOK(t, err, "create")
		_, err = log.Cancel(ctx, "refused-3", ledger.Debit(hold, 20), ledger.Credit(payer, 21))
		wantErr(t, err, ledger.ErrMaximumExceeded, "cancel returning more than held")
		want := prepared("refused-3", 20, false)
		want.State = ledger.StatePrepared
		wantStored(t, log, want)
		wantBalance(t, payer, i128(-20))
		wantBalance(t, hold, i128(20))
	})

	t.Run("changes to one balance chain in order and are refused together", func(t *testing.T) {
		s := newStore(t, h)
		a := s.balance(t, "a", limits(ledger.Unlimited(), ledger.Limit(i128(10))))
		log := s.b.TransferLog()
		res, err := log.Create(ctx, prepared("chain-1", 1, false), ledger.Credit(a, 5), ledger.Debit(a, 3), ledger.Credit(a, 1))
		wantOK(t, err, "create with three changes to one balance")
		wantBalances(t, res, i128(5), i128(2), i128(3))
		wantBalance(t, a, i128(3))
		_, err = log.Create(ctx, prepared("chain-2", 1, false), ledger.Credit(a, 6), ledger.Credit(a, 6))
		wantErr(t, err, ledger.ErrMaximumExceeded, "second change past the maximum")
		wantBalance(t, a, i128(3))
		wantNotStored(t, log, "chain-2")
	})

	t.Run("an overflow in any change refuses the whole operation", func(t *testing.T) {
		loc := h.NewStore(t)
		wantOK(t, h.SetBalance(ctx, loc, "edge", int128Max(t)), "SetBalance")
		s := &store{h: h, loc: loc}
		s.open(t)
		t.Cleanup(func() { s.shut(t) })
		other := s.balance(t, "other", unlimited)
		edge := s.balance(t, "edge", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("over-1", 1, false), ledger.Debit(other, 1), ledger.Credit(edge, 1))
		wantErr(t, err, ledger.ErrOverflow, "create")
		wantNotStored(t, log, "over-1")
		wantBalance(t, other, ledger.Int128{})
		wantBalance(t, edge, int128Max(t))

		_, err = log.Create(ctx, prepared("over-2", 1, false), ledger.Debit(other, 1))
		wantOK(t, err, "create")
		f, _ := fulfillmentFor("over-2")
		_, err = log.Fulfill(ctx, "over-2", f, ledger.Credit(other, 1), ledger.Credit(edge, maxU64))
		wantErr(t, err, ledger.ErrOverflow, "fulfill")
		want := prepared("over-2", 1, false)
		want.State = ledger.StatePrepared
		wantStored(t, log, want)
		wantBalance(t, other, i128(-1))
		wantBalance(t, edge, int128Max(t))
	})
}
