package connector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ledger"
)

func i128(n int64) ledger.Int128 { return ledger.Int128FromInt64(n) }
func lim(n int64) ledger.Bound   { return ledger.Limit(i128(n)) }

func TestLocalCurve(t *testing.T) {
	rate := pairRate(big.NewRat(1, 1), DefaultSpread(), 9, 9) // 0.998
	pt := func(x, y uint64) curve.Point { return curve.Point{X: x, Y: y} }
	cases := []struct {
		name     string
		rate     *big.Rat
		src, dst side
		want     []curve.Point
	}{
		{"source limit", rate,
			side{info: ledger.LedgerInfo{MaxBalance: lim(1e15)}, balance: i128(1e9)},
			side{info: ledger.LedgerInfo{MinBalance: lim(-1e15)}},
			[]curve.Point{pt(0, 0), pt(1e15-1e9, 997999002000000)}},
		{"destination limit smaller", rate,
			side{info: ledger.LedgerInfo{MaxBalance: lim(1e15)}},
			side{info: ledger.LedgerInfo{MinBalance: lim(-1000)}, balance: i128(-1)},
			// 999 / 0.998 = 1001.002004… → 1001
			[]curve.Point{pt(0, 0), pt(1001, 999)}},
		{"no liquidity left", rate,
			side{info: ledger.LedgerInfo{MaxBalance: lim(100)}, balance: i128(100)},
			side{},
			[]curve.Point{pt(0, 0), pt(probeAmount, 0)}},
		{"balance beyond its limit", rate,
			side{info: ledger.LedgerInfo{MaxBalance: lim(100)}, balance: i128(500)},
			side{},
			[]curve.Point{pt(0, 0), pt(probeAmount, 0)}},
		{"no limits", rate, side{}, side{},
			[]curve.Point{pt(0, 0), pt(probeAmount, 99800000000000)}},
		{"no limits, rate above one", pairRate(big.NewRat(1, 1), DefaultSpread(), 2, 9), side{}, side{},
			// 1e14 / 998e4 = 10020040.08… → 10020040
			[]curve.Point{pt(0, 0), pt(10020040, probeAmount)}},
		{"scale down, half rounds up", pairRate(big.NewRat(1, 1), new(big.Rat), 9, 8),
			side{info: ledger.LedgerInfo{MaxBalance: lim(15)}}, side{},
			[]curve.Point{pt(0, 0), pt(15, 2)}},
	}
	for _, tc := range cases {
		got := localCurve(tc.rate, tc.src, tc.dst)
		if !got.Equal(curve.MustNew(tc.want...)) {
			t.Errorf("%s: %v, want %v", tc.name, got.Points(), tc.want)
		}
	}
}

func TestPairRate(t *testing.T) {
	// 1 EUR = 1.1 USD; EUR ledger scale 2, USD ledger scale 9, spread 0.002
	got := pairRate(big.NewRat(11, 10), DefaultSpread(), 2, 9)
	want := new(big.Rat).Mul(big.NewRat(11*998, 10*1000), big.NewRat(10_000_000, 1))
	if got.Cmp(want) != 0 {
		t.Fatalf("rate %s, want %s", got.RatString(), want.RatString())
	}
	if shiftFor(true, new(big.Rat), ledger.LedgerInfo{CurrencyScale: 9}, ledger.LedgerInfo{CurrencyScale: 9}) != 0 {
		t.Error("one-to-one without spread between equal scales must not shift")
	}
	if shiftFor(true, new(big.Rat), ledger.LedgerInfo{CurrencyScale: 9}, ledger.LedgerInfo{CurrencyScale: 2}) != 1 ||
		shiftFor(false, new(big.Rat), ledger.LedgerInfo{}, ledger.LedgerInfo{}) != 1 ||
		shiftFor(true, DefaultSpread(), ledger.LedgerInfo{}, ledger.LedgerInfo{}) != 1 {
		t.Error("shift must be 1")
	}
}

