package ilp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

type conditionVector struct {
	PreimageB64URL       string `json:"preimage_b64url"`
	PreimageHex          string `json:"preimage_hex"`
	LPIFulfillment       string `json:"lpi_fulfillment"`
	LPICondition         string `json:"lpi_condition"`
	FulfillmentDERHex    string `json:"fulfillment_der_hex"`
	FulfillmentDERB64URL string `json:"fulfillment_der_b64url"`
	ConditionDERHex      string `json:"condition_der_hex"`
	ConditionURI         string `json:"condition_uri"`
	Cost                 uint64 `json:"cost"`
}

// TestGoldenConditions checks every form of every vector in both directions.
func TestGoldenConditions(t *testing.T) {
	var doc struct {
		Vectors []conditionVector `json:"vectors"`
	}
	vectors.Load(t, "crypto_conditions.json", &doc)
	if len(doc.Vectors) == 0 {
		t.Fatal("no condition vectors")
	}
	for i, v := range doc.Vectors {
		t.Run(strconv.Itoa(i)+"_cost_"+strconv.FormatUint(v.Cost, 10), func(t *testing.T) {
			preimage := mustHex(t, v.PreimageHex)
			if v.PreimageB64URL != "" {
				if got := EncodeBase64URL(preimage); got != v.PreimageB64URL {
					t.Errorf("preimage b64url %q, want %q", got, v.PreimageB64URL)
				}
			}

			// DER fulfillment, both ways.
			der := mustHex(t, v.FulfillmentDERHex)
			if got := FulfillmentDER(preimage); !bytes.Equal(got, der) {
				t.Errorf("FulfillmentDER = %x, want %x", got, der)
			}
			if back, err := ParseFulfillmentDER(der); err != nil || !bytes.Equal(back, preimage) {
				t.Errorf("ParseFulfillmentDER = %x, %v", back, err)
			}
			if v.FulfillmentDERB64URL != "" {
				if got := EncodeBase64URL(der); got != v.FulfillmentDERB64URL {
					t.Errorf("DER b64url %q, want %q", got, v.FulfillmentDERB64URL)
				}
				b, err := DecodeBase64(v.FulfillmentDERB64URL)
				if err != nil || !bytes.Equal(b, der) {
					t.Errorf("DecodeBase64(DER b64url) = %x, %v", b, err)
				}
			}

			// Condition, DER and URI, both ways.
			cc := PreimageCondition(preimage)
			if cc.Cost != v.Cost {
				t.Errorf("cost %d, want %d", cc.Cost, v.Cost)
			}
			cder := mustHex(t, v.ConditionDERHex)
			if got := cc.DER(); !bytes.Equal(got, cder) {
				t.Errorf("condition DER = %x, want %x", got, cder)
			}
			if got := cc.URI(); got != v.ConditionURI {
				t.Errorf("URI = %q, want %q", got, v.ConditionURI)
			}
			if back, err := ParseConditionDER(cder); err != nil || back != cc {
				t.Errorf("ParseConditionDER = %+v, %v", back, err)
			}
			if back, err := ParseConditionURI(v.ConditionURI); err != nil || back != cc {
				t.Errorf("ParseConditionURI = %+v, %v", back, err)
			}

			// The LPI forms exist for 32-byte preimages.
			if v.LPIFulfillment == "" {
				return
			}
			f, err := ParseFulfillment(v.LPIFulfillment)
			if err != nil || !bytes.Equal(f[:], preimage) {
				t.Fatalf("ParseFulfillment = %x, %v", f, err)
			}
			c, err := ParseCondition(v.LPICondition)
			if err != nil {
				t.Fatal(err)
			}
			if f.String() != v.LPIFulfillment || c.String() != v.LPICondition {
				t.Errorf("String() = %q, %q", f, c)
			}
			if ConditionOf(f) != c || !Verify(f, c) {
				t.Errorf("ConditionOf(f) = %s, want %s", ConditionOf(f), c)
			}
			if [32]byte(c) != cc.Fingerprint {
				t.Errorf("LPI condition differs from the crypto-condition fingerprint")
			}
			if !bytes.Equal(f.DER(), der) || c.URI() != v.ConditionURI {
				t.Errorf("f.DER() = %x, c.URI() = %q", f.DER(), c.URI())
			}
			other := f
			other[0] ^= 1
			if Verify(other, c) {
				t.Error("Verify accepted a wrong fulfillment")
			}
			text, _ := c.MarshalText()
			var c2 Condition
			if err := c2.UnmarshalText(text); err != nil || c2 != c {
				t.Errorf("text round trip: %v", err)
			}
			text, _ = f.MarshalText()
			var f2 Fulfillment
			if err := f2.UnmarshalText(text); err != nil || f2 != f {
				t.Errorf("text round trip: %v", err)
			}
		})
	}
}

