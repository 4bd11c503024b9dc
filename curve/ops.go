package curve

import (
	"fmt"
	"math/big"
	"slices"
)

// Join is the curve of two routes in series, c (A→B) then tail (B→C),
// giving A→C (join of ilp-routing 10.1.0); see JoinChecked. Where 2017
// threw (c or tail empty) Join returns the empty curve: no liquidity.
func (c Curve) Join(tail Curve) Curve {
	j, err := c.JoinChecked(tail)
	if err != nil {
		return Curve{}
	}
	return j
}

// JoinChecked is Join with the 2017 failure reported: it fails with
// ErrEmpty when either curve is empty (2017 read a point that was not
// there). Steps, as 10.1.0 took them:
//
//  1. for each point p of c whose y lies within tail's x range (ends
//     included): (p.x, tail.AmountAt(p.y));
//  2. for each point q of tail: (c.AmountReverse(q.x), q.y), where an
//     unreachable q.x gives x = Infinity;
//  3. sort by x with a stable sort, drop the Infinity points, keep the first
//     point of each x.
//
// Both interpolations floor (exactly, see AmountAt); there is no other
// rounding. The result is then checked as a new curve.
func (c Curve) JoinChecked(tail Curve) (Curve, error) {
	if tail.IsEmpty() {
		return Curve{}, fmt.Errorf("join: tail: %w", ErrEmpty)
	}
	if c.IsEmpty() {
		return Curve{}, fmt.Errorf("join: head: %w", ErrEmpty)
	}
	type jpoint struct {
		x, y uint64
		inf  bool
	}
	minX, maxX := tail.pts[0].X, tail.pts[len(tail.pts)-1].X
	items := make([]jpoint, 0, len(c.pts)+len(tail.pts))
	for _, p := range c.pts {
		if minX <= p.Y && p.Y <= maxX {
			items = append(items, jpoint{x: p.X, y: tail.AmountAt(p.Y)})
		}
	}
	for _, q := range tail.pts {
		x, ok := c.AmountReverse(q.X)
		items = append(items, jpoint{x: x, y: q.Y, inf: !ok})
	}
	slices.SortStableFunc(items, func(a, b jpoint) int {
		switch {
		case a.inf != b.inf:
			if a.inf {
				return 1
			}
			return -1
		case a.inf || a.x == b.x:
			return 0
		case a.x < b.x:
			return -1
		}
		return 1
	})
	out := make([]Point, 0, len(items))
	for i, it := range items {
		if it.inf {
			break // the Infinity points sort last
		}
		if i > 0 && it.x == items[i-1].x {
			continue
		}
		out = append(out, Point{X: it.x, Y: it.y})
	}
	j, err := newOwned(out)
	if err != nil {
		return Curve{}, fmt.Errorf("join: %w", err)
	}
	return j, nil
}

// Shift amounts are *big.Int: signed, and as large as wanted (2017 took any
// BigNumber; fractions are served by ShiftXArg and ShiftYArg). A nil amount
// is zero.

// splitShift returns d mod 2^64 for d ≥ 0 (neg false), or |d| for d < 0
// (neg true; huge when |d| ≥ 2^64, in which case mag is meaningless).
func splitShift(d *big.Int) (mag uint64, neg, huge bool) {
	if d == nil || d.Sign() == 0 {
		return 0, false, false
	}
	if d.Sign() > 0 {
		if d.IsUint64() {
			return d.Uint64(), false, false
		}
		var m big.Int
		return m.And(d, new(big.Int).SetUint64(^uint64(0))).Uint64(), false, false
	}
	if d.BitLen() > 64 {
		return 0, true, true
	}
	var a big.Int
	return a.Neg(d).Uint64(), true, false
}

// ShiftX moves the curve right by dx (shiftX of ilp-routing 10.1.0); the
// 2017 connector quoted on local curves shifted by +1 source unit.
//
// Each x becomes x+dx. For dx ≥ 0 that is all, and the sum is stored modulo
// 2^64 (2017's normalisation), so a shift past 2^64−1 wraps and then usually
// fails the curve check (ErrInvalid), as it threw in 2017. For dx < 0, the
// points that go below zero are dropped and (0, AmountAt(−dx)) of the
// original curve takes their place; when a remaining point lands exactly on
// zero the two share x = 0 and the result fails with ErrInvalid, exactly
// where 2017 threw. Moving the first point onto zero with none below is
// fine. Shifting below every point leaves [(0, last y)].
func (c Curve) ShiftX(dx *big.Int) (Curve, error) {
	d, neg, huge := splitShift(dx)
	if !neg {
		out := make([]Point, len(c.pts))
		for i, p := range c.pts {
			out[i] = Point{X: p.X + d, Y: p.Y} // wraps: the 2017 modulo
		}
		return shiftResult("shiftX", out)
	}
	if len(c.pts) == 0 {
		return Curve{}, nil
	}
	if huge { // every x < 2^64 ≤ |dx|
		return fromValid([]Point{{X: 0, Y: c.pts[len(c.pts)-1].Y}}), nil
	}
	k := 0 // points that go below zero: a prefix, x is increasing
	for k < len(c.pts) && c.pts[k].X < d {
		k++
	}
	out := make([]Point, 0, len(c.pts)-k+1)
	if k > 0 {
		out = append(out, Point{X: 0, Y: c.AmountAt(d)})
	}
	for _, p := range c.pts[k:] {
		out = append(out, Point{X: p.X - d, Y: p.Y})
	}
	return shiftResult("shiftX", out)
}

// ShiftY moves the curve up by dy (shiftY of ilp-routing 10.1.0).
//
// Each y becomes y+dy, stored modulo 2^64 for dy ≥ 0 (a wrap usually fails
// the curve check). For dy < 0, the points that go below zero are dropped
// and (AmountReverse(−dy), 0) of the original curve takes their place, with
// x = 0 when −dy is above the whole curve (2017 stored its Infinity as 0):
// shifting down past the top leaves [(0, 0)]. When a remaining point lands
// exactly on y = 0 it has the same x as the new first point and the result
// fails with ErrInvalid, exactly where 2017 threw.
func (c Curve) ShiftY(dy *big.Int) (Curve, error) {
	d, neg, huge := splitShift(dy)
	if !neg {
		out := make([]Point, len(c.pts))
		for i, p := range c.pts {
			out[i] = Point{X: p.X, Y: p.Y + d}
		}
		return shiftResult("shiftY", out)
	}
	if len(c.pts) == 0 {
		return Curve{}, nil
	}
	if huge {
		return fromValid([]Point{{}}), nil
	}
	k := 0
	for k < len(c.pts) && c.pts[k].Y < d {
		k++
	}
	out := make([]Point, 0, len(c.pts)-k+1)
	if k > 0 {
		x, _ := c.AmountReverse(d) // Infinity is stored as 0
		out = append(out, Point{X: x})
	}
	for _, p := range c.pts[k:] {
		out = append(out, Point{X: p.X, Y: p.Y - d})
	}
	return shiftResult("shiftY", out)
}

func shiftResult(op string, pts []Point) (Curve, error) {
	c, err := newOwned(pts)
	if err != nil {
		return Curve{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// ShiftXInt64 is ShiftX for a shift that fits an int64.
func (c Curve) ShiftXInt64(dx int64) (Curve, error) { return c.ShiftX(big.NewInt(dx)) }

// ShiftYInt64 is ShiftY for a shift that fits an int64.
func (c Curve) ShiftYInt64(dy int64) (Curve, error) { return c.ShiftY(big.NewInt(dy)) }
