package curve

import (
	"fmt"
	"math/big"
	"slices"
)

// scale19 is 10^19: crossing points carry 19 decimal places (bignumber.js
// DECIMAL_PLACES in ilp-routing 10.1.0).
const scale19 = 10_000_000_000_000_000_000

// cpoint is a point gathered by Combine before rounding: x = xi + xf/10^19
// (xf = 0 for the curves' own points), y already floored.
type cpoint struct {
	xi, xf, y uint64
}

// Combine is the curve of two parallel routes: at every x the better of the
// two (combine of ilp-routing 10.1.0). See CombineChecked for the steps.
//
// 2017 checked that y never decreased after its rounding and threw
// otherwise (CombineChecked reports that). With valid curves this has not
// been seen in millions of random pairs and is believed impossible: every
// gathered point lies on the floored maximum of the two curves, and a
// crossing rounded to 19 places cannot pass an integer that the curve does
// not reach by its next point. Should it happen, Combine lowers each
// earlier y to the lowest y after it, so the result is still a valid curve
// and never delivers more than 2017's points.
func (c Curve) Combine(o Curve) Curve {
	pts, bad := c.combine(o)
	if bad >= 0 {
		for i := len(pts) - 2; i >= 0; i-- {
			pts[i].Y = min(pts[i].Y, pts[i+1].Y)
		}
	}
	return fromValid(pts)
}

// CombineChecked is Combine with the 2017 failure reported. Steps, as 10.1.0
// took them:
//
//  1. gather o's points, each y raised to c.AmountAt(x) (if c has points),
//     then c's points raised to o.AmountAt(x) (if o has points), then the
//     crossing points of the two curves, each curve extended flat to the
//     other's last x; crossing points come from line determinants divided
//     with 19-decimal half-up rounding, and are kept when inside both
//     segments' x and y ranges (compared after that rounding);
//  2. sort by x with a stable sort (ties keep the order of step 1);
//  3. only then round, x up and y down (so the combined curve never
//     promises more than the crossing gives), and keep the first point of
//     each x;
//  4. fail (ErrInvalid) if y ever decreases.
//
// A crossing point rounded up onto the x of a real point comes first and
// wins over it; that is the 2017 behaviour and is kept.
func (c Curve) CombineChecked(o Curve) (Curve, error) {
	pts, bad := c.combine(o)
	if bad >= 0 {
		return Curve{}, fmt.Errorf("combine: %w: y decreases at point %d (%d < %d)",
			ErrInvalid, bad, pts[bad].Y, pts[bad-1].Y)
	}
	return fromValid(pts), nil
}

// combine returns the combined points (x strictly increasing) and the index
// of the first point whose y is below its predecessor's, or -1.
func (c Curve) combine(o Curve) ([]Point, int) {
	items := make([]cpoint, 0, len(c.pts)+len(o.pts)+4)
	for _, q := range o.pts {
		y := q.Y
		if len(c.pts) > 0 {
			y = max(y, c.AmountAt(q.X))
		}
		items = append(items, cpoint{xi: q.X, y: y})
	}
	for _, p := range c.pts {
		y := p.Y
		if len(o.pts) > 0 {
			y = max(y, o.AmountAt(p.X))
		}
		items = append(items, cpoint{xi: p.X, y: y})
	}
	items = appendCrossovers(items, c.pts, o.pts)
	slices.SortStableFunc(items, func(a, b cpoint) int {
		switch {
		case a.xi != b.xi:
			if a.xi < b.xi {
				return -1
			}
			return 1
		case a.xf < b.xf:
			return -1
		case a.xf > b.xf:
			return 1
		}
		return 0
	})
	out := make([]Point, 0, len(items))
	var prev uint64
	for i, it := range items {
		x := it.xi
		if it.xf != 0 {
			x++ // ceil; cannot wrap: a crossing lies below some point's x
		}
		if i > 0 && x == prev {
			prev = x
			continue
		}
		prev = x
		out = append(out, Point{X: x, Y: it.y})
	}
	for i := 1; i < len(out); i++ {
		if out[i].Y < out[i-1].Y {
			return out, i
		}
	}
	return out, -1
}

