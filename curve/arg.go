package curve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Arg is a number as a JavaScript caller handed it to ilp-routing 10.1.0:
// a string or a JavaScript number (float64). The two were read differently
// (bnFromValue): a number was refused when negative and floored, then
// converted by bignumber.js, which refused more than 15 significant digits
// above 2^53; a string was refused when its first character was '-' and
// otherwise parsed by bignumber.js (exponents, fractions, "Infinity", "NaN",
// 0x/0b/0o prefixes, surrounding white space and a leading '+'). Shift
// amounts skipped bnFromValue: negatives and fractions were fine.
//
// The *Arg functions below take Args and reproduce 2017 exactly, errors
// included; `ilpkit curve` is built on them. Go code with integer amounts
// should use the typed methods.
type Arg struct {
	s     string
	f     float64
	isNum bool
}

// StringArg is a JavaScript string argument.
func StringArg(s string) Arg { return Arg{s: s} }

// NumberArg is a JavaScript number argument.
func NumberArg(f float64) Arg { return Arg{f: f, isNum: true} }

// String shows the argument (numbers as JavaScript would print them).
func (a Arg) String() string {
	if a.isNum {
		return jsNumberString(a.f)
	}
	return strconv.Quote(a.s)
}

// plainUint64 is a shortcut for the common arguments: a string of decimal
// digits or an integral number within 2^53, which bnFromValue and the
// constructor take as the same integer (below 2^64).
func (a Arg) plainUint64() (uint64, bool) {
	if a.isNum {
		if a.f >= 0 && a.f <= maxSafeInteger && a.f == math.Trunc(a.f) {
			return uint64(a.f), true
		}
		return 0, false
	}
	if len(a.s) == 0 || len(a.s) > 20 || !allDigits(a.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(a.s, 10, 64)
	return v, err == nil
}

// value is bnFromValue of 10.1.0: the reading of coordinates and of the
// amounts given to amountAt and amountReverse.
func (a Arg) value() (dec, error) {
	if a.isNum {
		if a.f < 0 {
			return dec{}, fmt.Errorf("%w: %s", ErrNegative, jsNumberString(a.f))
		}
		return decFromJSNumber(math.Floor(a.f))
	}
	if strings.HasPrefix(a.s, "-") {
		return dec{}, fmt.Errorf("%w: %s", ErrNegative, a.s)
	}
	return parseBigNumber(a.s)
}

// bigNumber is new BigNumber(a): the reading of shift amounts.
func (a Arg) bigNumber() (dec, error) {
	if a.isNum {
		return decFromJSNumber(a.f)
	}
	return parseBigNumber(a.s)
}

// NewFromArgs is `new LiquidityCurve(points)` of 10.1.0: each coordinate
// read as described at Arg, rounded half-up to an integer, reduced modulo
// 2^64 (so " -5", which slips past the '-' test, becomes 2^64−5), Infinity
// and NaN stored as 0; then the points are checked as New checks them.
func NewFromArgs(points [][2]Arg) (Curve, error) {
	pts := make([]Point, len(points))
	for i, p := range points {
		for k := range 2 {
			v, ok := p[k].plainUint64()
			if !ok {
				d, err := p[k].value()
				if err != nil {
					return Curve{}, fmt.Errorf("point %d: %w", i, err)
				}
				v, _ = storeCoord(d, false)
			}
			if k == 0 {
				pts[i].X = v
			} else {
				pts[i].Y = v
			}
		}
	}
	return newOwned(pts)
}

// AmountAtArg is amountAt of 10.1.0: it fails on an empty curve (ErrEmpty),
// on NaN and on arguments bnFromValue refused; a fraction is interpolated
// with the 2017 decimal rounding.
func (c Curve) AmountAtArg(x Arg) (uint64, error) {
	if u, ok := x.plainUint64(); ok && !c.IsEmpty() {
		return c.AmountAt(u), nil
	}
	d, err := x.value()
	if err != nil {
		return 0, fmt.Errorf("amountAt: %w", err)
	}
	if c.IsEmpty() {
		return 0, fmt.Errorf("amountAt: %w", ErrEmpty)
	}
	if u, ok := d.uint64(); ok {
		return c.AmountAt(u), nil
	}
	r, err := refAmountAt(c, d)
	if err != nil {
		return 0, err
	}
	u, _ := r.uint64() // an integer between 0 and the last y
	return u, nil
}

// AmountReverseArg is amountReverse of 10.1.0; ok is false for Infinity.
func (c Curve) AmountReverseArg(y Arg) (x uint64, ok bool, err error) {
	if u, isU := y.plainUint64(); isU && !c.IsEmpty() {
		x, ok = c.AmountReverse(u)
		return x, ok, nil
	}
	d, err := y.value()
	if err != nil {
		return 0, false, fmt.Errorf("amountReverse: %w", err)
	}
	if c.IsEmpty() {
		return 0, false, fmt.Errorf("amountReverse: %w", ErrEmpty)
	}
	if u, isU := d.uint64(); isU {
		x, ok = c.AmountReverse(u)
		return x, ok, nil
	}
	r, err := refAmountReverse(c, d)
	if err != nil {
		return 0, false, err
	}
	if r.k == dPosInf {
		return 0, false, nil
	}
	x, _ = r.uint64() // an integer between the first and the last x
	return x, true, nil
}

// ShiftXArg is shiftX of 10.1.0 for any amount bignumber.js accepted:
// integers go through ShiftX, the rest (fractions, ±Infinity, NaN) through
// the 2017 steps in decimal arithmetic, rounded when stored.
func (c Curve) ShiftXArg(dx Arg) (Curve, error) {
	d, err := dx.bigNumber()
	if err != nil {
		return Curve{}, fmt.Errorf("shiftX: %w", err)
	}
	if i, ok := d.bigInt(); ok {
		return c.ShiftX(i)
	}
	r, err := refShiftX(c, d)
	if err != nil {
		return Curve{}, fmt.Errorf("shiftX: %w", err)
	}
	return r, nil
}

// ShiftYArg is shiftY of 10.1.0 for any amount bignumber.js accepted.
func (c Curve) ShiftYArg(dy Arg) (Curve, error) {
	d, err := dy.bigNumber()
	if err != nil {
		return Curve{}, fmt.Errorf("shiftY: %w", err)
	}
	if i, ok := d.bigInt(); ok {
		return c.ShiftY(i)
	}
	r, err := refShiftY(c, d)
	if err != nil {
		return Curve{}, fmt.Errorf("shiftY: %w", err)
	}
	return r, nil
}
