package curve

import (
	"fmt"
	"math/big"
	"slices"
)

// The reference path: each ref* function follows one method of ilp-routing
// 10.1.0's LiquidityCurve step by step, in the same order, with dec values
// standing for its BigNumbers. Its results are turned into a Curve by
// storeDec, which is what the 2017 constructor did to every new curve. The
// fast functions elsewhere in the package must give the same answers, and
// the tests and fuzz targets hold them to it. The *Arg functions also use
// this path for the arguments the fast path cannot take (fractions,
// Infinity, NaN, huge values).

type dpoint [2]dec

func (c Curve) decPoints() []dpoint {
	out := make([]dpoint, len(c.pts))
	for i, p := range c.pts {
		out[i] = dpoint{decU64(p.X), decU64(p.Y)}
	}
	return out
}

// storeCoord is how the 2017 constructor stored one coordinate: toFixed(0)
// (round half-up, ties away from zero) read by Long.fromString as unsigned,
// which wraps modulo 2^64 and turns "Infinity"/"NaN" into 0. checkNeg adds
// the bnFromValue test applied to BigNumber inputs (negative: throw).
func storeCoord(d dec, checkNeg bool) (uint64, error) {
	if checkNeg && d.isNeg() {
		return 0, fmt.Errorf("%w: %s", ErrNegative, d)
	}
	if !d.finite() {
		return 0, nil
	}
	r := d.roundHalfUp()
	return new(big.Int).Mod(r, new(big.Int).Lsh(big.NewInt(1), 64)).Uint64(), nil
}

// storeDec builds a curve from points the 2017 code computed, as its
// constructor did: store each coordinate, then check the points.
func storeDec(points []dpoint) (Curve, error) {
	pts := make([]Point, len(points))
	for i, p := range points {
		x, err := storeCoord(p[0], true)
		if err != nil {
			return Curve{}, err
		}
		y, err := storeCoord(p[1], true)
		if err != nil {
			return Curve{}, err
		}
		pts[i] = Point{x, y}
	}
	return newOwned(pts)
}

// refAmountAt is amountAt with x already through bnFromValue.
func refAmountAt(c Curve, x dec) (dec, error) {
	p := c.decPoints()
	if len(p) == 0 {
		return dec{}, fmt.Errorf("amountAt: %w", ErrEmpty)
	}
	first, last := p[0], p[len(p)-1]
	if x.lt(first[0]) {
		return decZero(), nil
	}
	if x.eq(first[0]) {
		return first[1], nil
	}
	if last[0].lte(x) {
		return last[1], nil
	}
	i := 0
	for p[i][0].lt(x) {
		i++
	}
	if i == 0 { // only NaN gets here; 2017 read points[-1] and threw
		return dec{}, fmt.Errorf("amountAt: %w: %s", ErrNotANumber, x)
	}
	a, b := p[i-1], p[i]
	dy := b[1].sub(a[1])
	dx := b[0].sub(a[0])
	// Multiply first, divide (19 places, half-up), add, floor: 10.1.0's order.
	return dy.mul(x.sub(a[0])).div19(dx).add(a[1]).floor(), nil
}

// refAmountReverse is amountReverse with y already through bnFromValue; it
// may return +Infinity.
func refAmountReverse(c Curve, y dec) (dec, error) {
	p := c.decPoints()
	if len(p) == 0 {
		return dec{}, fmt.Errorf("amountReverse: %w", ErrEmpty)
	}
	if p[0][1].gte(y) {
		return p[0][0], nil
	}
	if p[len(p)-1][1].lt(y) {
		return decPosInf, nil
	}
	i := 0
	for p[i][1].lt(y) {
		i++
	}
	if i == 0 {
		return dec{}, fmt.Errorf("amountReverse: %w: %s", ErrNotANumber, y)
	}
	a, b := p[i-1], p[i]
	dx := b[0].sub(a[0])
	dy := b[1].sub(a[1])
	return dx.mul(y.sub(a[1])).div19(dy).add(a[0]).floor(), nil
}

func decMax(a, b dec) dec {
	if a.gt(b) {
		return a
	}
	return b
}

// refMapToMax is this._mapToMax(points).
func refMapToMax(this Curve, points []dpoint) ([]dpoint, error) {
	if this.IsEmpty() {
		return points, nil
	}
	out := make([]dpoint, len(points))
	for i, q := range points {
		at, err := refAmountAt(this, q[0])
		if err != nil {
			return nil, err
		}
		out[i] = dpoint{q[0], decMax(q[1], at)}
	}
	return out, nil
}

func det(a, b, c, d dec) dec { return a.mul(d).sub(b.mul(c)) }

// refIntersect is intersectLineSegments: the crossing of the lines through
// p1p2 and p3p4 by determinants, both coordinates rounded to 19 places by
// the division, kept only if inside both segments' x and y ranges.
func refIntersect(p1, p2, p3, p4 dpoint) (dpoint, bool) {
	denominator := det(p1[0].sub(p2[0]), p1[1].sub(p2[1]), p3[0].sub(p4[0]), p3[1].sub(p4[1]))
	topLeft := det(p1[0], p1[1], p2[0], p2[1])
	bottomLeft := det(p3[0], p3[1], p4[0], p4[1])
	if denominator.sign() == 0 {
		return dpoint{}, false
	}
	x := det(topLeft, p1[0].sub(p2[0]), bottomLeft, p3[0].sub(p4[0])).div19(denominator)
	if x.lt(p1[0]) || p2[0].lt(x) || x.lt(p3[0]) || p4[0].lt(x) {
		return dpoint{}, false
	}
	y := det(topLeft, p1[1].sub(p2[1]), bottomLeft, p3[1].sub(p4[1])).div19(denominator)
	if y.lt(p1[1]) || p2[1].lt(y) || y.lt(p3[1]) || p4[1].lt(y) {
		return dpoint{}, false
	}
	return dpoint{x, y}, true
}

