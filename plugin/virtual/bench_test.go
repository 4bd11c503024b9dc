package virtual_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// BenchmarkRoundTrip measures payments over loopback HTTP between two
// kits on the memory backend with the system clock: one op is
// SendTransfer at alice (a send_transfer call) and FulfillCondition at bob
// (a fulfill_condition call), with both expiry timers armed and stopped.
// It runs at concurrency 1 and 50 and reports payments/s and the 99th
// percentile of a payment's latency.
func BenchmarkRoundTrip(b *testing.B) {
	for _, conc := range []int{1, 50} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchRoundTrip(b, conc) })
	}
}

func benchRoundTrip(b *testing.B, conc int) {
	ctx := context.Background()
	k := newKitPair(b, pairConfig{})
	for _, p := range []interface{ Connect(context.Context) error }{k.alice, k.bob} {
		if err := p.Connect(ctx); err != nil {
			b.Fatal(err)
		}
	}
	defer k.alice.Disconnect(ctx)
	defer k.bob.Disconnect(ctx)
	var fulfilled atomic.Int64
	k.alice.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventOutgoingFulfill {
			fulfilled.Add(1)
		}
	})
	f := ilp.Fulfillment{1, 2, 3}
	cond := ilp.ConditionOf(f).String()
	expires := time.Now().Add(time.Hour)
	to := k.bob.Account()
	var seq atomic.Uint64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	payment := func(prefix string) error {
		start := time.Now()
		id := prefix + strconv.FormatUint(seq.Add(1), 10)
		t := ledger.Transfer{ID: id, To: to, Amount: 1, ILP: "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA", ExecutionCondition: cond, ExpiresAt: expires}
		if err := k.alice.SendTransfer(ctx, t); err != nil {
			return err
		}
		if err := k.bob.FulfillCondition(ctx, id, f); err != nil {
			return err
		}
		d := time.Since(start)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return nil
	}

	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range conc {
		wg.Go(func() {
			prefix := "bench-" + strconv.Itoa(w) + "-"
			for next.Add(1) <= int64(b.N) {
				if err := payment(prefix); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "payments/s")
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	n := int64(seq.Load())
	if fulfilled.Load() != n {
		b.Fatalf("%d outgoing_fulfill events for %d payments", fulfilled.Load(), n)
	}
	if bal, _ := k.bob.Balance(ctx); bal != ledger.Int128FromInt64(n) {
		b.Fatalf("bob's balance %s after %d payments", bal, n)
	}
}
