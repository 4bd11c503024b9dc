package ilp

import (
	"strconv"
)

// Type is the first byte of an ILP packet v1: which of the eight packets
// follows (RFC 0003 appendix B, ilp-packet 1.3.0).
type Type uint8

// The packet types of ILP v1.
const (
	TypePayment                    Type = 1 // IlpPayment
	TypeQuoteLiquidityRequest      Type = 2 // ILQP QuoteLiquidityRequest
	TypeQuoteLiquidityResponse     Type = 3 // ILQP QuoteLiquidityResponse
	TypeQuoteBySourceRequest       Type = 4 // ILQP QuoteBySourceAmountRequest
	TypeQuoteBySourceResponse      Type = 5 // ILQP QuoteBySourceAmountResponse
	TypeQuoteByDestinationRequest  Type = 6 // ILQP QuoteByDestinationAmountRequest
	TypeQuoteByDestinationResponse Type = 7 // ILQP QuoteByDestinationAmountResponse
	TypeError                      Type = 8 // InterledgerProtocolError
)

var typeNames = [...]string{
	TypePayment:                    "ilp_payment",
	TypeQuoteLiquidityRequest:      "ilqp_liquidity_request",
	TypeQuoteLiquidityResponse:     "ilqp_liquidity_response",
	TypeQuoteBySourceRequest:       "ilqp_by_source_request",
	TypeQuoteBySourceResponse:      "ilqp_by_source_response",
	TypeQuoteByDestinationRequest:  "ilqp_by_destination_request",
	TypeQuoteByDestinationResponse: "ilqp_by_destination_response",
	TypeError:                      "ilp_error",
}

