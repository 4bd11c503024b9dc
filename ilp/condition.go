package ilp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Conditions and fulfillments as ILP Kit 3.0 met them.
//
// The Ledger Plugin Interface v1 (since RFC 0004 switched to simple
// conditions in February 2017) uses plain SHA-256 hashlocks: the fulfillment
// is a 32-byte preimage, the condition its SHA-256 hash, both written as 43
// characters of unpadded base64url. Fulfillment and Condition are those.
//
// five-bells-ledger and ilp-plugin-bells 15 spoke crypto-conditions
// (draft-thomas-crypto-conditions-02, five-bells-condition 5.x), of which ILP
// used only PREIMAGE-SHA-256:
//
//	fulfillment (DER):  A0 len( 80 len(preimage) preimage )
//	condition   (DER):  A0 len( 80 20 sha256(preimage)  81 len(cost) cost )
//	condition   (URI):  ni:///sha-256;<b64url sha256>?fpt=preimage-sha-256&cost=<n>
//
// where the cost is the preimage length. The DER and URI forms here take a
// preimage of any length (the 32-byte LPI preimage gives the familiar
// "oCKAI..." fulfillments and "&cost=32" conditions).

// Fulfillment is an LPI v1 fulfillment: the 32-byte preimage.
type Fulfillment [32]byte

// Condition is an LPI v1 execution condition: SHA-256 of the fulfillment.
type Condition [32]byte

// ErrInvalidCondition is wrapped by the errors of the condition and
// fulfillment parsers.
var ErrInvalidCondition = errors.New("invalid condition or fulfillment")

// lpiTextLen is the length of 32 bytes as unpadded base64url.
const lpiTextLen = 43

// parseLPI reads the 43-character unpadded base64url form that 2017 plugins
// required (^[A-Za-z0-9_-]{43}$). Unused low bits of the last character are
// ignored, as Node.js ignored them.
func parseLPI(what, s string) ([32]byte, error) {
	var v [32]byte
	if len(s) != lpiTextLen {
		return v, fmt.Errorf("%w: %s is %d characters, want %d of base64url", ErrInvalidCondition, what, len(s), lpiTextLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return v, fmt.Errorf("%w: %s has %q at offset %d, not base64url", ErrInvalidCondition, what, c, i)
		}
	}
	b, err := DecodeBase64(s)
	if err != nil || len(b) != len(v) {
		return v, fmt.Errorf("%w: %s %q: %v", ErrInvalidCondition, what, s, err)
	}
	copy(v[:], b)
	return v, nil
}

// ParseFulfillment reads an LPI fulfillment: 43 characters of unpadded
// base64url.
func ParseFulfillment(s string) (Fulfillment, error) {
	v, err := parseLPI("fulfillment", s)
	return Fulfillment(v), err
}

// ParseCondition reads an LPI condition: 43 characters of unpadded base64url.
func ParseCondition(s string) (Condition, error) {
	v, err := parseLPI("condition", s)
	return Condition(v), err
}

// String returns the fulfillment as unpadded base64url.
func (f Fulfillment) String() string { return EncodeBase64URL(f[:]) }

// String returns the condition as unpadded base64url.
func (c Condition) String() string { return EncodeBase64URL(c[:]) }

