package main

// The debug endpoints drive the local ledgers' users from outside the
// process: they exist for end-to-end tests and load runs (--debug-endpoints,
// off by default) and move money without any authentication.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/psk"
)

const (
	maxDebugBody     = 1 << 16
	defaultDestHold  = 3000 // ms
	maxDebugPayments = 10_000_000
)

func (m *Main) local(prefix string) (*localLedger, error) {
	for _, rt := range m.ledgers {
		if rt.cfg.Prefix == prefix && rt.local != nil {
			return rt.local, nil
		}
	}
	return nil, fmt.Errorf("no local ledger %q", prefix)
}

func decodeBody(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, maxDebugBody))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func debugError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// serveReceiver hands out PSK parameters for the local user of ?ledger=, as an
// SPSP endpoint would.
func (m *Main) serveReceiver(w http.ResponseWriter, r *http.Request) {
	l, err := m.local(r.URL.Query().Get("ledger"))
	if err != nil {
		debugError(w, http.StatusNotFound, err)
		return
	}
	p, err := psk.GenerateParams(nil, l.recv.Account, l.recv.Secret)
	if err != nil {
		debugError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"destination_account": p.DestinationAccount,
		"shared_secret":       ilp.EncodeBase64URL(p.SharedSecret),
	})
}

type quoteRequest struct {
	Ledger                  string `json:"ledger"`
	DestinationAccount      string `json:"destinationAccount"`
	SourceAmount            uint64 `json:"sourceAmount,string"`
	DestinationAmount       uint64 `json:"destinationAmount,string"`
	Liquidity               bool   `json:"liquidity"`
	DestinationHoldDuration uint32 `json:"destinationHoldDuration"`
}

type quoteResponse struct {
	SourceAmount       uint64      `json:"sourceAmount,string,omitempty"`
	DestinationAmount  uint64      `json:"destinationAmount,string,omitempty"`
	SourceHoldDuration uint32      `json:"sourceHoldDuration"`
	LiquidityCurve     [][2]uint64 `json:"liquidityCurve,omitempty"`
	AppliesToPrefix    string      `json:"appliesToPrefix,omitempty"`
	ExpiresAt          *time.Time  `json:"expiresAt,omitempty"`
}

// ilpFailure is the JSON of an ILP error answer.
type ilpFailure struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

func writeQuoteError(w http.ResponseWriter, err error) {
	var ie *ilp.Error
	if errors.As(err, &ie) {
		writeJSON(w, http.StatusUnprocessableEntity, ilpFailure{Code: ie.Code, Name: ie.Name, Message: string(ie.Data)})
		return
	}
	debugError(w, http.StatusBadGateway, err)
}

// quote asks the connector for a quote from the local user of l.
func quote(ctx context.Context, l *localLedger, q quoteRequest) (quoteResponse, error) {
	hold := q.DestinationHoldDuration
	if hold == 0 {
		hold = defaultDestHold
	}
	var req ilp.Packet
	switch {
	case q.Liquidity:
		req = &ilp.QuoteLiquidityRequest{DestinationAccount: q.DestinationAccount, DestinationHoldDuration: hold}
	case q.SourceAmount > 0:
		req = &ilp.QuoteBySourceRequest{DestinationAccount: q.DestinationAccount, SourceAmount: q.SourceAmount, DestinationHoldDuration: hold}
	default:
		req = &ilp.QuoteByDestinationRequest{DestinationAccount: q.DestinationAccount, DestinationAmount: q.DestinationAmount, DestinationHoldDuration: hold}
	}
	p, err := l.request(ctx, req)
	if err != nil {
		return quoteResponse{}, err
	}
	switch p := p.(type) {
	case *ilp.QuoteBySourceResponse:
		return quoteResponse{SourceAmount: q.SourceAmount, DestinationAmount: p.DestinationAmount, SourceHoldDuration: p.SourceHoldDuration}, nil
	case *ilp.QuoteByDestinationResponse:
		return quoteResponse{SourceAmount: p.SourceAmount, DestinationAmount: q.DestinationAmount, SourceHoldDuration: p.SourceHoldDuration}, nil
	case *ilp.QuoteLiquidityResponse:
		c, err := curve.FromBinary(p.LiquidityCurve)
		if err != nil {
			return quoteResponse{}, fmt.Errorf("liquidity curve: %w", err)
		}
		out := quoteResponse{SourceHoldDuration: p.SourceHoldDuration, AppliesToPrefix: p.AppliesToPrefix, ExpiresAt: &p.ExpiresAt}
		for _, pt := range c.Points() {
			out.LiquidityCurve = append(out.LiquidityCurve, [2]uint64{pt.X, pt.Y})
		}
		return out, nil
	}
	return quoteResponse{}, fmt.Errorf("unexpected quote answer %T", p)
}

