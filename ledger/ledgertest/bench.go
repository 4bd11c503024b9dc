package ledgertest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

// benchConcurrency gives the goroutine counts every benchmark runs at.
func benchConcurrency() []int { return []int{1, 32} }

// parallelism sets b's RunParallel goroutine count to at least conc.
func parallelism(b *testing.B, conc int) {
	p := (conc + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	b.SetParallelism(max(p, 1))
}

func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}

// BenchmarkBalanceAdd measures atomic balance changes on one limited
// balance (alternately Add and Sub, so it stays inside its limits and the
// limit checks run), at concurrency 1 and 32 (sub-benchmarks conc=1 and
// conc=32). It reports ns/op and ops/s.
func BenchmarkBalanceAdd(b *testing.B, h Harness) {
	for _, conc := range benchConcurrency() {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			s := newStore(b, h)
			ctx := context.Background()
			opts := limits(ledger.Limit(i128(-1<<40)), ledger.Limit(i128(1<<40)))
			bal := s.balance(b, "bench", opts)
			b.ReportAllocs()
			if conc == 1 {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					if i&1 == 0 {
						_, err = bal.Add(ctx, 7)
					} else {
						_, err = bal.Sub(ctx, 7)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reportRate(b, "ops/s")
				return
			}
			parallelism(b, conc)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					var err error
					if i&1 == 0 {
						_, err = bal.Add(ctx, 7)
					} else {
						_, err = bal.Sub(ctx, 7)
					}
					i++
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			reportRate(b, "ops/s")
		})
	}
}

// BenchmarkPrepareFulfill measures prepare→fulfill pairs: Create with a
// hold (payer → hold) then Fulfill with its credit (hold → payee), each one
// atomic operation with its two balance changes, at concurrency 1 and 32.
// One op is one pair; it reports ns/op and pairs/s.
func BenchmarkPrepareFulfill(b *testing.B, h Harness) {
	for _, conc := range benchConcurrency() {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			s := newStore(b, h)
			ctx := context.Background()
			payer := s.balance(b, "payer", ledger.BalanceOptions{})
			hold := s.balance(b, "hold", limits(ledger.Limit(i128(0)), ledger.Unlimited()))
			payee := s.balance(b, "payee", ledger.BalanceOptions{})
			log := s.b.TransferLog()
			f, cond := fulfillmentFor("bench")
			base := transfer("", 10, true)
			base.ExecutionCondition = cond
			var next atomic.Int64
			pair := func() error {
				rec := ledger.Record{Transfer: base}
				rec.Transfer.ID = fmt.Sprintf("bench-%d", next.Add(1))
				id := rec.Transfer.ID
				if _, err := log.Create(ctx, rec, ledger.Debit(payer, 10), ledger.Credit(hold, 10)); err != nil {
					return err
				}
				if _, err := log.Fulfill(ctx, id, f, ledger.Debit(hold, 10), ledger.Credit(payee, 10)); err != nil {
					return err
				}
				log.DropCached(id) // as a plugin does once a transfer is resolved
				return nil
			}
			b.ReportAllocs()
			if conc == 1 {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := pair(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
			} else {
				parallelism(b, conc)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := pair(); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
			}
			reportRate(b, "pairs/s")
			wantBalance(b, hold, ledger.Int128{})
			wantBalance(b, payee, i128(10*next.Load()))
		})
	}
}