// MarshalText returns the unpadded base64url form.
func (f Fulfillment) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads the unpadded base64url form.
func (f *Fulfillment) UnmarshalText(b []byte) error {
	v, err := ParseFulfillment(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// MarshalText returns the unpadded base64url form.
func (c Condition) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads the unpadded base64url form.
func (c *Condition) UnmarshalText(b []byte) error {
	v, err := ParseCondition(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ConditionOf returns the condition that f fulfills: its SHA-256 hash.
func ConditionOf(f Fulfillment) Condition { return sha256.Sum256(f[:]) }

// Verify reports whether f fulfills c, in constant time.
func Verify(f Fulfillment, c Condition) bool {
	h := ConditionOf(f)
	return subtle.ConstantTimeCompare(h[:], c[:]) == 1
}

// DER returns the fulfillment as a PREIMAGE-SHA-256 crypto-condition
// fulfillment (A0 22 80 20 ...).
func (f Fulfillment) DER() []byte { return FulfillmentDER(f[:]) }

// URI returns the condition as a PREIMAGE-SHA-256 crypto-condition URI with
// cost 32.
func (c Condition) URI() string { return CryptoCondition{Fingerprint: c, Cost: 32}.URI() }

// CryptoCondition is a PREIMAGE-SHA-256 crypto-condition: the SHA-256 hash
// of the preimage and the cost, which is the preimage length.
type CryptoCondition struct {
	Fingerprint [32]byte
	Cost        uint64
}

// PreimageCondition returns the crypto-condition that preimage fulfills.
func PreimageCondition(preimage []byte) CryptoCondition {
	return CryptoCondition{Fingerprint: sha256.Sum256(preimage), Cost: uint64(len(preimage))}
}

// FulfillmentDER returns the DER form of the PREIMAGE-SHA-256 fulfillment
// of preimage, of any length.
func FulfillmentDER(preimage []byte) []byte {
	inner := derSize(len(preimage))
	b := make([]byte, 0, derSize(inner))
	b = appendDERHeader(b, 0xa0, inner)
	b = appendDERHeader(b, 0x80, len(preimage))
	return append(b, preimage...)
}

// ParseFulfillmentDER reads the DER form of a PREIMAGE-SHA-256 fulfillment
// and returns a copy of the preimage. The DER must be canonical and nothing
// may follow it.
func ParseFulfillmentDER(der []byte) ([]byte, error) {
	body, err := derExpect(der, 0xa0, "fulfillment")
	if err != nil {
		return nil, err
	}
	preimage, rest, err := derRead(body, 0x80, "preimage")
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the preimage", ErrInvalidCondition, len(rest))
	}
	return append([]byte{}, preimage...), nil
}

// DER returns the binary (DER) form of the condition.
func (c CryptoCondition) DER() []byte {
	cost := derUint(c.Cost)
	inner := derSize(len(c.Fingerprint)) + derSize(len(cost))
	b := make([]byte, 0, derSize(inner))
	b = appendDERHeader(b, 0xa0, inner)
	b = appendDERHeader(b, 0x80, len(c.Fingerprint))
	b = append(b, c.Fingerprint[:]...)
	b = appendDERHeader(b, 0x81, len(cost))
	return append(b, cost...)
}

// URI returns the condition as a ni: URI, in the parameter order
// five-bells-condition wrote.
func (c CryptoCondition) URI() string {
	return uriPrefix + EncodeBase64URL(c.Fingerprint[:]) + "?fpt=preimage-sha-256&cost=" + strconv.FormatUint(c.Cost, 10)
}

const uriPrefix = "ni:///sha-256;"

// ParseConditionDER reads the binary (DER) form of a PREIMAGE-SHA-256
// condition. The DER must be canonical and nothing may follow it.
func ParseConditionDER(der []byte) (CryptoCondition, error) {
	var c CryptoCondition
	body, err := derExpect(der, 0xa0, "condition")
	if err != nil {
		return c, err
	}
	fp, rest, err := derRead(body, 0x80, "fingerprint")
	if err != nil {
		return c, err
	}
	if len(fp) != len(c.Fingerprint) {
		return c, fmt.Errorf("%w: fingerprint of %d bytes, want 32", ErrInvalidCondition, len(fp))
	}
	cost, rest, err := derRead(rest, 0x81, "cost")
	if err != nil {
		return c, err
	}
	if len(rest) != 0 {
		return c, fmt.Errorf("%w: %d bytes after the cost", ErrInvalidCondition, len(rest))
	}
	v, err := parseDERUint(cost)
	if err != nil {
		return c, err
	}
	copy(c.Fingerprint[:], fp)
	c.Cost = v
	return c, nil
}

// ParseConditionURI reads a PREIMAGE-SHA-256 condition URI. Like
// five-bells-condition it takes the query parameters in any order and
// ignores ones it does not know; fpt must be preimage-sha-256 and cost a
// decimal integer.
func ParseConditionURI(s string) (CryptoCondition, error) {
	var c CryptoCondition
	rest, ok := strings.CutPrefix(s, uriPrefix)
	if !ok {
		return c, fmt.Errorf("%w: condition URI does not start with %q", ErrInvalidCondition, uriPrefix)
	}
	hash, query, ok := strings.Cut(rest, "?")
	if !ok {
		return c, fmt.Errorf("%w: condition URI has no '?'", ErrInvalidCondition)
	}
	fp, err := parseLPI("condition URI fingerprint", hash)
	if err != nil {
		return c, err
	}
	var fpt, cost string
	var haveFpt, haveCost bool
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "fpt":
			if haveFpt {
				return c, fmt.Errorf("%w: condition URI repeats fpt", ErrInvalidCondition)
			}
			fpt, haveFpt = v, true
		case "cost":
			if haveCost {
				return c, fmt.Errorf("%w: condition URI repeats cost", ErrInvalidCondition)
			}
			cost, haveCost = v, true
		}
	}
	if fpt != "preimage-sha-256" {
		return c, fmt.Errorf("%w: condition URI type %q, want preimage-sha-256", ErrInvalidCondition, fpt)
	}
	n, err := strconv.ParseUint(cost, 10, 64)
	if err != nil || cost == "" || cost[0] == '+' {
		return c, fmt.Errorf("%w: condition URI cost %q is not a decimal integer", ErrInvalidCondition, cost)
	}
	c.Fingerprint = fp
	c.Cost = n
	return c, nil
}

// derSize is the size of a DER element with n bytes of contents.
func derSize(n int) int { return 1 + derLengthSize(n) + n }

func derLengthSize(n int) int {
	if n < 0x80 {
		return 1
	}
	return 1 + uintWidth(uint64(n))
}

// appendDERHeader appends a tag and a definite length. DER lengths have the
// same shape as OER length determinants.
func appendDERHeader(b []byte, tag byte, n int) []byte {
	return appendLength(append(b, tag), n)
}

// derRead reads one element with the given tag from the start of b, with a
// canonical (minimal) length.
func derRead(b []byte, tag byte, what string) (contents, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("%w: %s truncated", ErrInvalidCondition, what)
	}
	if b[0] != tag {
		return nil, nil, fmt.Errorf("%w: %s has tag %#02x, want %#02x", ErrInvalidCondition, what, b[0], tag)
	}
	r := reader{b: b, off: 1, end: len(b)}
	n, err := r.length(what)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return nil, nil, fmt.Errorf("%w: %s: %v: %s", ErrInvalidCondition, what, de.Err, de.Detail)
		}
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalidCondition, what, err)
	}
	return b[r.off : r.off+n], b[r.off+n:], nil
}