func (m *Main) serveQuote(w http.ResponseWriter, r *http.Request) {
	var q quoteRequest
	if err := decodeBody(r, &q); err != nil {
		debugError(w, http.StatusBadRequest, err)
		return
	}
	l, err := m.local(q.Ledger)
	if err != nil {
		debugError(w, http.StatusNotFound, err)
		return
	}
	resp, err := quote(r.Context(), l, q)
	if err != nil {
		writeQuoteError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type payRequest struct {
	Ledger             string `json:"ledger"`
	DestinationAccount string `json:"destinationAccount"`
	SharedSecret       string `json:"sharedSecret"`
	DestinationAmount  uint64 `json:"destinationAmount,string"`
	// SourceAmount, when zero, is quoted by destination amount once.
	SourceAmount            uint64 `json:"sourceAmount,string"`
	DestinationHoldDuration uint32 `json:"destinationHoldDuration"`
	// Data is the PSK application data; "hold" makes a local receiver
	// leave the payment to expire.
	Data        string `json:"data"`
	Count       int    `json:"count"`
	Concurrency int    `json:"concurrency"`
}

type payResponse struct {
	SourceAmount      uint64         `json:"sourceAmount,string"`
	DestinationAmount uint64         `json:"destinationAmount,string"`
	Count             int            `json:"count"`
	Fulfilled         int            `json:"fulfilled"`
	Rejected          int            `json:"rejected"`
	Expired           int            `json:"expired"`
	Failed            int            `json:"failed"`
	Codes             map[string]int `json:"codes"`
	LastMessage       string         `json:"lastMessage,omitempty"`
	Seconds           float64        `json:"seconds"`
	PaymentsPerSecond float64        `json:"paymentsPerSecond"`
	P50Ms             float64        `json:"p50Ms"`
	P99Ms             float64        `json:"p99Ms"`
	MaxMs             float64        `json:"maxMs"`
}

// servePay sends Count PSK payments (1 by default) from the local user of
// the ledger, Concurrency at a time, and reports their outcomes and latency.
func (m *Main) servePay(w http.ResponseWriter, r *http.Request) {
	var q payRequest
	if err := decodeBody(r, &q); err != nil {
		debugError(w, http.StatusBadRequest, err)
		return
	}
	l, err := m.local(q.Ledger)
	if err != nil {
		debugError(w, http.StatusNotFound, err)
		return
	}
	secret, err := ilp.DecodeBase64(q.SharedSecret)
	if err != nil || len(secret) == 0 {
		debugError(w, http.StatusBadRequest, fmt.Errorf("sharedSecret: not base64: %w", err))
		return
	}
	// Every payment of the run is under one shared secret: its keys are
	// derived once, as a sender making many payments would.
	keys, err := psk.NewKeys(secret)
	if err != nil {
		debugError(w, http.StatusBadRequest, fmt.Errorf("sharedSecret: %w", err))
		return
	}
	if q.Count <= 0 {
		q.Count = 1
	}
	if q.Count > maxDebugPayments {
		debugError(w, http.StatusBadRequest, fmt.Errorf("count above %d", maxDebugPayments))
		return
	}
	q.Concurrency = max(1, min(q.Concurrency, q.Count, 1000))
	if q.DestinationHoldDuration == 0 {
		q.DestinationHoldDuration = defaultDestHold
	}
	ctx := r.Context()
	srcHold := uint32(0)
	if q.SourceAmount == 0 {
		qr, err := quote(ctx, l, quoteRequest{DestinationAccount: q.DestinationAccount, DestinationAmount: q.DestinationAmount, DestinationHoldDuration: q.DestinationHoldDuration})
		if err != nil {
			writeQuoteError(w, err)
			return
		}
		q.SourceAmount, srcHold = qr.SourceAmount, qr.SourceHoldDuration
	}
	if srcHold == 0 {
		srcHold = q.DestinationHoldDuration + uint32(m.Config.MinMessageWindow/time.Millisecond)
	}
	hold := time.Duration(srcHold) * time.Millisecond

	out := payResponse{SourceAmount: q.SourceAmount, DestinationAmount: q.DestinationAmount, Count: q.Count, Codes: map[string]int{}}
	lat := make([]time.Duration, 0, q.Count)
	var mu sync.Mutex
	next := make(chan struct{}, q.Count)
	for range q.Count {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	var wg sync.WaitGroup
	for range q.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				t0 := time.Now()
				res, err := l.pay(ctx, q.DestinationAccount, keys, q.SourceAmount, q.DestinationAmount, hold, []byte(q.Data))
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				switch {
				case err != nil:
					out.Failed++
					out.LastMessage = err.Error()
				case res.Fulfilled:
					out.Fulfilled++
				default:
					if res.State == "expired" {
						out.Expired++
					} else {
						out.Rejected++
					}
					out.Codes[res.Code]++
					out.LastMessage = res.Message
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	out.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		out.PaymentsPerSecond = float64(out.Fulfilled) / elapsed.Seconds()
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	if n := len(lat); n > 0 {
		out.P50Ms = ms(lat[n/2])
		out.P99Ms = ms(lat[min(n-1, n*99/100)])
		out.MaxMs = ms(lat[n-1])
	}
	writeJSON(w, http.StatusOK, out)
}

// serveBalances reports the balance of every plugin the connector holds, and
// of each local user.
func (m *Main) serveBalances(w http.ResponseWriter, r *http.Request) {
	out := map[string]map[string]string{}
	for _, rt := range m.ledgers {
		b, err := rt.plugin.Balance(r.Context())
		if err != nil {
			debugError(w, http.StatusInternalServerError, err)
			return
		}
		e := map[string]string{"connector": b.String()}
		if rt.local != nil {
			u, err := rt.local.user.Balance(r.Context())
			if err != nil {
				debugError(w, http.StatusInternalServerError, err)
				return
			}
			e["user"] = u.String()
		}
		out[rt.cfg.Prefix] = e
	}
	writeJSON(w, http.StatusOK, out)
}
