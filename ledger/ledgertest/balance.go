package ledgertest

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

func runBalance(t *testing.T, h Harness) {
	ctx := context.Background()
	unlimited := ledger.BalanceOptions{}

	t.Run("a missing balance reads zero", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "fresh", unlimited)
		if v := bal.Get(); v.Sign() != 0 {
			t.Fatalf("Get = %s, want 0", v)
		}
		wantBalance(t, bal, ledger.Int128{})
		if bal.Name() != "fresh" {
			t.Fatalf("Name = %q", bal.Name())
		}
	})

	t.Run("add and sub return the new balance and Get follows", func(t *testing.T) {
		s := newStore(t, h)
		r := newRand(seedFor(t), 1)
		bal := s.balance(t, "walk", unlimited)
		var want ledger.Int128
		for i := 0; i < 200; i++ {
			n := r.Uint64N(1_000_000)
			var got ledger.Int128
			var err error
			if r.IntN(2) == 0 {
				got, err = bal.Add(ctx, n)
				want = add(t, want, int64(n))
			} else {
				got, err = bal.Sub(ctx, n)
				want = add(t, want, -int64(n))
			}
			wantOK(t, err, "change")
			if got.Cmp(want) != 0 {
				t.Fatalf("step %d: result %s, want %s", i, got, want)
			}
			if g := bal.Get(); g.Cmp(want) != 0 {
				t.Fatalf("step %d: Get %s, want %s", i, g, want)
			}
		}
		wantBalance(t, bal, want)
	})

	t.Run("the maximum refuses a credit past it and changes nothing", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "capped", limits(ledger.Unlimited(), ledger.Limit(i128(100))))
		_, err := bal.Add(ctx, 60)
		wantOK(t, err, "add 60")
		_, err = bal.Add(ctx, 41)
		wantErr(t, err, ledger.ErrMaximumExceeded, "add 41 past 100")
		var le *ledger.LimitError
		if !errors.As(err, &le) {
			t.Fatalf("error %v is not a *ledger.LimitError", err)
		}
		if !le.Maximum || le.Sub || le.Amount != 41 || le.Limit.Cmp(i128(100)) != 0 || le.Current.Cmp(i128(60)) != 0 || le.Balance != "capped" {
			t.Fatalf("LimitError %+v does not describe +41 on 60 past maximum 100", le)
		}
		wantBalance(t, bal, i128(60))
		if g := bal.Get(); g.Cmp(i128(60)) != 0 {
			t.Fatalf("Get after refusal = %s, want 60", g)
		}
		v, err := bal.Add(ctx, 40)
		wantOK(t, err, "add 40 up to exactly the maximum")
		if v.Cmp(i128(100)) != 0 {
			t.Fatalf("balance %s, want 100", v)
		}
	})

	t.Run("the minimum refuses a debit past it and changes nothing", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "floored", limits(ledger.Limit(i128(-50)), ledger.Unlimited()))
		v, err := bal.Sub(ctx, 50)
		wantOK(t, err, "sub 50 down to exactly the minimum")
		if v.Cmp(i128(-50)) != 0 {
			t.Fatalf("balance %s, want -50", v)
		}
		_, err = bal.Sub(ctx, 1)
		wantErr(t, err, ledger.ErrMinimumExceeded, "sub 1 past -50")
		var le *ledger.LimitError
		if !errors.As(err, &le) || le.Maximum || !le.Sub || le.Limit.Cmp(i128(-50)) != 0 {
			t.Fatalf("error %v does not describe the minimum -50", err)
		}
		wantBalance(t, bal, i128(-50))
	})

	t.Run("limits can be changed and a balance outside them can move back", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "moving", limits(ledger.Unlimited(), ledger.Limit(i128(100))))
		_, err := bal.Add(ctx, 80)
		wantOK(t, err, "add 80")
		bal.SetMaximum(ledger.Limit(i128(50)))
		if m, ok := bal.Maximum().Value(); !ok || m.Cmp(i128(50)) != 0 {
			t.Fatalf("Maximum = %s, want 50", bal.Maximum())
		}
		_, err = bal.Add(ctx, 1)
		wantErr(t, err, ledger.ErrMaximumExceeded, "add above a lowered maximum")
		v, err := bal.Add(ctx, 0)
		wantOK(t, err, "a zero change is never refused")
		if v.Cmp(i128(80)) != 0 {
			t.Fatalf("add 0 = %s, want 80", v)
		}
		_, err = bal.Sub(ctx, 10)
		wantOK(t, err, "sub towards a lowered maximum")
		bal.SetMinimum(ledger.Limit(i128(100)))
		if m, ok := bal.Minimum().Value(); !ok || m.Cmp(i128(100)) != 0 {
			t.Fatalf("Minimum = %s, want 100", bal.Minimum())
		}
		bal.SetMaximum(ledger.Unlimited())
		if _, ok := bal.Maximum().Value(); ok {
			t.Fatalf("Maximum = %s, want unlimited", bal.Maximum())
		}
		_, err = bal.Sub(ctx, 1)
		wantErr(t, err, ledger.ErrMinimumExceeded, "sub below a raised minimum")
		_, err = bal.Add(ctx, 5)
		wantOK(t, err, "add towards a raised minimum")
		wantBalance(t, bal, i128(75))
	})

	t.Run("amounts up to 2^64-1 and balances beyond 64 bits", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "wide", ledger.BalanceOptions{})
		want := new(big.Int)
		step := new(big.Int).SetUint64(maxU64)
		for i := 0; i < 3; i++ {
			v, err := bal.Add(ctx, maxU64)
			wantOK(t, err, "add 2^64-1")
			want.Add(want, step)
			if v.Big().Cmp(want) != 0 {
				t.Fatalf("after %d adds: %s, want %s", i+1, v, want)
			}
		}
		for i := 0; i < 5; i++ {
			v, err := bal.Sub(ctx, maxU64)
			wantOK(t, err, "sub 2^64-1")
			want.Sub(want, step)
			if v.Big().Cmp(want) != 0 {
				t.Fatalf("after %d subs: %s, want %s", i+1, v, want)
			}
		}
		wantBalance(t, bal, mustBig(t, want))

		exact := s.balance(t, "exact", limits(ledger.Unlimited(), ledger.Limit(u128(maxU64))))
		_, err := exact.Add(ctx, maxU64)
		wantOK(t, err, "add 2^64-1 up to a maximum of 2^64-1")
		_, err = exact.Add(ctx, 1)
		wantErr(t, err, ledger.ErrMaximumExceeded, "add 1 past 2^64-1")
		wantBalance(t, exact, u128(maxU64))
	})

	t.Run("a result beyond ±2^127 is refused as an overflow", func(t *testing.T) {
		loc := h.NewStore(t)
		hi, lo := int128Max(t), int128Min(t)
		wantOK(t, h.SetBalance(ctx, loc, "edge-hi", add(t, hi, -5)), "SetBalance")
		wantOK(t, h.SetBalance(ctx, loc, "edge-lo", add(t, lo, 5)), "SetBalance")
		s := &store{h: h, loc: loc}
		s.open(t)
		t.Cleanup(func() { s.shut(t) })

		up := s.balance(t, "edge-hi", ledger.BalanceOptions{})
		v, err := up.Add(ctx, 5)
		wantOK(t, err, "add up to 2^127-1")
		if v.Cmp(hi) != 0 {
			t.Fatalf("balance %s, want 2^127-1", v)
		}
		for _, n := range []uint64{1, maxU64} {
			_, err = up.Add(ctx, n)
			wantErr(t, err, ledger.ErrOverflow, "add past 2^127-1")
		}
		wantBalance(t, up, hi)

		down := s.balance(t, "edge-lo", ledger.BalanceOptions{})
		v, err = down.Sub(ctx, 5)
		wantOK(t, err, "sub down to -2^127")
		if v.Cmp(lo) != 0 {
			t.Fatalf("balance %s, want -2^127", v)
		}
		for _, n := range []uint64{1, maxU64} {
			_, err = down.Sub(ctx, n)
			wantErr(t, err, ledger.ErrOverflow, "sub past -2^127")
		}
		wantBalance(t, down, lo)
		_, err = down.Add(ctx, 1)
		wantOK(t, err, "move back from -2^127")
	})

	t.Run("balances with different names are independent", func(t *testing.T) {
		s := newStore(t, h)
		names := []string{"", "a", "a2", "peer.x.usd.9.bob"}
		bals := make([]ledger.Balance, len(names))
		for i, n := range names {
			bals[i] = s.balance(t, n, unlimited)
		}
		for i, b := range bals {
			_, err := b.Add(ctx, uint64(i+1)*7)
			wantOK(t, err, "add")
		}
		for i, b := range bals {
			wantBalance(t, b, i128(int64(i+1)*7))
		}
	})

	t.Run("handles on one name share the value and keep their own limits", func(t *testing.T) {
		s := newStore(t, h)
		a := s.balance(t, "shared", limits(ledger.Unlimited(), ledger.Limit(i128(10))))
		b := s.balance(t, "shared", unlimited)
		_, err := a.Add(ctx, 8)
		wantOK(t, err, "add through a")
		wantBalance(t, b, i128(8))
		if g := b.Get(); g.Cmp(i128(8)) != 0 {
			t.Fatalf("Get through the other handle = %s, want 8", g)
		}
		_, err = a.Add(ctx, 3)
		wantErr(t, err, ledger.ErrMaximumExceeded, "a's maximum")
		_, err = b.Add(ctx, 3)
		wantOK(t, err, "b has no maximum")
		wantBalance(t, a, i128(11))
	})

	t.Run("Get reflects transfer log changes made through the backend", func(t *testing.T) {
		s := newStore(t, h)
		bal := s.balance(t, "via-log", unlimited)
		log := s.b.TransferLog()
		_, err := log.Create(ctx, prepared("get-1", 7, true), ledger.Credit(bal, 7))
		wantOK(t, err, "create")
		if g := bal.Get(); g.Cmp(i128(7)) != 0 {
			t.Fatalf("Get = %s, want 7", g)
		}
		_, err = log.Cancel(ctx, "get-1", ledger.Debit(bal, 7))
		wantOK(t, err, "cancel")
		if g := bal.Get(); g.Sign() != 0 {
			t.Fatalf("Get = %s, want 0", g)
		}
	})
}
