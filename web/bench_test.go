package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
)

// benchKit is a kit over HTTP with payer and payee, the payer funded
// enough for b.N payments, and a bearer token of the payer.
func benchKit(b *testing.B, dsn string) (*env, string) {
	e := newEnv(b, dsn, func(c *kit.Config) { c.Clock = nil })
	ctx := b.Context()
	if _, err := e.k.Store().CreateInvite(ctx, "fund", 1<<60); err != nil {
		b.Fatal(err)
	}
	payer, err := e.k.Register(ctx, kit.NewUser{Username: "payer", Password: "payer-password", InviteCode: "fund"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.k.Register(ctx, kit.NewUser{Username: "payee", Password: "payee-password"}); err != nil {
		b.Fatal(err)
	}
	tok, _, err := e.k.CreateToken(ctx, payer.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return e, tok
}

// apiPay quotes and pays one local payment with a bearer token, as a
// client of the API does.
func apiPay(h *http.Client, base, tok, id string) error {
	call := func(method, path string, body any, out any) error {
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := h.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return json.Unmarshal(b, out)
	}
	var q quoteJSON
	if err := call("POST", "/api/payments/quote", map[string]string{"destination": "payee", "sourceAmount": "1"}, &q); err != nil {
		return err
	}
	var p paymentJSON
	return call("PUT", "/api/payments/"+id, map[string]string{"quoteId": q.ID, "sourceAmount": "1", "destinationAmount": "1"}, &p)
}

func BenchmarkLocalPaymentSQLite(b *testing.B)   { benchLocalPayment(b, sqliteDSN(b)) }
func BenchmarkLocalPaymentPostgres(b *testing.B) { benchLocalPayment(b, pgtest.DSN(b)) }

// benchLocalPayment: one client, quote + pay through the API; reports
// the p50 and p99 latency of the pair.
func benchLocalPayment(b *testing.B, dsn string) {
	e, tok := benchKit(b, dsn)
	h := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := apiPay(h, e.srv.URL, tok, fmt.Sprintf("b%d", i)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

func BenchmarkLocalPayment32SQLite(b *testing.B)   { benchParallel(b, sqliteDSN(b)) }
func BenchmarkLocalPayment32Postgres(b *testing.B) { benchParallel(b, pgtest.DSN(b)) }

// benchParallel: 32 concurrent clients; reports payments per second.
func benchParallel(b *testing.B, dsn string) {
	e, tok := benchKit(b, dsn)
	h := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	b.ResetTimer()
	b.SetParallelism((32 + 1) / 2) // × GOMAXPROCS (2 here) ≈ 32 clients
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := apiPay(h, e.srv.URL, tok, fmt.Sprintf("p%d", n.Add(1))); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "payments/s")
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
