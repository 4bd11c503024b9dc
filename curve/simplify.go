package curve

import (
	"fmt"
	"math"
)

// Simplify reduces the curve to at most maxPoints points with the
// Visvalingam–Whyatt algorithm, choosing the points that ilp-routing 10.1.0
// chose (it used the npm package vis-why 1.2 with its sterta heap; route
// broadcasts use maxPoints = 10):
//
//   - fewer than 3 points: unchanged; maxPoints < 3: first and last point;
//     no more than maxPoints points: unchanged;
//   - otherwise the triangles of consecutive points are measured in float64
//     (as JavaScript did: coordinates rounded to float64, the area formula
//     evaluated step by step without fused multiply-add), those of zero area
//     are dropped at once (their middle point goes), then the smallest
//     triangle is removed repeatedly, its neighbours re-measured, until
//     maxPoints−2 triangles remain. Ties break as that binary heap broke
//     them.
//
// Two things differ from 2017, both in the result's favour:
//
//   - The chosen points keep their exact coordinates: 2017 passed them
//     through JavaScript numbers, which rounds values above 2^53 and made its
//     constructor throw for most of them.
//   - The last point is always kept. vis-why lost it when the last points
//     were collinear with the one before them (simplify([[0,0],[1,5],[2,6],
//     [3,7]], 3) gave [[0,0],[1,5],[2,6]] in 2017), cutting the curve's
//     maximum; here the true end takes the place of the last point chosen,
//     so the count stays within maxPoints.
//
// SimplifyLossy reproduces 2017 in both respects.
func (c Curve) Simplify(maxPoints int) Curve {
	idx := visWhy(c.floatPoints(), maxPoints)
	if len(idx) == len(c.pts) {
		return c
	}
	idx[len(idx)-1] = len(c.pts) - 1
	out := make([]Point, len(idx))
	for i, j := range idx {
		out[i] = c.pts[j]
	}
	return fromValid(out)
}

// SimplifyLossy is simplify of ilp-routing 10.1.0 exactly, including the
// detour of every point through a JavaScript number: a coordinate above
// 2^53−1 whose float64 value needs more than 15 significant digits fails
// with ErrNotANumber (bignumber.js refused it), other large ones come back
// rounded, and points whose x collide after rounding fail with ErrInvalid.
func (c Curve) SimplifyLossy(maxPoints int) (Curve, error) {
	fp := c.floatPoints()
	idx := visWhy(fp, maxPoints)
	out := make([]Point, len(idx))
	for i, j := range idx {
		for k := range 2 {
			d, err := decFromJSNumber(fp[j][k]) // bnFromValue: ≥ 0, floor is a no-op
			if err != nil {
				return Curve{}, fmt.Errorf("simplify: %w", err)
			}
			v, _ := storeCoord(d, false)
			if k == 0 {
				out[i].X = v
			} else {
				out[i].Y = v
			}
		}
	}
	r, err := newOwned(out)
	if err != nil {
		return Curve{}, fmt.Errorf("simplify: %w", err)
	}
	return r, nil
}

func (c Curve) floatPoints() [][2]float64 {
	fp := make([][2]float64, len(c.pts))
	for i, p := range c.pts {
		fp[i] = [2]float64{float64(p.X), float64(p.Y)} // round to nearest, as Number() did
	}
	return fp
}

// vwArea is vis-why's areaLL: |(a.x−c.x)(b.y−a.y) − (a.x−b.x)(c.y−a.y)|,
// every operation rounded to float64 (the conversions forbid fusing).
func vwArea(a, b, c [2]float64) float64 {
	l := float64(float64(a[0]-c[0]) * float64(b[1]-a[1]))
	r := float64(float64(a[0]-b[0]) * float64(c[1]-a[1]))
	return math.Abs(l - r)
}

type vwTriangle struct {
	a, b, c    int // point indices
	area       float64
	prev, next int // triangle indices, -1 for none
	heapIndex  int
}

// vwHeap is the 1-indexed binary min-heap of the npm package sterta 2.2
// (with heap indices kept in the items), reproduced move for move because
// equal areas are popped in the order its moves leave them.
type vwHeap struct {
	t    []vwTriangle
	data []int // data[0] unused
}

func (h *vwHeap) smaller(p, q int) bool { return h.t[h.data[p]].area-h.t[h.data[q]].area < 0 }