// TestLongPreimages checks DER lengths in the long form (five-bells-condition
// 5.0.1 output for preimages of 'a' bytes).
func TestLongPreimages(t *testing.T) {
	tests := []struct {
		n         int
		derPrefix string // the DER header, up to the preimage
		condDER   string // without the fingerprint
	}{
		{127, "a08181807f", "a0258020 81017f"},
		{128, "a08183808180", "a0268020 81020080"},
		{255, "a08201028081ff", "a0268020 810200ff"},
		{256, "a082010480820100", "a0268020 81020100"},
		{65536, "a0830100058083010000", "a0278020 8103010000"},
	}
	for _, tt := range tests {
		pre := bytes.Repeat([]byte{'a'}, tt.n)
		der := FulfillmentDER(pre)
		if !strings.HasPrefix(hex.EncodeToString(der), tt.derPrefix) || len(der) != len(tt.derPrefix)/2+tt.n {
			t.Errorf("%d: DER starts %x (%d bytes)", tt.n, der[:8], len(der))
		}
		if back, err := ParseFulfillmentDER(der); err != nil || !bytes.Equal(back, pre) {
			t.Errorf("%d: ParseFulfillmentDER: %v", tt.n, err)
		}
		cc := PreimageCondition(pre)
		parts := strings.Fields(tt.condDER)
		want := parts[0] + hex.EncodeToString(cc.Fingerprint[:]) + parts[1]
		if got := hex.EncodeToString(cc.DER()); got != want {
			t.Errorf("%d: condition DER %s, want %s", tt.n, got, want)
		}
		if back, err := ParseConditionDER(cc.DER()); err != nil || back != cc {
			t.Errorf("%d: ParseConditionDER: %v", tt.n, err)
		}
	}
}

func TestConditionRefusals(t *testing.T) {
	valid := "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U"
	fp := "bb3a18c772babbe36dea46636cde8a987d320117e1923f5ed7b7907e949e07b5"
	for _, s := range []string{"", valid[:42], valid + "A", valid[:42] + "=", "uzoYx3K6u+Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U", "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7 "} {
		if _, err := ParseCondition(s); !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseCondition(%q) err %v", s, err)
		}
		if _, err := ParseFulfillment(s); !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseFulfillment(%q) err %v", s, err)
		}
	}
	for _, s := range []string{
		"ni:///sha-256;" + valid + "?fpt=preimage-sha-256",
		"ni:///sha-256;" + valid + "?fpt=prefix-sha-256&cost=32",
		"ni:///sha-256;" + valid + "?fpt=preimage-sha-256&cost=-1",
		"ni:///sha-256;" + valid + "?fpt=preimage-sha-256&cost=+1",
		"ni:///sha-256;" + valid + "?fpt=preimage-sha-256&cost=3x",
		"ni:///sha-256;" + valid + "?fpt=preimage-sha-256&cost=1&cost=2",
		"ni:///sha-256;" + valid,
		"ni:///sha-512;" + valid + "?fpt=preimage-sha-256&cost=32",
		"ni:///sha-256;" + valid[:40] + "?fpt=preimage-sha-256&cost=32",
	} {
		if _, err := ParseConditionURI(s); !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseConditionURI(%q) err %v", s, err)
		}
	}
	// five-bells-condition read parameters in any order and ignored others.
	c, err := ParseConditionURI("ni:///sha-256;" + valid + "?cost=32&x=1&fpt=preimage-sha-256")
	if err != nil || c.Cost != 32 || hex.EncodeToString(c.Fingerprint[:]) != fp {
		t.Errorf("reordered URI: %+v, %v", c, err)
	}
	for _, d := range []string{
		"", "a0", "a1028000", "a0258020" + fp + "810120" + "00",
		"a0258020" + fp + "8101",                 // cost truncated
		"a0268020" + fp + "81020001",             // cost with a needless zero byte
		"a0258020" + fp + "810180",               // negative cost
		"a0248020" + fp + "8100",                 // empty cost
		"a0258120" + fp + "810120",               // wrong fingerprint tag
		"a0248020" + fp[:62] + "810120",          // short fingerprint
		"a02d8020" + fp + "81090100000000000000", // over 64 bits
		"a081258020" + fp + "810120",             // non-canonical outer length
	} {
		if _, err := ParseConditionDER(mustHex(t, d)); !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseConditionDER(%s) err %v", d, err)
		}
	}
	for _, d := range []string{
		"", "a0", "a1028000", "a00281", "a003810100",
		"a002800000",   // a byte after the element
		"a003800000",   // a byte after the preimage
		"a08102800000", // non-canonical length
		"a0038002aa",   // preimage longer than its element
	} {
		if _, err := ParseFulfillmentDER(mustHex(t, d)); !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseFulfillmentDER(%s) err %v", d, err)
		}
	}
}

func TestDERUintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 255, 256, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		b := derUint(v)
		if got, err := parseDERUint(b); err != nil || got != v {
			t.Errorf("%d: %x -> %d, %v", v, b, got, err)
		}
		if b[0]&0x80 != 0 {
			t.Errorf("%d: %x reads as negative", v, b)
		}
	}
}
