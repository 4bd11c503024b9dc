package ilp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func TestDecodeBase64NodeCases(t *testing.T) {
	cases := []struct {
		in, hex string
	}{
		{"", ""},
		{"A", ""},                           // one leftover character gives no byte
		{"AQ", "01"},                        // two give one
		{"AQI", "0102"},                     // three give two
		{"AQID", "010203"},                  // a full group
		{"AQIDB", "010203"},                 // a lone fifth character is dropped
		{"AQ==", "01"},                      // padding accepted
		{"AQ==AQID", "01"},                  // the first '=' ends the input
		{"=AQID", ""},                       // even at the start
		{"A Q\tI\nD", "010203"},             // whitespace skipped
		{"A.Q~I!D", "010203"},               // so is any other foreign character
		{"-_8", "fbff"},                     // URL-safe alphabet
		{"+/8", "fbff"},                     // standard alphabet
		{"-/8", "fbff"},                     // mixed
		{"AQ\u00e9ID", "010203"},            // non-ASCII bytes skipped
		{"c2VlZWNyZXQ", "7365656563726574"}, // "seeecret" spelled in base64
	}
	for _, c := range cases {
		want, _ := hex.DecodeString(c.hex)
		if got := DecodeBase64Node(c.in); !bytes.Equal(got, want) {
			t.Errorf("DecodeBase64Node(%q) = %x, want %x", c.in, got, want)
		}
	}
}

// TestDecodeBase64NodeAgreesWithStrictDecoders checks that on well-formed text, in any
// of the four usual spellings, Decode gives what encoding/base64 gives.
func TestDecodeBase64NodeAgreesWithStrictDecoders(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	encs := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding}
	for n := 0; n < 200; n++ {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		for _, enc := range encs {
			s := enc.EncodeToString(b)
			if got := DecodeBase64Node(s); !bytes.Equal(got, b) {
				t.Fatalf("DecodeBase64Node(%q) = %x, want %x", s, got, b)
			}
		}
	}
}

func FuzzDecodeBase64Node(f *testing.F) {
	for _, s := range []string{"", "AQID", "AQ==", "-_8", "PE7rnGiULIrfu655nwSYew.x", "seeecret"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := DecodeBase64Node(s)
		if len(got) > len(s)*3/4 {
			t.Fatalf("DecodeBase64Node(%q) gave %d bytes from %d characters", s, len(got), len(s))
		}
		// Re-encoding what was read and decoding again gives the same bytes.
		if again := DecodeBase64Node(base64.RawURLEncoding.EncodeToString(got)); !bytes.Equal(again, got) {
			t.Fatalf("round trip of %x gave %x", got, again)
		}
	})
}
