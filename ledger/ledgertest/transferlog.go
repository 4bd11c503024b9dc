package ledgertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

func runTransferLog(t *testing.T, h Harness) {
	ctx := context.Background()
	unlimited := ledger.BalanceOptions{}

	t.Run("create records a prepared transfer with its hold", func(t *testing.T) {
		s := newStore(t, h)
		payer := s.balance(t, "payer", unlimited)
		hold := s.balance(t, "hold", unlimited)
		log := s.b.TransferLog()
		rec := prepared("prep-1", maxU64, false)
		rec.Transfer.NoteToSelf = json.RawMessage(`{"source":"ledgertest"}`)
		res, err := log.Create(ctx, rec, ledger.Debit(payer, maxU64), ledger.Credit(hold, maxU64))
		wantOK(t, err, "create")
		want := rec
		want.State = ledger.StatePrepared
		if !res.Applied {
			t.Fatal("Applied = false for a new transfer")
		}
		wantRecord(t, res.Record, want, "result")
		neg, _ := u128(maxU64).Neg()
		wantBalances(t, res, neg, u128(maxU64))
		wantStored(t, log, want)
		got, _ := log.Get(ctx, "prep-1")
		if !got.Transfer.ExpiresAt.Equal(rec.Transfer.ExpiresAt) {
			t.Fatalf("expiresAt %s, want %s (milliseconds kept)", got.Transfer.ExpiresAt, rec.Transfer.ExpiresAt)
		}
		if got.Transfer.Amount != maxU64 {
			t.Fatalf("amount %d, want 2^64-1", got.Transfer.Amount)
		}
		wantBalance(t, payer, neg)
		wantBalance(t, hold, u128(maxU64))
	})

	t.Run("create of an unconditional transfer executes it at once", func(t *testing.T) {
		s := newStore(t, h)
		payee := s.balance(t, "payee", unlimited)
		log := s.b.TransferLog()
		rec := ledger.Record{Transfer: transfer("direct-1", 25, false), Incoming: true}
		res, err := log.Create(ctx, rec, ledger.Credit(payee, 25))
		wantOK(t, err, "create")
		want := rec
		want.State = ledger.StateExecuted
		wantRecord(t, res.Record, want, "result")
		wantStored(t, log, want)
		wantBalance(t, payee, i128(25))
		ps, err := log.Prepared(ctx)
		wantOK(t, err, "prepared")
		if len(ps) != 0 {
			t.Fatalf("Prepared lists %d transfers, want none", len(ps))
		}
	})

	t.Run("create refuses a record without id or in a state its condition forbids", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "untouched", unlimited)
		log := s.b.TransferLog()
		noID := prepared("", 5, false)
		executedCond := prepared("bad-1", 5, false)
		executedCond.State = ledger.StateExecuted
		preparedUncond := ledger.Record{Transfer: transfer("bad-2", 5, false), State: ledger.StatePrepared}
		cancelled := prepared("bad-3", 5, false)
		cancelled.State = ledger.StateCancelled
		withFulfillment := prepared("bad-4", 5, false)
		withFulfillment.State = ledger.StatePrepared
		withFulfillment.Fulfillment, _ = fulfillmentFor("bad-4")
		for i, rec := range []ledger.Record{noID, executedCond, preparedUncond, cancelled, withFulfillment} {
			_, err := log.Create(ctx, rec, ledger.Credit(bal, 5))
			wantErr(t, err, ledger.ErrInvalidTransfer, fmt.Sprintf("case %d", i))
			if rec.Transfer.ID != "" {
				wantNotStored(t, log, rec.Transfer.ID)
			}
		}
		wantBalance(t, bal, ledger.Int128{})
	})

	t.Run("the same create again is a no-op", func(t *testing.T) {
		s := newStore(t, h)
		hold := s.balance(t, "hold", unlimited)
		log := s.b.TransferLog()
		rec := prepared("again-1", 40, true)
		_, err := log.Create(ctx, rec, ledger.Credit(hold, 40))
		wantOK(t, err, "create")
		want := rec
		want.State = ledger.StatePrepared

		again := rec
		again.Transfer.Custom = json.RawMessage(`{ "n": 12345678901234567890, "memo": "\u003ctea \u0026 cake\u003e" }`)
		again.Transfer.NoteToSelf = json.RawMessage(`{"local":"differs and is not compared"}`)
		for i := 0; i < 2; i++ {
			res, err := log.Create(ctx, again, ledger.Credit(hold, 40))
			wantOK(t, err, "repeated create")
			if res.Applied || len(res.Balances) != 0 {
				t.Fatalf("repeated create: Applied %v, Balances %v; want a no-op", res.Applied, res.Balances)
			}
			wantRecord(t, res.Record, want, "repeated create result")
		}
		wantBalance(t, hold, i128(40))

		f, _ := fulfillmentFor("again-1")
		_, err = log.Fulfill(ctx, "again-1", f, ledger.Debit(hold, 40))
		wantOK(t, err, "fulfill")
		res, err := log.Create(ctx, rec, ledger.Credit(hold, 40))
		wantOK(t, err, "create after fulfill")
		if res.Applied || res.Record.State != ledger.StateExecuted {
			t.Fatalf("create after fulfill: Applied %v, state %s; want a no-op returning the executed record", res.Applied, res.Record.State)
		}
		wantBalance(t, hold, ledger.Int128{})
	})

	t.Run("the same id with a different body is refused", func(t *testing.T) {
		s := newStore(t, h)
		hold := s.balance(t, "hold", unlimited)
		log := s.b.TransferLog()
		rec := prepared("dup-1", 40, true)
		_, err := log.Create(ctx, rec, ledger.Credit(hold, 40))
		wantOK(t, err, "create")
		want := rec
		want.State = ledger.StatePrepared
		variants := map[string]func(r *ledger.Record){
			"amount":    func(r *ledger.Record) { r.Transfer.Amount++ },
			"direction": func(r *ledger.Record) { r.Incoming = !r.Incoming },
			"condition": func(r *ledger.Record) { _, r.Transfer.ExecutionCondition = fulfillmentFor("other") },
			"to":        func(r *ledger.Record) { r.Transfer.To += "x" },
			"expiry":    func(r *ledger.Record) { r.Transfer.ExpiresAt = r.Transfer.ExpiresAt.Add(1e6) },
			"custom":    func(r *ledger.Record) { r.Transfer.Custom = json.RawMessage(`{"memo":"other"}`) },
			"ilp":       func(r *ledger.Record) { r.Transfer.ILP = "AQ" },
		}
		names := make([]string, 0, len(variants))
		for n := range variants {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := rec
			variants[n](&v)
			_, err := log.Create(ctx, v, ledger.Credit(hold, v.Transfer.Amount))
			wantErr(t, err, ledger.ErrDuplicateID, "different "+n)
		}
		wantStored(t, log, want)
		wantBalance(t, hold, i128(40))
	})

	t.Run("fulfill executes a transfer once", func(t *testing.T) {
		s := newStore(t, h)
		hold := s.balance(t, "hold", unlimited)
		payee := s.balance(t, "payee", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("ful-1", 30, false), ledger.Credit(hold, 30))
		wantOK(t, err, "create")
		f, _ := fulfillmentFor("ful-1")
		res, err := log.Fulfill(ctx, "ful-1", f, ledger.Debit(hold, 30), ledger.Credit(payee, 30))
		wantOK(t, err, "fulfill")
		if !res.Applied || res.Record.State != ledger.StateExecuted || res.Record.Fulfillment != f {
			t.Fatalf("fulfill result %+v", res)
		}
		wantBalances(t, res, i128(0), i128(30))

		res, err = log.Fulfill(ctx, "ful-1", f, ledger.Debit(hold, 30), ledger.Credit(payee, 30))
		wantOK(t, err, "repeated fulfill")
		if res.Applied || res.Record.State != ledger.StateExecuted {
			t.Fatalf("repeated fulfill: Applied %v, state %s; want a no-op", res.Applied, res.Record.State)
		}
		other, _ := fulfillmentFor("not ful-1")
		_, err = log.Fulfill(ctx, "ful-1", other, ledger.Credit(payee, 30))
		wantErr(t, err, ledger.ErrAlreadyFulfilled, "fulfill with another fulfillment")
		_, err = log.Cancel(ctx, "ful-1", ledger.Credit(hold, 30))
		wantErr(t, err, ledger.ErrAlreadyFulfilled, "cancel after fulfill")

		got, err := log.GetFulfillment(ctx, "ful-1")
		wantOK(t, err, "GetFulfillment")
		if got != f {
			t.Fatalf("GetFulfillment = %q, want %q", got, f)
		}
		want := prepared("ful-1", 30, false)
		want.State, want.Fulfillment = ledger.StateExecuted, f
		wantStored(t, log, want)
		wantBalance(t, hold, ledger.Int128{})
		wantBalance(t, payee, i128(30))
	})

	t.Run("cancel rolls a transfer back once", func(t *testing.T) {
		s := newStore(t, h)
		payer := s.balance(t, "payer", unlimited)
		hold := s.balance(t, "hold", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("can-1", 30, false), ledger.Debit(payer, 30), ledger.Credit(hold, 30))
		wantOK(t, err, "create")
		res, err := log.Cancel(ctx, "can-1", ledger.Debit(hold, 30), ledger.Credit(payer, 30))
		wantOK(t, err, "cancel")
		if !res.Applied || res.Record.State != ledger.StateCancelled {
			t.Fatalf("cancel result %+v", res)
		}
		wantBalances(t, res, i128(0), i128(0))
		res, err = log.Cancel(ctx, "can-1", ledger.Debit(hold, 30), ledger.Credit(payer, 30))
		wantOK(t, err, "repeated cancel")
		if res.Applied || res.Record.State != ledger.StateCancelled {
			t.Fatalf("repeated cancel: Applied %v, state %s; want a no-op", res.Applied, res.Record.State)
		}
		f, _ := fulfillmentFor("can-1")
		_, err = log.Fulfill(ctx, "can-1", f, ledger.Credit(payer, 30))
		wantErr(t, err, ledger.ErrAlreadyRolledBack, "fulfill after cancel")
		_, err = log.GetFulfillment(ctx, "can-1")
		wantErr(t, err, ledger.ErrAlreadyRolledBack, "GetFulfillment after cancel")
		want := prepared("can-1", 30, false)
		want.State = ledger.StateCancelled
		wantStored(t, log, want)
		wantBalance(t, payer, ledger.Int128{})
		wantBalance(t, hold, ledger.Int128{})
	})

	t.Run("an unconditional transfer is neither fulfilled nor cancelled", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "b", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, ledger.Record{Transfer: transfer("uncond-1", 9, false)}, ledger.Credit(bal, 9))
		wantOK(t, err, "create")
		f, _ := fulfillmentFor("uncond-1")
		_, err = log.Fulfill(ctx, "uncond-1", f, ledger.Credit(bal, 9))
		wantErr(t, err, ledger.ErrTransferNotConditional, "fulfill")
		_, err = log.Cancel(ctx, "uncond-1", ledger.Debit(bal, 9))
		wantErr(t, err, ledger.ErrAlreadyFulfilled, "cancel")
		_, err = log.GetFulfillment(ctx, "uncond-1")
		wantErr(t, err, ledger.ErrTransferNotConditional, "GetFulfillment")
		wantBalance(t, bal, i128(9))
	})

	t.Run("a prepared transfer has no fulfillment and refuses an empty one", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "b", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("empty-1", 9, true))
		wantOK(t, err, "create")
		_, err = log.GetFulfillment(ctx, "empty-1")
		wantErr(t, err, ledger.ErrMissingFulfillment, "GetFulfillment while prepared")
		_, err = log.Fulfill(ctx, "empty-1", "", ledger.Credit(bal, 9))
		wantErr(t, err, ledger.ErrInvalidTransfer, "empty fulfillment")
		want := prepared("empty-1", 9, true)
		want.State = ledger.StatePrepared
		wantStored(t, log, want)
		wantBalance(t, bal, ledger.Int128{})
	})

	t.Run("unknown ids are not found and change nothing", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "b", unlimited)
		log := s.b.TransferLog()
		const id = "never-created"
		wantNotStored(t, log, id)
		_, err := log.GetFulfillment(ctx, id)
		wantErr(t, err, ledger.ErrTransferNotFound, "GetFulfillment")
		f, _ := fulfillmentFor(id)
		_, err = log.Fulfill(ctx, id, f, ledger.Credit(bal, 5))
		wantErr(t, err, ledger.ErrTransferNotFound, "Fulfill")
		_, err = log.Cancel(ctx, id, ledger.Credit(bal, 5))
		wantErr(t, err, ledger.ErrTransferNotFound, "Cancel")
		if _, ok := log.GetCached(id); ok {
			t.Fatal("GetCached found an unknown id")
		}
		log.DropCached(id)
		wantBalance(t, bal, ledger.Int128{})
		wantNotStored(t, log, id)
	})

	t.Run("the cache follows the log until dropped", func(t *testing.T) {
		s := newStore(t, h)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("cache-1", 3, true))
		wantOK(t, err, "create")
		r, ok := log.GetCached("cache-1")
		if !ok || r.State != ledger.StatePrepared || r.Transfer.ID != "cache-1" {
			t.Fatalf("GetCached after create = %+v, %v", r, ok)
		}
		f, _ := fulfillmentFor("cache-1")
		_, err = log.Fulfill(ctx, "cache-1", f)
		wantOK(t, err, "fulfill")
		r, ok = log.GetCached("cache-1")
		if !ok || r.State != ledger.StateExecuted || r.Fulfillment != f {
			t.Fatalf("GetCached after fulfill = %+v, %v", r, ok)
		}
		log.DropCached("cache-1")
		if _, ok := log.GetCached("cache-1"); ok {
			t.Fatal("GetCached found a dropped transfer")
		}
		r, err = log.Get(ctx, "cache-1")
		wantOK(t, err, "get a dropped transfer from the store")
		if r.State != ledger.StateExecuted {
			t.Fatalf("stored state %s", r.State)
		}
		if r, ok := log.GetCached("cache-1"); !ok || r.State != ledger.StateExecuted {
			t.Fatalf("GetCached after Get = %+v, %v; Get fills the cache", r, ok)
		}
	})

	t.Run("Prepared lists exactly the prepared transfers", func(t *testing.T) {
		s := newStore(t, h)
		log := s.b.TransferLog()
		r := newRand(seedFor(t), 2)
		want := map[string]ledger.Record{}
		for i := 0; i < 30; i++ {
			id := fmt.Sprintf("list-%02d", i)
			rec := prepared(id, uint64(i+1), r.IntN(2) == 0)
			if r.IntN(5) == 0 {
				rec.Transfer = transfer(id, uint64(i+1), false)
			}
			res, err := log.Create(ctx, rec)
			wantOK(t, err, "create")
			if res.Record.State != ledger.StatePrepared {
				continue
			}
			switch r.IntN(3) {
			case 0:
				f, _ := fulfillmentFor(id)
				_, err = log.Fulfill(ctx, id, f)
				wantOK(t, err, "fulfill")
			case 1:
				_, err = log.Cancel(ctx, id)
				wantOK(t, err, "cancel")
			default:
				want[id] = res.Record
			}
		}
		if len(want) == 0 {
			t.Fatal("the seed left no transfer prepared; the test checks nothing")
		}
		got, err := log.Prepared(ctx)
		wantOK(t, err, "Prepared")
		if len(got) != len(want) {
			t.Fatalf("Prepared lists %d transfers, want %d", len(got), len(want))
		}
		for _, g := range got {
			w, ok := want[g.Transfer.ID]
			if !ok {
				t.Fatalf("Prepared lists %q (state %s), which is not prepared", g.Transfer.ID, g.State)
			}
			wantRecord(t, g, w, "Prepared")
		}
	})
}