func (h *vwHeap) swap(p, q int, track bool) {
	h.data[p], h.data[q] = h.data[q], h.data[p]
	if track {
		h.t[h.data[p]].heapIndex = p
		h.t[h.data[q]].heapIndex = q
	}
}

func (h *vwHeap) up(i int, track bool) {
	for i > 1 {
		parent := i / 2
		if !h.smaller(i, parent) {
			return
		}
		h.swap(parent, i, track)
		i = parent
	}
}

func (h *vwHeap) down(i int, track bool) {
	for {
		left := 2 * i
		right := left + 1
		next := i
		if left < len(h.data) && h.smaller(left, next) {
			next = left
		}
		if right < len(h.data) && h.smaller(right, next) {
			next = right
		}
		if next == i {
			return
		}
		h.swap(i, next, track)
		i = next
	}
}

func (h *vwHeap) size() int { return len(h.data) - 1 }

func (h *vwHeap) push(t int) {
	h.data = append(h.data, t)
	h.t[t].heapIndex = len(h.data) - 1
	h.up(len(h.data)-1, true)
}

func (h *vwHeap) pop() int {
	root := h.data[1]
	last := h.data[len(h.data)-1]
	h.data = h.data[:len(h.data)-1]
	if len(h.data) > 1 {
		h.data[1] = last
		h.t[last].heapIndex = 1
		h.down(1, true)
	}
	return root
}

func (h *vwHeap) remove(t int) {
	i := h.t[t].heapIndex
	n := len(h.data) - 1
	if i == n {
		h.data = h.data[:n]
		return
	}
	goUp := h.smaller(n, i) // decided before the move, as sterta does
	h.data[i] = h.data[n]
	h.data = h.data[:n]
	h.t[h.data[i]].heapIndex = i
	if goUp {
		h.up(i, true)
	} else {
		h.down(i, true)
	}
}

func (h *vwHeap) rebuild(list []int) {
	h.data = append([]int{-1}, list...)
	for i := len(h.data) / 2; i > 0; i-- {
		h.down(i, false)
	}
	for i := 1; i < len(h.data); i++ {
		h.t[h.data[i]].heapIndex = i
	}
}

// visWhy returns the indices of the points vis-why 1.2 keeps.
func visWhy(p [][2]float64, limit int) []int {
	all := func() []int {
		idx := make([]int, len(p))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	if len(p) < 3 {
		return all()
	}
	if limit < 3 {
		return []int{0, len(p) - 1}
	}
	if len(p) <= limit {
		return all()
	}
	h := &vwHeap{t: make([]vwTriangle, 0, len(p)-2)}
	var list []int
	a, c, prev := 0, 1, -1
	for i := 2; i < len(p); i++ {
		b := c
		c = i
		area := vwArea(p[a], p[b], p[c])
		if area == 0 || math.IsNaN(area) {
			continue // the middle point is dropped; a stays
		}
		h.t = append(h.t, vwTriangle{a: a, b: b, c: c, area: area, prev: prev, next: -1})
		t := len(h.t) - 1
		a = b
		if prev >= 0 {
			h.t[prev].next = t
		}
		list = append(list, t)
		prev = t
	}
	if len(list) == 0 { // a straight line
		return []int{0, len(p) - 1}
	}
	first := list[0]
	h.rebuild(list)
	for counter := h.size() - (limit - 2); counter > 0; counter-- {
		t := h.pop()
		tr := h.t[t]
		if pv := tr.prev; pv >= 0 {
			h.remove(pv)
			h.t[pv].next = tr.next
			h.t[pv].c = tr.c
			h.t[pv].area = vwArea(p[h.t[pv].a], p[h.t[pv].b], p[h.t[pv].c])
			h.push(pv)
		} else {
			first = tr.next
		}
		if nx := tr.next; nx >= 0 {
			h.remove(nx)
			h.t[nx].prev = tr.prev
			h.t[nx].a = tr.a
			h.t[nx].area = vwArea(p[h.t[nx].a], p[h.t[nx].b], p[h.t[nx].c])
			h.push(nx)
		}
	}
	out := []int{h.t[first].a}
	t := first
	for {
		out = append(out, h.t[t].b)
		if h.t[t].next < 0 {
			break
		}
		t = h.t[t].next
	}
	return append(out, h.t[t].c)
}