// refCrossovers is this._crossovers(curve).
func refCrossovers(a, b []dpoint) []dpoint {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	endA, endB := a[len(a)-1], b[len(b)-1]
	if endA[0].lt(endB[0]) {
		a = append(a[:len(a):len(a)], dpoint{endB[0], endA[1]})
	}
	if endB[0].lt(endA[0]) {
		b = append(b[:len(b):len(b)], dpoint{endA[0], endB[1]})
	}
	var out []dpoint
	cursor := 1
	for ia := 1; ia < len(a); ia++ {
		p1, p2 := a[ia-1], a[ia]
		for ib := cursor; ib < len(b); ib++ {
			p3, p4 := b[ib-1], b[ib]
			if p4[0].lt(p1[0]) {
				cursor++
				continue
			}
			if p2[0].lt(p3[0]) {
				break
			}
			if s, ok := refIntersect(p1, p2, p3, p4); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func sortByX(pts []dpoint) {
	slices.SortStableFunc(pts, func(a, b dpoint) int {
		c, _ := a[0].cmp(b[0]) // comparedTo; NaN never occurs here
		return c
	})
}

// refCombine is c.combine(o).
func refCombine(c, o Curve) (Curve, error) {
	a, b := c.decPoints(), o.decPoints()
	m1, err := refMapToMax(c, b)
	if err != nil {
		return Curve{}, err
	}
	m2, err := refMapToMax(o, a)
	if err != nil {
		return Curve{}, err
	}
	all := append(append(append([]dpoint(nil), m1...), m2...), refCrossovers(a, b)...)
	sortByX(all)
	for i := range all { // roundCoords, after the sort
		all[i] = dpoint{all[i][0].ceil(), all[i][1].floor()}
	}
	var kept []dpoint
	for i, p := range all { // omitDuplicates
		if i == 0 || !p[0].eq(all[i-1][0]) {
			kept = append(kept, p)
		}
	}
	prevY := decZero()
	for i, p := range kept {
		if p[1].lt(prevY) {
			return Curve{}, fmt.Errorf("combine: %w: position %d: %s < %s", ErrInvalid, i, p[1], prevY)
		}
		prevY = p[1]
	}
	return storeDec(kept)
}

// refJoin is head.join(tail).
func refJoin(head, tail Curve) (Curve, error) {
	t := tail.decPoints()
	if len(t) == 0 {
		return Curve{}, fmt.Errorf("join: tail: %w", ErrEmpty)
	}
	minX, maxX := t[0][0], t[len(t)-1][0]
	var all []dpoint
	for _, p := range head.decPoints() {
		if minX.lte(p[1]) && p[1].lte(maxX) {
			at, err := refAmountAt(tail, p[1])
			if err != nil {
				return Curve{}, err
			}
			all = append(all, dpoint{p[0], at})
		}
	}
	for _, q := range t {
		x, err := refAmountReverse(head, q[0])
		if err != nil {
			return Curve{}, fmt.Errorf("join: head: %w", err)
		}
		all = append(all, dpoint{x, q[1]})
	}
	sortByX(all)
	var finite []dpoint
	for _, p := range all { // omitInfinity
		if p[0].k != dPosInf {
			finite = append(finite, p)
		}
	}
	var kept []dpoint
	for i, p := range finite { // omitDuplicates
		if i == 0 || !p[0].eq(finite[i-1][0]) {
			kept = append(kept, p)
		}
	}
	return storeDec(kept)
}

// refShiftX is c.shiftX(dx) with dx already a BigNumber.
func refShiftX(c Curve, dx dec) (Curve, error) {
	pts := c.decPoints()
	for i := range pts {
		pts[i][0] = pts[i][0].add(dx)
	}
	if dx.gte(decZero()) {
		return storeDec(pts)
	}
	for i := len(pts) - 1; i >= 0; i-- {
		// 2017 wrote `point[0] < 0`, a JavaScript comparison of the
		// BigNumber's string form with 0: true exactly for negative values.
		if pts[i][0].isNeg() {
			at, err := refAmountAt(c, dx.neg())
			if err != nil {
				return Curve{}, err
			}
			pts = append([]dpoint{{decZero(), at}}, pts[i+1:]...)
			break
		}
	}
	return storeDec(pts)
}

// refShiftY is c.shiftY(dy) with dy already a BigNumber.
func refShiftY(c Curve, dy dec) (Curve, error) {
	pts := c.decPoints()
	for i := range pts {
		pts[i][1] = pts[i][1].add(dy)
	}
	if dy.gte(decZero()) {
		return storeDec(pts)
	}
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i][1].isNeg() {
			x, err := refAmountReverse(c, dy.neg())
			if err != nil {
				return Curve{}, err
			}
			pts = append([]dpoint{{x, decZero()}}, pts[i+1:]...)
			break
		}
	}
	return storeDec(pts)
}
