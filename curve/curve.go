// Package curve owns liquidity curves as Interledger v1 (mid-2017) used them:
// the curve type, its binary form, and the operations route broadcasts and
// quotes are built from (AmountAt, AmountReverse, Combine, Join, ShiftX,
// ShiftY, Simplify).
//
// A liquidity curve maps an amount x entering a route (source units, ledger
// base units) to the amount y it delivers. It is a list of points with x
// strictly increasing and y never decreasing, each coordinate an unsigned
// 64-bit integer; between points the curve is linear, before the first point
// it is 0 and after the last it stays at the last y.
//
// Every operation reproduces ilp-routing 10.1.0 (the library the ILP Kit 3.0
// connector used) bit for bit, including its rounding and its quirks, so that
// a kit and a 2017 peer agree on every amount:
//
//   - Each resulting curve is normalised as the 2017 library stored it: each
//     coordinate rounded half-up to an integer and reduced modulo 2^64, an
//     infinite value becoming 0, and then checked like a new curve.
//   - Interpolation floors; Combine rounds crossing points' x up and y down
//     after sorting; Join does not round at all (its inputs are integers).
//   - A negative shift fails exactly where the 2017 library threw: when it
//     pushes one point below zero and lands another exactly on zero.
//
// The exported operations work on uint64 with math/bits; each has a
// reference twin (the unexported ref* functions) that follows the 2017 code
// step by step in decimal arithmetic modelled on bignumber.js, and the tests
// and fuzz targets check that both always agree. The *Arg functions take
// arguments the way a JavaScript caller passed them (strings or numbers, with
// every bignumber.js parsing rule) and serve the `ilpkit curve` command.
//
// Where the 2017 library threw, the checked variants (CombineChecked,
// JoinChecked, SimplifyLossy, the shifts, the *Arg functions) return an
// error; the plain ones pick a documented safe result instead.
package curve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors. Each error returned by the package wraps one of these.
var (
	// ErrInvalid: the points do not form a curve (x not strictly
	// increasing, y decreasing, or a binary form whose length is not a
	// multiple of 16). ilp-routing threw InvalidLiquidityCurveError.
	ErrInvalid = errors.New("invalid liquidity curve")
	// ErrEmpty: the operation reads a point of a curve that has none
	// (amountAt, amountReverse and join of ilp-routing threw a TypeError).
	ErrEmpty = errors.New("operation needs a curve with at least one point")
	// ErrNegative: a coordinate or amount given as a negative value
	// (ilp-routing: "Cannot parse negative value").
	ErrNegative = errors.New("cannot parse negative value")
	// ErrNotANumber: an argument that bignumber.js 4 refused, or NaN where
	// the 2017 code then failed.
	ErrNotANumber = errors.New("not a number")
)

// Point is one point of a curve: x enters, y is delivered.
type Point struct{ X, Y uint64 }

// Curve is a liquidity curve. It is an immutable value: no method changes
// it, and the zero value is the empty curve (no points), which the 2017
// library also allowed.
type Curve struct {
	pts []Point // never modified once a Curve holds it
}

// New returns the curve through points, checked as ilp-routing's constructor
// checked them (see Validate). The slice is copied.
func New(points []Point) (Curve, error) {
	if err := Validate(points); err != nil {
		return Curve{}, err
	}
	if len(points) == 0 {
		return Curve{}, nil
	}
	return Curve{pts: append([]Point(nil), points...)}, nil
}

// MustNew is New for literals in tests and examples; it panics on error.
func MustNew(points ...Point) Curve {
	c, err := New(points)
	if err != nil {
		panic(err)
	}
	return c
}

// Validate reports whether points can form a curve: x strictly increasing
// and y never decreasing, as ilp-routing 10.1.0 required of every curve it
// built (it never accepted other points, so neither does New). An empty list
// is valid.
func Validate(points []Point) error {
	for i := 1; i < len(points); i++ {
		if points[i].X <= points[i-1].X {
			return fmt.Errorf("%w: x-coordinates must strictly increase (point %d: %d after %d)",
				ErrInvalid, i, points[i].X, points[i-1].X)
		}
		if points[i].Y < points[i-1].Y {
			return fmt.Errorf("%w: y-coordinates must not decrease (point %d: %d after %d)",
				ErrInvalid, i, points[i].Y, points[i-1].Y)
		}
	}
	return nil
}

// fromValid wraps points already known to be valid, without copying.
func fromValid(pts []Point) Curve {
	if len(pts) == 0 {
		return Curve{}
	}
	return Curve{pts: pts}
}

// newOwned validates pts and wraps them without copying.
func newOwned(pts []Point) (Curve, error) {
	if err := Validate(pts); err != nil {
		return Curve{}, err
	}
	return fromValid(pts), nil
}

// Len is the number of points.
func (c Curve) Len() int { return len(c.pts) }

// IsEmpty reports whether the curve has no points.
func (c Curve) IsEmpty() bool { return len(c.pts) == 0 }

// At returns point i (0 ≤ i < Len()).
func (c Curve) At(i int) Point { return c.pts[i] }

// Points returns a copy of the points.
func (c Curve) Points() []Point { return append([]Point(nil), c.pts...) }

// Equal reports whether both curves have the same points.
func (c Curve) Equal(o Curve) bool {
	if len(c.pts) != len(o.pts) {
		return false
	}
	for i, p := range c.pts {
		if p != o.pts[i] {
			return false
		}
	}
	return true
}

// String formats the curve as [[x,y],...].
func (c Curve) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range c.pts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(strconv.FormatUint(p.X, 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatUint(p.Y, 10))
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}