// String returns the typeString that ilp-packet 1.3.0 gave the type, such as
// "ilp_payment", or "type(N)" for a byte that is not one of the eight.
func (t Type) String() string {
	if t >= TypePayment && t <= TypeError {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType returns the type whose String is s.
func ParseType(s string) (Type, bool) {
	for t := TypePayment; t <= TypeError; t++ {
		if typeNames[t] == s {
			return t, true
		}
	}
	return 0, false
}

// Packet is one of the eight ILP v1 packets. Each type's methods work on the
// whole packet, envelope included: AppendBinary appends the type byte, the
// length of the contents and the contents to b; UnmarshalBinary reads the same
// and refuses a packet of another type. Bytes after the envelope are ignored,
// as 2017 ignored them.
type Packet interface {
	Type() Type
	AppendBinary(b []byte) ([]byte, error)
	MarshalBinary() ([]byte, error)
	UnmarshalBinary(b []byte) error
}

// Wire keeps what a decoded packet's bytes said beyond its field values, so
// that the packet encodes back to the very bytes it was decoded from. The zero
// Wire is the form every 2017 serializer wrote; code that builds packets
// leaves it alone, and code that forwards a decoded packet keeps it.
type Wire struct {
	// Extension is the bytes that followed the known fields inside the
	// envelope. nil stands for the single zero byte that every 2017
	// serializer wrote; a non-nil empty slice for no byte at all (2017 read
	// packets without it). Anything else is written as it is.
	Extension []byte

	// CountWidth is the width in bytes of the VarUInt count of a liquidity
	// response's curve points or an error's forwardedBy entries when it was
	// wider than needed (2017 read leading zero bytes there); 0 means the
	// minimal form. It is used for as long as the count fits, up to six bytes.
	CountWidth int

	// Time is the timestamp text (expiresAt, triggeredAt) exactly as
	// received when it is not the canonical text of the time it stands for:
	// 2017 read day 31 of a 30-day month, or hour 24, rolling over to the
	// next month or day as JavaScript's Date does. It is written instead of
	// the canonical text for as long as it still stands for the packet's
	// time field.
	Time string
}

func (w *Wire) extSize() int {
	if w.Extension == nil {
		return 1
	}
	return len(w.Extension)
}

func (w *Wire) appendExt(b []byte) []byte {
	if w.Extension == nil {
		return append(b, 0)
	}
	return append(b, w.Extension...)
}

// countWidth is the width to write a count with, or an error if Wire asks for
// more than 2017 could read.
func (w *Wire) countWidth(t Type, field string) (int, error) {
	if w.CountWidth < 0 || w.CountWidth > maxVarUintLen {
		return 0, encodeError(t, field, ErrVarUintTooLong,
			"Wire.CountWidth "+strconv.Itoa(w.CountWidth))
	}
	return w.CountWidth, nil
}

// Decode decodes one ILP packet of any of the eight types; the result is a
// *Payment, *QuoteLiquidityRequest, ..., or *Error. Bytes after the envelope
// are ignored (EnvelopeLen tells where it ends).
func Decode(b []byte) (Packet, error) {
	if len(b) == 0 {
		return nil, &DecodeError{Field: "type", Err: ErrTruncated, Detail: "empty packet"}
	}
	var p Packet
	switch Type(b[0]) {
	case TypePayment:
		p = new(Payment)
	case TypeQuoteLiquidityRequest:
		p = new(QuoteLiquidityRequest)
	case TypeQuoteLiquidityResponse:
		p = new(QuoteLiquidityResponse)
	case TypeQuoteBySourceRequest:
		p = new(QuoteBySourceRequest)
	case TypeQuoteBySourceResponse:
		p = new(QuoteBySourceResponse)
	case TypeQuoteByDestinationRequest:
		p = new(QuoteByDestinationRequest)
	case TypeQuoteByDestinationResponse:
		p = new(QuoteByDestinationResponse)
	case TypeError:
		p = new(Error)
	default:
		return nil, &DecodeError{Field: "type", Err: ErrUnknownType, Detail: "type byte " + strconv.Itoa(int(b[0]))}
	}
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return p, nil
}

// EnvelopeLen returns the length of the envelope (type byte, length
// determinant and contents) at the start of b, whatever its type byte; the
// bytes after it are not part of the packet.
func EnvelopeLen(b []byte) (int, error) {
	r := reader{b: b, end: len(b)}
	if len(b) == 0 {
		return 0, r.fail(0, "type", ErrTruncated, "empty packet")
	}
	r.off = 1
	n, err := r.length("envelope")
	if err != nil {
		return 0, err
	}
	return r.off + n, nil
}

// openEnvelope checks the type byte and returns a reader over the contents.
func openEnvelope(b []byte, want Type) (reader, error) {
	r := reader{b: b, end: len(b), typ: want}
	if len(b) == 0 {
		return r, r.fail(0, "type", ErrTruncated, "empty packet")
	}
	if got := Type(b[0]); got != want {
		return r, r.fail(0, "type", ErrWrongType, "got "+got.String()+", want "+want.String())
	}
	r.off = 1
	n, err := r.length("envelope")
	if err != nil {
		return r, err
	}
	r.end = r.off + n
	return r, nil
}

// extension returns the bytes after the known fields in the form Wire keeps
// them: nil for the usual single zero byte, a copy otherwise.
func (r *reader) extension() []byte {
	rest := r.b[r.off:r.end]
	switch {
	case len(rest) == 1 && rest[0] == 0:
		return nil
	case len(rest) == 0:
		return []byte{}
	}
	return append([]byte(nil), rest...)
}

// beginEnvelope appends the type byte and the length of n bytes of contents.
func beginEnvelope(b []byte, t Type, n int) []byte {
	return appendLength(append(b, byte(t)), n)
}

// envelopeSize is the size of a packet whose contents take n bytes.
func envelopeSize(n int) int { return 1 + lengthSize(n) + n }

// copyBytes returns a copy of p, nil when p is empty.
func copyBytes(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	c := make([]byte, len(p))
	copy(c, p)
	return c
}

// setString stores p in *s, reusing the existing string when it already
// holds the same bytes (no allocation for the common repeated account).
func setString(s *string, p []byte) {
	if *s != string(p) {
		*s = string(p)
	}
}
