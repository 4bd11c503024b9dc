package trustline_test

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// BenchmarkClientPayments runs 16 Clients over WebSocket, in this process,
// paying each other in a ring through one Handler and Server on the memory
// backend, 4 payments in flight per client. A payment is send_transfer,
// incoming_prepare at the receiver, fulfill_condition, outgoing_fulfill at
// the sender. It reports fulfilled payments per second and the 99th
// percentile of their latency.
func BenchmarkClientPayments(b *testing.B) {
	const clients, inFlight = 16, 4
	users := make([]string, clients)
	for i := range users {
		users[i] = "u" + itoa(i)
	}
	k := newWireKit(b, nil, &trustline.Limits{}, trustline.HandlerOptions{}, users...)
	ctx := context.Background()
	issuer := k.view(b, trustline.DefaultIssuer)
	for _, u := range users {
		if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "fund-" + u, To: "test1.wire." + u, Amount: 1 << 50}); err != nil {
			b.Fatal(err)
		}
	}

	var fulfillments sync.Map // transfer id → ilp.Fulfillment
	var done sync.Map         // transfer id → chan struct{}
	cs := make([]*trustline.Client, clients)
	for i, u := range users {
		c := k.client(b, u, nil)
		c.Subscribe(func(ev ledger.Event) {
			switch ev.Kind {
			case ledger.EventIncomingPrepare:
				if f, ok := fulfillments.Load(ev.Transfer.ID); ok {
					go func() {
						if err := c.FulfillCondition(ctx, ev.Transfer.ID, f.(ilp.Fulfillment)); err != nil {
							b.Error(err)
						}
					}()
				}
			case ledger.EventOutgoingFulfill:
				if ch, ok := done.LoadAndDelete(ev.Transfer.ID); ok {
					close(ch.(chan struct{}))
				}
			}
		})
		if err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Disconnect(context.Background()) })
		cs[i] = c
	}

	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		for w := range inFlight {
			wg.Go(func() {
				from, to := cs[i], cs[(i+1)%clients]
				var mine []time.Duration
				for {
					n := next.Add(1)
					if n > int64(b.N) {
						break
					}
					var f ilp.Fulfillment
					binary.BigEndian.PutUint64(f[:], uint64(n))
					f[8], f[9] = byte(i), byte(w)
					id := "b-" + itoa(int(n))
					fulfillments.Store(id, f)
					ch := make(chan struct{})
					done.Store(id, ch)
					t0 := time.Now()
					err := from.SendTransfer(ctx, ledger.Transfer{ID: id, To: to.Account(), Amount: 1,
						ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: t0.Add(30 * time.Second)})
					if err != nil {
						b.Error(err)
						return
					}
					select {
					case <-ch:
					case <-time.After(10 * time.Second):
						b.Errorf("payment %s not fulfilled in 10 s", id)
						return
					}
					mine = append(mine, time.Since(t0))
					fulfillments.Delete(id)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p99 := lat[(len(lat)*99)/100]
	if len(lat) < 100 {
		p99 = lat[len(lat)-1]
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "payments/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
