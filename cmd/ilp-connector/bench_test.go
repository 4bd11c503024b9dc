package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

const benchConcurrency = 50

// BenchmarkTwoProcesses: two ilp-connector processes on loopback peered by
// plugin/virtual over HTTP, a sender on the first and a receiver on the
// second (local ledgers), one quote, then b.N PSK payments 50 at a time,
// driven by the first process's /debug/pay. Reports fulfilled payments per
// second and the p99 latency of one payment.
func BenchmarkTwoProcesses(b *testing.B) {
	bin := buildBinary(b)
	a1, a2 := freeAddr(b), freeAddr(b)
	u1, u2 := "http://"+a1, "http://"+a2
	env1, env2, _ := pairEnv(b, u1, u2)
	startProcess(b, bin, env1, portOf(b, a1))
	startProcess(b, bin, env2, portOf(b, a2))
	c1, c2 := newClient(u1), newClient(u2)
	c1.waitRoute(b, bobLedger)
	rp := c2.receiver(b, bobLedger)
	var q quoteResponse
	if code := c1.do(b, "POST", "/debug/quote", quoteRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount, DestinationAmount: 1000}, &q); code != 200 {
		b.Fatalf("quote: %d", code)
	}
	b.ResetTimer()
	var pr payResponse
	c1.do(b, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, SourceAmount: q.SourceAmount, DestinationAmount: 1000,
		Count: b.N, Concurrency: benchConcurrency}, &pr)
	b.StopTimer()
	if pr.Fulfilled != b.N {
		b.Fatalf("%d of %d fulfilled: %+v", pr.Fulfilled, b.N, pr)
	}
	b.ReportMetric(pr.PaymentsPerSecond, "payments/s")
	b.ReportMetric(pr.P99Ms, "p99-ms")
}

// BenchmarkBareRPC is the baseline of BenchmarkTwoProcesses: two plain Go
// HTTP endpoints on loopback exchanging the two RPC calls a payment makes
// between the connectors (send_transfer one way, fulfill_condition back),
// with bodies of the same shape, 50 at a time, and nothing else.
func BenchmarkBareRPC(b *testing.B) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
	hc := &http.Client{Transport: tr}
	var waiters sync.Map // id → chan struct{}
	post := func(url, method string, params any) error {
		body, err := json.Marshal(params)
		if err != nil {
			return err
		}
		req, err := http.NewRequest("POST", url+"?method="+method+"&prefix=peer.bench.usd.9.", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer x2T03bBmMNhAT6XmRcj52wKEvlG83JIR8tmmV2hGMiY")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	serve := func(h http.HandlerFunc) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }()
		b.Cleanup(func() { _ = srv.Close() })
		return "http://" + ln.Addr().String() + "/rpc"
	}
	var urlA string
	fulfill := ilp.Fulfillment(sha256.Sum256([]byte("bench")))
	// B takes the transfer, answers true, then fulfills it on A.
	urlB := serve(func(w http.ResponseWriter, r *http.Request) {
		var params []ledger.Transfer
		if err := json.NewDecoder(r.Body).Decode(&params); err != nil || len(params) != 1 {
			http.Error(w, "bad", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("true"))
		id := params[0].ID
		go func() { _ = post(urlA, "fulfill_condition", []string{id, ilp.EncodeBase64URL(fulfill[:])}) }()
	})
	urlA = serve(func(w http.ResponseWriter, r *http.Request) {
		var params []string
		if err := json.NewDecoder(r.Body).Decode(&params); err != nil || len(params) != 2 {
			http.Error(w, "bad", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("true"))
		if ch, ok := waiters.LoadAndDelete(params[0]); ok {
			close(ch.(chan struct{}))
		}
	})
	packet := make([]byte, 220) // about the size of a PSK payment packet
	_, _ = rand.Read(packet)
	cond := ilp.ConditionOf(fulfill).String()

	b.ResetTimer()
	start := time.Now()
	next := make(chan int, b.N)
	for i := range b.N {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				id, _ := newUUID()
				ch := make(chan struct{})
				waiters.Store(id, ch)
				t := ledger.Transfer{ID: id, Ledger: "peer.bench.usd.9.", From: "peer.bench.usd.9.a", To: "peer.bench.usd.9.b",
					Amount: uint64(1000 + i%7), ILP: ilp.EncodeBase64URL(packet), ExecutionCondition: cond, ExpiresAt: t0.Add(10 * time.Second)}
				if err := post(urlB, "send_transfer", []ledger.Transfer{t}); err != nil {
					b.Error(err)
					return
				}
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
					b.Error("no fulfill_condition")
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		b.ReportMetric(float64(n)/elapsed.Seconds(), "payments/s")
		b.ReportMetric(float64(lat[min(n-1, n*99/100)])/float64(time.Millisecond), "p99-ms")
	}
}

// BenchmarkInProcess is BenchmarkTwoProcesses with both connectors in this
// process (Main), for profiling with -cpuprofile.
func BenchmarkInProcess(b *testing.B) {
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	u1, u2 := "http://"+ln1.Addr().String(), "http://"+ln2.Addr().String()
	env1, env2, _ := pairEnv(b, u1, u2)
	startInProcess(b, env1, ln1)
	startInProcess(b, env2, ln2)
	c1, c2 := newClient(u1), newClient(u2)
	c1.waitRoute(b, bobLedger)
	rp := c2.receiver(b, bobLedger)
	b.ResetTimer()
	var pr payResponse
	c1.do(b, "POST", "/debug/pay", payRequest{Ledger: aliceLedger, DestinationAccount: rp.DestinationAccount,
		SharedSecret: rp.SharedSecret, DestinationAmount: 1000, Count: b.N, Concurrency: benchConcurrency}, &pr)
	b.StopTimer()
	if pr.Fulfilled != b.N {
		b.Fatalf("%d of %d fulfilled: %+v", pr.Fulfilled, b.N, pr)
	}
	b.ReportMetric(pr.PaymentsPerSecond, "payments/s")
	b.ReportMetric(pr.P99Ms, "p99-ms")
}
