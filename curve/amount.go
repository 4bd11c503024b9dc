package curve

import "math/bits"

// AmountAt is the amount the curve delivers for x entering (amountAt of
// ilp-routing 10.1.0):
//
//	x before the first point      → 0
//	x at the first point          → its y
//	x at or after the last point  → the last y
//	otherwise, A and B the points around x (B the first with B.x ≥ x)
//	                              → A.y + ⌊(B.y−A.y)·(x−A.x) / (B.x−A.x)⌋
//
// 2017 computed dy·(x−A.x) exactly, divided by dx rounding to 19 decimal
// places (half-up), added A.y and floored. For integer x that equals the exact
// floor used here: the quotient is N/dx with dx < 2^64, so when it is not an
// integer it lies at least 1/dx > 5.4·10^-20 below the next integer, more
// than the 5·10^-20 that rounding to 19 places can move it, and the floor
// never changes. The product fits in 128 bits and the quotient (at most dy)
// in 64, so bits.Mul64/Div64 compute it exactly without allocating.
// refAmountAt does it the 2017 way and the tests check both agree.
//
// The 2017 function threw on an empty curve; here an empty curve delivers 0
// (no liquidity). Callers that must match 2017 check IsEmpty first (the *Arg
// functions and `ilpkit curve` do).
func (c Curve) AmountAt(x uint64) uint64 {
	p := c.pts
	n := len(p)
	if n == 0 {
		return 0
	}
	if x <= p[0].X {
		if x == p[0].X {
			return p[0].Y
		}
		return 0
	}
	if x >= p[n-1].X {
		return p[n-1].Y
	}
	i := searchX(p, x)
	a, b := p[i-1], p[i]
	hi, lo := bits.Mul64(b.Y-a.Y, x-a.X)
	q, _ := bits.Div64(hi, lo, b.X-a.X) // hi < B.x−A.x because x−A.x ≤ B.x−A.x
	return a.Y + q
}

// AmountReverse is the smallest source amount the curve maps to at least y
// (amountReverse of ilp-routing 10.1.0); ok is false where 2017 returned
// Infinity (y above the last point, or an empty curve, on which 2017 threw):
//
//	first y ≥ y              → first x
//	last y < y               → Infinity (ok = false)
//	otherwise, A and B the points around y (B the first with B.y ≥ y)
//	                         → A.x + ⌊(B.x−A.x)·(y−A.y) / (B.y−A.y)⌋
//
// On a flat run the lowest x wins. It floors like AmountAt (and for the same
// reason the 19-place rounding of 2017 never shows), so an amount computed
// from it can fall short by one unit: the 2017 connector quoted by
// destination amount on a curve shifted one source unit for that reason.
func (c Curve) AmountReverse(y uint64) (x uint64, ok bool) {
	p := c.pts
	n := len(p)
	if n == 0 {
		return 0, false
	}
	if p[0].Y >= y {
		return p[0].X, true
	}
	if p[n-1].Y < y {
		return 0, false
	}
	i := searchY(p, y)
	a, b := p[i-1], p[i]
	hi, lo := bits.Mul64(b.X-a.X, y-a.Y)
	q, _ := bits.Div64(hi, lo, b.Y-a.Y) // A.y < y ≤ B.y, so B.y−A.y > 0 and hi < it
	return a.X + q, true
}

// searchX returns the first index i ≥ 1 with p[i].X ≥ x, given
// p[0].X < x < p[len-1].X.
func searchX(p []Point, x uint64) int {
	if len(p) <= 16 {
		i := 1
		for p[i].X < x {
			i++
		}
		return i
	}
	lo, hi := 1, len(p)-1 // answer in [lo, hi]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p[m].X < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// searchY returns the first index i ≥ 1 with p[i].Y ≥ y, given
// p[0].Y < y ≤ p[len-1].Y.
func searchY(p []Point, y uint64) int {
	if len(p) <= 16 {
		i := 1
		for p[i].Y < y {
			i++
		}
		return i
	}
	lo, hi := 1, len(p)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p[m].Y < y {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
