package ledgertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

func runRestart(t *testing.T, h Harness) {
	t.Run("a reopened store holds the same balances and transfers", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t, h)
		r := newRand(seedFor(t), 3)
		payerOpts := limits(ledger.Limit(i128(-1_000_000)), ledger.Unlimited())
		none := ledger.BalanceOptions{}
		names := []string{"payer", "hold", "payee", "", "wide"}
		opts := map[string]ledger.BalanceOptions{"payer": payerOpts}

		wide := s.balance(t, "wide", none)
		for i := 0; i < 3; i++ {
			_, err := wide.Add(ctx, maxU64)
			wantOK(t, err, "add 2^64-1")
		}
		_, err := s.balance(t, "", none).Sub(ctx, 77)
		wantOK(t, err, "sub from the 2.x balance")

		log := s.b.TransferLog()
		payer, hold, payee := s.balance(t, "payer", payerOpts), s.balance(t, "hold", none), s.balance(t, "payee", none)
		records := map[string]ledger.Record{} // as stored
		created := map[string]ledger.Record{} // as given to Create
		for i := 0; i < 40; i++ {
			id := fmt.Sprintf("restart-%d", i)
			amount := 1 + r.Uint64N(50_000)
			rec := prepared(id, amount, r.IntN(2) == 0)
			res, err := log.Create(ctx, rec, ledger.Debit(payer, amount), ledger.Credit(hold, amount))
			wantOK(t, err, "create")
			created[id] = rec
			switch r.IntN(3) {
			case 0:
				f, _ := fulfillmentFor(id)
				res, err = log.Fulfill(ctx, id, f, ledger.Debit(hold, amount), ledger.Credit(payee, amount))
			case 1:
				res, err = log.Cancel(ctx, id, ledger.Debit(hold, amount), ledger.Credit(payer, amount))
			}
			wantOK(t, err, "resolve")
			records[id] = res.Record
		}
		before := map[string]ledger.Int128{}
		for _, n := range names {
			v, err := s.b.Balance(n, opts[n]).Load(ctx)
			wantOK(t, err, "load")
			before[n] = v
		}

		s.reopen(t)

		log = s.b.TransferLog()
		for _, n := range names {
			bal := s.balance(t, n, opts[n])
			if g := bal.Get(); g.Cmp(before[n]) != 0 {
				t.Fatalf("after reopen and Connect, Get of %q = %s, want %s", n, g, before[n])
			}
			wantBalance(t, bal, before[n])
		}
		var stillPrepared []ledger.Record
		for _, want := range records {
			wantStored(t, log, want)
			if want.State == ledger.StatePrepared {
				stillPrepared = append(stillPrepared, want)
			}
		}
		ps, err := log.Prepared(ctx)
		wantOK(t, err, "Prepared")
		if len(ps) != len(stillPrepared) {
			t.Fatalf("after reopen Prepared lists %d transfers, want %d", len(ps), len(stillPrepared))
		}
		for _, p := range ps {
			wantRecord(t, p, records[p.Transfer.ID], "Prepared after reopen")
		}

		// The reopened log carries on: repeats are no-ops and prepared
		// transfers can still resolve.
		payer, hold, payee = s.balance(t, "payer", payerOpts), s.balance(t, "hold", none), s.balance(t, "payee", none)
		for id, rec := range created {
			n := rec.Transfer.Amount
			res, err := log.Create(ctx, rec, ledger.Debit(payer, n), ledger.Credit(hold, n))
			wantOK(t, err, "repeated create after reopen")
			if res.Applied {
				t.Fatalf("repeated create of %s after reopen was applied", id)
			}
		}
		for _, rec := range stillPrepared {
			id, n := rec.Transfer.ID, rec.Transfer.Amount
			f, _ := fulfillmentFor(id)
			res, err := log.Fulfill(ctx, id, f, ledger.Debit(hold, n), ledger.Credit(payee, n))
			wantOK(t, err, "fulfill after reopen")
			if !res.Applied {
				t.Fatalf("fulfill of %s after reopen was not applied", id)
			}
		}
		wantBalance(t, hold, ledger.Int128{})
		wantBalance(t, payer, before["payer"])
		total, err := before["hold"].Add(before["payee"])
		wantOK(t, err, "sum")
		wantBalance(t, payee, total)
	})
}

func runShared(t *testing.T, h Harness) {
	if h.NoShare != "" {
		t.Skipf("not applicable to %s: %s", h.Name, h.NoShare)
	}
	openTwo := func(t *testing.T) []ledger.Backend {
		s := newStore(t, h)
		other := &store{h: h, loc: s.loc}
		other.open(t)
		t.Cleanup(func() { other.shut(t) })
		return []ledger.Backend{s.b, other.b}
	}

	t.Run("two backends on one store keep a limited balance within its limits", func(t *testing.T) {
		raceOnBalance(t, seedFor(t), openTwo(t), 100)
	})

	t.Run("two backends on one store resolve a transfer once", func(t *testing.T) {
		raceToResolve(t, seedFor(t), openTwo(t), 10)
	})

	t.Run("two backends on one store conserve money", func(t *testing.T) {
		conserveMoney(t, seedFor(t), openTwo(t), 15)
	})

	t.Run("a transfer written through one backend is read through the other", func(t *testing.T) {
		ctx := context.Background()
		bs := openTwo(t)
		a, b := bs[0].TransferLog(), bs[1].TransferLog()
		rec := prepared("seen-1", 12, true)
		_, err := a.Create(ctx, rec)
		wantOK(t, err, "create through a")
		want := rec
		want.State = ledger.StatePrepared
		wantStored(t, b, want)
		f, _ := fulfillmentFor("seen-1")
		_, err = b.Fulfill(ctx, "seen-1", f)
		wantOK(t, err, "fulfill through b")
		_, err = a.Cancel(ctx, "seen-1")
		wantErr(t, err, ledger.ErrAlreadyFulfilled, "cancel through a")
		got, err := a.GetFulfillment(ctx, "seen-1")
		wantOK(t, err, "GetFulfillment through a")
		if got != f {
			t.Fatalf("GetFulfillment = %q, want %q", got, f)
		}
	})
}