// appendCrossovers appends the crossing points of curves a and b (each
// extended flat to the other's last x), visiting segment pairs as 10.1.0's
// _eachOverlappingSegment did.
func appendCrossovers(items []cpoint, a, b []Point) []cpoint {
	if len(a) == 0 || len(b) == 0 {
		return items
	}
	endA, endB := a[len(a)-1], b[len(b)-1]
	if endA.X < endB.X {
		a = append(a[:len(a):len(a)], Point{X: endB.X, Y: endA.Y})
	}
	if endB.X < endA.X {
		b = append(b[:len(b):len(b)], Point{X: endA.X, Y: endB.Y})
	}
	var z isect
	cursor := 1
	for ia := 1; ia < len(a); ia++ {
		p1, p2 := a[ia-1], a[ia]
		for ib := cursor; ib < len(b); ib++ {
			p3, p4 := b[ib-1], b[ib]
			if p4.X < p1.X {
				cursor++
				continue
			}
			if p2.X < p3.X {
				break
			}
			if pt, ok := z.intersect(p1, p2, p3, p4); ok {
				items = append(items, pt)
			}
		}
	}
	return items
}

// isect holds the big integers of one crossing computation, reused across
// segment pairs. The determinants reach about 2^193 and the scaled
// quotients 2^128, so they need more than machine words.
type isect struct {
	d1x, d1y, d3x, d3y, den, tl, bl, t, u, xs, ys, lim, r big.Int
	a, b, c, d                                            big.Int
}

func setDiff(z *big.Int, a, b uint64, tmp *big.Int) *big.Int {
	z.SetUint64(a)
	return z.Sub(z, tmp.SetUint64(b))
}

// det2 sets z = a·d − b·c.
func (s *isect) det2(z, a, b, c, d *big.Int) *big.Int {
	s.t.Mul(a, d)
	s.u.Mul(b, c)
	return z.Sub(&s.t, &s.u)
}

// round19 sets z to num/den rounded half-up (away from zero) at 19 decimal
// places, as an integer scaled by 10^19: bignumber.js div under
// DECIMAL_PLACES 19.
func (s *isect) round19(z, num, den *big.Int) *big.Int {
	neg := num.Sign()*den.Sign() < 0
	s.t.Abs(num)
	s.t.Mul(&s.t, s.u.SetUint64(scale19))
	s.u.Abs(den)
	z.QuoRem(&s.t, &s.u, &s.r)
	s.r.Lsh(&s.r, 1)
	if s.r.Cmp(&s.u) >= 0 {
		z.Add(z, s.t.SetUint64(1))
	}
	if neg {
		z.Neg(z)
	}
	return z
}

// outside reports whether v (scaled by 10^19) lies outside [lo, hi].
func (s *isect) outside(v *big.Int, lo, hi uint64) bool {
	s.lim.SetUint64(lo)
	s.lim.Mul(&s.lim, s.t.SetUint64(scale19))
	if v.Cmp(&s.lim) < 0 {
		return true
	}
	s.lim.SetUint64(hi)
	s.lim.Mul(&s.lim, s.t.SetUint64(scale19))
	return v.Cmp(&s.lim) > 0
}

// intersect is intersectLineSegments of 10.1.0 on integer points.
func (s *isect) intersect(p1, p2, p3, p4 Point) (cpoint, bool) {
	a, b, c, d := &s.a, &s.b, &s.c, &s.d
	setDiff(&s.d1x, p1.X, p2.X, a)
	setDiff(&s.d1y, p1.Y, p2.Y, a)
	setDiff(&s.d3x, p3.X, p4.X, a)
	setDiff(&s.d3y, p3.Y, p4.Y, a)
	s.det2(&s.den, &s.d1x, &s.d1y, &s.d3x, &s.d3y)
	if s.den.Sign() == 0 {
		return cpoint{}, false // parallel
	}
	s.det2(&s.tl, a.SetUint64(p1.X), b.SetUint64(p1.Y), c.SetUint64(p2.X), d.SetUint64(p2.Y))
	s.det2(&s.bl, a.SetUint64(p3.X), b.SetUint64(p3.Y), c.SetUint64(p4.X), d.SetUint64(p4.Y))

	s.det2(a, &s.tl, &s.d1x, &s.bl, &s.d3x)
	s.round19(&s.xs, a, &s.den)
	if s.outside(&s.xs, p1.X, p2.X) || s.outside(&s.xs, p3.X, p4.X) {
		return cpoint{}, false
	}
	s.det2(a, &s.tl, &s.d1y, &s.bl, &s.d3y)
	s.round19(&s.ys, a, &s.den)
	if s.outside(&s.ys, p1.Y, p2.Y) || s.outside(&s.ys, p3.Y, p4.Y) {
		return cpoint{}, false
	}
	// Both are now within [0, 2^64)·10^19: split into integer and fraction.
	var pt cpoint
	a.SetUint64(scale19)
	b.QuoRem(&s.xs, a, c)
	pt.xi, pt.xf = b.Uint64(), c.Uint64()
	b.Quo(&s.ys, a) // floor, y ≥ 0
	pt.y = b.Uint64()
	return pt, true
}
