package psk

import (
	"errors"
	"fmt"

	"github.com/ilpkit/ilpkit/ilp"
)

// IPRVersion is the version byte of the binary Interledger Payment Request
// of RFC 0011 as ilp@11 wrote it.
const IPRVersion = 2

// ErrInvalidIPR is wrapped by the errors of DecodeIPR.
var ErrInvalidIPR = errors.New("psk: invalid IPR")

// EncodeIPR returns the binary IPR: the version byte 2, the 32-byte
// condition, then the packet as an OER octet string. (RFC 0011's table put
// the packet first; its ASN.1 and ilp@11 put the condition first.) An IPR is
// a PSK payment whose secret the receiver keeps: it builds the packet with
// GenerateParams and CreatePacketAndCondition (ilp@11 set Expires-At to now
// + 60 s by default) and hands out this encoding instead of the secret.
func EncodeIPR(condition ilp.Condition, packet []byte) []byte {
	b := make([]byte, 0, 1+len(condition)+6+len(packet))
	b = append(b, IPRVersion)
	b = append(b, condition[:]...)
	b = appendLength(b, len(packet))
	return append(b, packet...)
}

// DecodeIPR reads a binary IPR. Like ilp@11 it checks the version and the
// octet string and ignores bytes after it; it does not decode the packet.
// The packet returned does not share memory with b.
func DecodeIPR(b []byte) (ilp.Condition, []byte, error) {
	var c ilp.Condition
	if len(b) < 1+len(c)+1 {
		return c, nil, fmt.Errorf("%w: %d bytes", ErrInvalidIPR, len(b))
	}
	if b[0] != IPRVersion {
		return c, nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidIPR, b[0], IPRVersion)
	}
	copy(c[:], b[1:])
	// The octet string's length determinant is read by package ilp, which
	// reads it after a packet's type byte: the last condition byte stands
	// in for that byte here.
	at := len(c)
	n, err := ilp.EnvelopeLen(b[at:])
	if err != nil {
		return c, nil, fmt.Errorf("%w: packet: %w", ErrInvalidIPR, err)
	}
	start := at + 2 // after the stand-in byte and a short-form length
	if d := b[at+1]; d >= 0x80 {
		start += int(d & 0x7f)
	}
	return c, append([]byte(nil), b[start:at+n]...), nil
}

// appendLength appends an OER length determinant: one byte below 128, else
// 0x80 | the number of length bytes, then the length in big-endian bytes.
// Package ilp has the same writer but does not export it.
func appendLength(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	var be [8]byte
	w := 0
	for v := uint64(n); v > 0; v >>= 8 {
		w++
	}
	for i := 0; i < w; i++ {
		be[7-i] = byte(uint64(n) >> (8 * i))
	}
	b = append(b, 0x80|byte(w))
	return append(b, be[8-w:]...)
}
