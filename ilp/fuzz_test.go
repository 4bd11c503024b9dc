package ilp

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the vectors are added at
// run time as well.

// FuzzDecode covers Decode and every type's UnmarshalBinary/AppendBinary:
// nothing panics, every refusal is a *DecodeError, and a decoded packet
// encodes to exactly the envelope it came from (bytes after the envelope are
// not part of the packet) and decodes again to the same value.
func FuzzDecode(f *testing.F) {
	for _, v := range loadPacketVectors(f).Vectors {
		f.Add(mustHex(f, v.Hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Offset < 0 || de.Offset > len(b) {
				t.Fatalf("error offset %d outside input of %d bytes", de.Offset, len(b))
			}
			return
		}
		n, err := EnvelopeLen(b)
		if err != nil {
			t.Fatalf("EnvelopeLen refuses what Decode accepted: %v", err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded packet: %v", err)
		}
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded\n got %x\nwant %x", enc, b[:n])
		}
		app, err := p.AppendBinary([]byte{0xee})
		if err != nil || !bytes.Equal(app[1:], enc) || app[0] != 0xee {
			t.Fatalf("AppendBinary = %x, %v", app, err)
		}
		q, err := Decode(enc)
		if err != nil {
			t.Fatalf("decoding the re-encoded packet: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("decode(encode(decode(x))) = %+v, want %+v", q, p)
		}
	})
}

// FuzzOER covers the primitives: reading a length determinant, an octet
// string and a VarUInt from arbitrary bytes never panics, never reads past
// the input, and what is read re-encodes to the bytes it was read from
// (VarUInts at the width they had); and writing any value reads back.
func FuzzOER(f *testing.F) {
	f.Add([]byte{0x01, 0x00}, uint64(0), uint8(0))
	f.Add([]byte{0x02, 0x01, 0x03}, uint64(259), uint8(0))
	f.Add([]byte{0x81, 0x80}, uint64(1<<53-1), uint8(2))
	f.Add([]byte{0x82, 0x01, 0x00}, uint64(1<<64-1), uint8(6))
	f.Fuzz(func(t *testing.T, b []byte, v uint64, width uint8) {
		r := reader{b: b, end: len(b)}
		if p, err := r.varOctets("s"); err == nil {
			if r.off > len(b) || !bytes.Equal(appendVarBytes(nil, p), b[:r.off]) {
				t.Fatalf("octet string %x re-encodes to %x, read from %x", p, appendVarBytes(nil, p), b[:r.off])
			}
		}
		r = reader{b: b, end: len(b)}
		if n, w, err := r.varUint("v"); err == nil {
			if w < 1 || w > maxVarUintLen || !bytes.Equal(appendVarUint(nil, n, w), b[:r.off]) {
				t.Fatalf("VarUInt %d (width %d) re-encodes to %x, read from %x", n, w, appendVarUint(nil, n, w), b[:r.off])
			}
		}

		w := int(width % (maxVarUintLen + 1))
		enc := appendVarUint(nil, v, w)
		if len(enc) != varUintSize(v, w) {
			t.Fatalf("varUintSize(%d, %d) = %d, encoded %d bytes", v, w, varUintSize(v, w), len(enc))
		}
		r = reader{b: enc, end: len(enc)}
		got, gw, err := r.varUint("v")
		switch {
		case uintWidth(v) > maxVarUintLen:
			if !errors.Is(err, ErrVarUintTooLong) {
				t.Fatalf("VarUInt %d of %d bytes read back: %v", v, uintWidth(v), err)
			}
		case err != nil || got != v || gw != max(w, uintWidth(v)) || r.off != len(enc):
			t.Fatalf("VarUInt %d width %d: encoded %x, read %d width %d, %v", v, w, enc, got, gw, err)
		}

		// A string of len(b) bytes round-trips, whatever the length form.
		s := appendVarBytes(nil, b)
		if len(s) != varSize(len(b)) {
			t.Fatalf("varSize(%d) = %d, encoded %d", len(b), varSize(len(b)), len(s))
		}
		r = reader{b: s, end: len(s)}
		if back, err := r.varOctets("s"); err != nil || !bytes.Equal(back, b) {
			t.Fatalf("octet string of %d bytes: %v", len(b), err)
		}
	})
}

// FuzzBase64 checks DecodeBase64 against EncodeBase64URL: nothing panics, and
// whatever decodes re-encodes to text that decodes to the same bytes.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"ARwAAAAAB1TUwA5nLnVzLm5leHVzLmJvYgMEEEEA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAAAkBAAA=", "-_-_AQ", "+/+/AQ==", "A", "AQ="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeBase64(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidBase64) {
				t.Fatalf("error %v does not wrap ErrInvalidBase64", err)
			}
			return
		}
		back, err := DecodeBase64(EncodeBase64URL(b))
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("%q: %x re-encoded and decoded to %x, %v", s, b, back, err)
		}
	})
}

// FuzzCondition covers the crypto-condition parsers: nothing panics, and
// whatever parses writes back to the same DER (the parsers take canonical
// DER only) or to a URI that parses to the same condition.
func FuzzCondition(f *testing.F) {
	f.Add([]byte{0xa0, 0x02, 0x80, 0x00}, "ni:///sha-256;47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU?fpt=preimage-sha-256&cost=0")
	f.Add(PreimageCondition([]byte("aaa")).DER(), PreimageCondition(make([]byte, 300)).URI())
	f.Fuzz(func(t *testing.T, der []byte, uri string) {
		if pre, err := ParseFulfillmentDER(der); err == nil {
			if !bytes.Equal(FulfillmentDER(pre), der) {
				t.Fatalf("fulfillment %x re-encodes to %x", der, FulfillmentDER(pre))
			}
		} else if !errors.Is(err, ErrInvalidCondition) {
			t.Fatalf("error %v does not wrap ErrInvalidCondition", err)
		}
		if c, err := ParseConditionDER(der); err == nil {
			if !bytes.Equal(c.DER(), der) {
				t.Fatalf("condition %x re-encodes to %x", der, c.DER())
			}
		} else if !errors.Is(err, ErrInvalidCondition) {
			t.Fatalf("error %v does not wrap ErrInvalidCondition", err)
		}
		if c, err := ParseConditionURI(uri); err == nil {
			if back, err := ParseConditionURI(c.URI()); err != nil || back != c {
				t.Fatalf("URI %q -> %q -> %+v, %v", uri, c.URI(), back, err)
			}
		} else if !errors.Is(err, ErrInvalidCondition) {
			t.Fatalf("error %v does not wrap ErrInvalidCondition", err)
		}
	})
}