// derExpect reads an element that must fill all of b.
func derExpect(b []byte, tag byte, what string) ([]byte, error) {
	contents, rest, err := derRead(b, tag, what)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the %s", ErrInvalidCondition, len(rest), what)
	}
	return contents, nil
}

// derUint returns the DER INTEGER contents of v: minimal two's complement,
// so with a leading zero byte when the top bit is set.
func derUint(v uint64) []byte {
	w := uintWidth(v)
	b := make([]byte, 0, w+1)
	if v>>(8*uint(w)-1)&1 == 1 {
		b = append(b, 0)
	}
	return appendUintN(b, v, w)
}

// parseDERUint reads DER INTEGER contents that must be a minimal
// non-negative value fitting 64 bits.
func parseDERUint(b []byte) (uint64, error) {
	switch {
	case len(b) == 0:
		return 0, fmt.Errorf("%w: empty cost", ErrInvalidCondition)
	case b[0]&0x80 != 0:
		return 0, fmt.Errorf("%w: negative cost", ErrInvalidCondition)
	case len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0:
		return 0, fmt.Errorf("%w: cost not minimally encoded", ErrInvalidCondition)
	case len(b) > 9 || len(b) == 9 && b[0] != 0:
		return 0, fmt.Errorf("%w: cost larger than 64 bits", ErrInvalidCondition)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}
