package connector_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// benchNet is a sender, one connector and a receiver on two in-process
// trustlines (memory backend, system clock); the receiver fulfills every
// payment at once.
type benchNet struct {
	alice, bob *pair.End
	to         string // first hop: the connector, or bob directly
	waiters    sync.Map
	cond       string
	ilp        string
	amount     uint64
}

var benchFulfillment = ilp.Fulfillment(sha256.Sum256([]byte("bench")))

func newBenchNet(b *testing.B, direct bool) *benchNet {
	if !direct {
		return newBenchNetOn(b, memoryBackends)
	}
	n := &benchNet{cond: benchCondition(), amount: 1000}
	var bobEnd *pair.End
	n.alice, bobEnd = trustline(b, ledger.SystemClock{}, "test1.l0.", "alice", "bob", ledger.Unlimited(), false)
	n.to = bobEnd.Account()
	n.ilp = payment(b, bobEnd.Account(), 1000)
	n.bob = bobEnd
	n.listen(b)
	return n
}

func benchCondition() string { return ilp.ConditionOf(benchFulfillment).String() }

// listen makes bob fulfill every incoming payment at once and wakes the
// sender waiting for each outcome.
func (n *benchNet) listen(b *testing.B) {
	bobEnd := n.bob
	b.Cleanup(bobEnd.Subscribe(func(ev ledger.Event) {
		if ev.Kind == ledger.EventIncomingPrepare {
			id := ev.Transfer.ID
			go func() { _ = bobEnd.FulfillCondition(context.Background(), id, benchFulfillment) }()
		}
	}))
	b.Cleanup(n.alice.Subscribe(func(ev ledger.Event) {
		switch ev.Kind {
		case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			if ch, ok := n.waiters.LoadAndDelete(ev.Transfer.ID); ok {
				ch.(chan ledger.EventKind) <- ev.Kind
			}
		}
	}))
}

var benchSeq atomic.Uint64

func (n *benchNet) pay(tb testing.TB) {
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", benchSeq.Load()>>48, benchSeq.Add(1))
	done := make(chan ledger.EventKind, 1)
	n.waiters.Store(id, done)
	err := n.alice.SendTransfer(context.Background(), ledger.Transfer{
		ID: id, To: n.to, Amount: n.amount, ILP: n.ilp,
		ExecutionCondition: n.cond, ExpiresAt: time.Now().Add(5 * time.Second),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if k := <-done; k != ledger.EventOutgoingFulfill {
		tb.Fatalf("payment ended with %v", k)
	}
}

// BenchmarkThroughput runs fulfilled payments through one connector from 64
// concurrent senders (target: 50,000 payments/s).
func BenchmarkThroughput(b *testing.B) { throughput(b, false) }

// BenchmarkThroughputDirect is the same without the connector: the cost of
// the plugins and backends alone, for comparison.
func BenchmarkThroughputDirect(b *testing.B) { throughput(b, true) }

func throughput(b *testing.B, direct bool) { runThroughput(b, newBenchNet(b, direct)) }

func runThroughput(b *testing.B, n *benchNet) {
	const workers = 64
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				n.pay(b)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "payments/s")
}

// BenchmarkLatency measures one payment at a time, straight from sender to
// receiver and through one connector; added-p99-µs is what the connector
// adds at the 99th percentile (target: under 250 µs).
func BenchmarkLatency(b *testing.B) {
	p99 := func(n *benchNet, count int) time.Duration {
		d := make([]time.Duration, count)
		for i := range d {
			s := time.Now()
			n.pay(b)
			d[i] = time.Since(s)
		}
		slices.Sort(d)
		return d[len(d)*99/100]
	}
	direct := newBenchNet(b, true)
	via := newBenchNet(b, false)
	b.ResetTimer()
	count := max(b.N, 200)
	pd := p99(direct, count)
	pv := p99(via, count)
	b.ReportMetric(float64(pd.Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64(pv.Microseconds()), "connector-p99-µs")
	b.ReportMetric(float64((pv - pd).Microseconds()), "added-p99-µs")
}
