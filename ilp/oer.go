package ilp

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
)

// The OER subset used by ILP packet v1, read the way oer-utils 1.3 read it.
//
// Length determinant: a byte below 0x80 is the length itself; otherwise its
// low seven bits count the big-endian length bytes that follow. oer-utils
// refused a long form with no length bytes, a long form with more than six
// length bytes, and (through its canonical check) lengths that a shorter form
// could carry. That check computed its minimum as 1 << ((n-1)*8), which
// JavaScript wraps for n = 5 and n = 6 (1 << 32 is 1), so 2017 let through
// five- and six-byte forms of lengths from 128 and 256 up. No 2017 writer
// produced them, they are exactly the non-canonical forms this codec must
// refuse, and a decoded packet could not re-emit them without remembering the
// width of every length; so they are refused like every other non-canonical
// form.
//
// VarUInt: a length-prefixed big-endian unsigned integer. oer-utils refused
// an empty one and one longer than six bytes (all a JavaScript number holds
// exactly), and it read leading zero bytes without complaint; this codec does
// the same, and Wire.CountWidth keeps such a padded width so that it
// re-encodes identically. Writers emit the minimal form, with zero as 01 00.

const (
	// maxLengthBytes is the most length bytes a long-form determinant may
	// have (oer-utils 1.3 read at most six).
	maxLengthBytes = 6
	// maxVarUintLen is the longest VarUInt 2017 read (oer-utils 1.3
	// MAX_INT_BYTES), although its writer could emit seven bytes.
	maxVarUintLen = 6
)

// Sentinel errors a *DecodeError wraps; test for them with errors.Is.
var (
	ErrTruncated          = errors.New("truncated")
	ErrNonCanonicalLength = errors.New("non-canonical length determinant")
	ErrLengthTooLong      = errors.New("over-long length determinant")
	ErrEmptyVarUint       = errors.New("VarUInt of length 0")
	ErrVarUintTooLong     = errors.New("VarUInt longer than 6 bytes")
	ErrCountTooLarge      = errors.New("count larger than the bytes that follow")
	ErrBadTimestamp       = errors.New("malformed timestamp")
	ErrUnknownType        = errors.New("unknown packet type")
	ErrWrongType          = errors.New("wrong packet type")
)

// DecodeError reports why a packet could not be decoded and where.
type DecodeError struct {
	Type   Type   // packet type being decoded; 0 before the type byte is known
	Field  string // the field being read, such as "account" or "envelope length"
	Offset int    // byte offset from the start of the packet where the field starts
	Err    error  // one of the Err sentinels above
	Detail string // what exactly was wrong, for people
}

func (e *DecodeError) Error() string {
	s := "ilp: decoding "
	if e.Type != 0 {
		s += e.Type.String() + ": "
	}
	s += e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }

// reader walks one packet. Offsets count from the first byte of the packet so
// that errors point at the right place; end is the end of the part being read
// (the envelope contents once the envelope is open).
type reader struct {
	b   []byte
	off int
	end int
	typ Type
}

// fail builds the error for a field; kept out of line so that the readers'
// success paths stay small enough to inline.
//
//go:noinline
func (r *reader) fail(off int, field string, err error, detail string) error {
	return &DecodeError{Type: r.typ, Field: field, Offset: off, Err: err, Detail: detail}
}

func (r *reader) left() int { return r.end - r.off }

//go:noinline
func (r *reader) truncated(field string, need int) error {
	return r.fail(r.off, field, ErrTruncated,
		"need "+strconv.Itoa(need)+" bytes, "+strconv.Itoa(r.left())+" left")
}

