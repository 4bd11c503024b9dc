package ilp

import (
	"bytes"
	"testing"
	"time"
)

// Allocation budgets. Timing targets live in the benchmarks below
// (BenchmarkDecodePayment: 150 ns/op at most).

func samplePayment() *Payment {
	return &Payment{Amount: 123000000, Account: "g.us.nexus.bob.~psk.ZpNHPjAdwSs.CQW9H4Ij-cUr8bXg4Hc4BA", Data: bytes.Repeat([]byte{0xab}, 100)}
}

func sampleError() *Error {
	return &Error{Code: "F02", Name: "Unreachable", TriggeredBy: "g.usd.connector",
		ForwardedBy: []string{"g.eur.connector", "g.jpy.connector"},
		TriggeredAt: time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC), Data: []byte(`{"message":"no route found"}`)}
}

func sampleLiquidity() *QuoteLiquidityResponse {
	return &QuoteLiquidityResponse{LiquidityCurve: bytes.Repeat([]byte{0, 0, 0, 0, 1, 0, 0, 0}, 2*8), AppliesToPrefix: "g.eur.ledger.",
		SourceHoldDuration: 11000, ExpiresAt: time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)}
}

func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	raw, err := samplePayment().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var p Payment
	if n := testing.AllocsPerRun(200, func() {
		if err := p.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("decoding a payment with 100 bytes of data: %v allocations, want at most 2", n)
	}
	// Decoding into a fresh value each time also stays within 2.
	if n := testing.AllocsPerRun(200, func() {
		var q Payment
		if err := q.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("decoding into a fresh payment: %v allocations, want at most 2", n)
	}

	buf := make([]byte, 0, 1024)
	for _, pk := range []Packet{samplePayment(), sampleError(), sampleLiquidity(),
		&QuoteBySourceRequest{DestinationAccount: "g.a", SourceAmount: 5, DestinationHoldDuration: 3000}} {
		if n := testing.AllocsPerRun(200, func() {
			var err error
			buf, err = pk.AppendBinary(buf[:0])
			if err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("encoding %v into a reused buffer: %v allocations, want 0", pk.Type(), n)
		}
	}
}

func BenchmarkDecodePayment(b *testing.B) {
	raw, _ := samplePayment().MarshalBinary()
	var p Payment
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.UnmarshalBinary(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePayment(b *testing.B) {
	p := samplePayment()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendBinary(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeError(b *testing.B) {
	raw, _ := sampleError().MarshalBinary()
	var p Error
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.UnmarshalBinary(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeError(b *testing.B) {
	p := sampleError()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendBinary(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeLiquidityResponse(b *testing.B) {
	raw, _ := sampleLiquidity().MarshalBinary()
	var p QuoteLiquidityResponse
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.UnmarshalBinary(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeLiquidityResponse(b *testing.B) {
	p := sampleLiquidity()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendBinary(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	raw, _ := samplePayment().MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
