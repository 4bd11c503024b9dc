package trustline_test

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
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// BenchmarkServerLocalPayments measures local payments between two users
// of one server (prepare by alice, fulfill by bob, four events delivered),
// on the memory and the SQLite backend, with the system clock (every
// transfer arms and clears a real expiry), at concurrency 1 and 16. It
// reports payments per second.
func BenchmarkServerLocalPayments(b *testing.B) {
	for _, bk := range []struct {
		name string
		new  func(testing.TB) ledger.Backend
	}{{"memory", memoryBackend}, {"sqlite", sqliteBackend}} {
		for _, conc := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/conc=%d", bk.name, conc), func(b *testing.B) { benchLocal(b, bk.new(b), conc) })
		}
	}
}

func benchLocal(b *testing.B, backend ledger.Backend, conc int) {
	ctx := context.Background()
	s := newServer(b, backend, nil, nil)
	none := trustline.Limits{}
	for _, u := range []string{"alice", "bob"} {
		if err := s.CreateAccount(ctx, u, &none); err != nil {
			b.Fatal(err)
		}
	}
	alice, _ := s.Plugin("alice")
	bob, _ := s.Plugin("bob")
	for _, p := range []ledger.Plugin{alice, bob} {
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
	bob.Subscribe(func(ledger.Event) {})
	f := ilp.Fulfillment{1, 2, 3}
	cond := ilp.ConditionOf(f).String()
	expires := time.Now().Add(time.Hour)
	to := bob.Account()
	var seq atomic.Uint64
	payment := func(prefix []byte) error {
		id := string(strconv.AppendUint(prefix, seq.Add(1), 10))
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
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "payments/s")
	}
	n := int64(seq.Load())
	if fulfilled.Load() != n {
		b.Fatalf("%d outgoing_fulfill events for %d payments", fulfilled.Load(), n)
	}
	if bal, _ := bob.Balance(ctx); bal != ledger.Int128FromInt64(n) {
		b.Fatalf("bob's balance %s after %d payments", bal, n)
	}
}
