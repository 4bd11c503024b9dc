package curve

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// PointSize is the length of one point in the binary form.
const PointSize = 16

// The binary form (route broadcast "points", ILQP liquidity responses) is 16
// bytes a point: x then y, each uint64 written as its high 32-bit word then
// its low word, each word little-endian. This is how ilp-routing 10.1.0 wrote
// a Long's getHighBitsUnsigned and getLowBitsUnsigned with writeUInt32LE; it
// is neither big- nor little-endian 64-bit.

func putMixed(b []byte, v uint64) {
	binary.LittleEndian.PutUint32(b[0:4], uint32(v>>32))
	binary.LittleEndian.PutUint32(b[4:8], uint32(v))
}

func getMixed(b []byte) uint64 {
	return uint64(binary.LittleEndian.Uint32(b[0:4]))<<32 | uint64(binary.LittleEndian.Uint32(b[4:8]))
}

// FromBinary decodes the binary form and checks the points as New does. The
// length must be a multiple of 16; an empty input is the empty curve.
func FromBinary(b []byte) (Curve, error) {
	if len(b)%PointSize != 0 {
		return Curve{}, fmt.Errorf("%w: binary form of %d bytes is not a multiple of %d", ErrInvalid, len(b), PointSize)
	}
	pts := make([]Point, len(b)/PointSize)
	for i := range pts {
		o := i * PointSize
		pts[i] = Point{X: getMixed(b[o:]), Y: getMixed(b[o+8:])}
	}
	return newOwned(pts)
}

// AppendBinary appends the binary form of c to b.
func (c Curve) AppendBinary(b []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, len(c.pts)*PointSize)...)
	for i, p := range c.pts {
		o := n + i*PointSize
		putMixed(b[o:], p.X)
		putMixed(b[o+8:], p.Y)
	}
	return b
}

// MarshalBinary returns the binary form (never fails).
func (c Curve) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, len(c.pts)*PointSize)), nil
}

// Base64 returns the binary form in standard padded base64, as route
// broadcasts carry it (ilp-routing's Route#toJSON used Buffer#toString
// ('base64')).
func (c Curve) Base64() string {
	b, _ := c.MarshalBinary()
	return base64.StdEncoding.EncodeToString(b)
}

// FromBase64 decodes a base64 binary form. Like the Node.js decoder the 2017
// peers used, it takes the standard and the URL-safe alphabet (even mixed),
// with or without padding; unlike it, it refuses any other character.
func FromBase64(s string) (Curve, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return Curve{}, fmt.Errorf("%w: base64: %w", ErrInvalid, err)
	}
	return FromBinary(b)
}

// MarshalText makes a Curve a JSON string in route broadcasts: its Base64.
func (c Curve) MarshalText() ([]byte, error) { return []byte(c.Base64()), nil }

// UnmarshalText decodes what MarshalText wrote (or its base64url form) into
// *c, replacing the whole value.
func (c *Curve) UnmarshalText(text []byte) error {
	d, err := FromBase64(string(text))
	if err != nil {
		return err
	}
	*c = d
	return nil
}