func TestRates(t *testing.T) {
	ctx := context.Background()
	doc := `{"base":"EUR","date":"2017-07-24","rates":{"USD":1.1658,"JPY":129.93,"XRP":0.1}}`
	fr, err := ParseRates([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r, err := fr.Rate(ctx, "usd", "JPY")
	if want := new(big.Rat).Quo(big.NewRat(12993, 100), big.NewRat(11658, 10000)); err != nil || r.Cmp(want) != 0 {
		t.Errorf("USD→JPY %v %v", r, err)
	}
	if r, err := fr.Rate(ctx, "EUR", "USD"); err != nil || r.Cmp(big.NewRat(11658, 10000)) != 0 {
		t.Errorf("EUR→USD %v %v", r, err)
	}
	if _, err := fr.Rate(ctx, "EUR", "GBP"); err == nil {
		t.Error("unknown currency has a rate")
	}
	if _, err := ParseRates([]byte(`{"base":"EUR","rates":{"USD":-1}}`)); err == nil {
		t.Error("negative rate accepted")
	}
	if r, _ := (OneToOne{}).Rate(ctx, "EUR", "USD"); r.Cmp(big.NewRat(1, 1)) != 0 {
		t.Error("one-to-one")
	}

	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc))
	}))
	defer srv.Close()
	h := &HTTPRates{URL: srv.URL}
	if _, err := h.Rate(ctx, "EUR", "USD"); err == nil {
		t.Error("rate before the first fetch")
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.Poll(pctx, 10*time.Millisecond, nil); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for hits.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if hits.Load() < 2 {
		t.Error("not polled")
	}
	if r, err := h.Rate(ctx, "EUR", "USD"); err != nil || r.Cmp(big.NewRat(11658, 10000)) != 0 {
		t.Errorf("EUR→USD over HTTP %v %v", r, err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer bad.Close()
	h.URL = bad.URL
	if err := h.Fetch(ctx); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("fetch from a failing source: %v", err)
	}
	if _, err := h.Rate(ctx, "EUR", "USD"); err != nil {
		t.Error("last good table lost")
	}
}

func TestOutgoingTransferID(t *testing.T) {
	a := OutgoingTransferID([]byte("secret"), "test1.l0.", "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01")
	if a != OutgoingTransferID([]byte("secret"), "test1.l0.", "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01") {
		t.Fatal("not deterministic")
	}
	if a == OutgoingTransferID([]byte("secret"), "test1.l1.", "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01") {
		t.Fatal("ledger ignored")
	}
	if len(a) != 36 || a[8] != '-' || a[13] != '-' || a[14] != '4' || a[18] != '-' || a[19] != '8' || a[23] != '-' {
		t.Fatalf("id %q is not shaped as a UUID v4", a)
	}
	if got := OutgoingTransferID([]byte("key"), "g.", "1"); got[:8] != hmacHex("key", "g./1")[:8] {
		t.Fatalf("id %q does not start with the HMAC", got)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no secret accepted")
	}
	if _, err := New(Config{Secret: make([]byte, 16), Spread: big.NewRat(1, 1)}); err == nil {
		t.Error("spread 1 accepted")
	}
	if _, err := New(Config{Secret: make([]byte, 16), RouteExpiry: time.Second}); err == nil {
		t.Error("route expiry below the broadcast interval accepted")
	}
	if _, err := New(Config{Secret: make([]byte, 16), SettlementMethods: []byte(`{}`)}); err == nil {
		t.Error("settlement methods not an array accepted")
	}
	c, err := New(Config{Secret: make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.cfg.MaxHoldTime != 10*time.Second || c.cfg.Slippage.Cmp(big.NewRat(1, 1000)) != 0 || !c.oneToOne {
		t.Errorf("defaults %+v", c.cfg)
	}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestNote(t *testing.T) {
	n := note{SourceLedger: "test1.l0.", SourceID: "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01", SourceAmount: "1000", SourceExpiresAt: "2017-07-24T12:00:05.000Z"}
	b := n.marshal()
	var viaJSON note
	if err := json.Unmarshal(b, &viaJSON); err != nil || viaJSON != n {
		t.Fatalf("marshal wrote %s (%v)", b, err)
	}
	if got, ok := parseNote(b); !ok || got != n {
		t.Fatalf("parse %+v %v", got, ok)
	}
	// a note re-encoded by a backend (other order, spaces) still reads
	other := []byte(`{ "source_transfer_id": "x\"y", "source_transfer_amount": "5", "source_transfer_ledger": "g.a." }`)
	if got, ok := parseNote(other); !ok || got.SourceID != `x"y` || got.SourceLedger != "g.a." || got.SourceAmount != "5" {
		t.Fatalf("parse re-encoded %+v %v", got, ok)
	}
	// 2017's note without the expiry
	old := []byte(`{"source_transfer_ledger":"g.a.","source_transfer_id":"i","source_transfer_amount":"5"}`)
	if got, ok := parseNote(old); !ok || got.SourceExpiresAt != "" || got.SourceID != "i" {
		t.Fatalf("parse 2017 note %+v %v", got, ok)
	}
	// unusual characters go through encoding/json both ways
	odd := note{SourceLedger: "g.<a>.", SourceID: "é\\", SourceAmount: "1"}
	if got, ok := parseNote(odd.marshal()); !ok || got != odd {
		t.Fatalf("odd note %s → %+v", odd.marshal(), got)
	}
	for _, bad := range []string{``, `{}`, `{"source_transfer_ledger":"g."}`, `[1]`, `{"source_transfer_ledger":"g.","source_transfer_id":"`} {
		if _, ok := parseNote([]byte(bad)); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}