// fixed returns the next n bytes without copying them.
func (r *reader) fixed(field string, n int) ([]byte, error) {
	if n < 0 || r.left() < n {
		return nil, r.truncated(field, n)
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p, nil
}

func (r *reader) uint32(field string) (uint32, error) {
	if r.left() < 4 {
		return 0, r.truncated(field, 4)
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *reader) uint64(field string) (uint64, error) {
	if r.left() < 8 {
		return 0, r.truncated(field, 8)
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v, nil
}

// length reads a length determinant and checks that that many bytes follow.
func (r *reader) length(field string) (int, error) {
	if r.off < r.end {
		if first := r.b[r.off]; first < 0x80 && int(first) < r.end-r.off {
			r.off++
			return int(first), nil
		}
	}
	return r.lengthSlow(field)
}

// lengthSlow is length for the long form and for every error.
func (r *reader) lengthSlow(field string) (int, error) {
	start := r.off
	if r.left() < 1 {
		return 0, r.truncated(field+" length", 1)
	}
	first := r.b[r.off]
	if first < 0x80 {
		r.off++
		if int(first) > r.left() {
			return 0, r.fail(start, field, ErrTruncated,
				"length "+strconv.Itoa(int(first))+" but "+strconv.Itoa(r.left())+" bytes follow")
		}
		return int(first), nil
	}
	n := int(first & 0x7f)
	if n == 0 {
		return 0, r.fail(start, field, ErrNonCanonicalLength, "long form 0x80 has no length bytes")
	}
	if n > maxLengthBytes {
		return 0, r.fail(start, field, ErrLengthTooLong,
			strconv.Itoa(n)+" length bytes, at most "+strconv.Itoa(maxLengthBytes))
	}
	if r.left() < 1+n {
		return 0, r.truncated(field+" length", 1+n)
	}
	var v uint64
	for _, c := range r.b[r.off+1 : r.off+1+n] {
		v = v<<8 | uint64(c)
	}
	if v < 0x80 || r.b[r.off+1] == 0 {
		return 0, r.fail(start, field, ErrNonCanonicalLength,
			"length "+strconv.FormatUint(v, 10)+" written in "+strconv.Itoa(n)+" length bytes")
	}
	r.off += 1 + n
	if v > uint64(r.left()) {
		return 0, r.fail(start, field, ErrTruncated,
			"length "+strconv.FormatUint(v, 10)+" but "+strconv.Itoa(r.left())+" bytes follow")
	}
	return int(v), nil
}

// varOctets reads a length-prefixed octet string without copying it.
func (r *reader) varOctets(field string) ([]byte, error) {
	n, err := r.length(field)
	if err != nil {
		return nil, err
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p, nil
}

// varUint reads a VarUInt and reports how many bytes its value took.
func (r *reader) varUint(field string) (v uint64, width int, err error) {
	start := r.off
	p, err := r.varOctets(field)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case len(p) == 0:
		return 0, 0, r.fail(start, field, ErrEmptyVarUint, "")
	case len(p) > maxVarUintLen:
		return 0, 0, r.fail(start, field, ErrVarUintTooLong, strconv.Itoa(len(p))+" bytes")
	}
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, len(p), nil
}

// uintWidth is the number of bytes of the minimal big-endian form of v; zero
// takes one byte.
func uintWidth(v uint64) int {
	if v == 0 {
		return 1
	}
	return (bits.Len64(v) + 7) / 8
}

// appendUintN appends the low w bytes of v, big-endian (zero bytes first when
// w is wider than eight).
func appendUintN(b []byte, v uint64, w int) []byte {
	for i := w - 1; i >= 0; i-- {
		if i >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// lengthSize is the size of the canonical length determinant of n.
func lengthSize(n int) int {
	if n < 0x80 {
		return 1
	}
	return 1 + uintWidth(uint64(n))
}

// appendLength appends the canonical length determinant of n.
func appendLength(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	w := uintWidth(uint64(n))
	return appendUintN(append(b, 0x80|byte(w)), uint64(n), w)
}

// varSize is the encoded size of an octet string of n bytes.
func varSize(n int) int { return lengthSize(n) + n }

func appendVarBytes(b, p []byte) []byte { return append(appendLength(b, len(p)), p...) }

func appendVarString(b []byte, s string) []byte { return append(appendLength(b, len(s)), s...) }

// varUintSize is the encoded size of v as a VarUInt at least width bytes wide.
func varUintSize(v uint64, width int) int {
	return varSize(max(uintWidth(v), width))
}

// appendVarUint appends v as a VarUInt at least width bytes wide (0: minimal).
func appendVarUint(b []byte, v uint64, width int) []byte {
	w := max(uintWidth(v), width)
	return appendUintN(appendLength(b, w), v, w)
}
