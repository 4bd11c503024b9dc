package pair_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// BenchmarkRoundTrip measures prepare→fulfill round trips through a pair on
// the memory backend with the system clock (so every transfer arms and
// stops a real expiry timer) and a subscriber on each end, at concurrency 1
// and 64. One op is one payment: SendTransfer from alice, FulfillCondition
// at bob, four events delivered. It reports round trips per second.
func BenchmarkRoundTrip(b *testing.B) {
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchRoundTrip(b, conc) })
	}
}

func benchRoundTrip(b *testing.B, conc int) {
	ctx := context.Background()
	alice, bob, err := pair.New(options(nil, ledger.Bound{}))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []*pair.End{alice, bob} {
		if err := p.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		defer p.Disconnect(ctx)
	}
	var fulfilled atomic.Int64
	alice.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventOutgoingFulfill {
			fulfilled.Add(1)
		}
	})
	bob.Subscribe(func(ev ledger.Event) {})

	f := ilp.Fulfillment{1, 2, 3}
	cond := ilp.ConditionOf(f).String()
	expires := time.Now().Add(time.Hour)
	to := bob.Account()
	var seq atomic.Uint64
	payment := func(buf []byte) error {
		id := string(strconv.AppendUint(buf, seq.Add(1), 10))
		t := ledger.Transfer{ID: id, To: to, Amount: 1, ILP: "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA", ExecutionCondition: cond, ExpiresAt: expires}
		if err := alice.SendTransfer(ctx, t); err != nil {
			return err
		}
		return bob.FulfillCondition(ctx, id, f)
	}

	b.ReportAllocs()
	b.ResetTimer()
	if conc == 1 {
		buf := []byte("bench-0-")
		for i := 0; i < b.N; i++ {
			if err := payment(buf); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(max(1, (conc+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
		var worker atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			buf := []byte("bench-" + strconv.FormatInt(worker.Add(1), 10) + "-")
			for pb.Next() {
				if err := payment(buf); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "payments/s")
	}
	n := int64(seq.Load())
	if fulfilled.Load() != n {
		b.Fatalf("%d outgoing_fulfill events for %d payments", fulfilled.Load(), n)
	}
	if bal, _ := bob.Balance(ctx); bal != ledger.Int128FromInt64(n) {
		b.Fatalf("bob's balance %s after %d payments", bal, n)
	}
}
