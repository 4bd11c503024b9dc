package connector

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// TestWithinSlippage: the 128-bit check agrees with the exact rational one,
// at the edges and on random amounts, for several slippages (one whose
// 1−slippage does not fit uint64s takes the rational path).
func TestWithinSlippage(t *testing.T) {
	huge := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 70))
	for _, s := range []*big.Rat{DefaultSlippage(), big.NewRat(0, 1), big.NewRat(1, 3), big.NewRat(999_999, 1_000_000), huge} {
		c, err := New(Config{Secret: []byte("0123456789abcdef"), Slippage: s})
		if err != nil {
			t.Fatal(err)
		}
		if c.keep.ok == (s == huge) {
			t.Errorf("slippage %s: fast path %v", s.RatString(), c.keep.ok)
		}
		r := rand.New(rand.NewPCG(1, 2))
		pairs := [][2]uint64{{0, 0}, {1, 0}, {1000, 999}, {1000, 998}, {math.MaxUint64, math.MaxUint64}, {math.MaxUint64, 0}, {math.MaxUint64, math.MaxUint64 - 1}, {997_001_001, 996_004_000}, {997_001_002, 996_004_000}}
		for range 2000 {
			n := r.Uint64() >> r.UintN(64)
			pairs = append(pairs, [2]uint64{n, n - n/uint64(1+r.UintN(2000))})
		}
		for _, p := range pairs {
			if got, want := c.withinSlippage(p[0], p[1]), ratLE(p[0], s, p[1]); got != want {
				t.Fatalf("slippage %s: %d vs %d: %v, exact %v", s.RatString(), p[0], p[1], got, want)
			}
		}
		c.Close()
	}
}

// TestOutgoingIDPooled: the pooled hashers give the ids OutgoingTransferID
// gives, also when used from many goroutines at once.
func TestOutgoingIDPooled(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	c, err := New(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// shaped as a version 4 UUID
	if got := OutgoingTransferID(secret, "test1.l0.", "a0000000-0000-4000-8000-000000000001"); len(got) != 36 || got[14] != '4' || got[19] != '8' {
		t.Fatalf("id %q", got)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				ledger := "test1.l" + string(rune('0'+g)) + "."
				id := "id-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				if got, want := c.outgoingID(ledger, id), OutgoingTransferID(secret, ledger, id); got != want {
					t.Errorf("%s %s: %s, want %s", ledger, id, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSourceNote: the note written in one go is the note marshal writes, and
// reads back.
func TestSourceNote(t *testing.T) {
	at := []time.Time{
		time.Date(2017, 7, 24, 12, 0, 5, 0, time.UTC),
		time.Date(2017, 7, 24, 14, 0, 5, 123_456_789, time.FixedZone("CEST", 2*3600)),
		time.Date(2099, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	for _, ts := range at {
		for _, c := range []struct {
			ledger, id string
			amount     uint64
		}{
			{"test1.l0.", "3f1b4c55-7d4a-4e6e-9a6a-5b1f7c2d9e01", 1000},
			{"peer.NavKx.usd.2.", "x", math.MaxUint64},
			{"g.<a>.", "é\\\"", 0},
		} {
			want := note{SourceLedger: c.ledger, SourceID: c.id, SourceAmount: strconv.FormatUint(c.amount, 10), SourceExpiresAt: ledger.FormatTime(ts)}
			got := sourceNote(c.ledger, c.id, c.amount, ts)
			if string(got) != string(want.marshal()) {
				t.Errorf("note %s, marshal gives %s", got, want.marshal())
			}
			if n, ok := parseNote(got); !ok || n != want {
				t.Errorf("read back %+v, want %+v", n, want)
			}
		}
	}
}
