package e2e_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// preimage is the fulfillment of the benchmark's transfer id: a receiver
// derives it from the transfer it gets, so no registry is shared.
func preimage(id string) ilp.Fulfillment {
	return ilp.Fulfillment(sha256.Sum256([]byte("bench " + id)))
}

// BenchmarkWebSocketPayments: 16 clients in this process pay each other
// over WebSocket through one trustline server in a kit process on SQLite
// (WAL, synchronous=NORMAL). Each payment is a prepare by the sender, a
// fulfill by the receiver and the fulfill event back to the sender; the
// latency is from the send to that event. With the machine's CPU the
// limit, the payments in flight (per client: 4 or 8) set the latency
// (p50 = in flight / throughput) more than the throughput.
func BenchmarkWebSocketPayments(b *testing.B) {
	for _, inFlight := range []int{4, 8} {
		b.Run(fmt.Sprintf("inflight=%d", 16*inFlight), func(b *testing.B) { benchWebSocket(b, 16, inFlight) })
	}
}

func benchWebSocket(b *testing.B, clients, inFlight int) {
	users := make([]string, clients)
	for i := range users {
		users[i] = fmt.Sprintf("u%02d", i)
	}
	k := newKit(b, "a", strings.Join(users, ","), 30*time.Second)
	k.start()
	ctx := context.Background()

	var mu sync.Mutex
	waiting := map[string]chan struct{}{}
	cs := make([]*trustline.Client, clients)
	for i, u := range users {
		c := k.client("a", u)
		cs[i] = c
		b.Cleanup(c.Subscribe(func(ev ledger.Event) {
			switch ev.Kind {
			case ledger.EventIncomingPrepare:
				id := ev.Transfer.ID
				go func() { _ = c.FulfillCondition(ctx, id, preimage(id)) }()
			case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
				mu.Lock()
				ch := waiting[ev.Transfer.ID]
				delete(waiting, ev.Transfer.ID)
				mu.Unlock()
				if ch != nil {
					if ev.Kind != ledger.EventOutgoingFulfill {
						b.Errorf("payment %s: %v", ev.Transfer.ID, ev.Kind)
					}
					close(ch)
				}
			}
		}))
	}

	// TRUSTLINE_E2E_PROFILE=<file> writes a CPU profile of the kit
	// process taken during the run.
	if file := os.Getenv("TRUSTLINE_E2E_PROFILE"); file != "" {
		go func() {
			resp, err := http.Get("http://" + k.addr + "/debug/pprof/profile?seconds=3")
			if err != nil {
				b.Log(err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(file)
			if err != nil {
				b.Log(err)
				return
			}
			defer f.Close()
			_, _ = io.Copy(f, resp.Body)
		}()
	}
	var next atomic.Int64
	lat := make([][]time.Duration, clients*inFlight)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < clients*inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := w % clients
			c, to := cs[from], "test.kita."+users[(from+1+w/clients)%clients]
			if to == c.Account() {
				to = "test.kita." + users[(from+1)%clients]
			}
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				id := uuid(int(n), 9)
				ch := make(chan struct{})
				mu.Lock()
				waiting[id] = ch
				mu.Unlock()
				t0 := time.Now()
				err := c.SendTransfer(ctx, ledger.Transfer{
					ID: id, To: to, Amount: 1, ExecutionCondition: ilp.ConditionOf(preimage(id)).String(),
					ExpiresAt: time.Now().Add(20 * time.Second),
				})
				if err != nil {
					b.Errorf("send: %v", err)
					return
				}
				<-ch
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "payments/s")
		b.ReportMetric(float64(all[(len(all)-1)*99/100])/float64(time.Millisecond), "p99-ms")
		b.ReportMetric(float64(all[(len(all)-1)/2])/float64(time.Millisecond), "p50-ms")
	}
	k.totals()
}
