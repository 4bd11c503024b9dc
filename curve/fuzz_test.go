package curve

import (
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
	"math/rand"
	"slices"
	"testing"
)

// fuzzCurve turns arbitrary bytes into a valid curve of at most 24 points:
// 16 bytes a point (x and y as raw uint64), x sorted and made distinct, y
// sorted. Extra trailing bytes choose a right shift for every coordinate,
// so that small curves are as easy to reach as ones near 2^64.
func fuzzCurve(b []byte) Curve {
	n := min(len(b)/16, 24)
	shift := uint(0)
	if rest := b[n*16:]; len(rest) > 0 {
		shift = uint(rest[0]) % 64
	}
	xs := make([]uint64, n)
	ys := make([]uint64, n)
	for i := range n {
		xs[i] = binary.LittleEndian.Uint64(b[16*i:]) >> shift
		ys[i] = binary.LittleEndian.Uint64(b[16*i+8:]) >> shift
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	slices.Sort(ys)
	pts := make([]Point, len(xs))
	for i := range xs {
		pts[i] = Point{xs[i], ys[i]}
	}
	return MustNew(pts...)
}

// randCurve draws a valid curve from r with coordinates of mixed sizes.
func randCurve(r *rand.Rand) Curve {
	b := make([]byte, 16*r.Intn(8)+1)
	r.Read(b)
	b[len(b)-1] = []byte{0, 1, 32, 44, 54, 58, 60}[r.Intn(7)]
	return fuzzCurve(b)
}

func checkValid(t *testing.T, what string, c Curve) {
	t.Helper()
	if err := Validate(c.pts); err != nil {
		t.Fatalf("%s gave an invalid curve %v: %v", what, c, err)
	}
}

func sameResult(t *testing.T, what string, got Curve, err error, ref Curve, rerr error) {
	t.Helper()
	if (err == nil) != (rerr == nil) {
		t.Fatalf("%s: fast error %v, reference error %v (fast %v, ref %v)", what, err, rerr, got, ref)
	}
	if err != nil {
		if errors.Is(rerr, ErrInvalid) != errors.Is(err, ErrInvalid) || errors.Is(rerr, ErrEmpty) != errors.Is(err, ErrEmpty) {
			t.Fatalf("%s: fast error %v, reference error %v", what, err, rerr)
		}
		return
	}
	if !got.Equal(ref) {
		t.Fatalf("%s: fast %v, reference %v", what, got, ref)
	}
	checkValid(t, what, got)
}

func checkAmountAt(t *testing.T, c Curve, x uint64) {
	got := c.AmountAt(x)
	if c.IsEmpty() {
		if got != 0 {
			t.Fatalf("empty AmountAt = %d", got)
		}
		return
	}
	ref, err := refAmountAt(c, decU64(x))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := ref.uint64(); !ok || u != got {
		t.Fatalf("%v.AmountAt(%d): fast %d, reference %s", c, x, got, ref)
	}
	if last := c.pts[len(c.pts)-1].Y; got > last {
		t.Fatalf("%v.AmountAt(%d) = %d above the last y", c, x, got)
	}
	if x < maxU && c.AmountAt(x+1) < got {
		t.Fatalf("%v.AmountAt decreases after %d", c, x)
	}
}

func checkAmountReverse(t *testing.T, c Curve, y uint64) {
	got, ok := c.AmountReverse(y)
	if c.IsEmpty() {
		if ok {
			t.Fatalf("empty AmountReverse ok")
		}
		return
	}
	ref, err := refAmountReverse(c, decU64(y))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if ref.k != dPosInf {
			t.Fatalf("%v.AmountReverse(%d): fast Infinity, reference %s", c, y, ref)
		}
		return
	}
	if u, isU := ref.uint64(); !isU || u != got {
		t.Fatalf("%v.AmountReverse(%d): fast %d, reference %s", c, y, got, ref)
	}
	// Going back: the amount found delivers no more than y... unless the
	// first point already delivers more.
	if at := c.AmountAt(got); at > y && got != c.pts[0].X {
		t.Fatalf("%v: AmountAt(AmountReverse(%d) = %d) = %d", c, y, got, at)
	}
}

func FuzzFromBinary(f *testing.F) {
	f.Add([]byte{})
	f.Add(cv(0, 0, 10, 20).AppendBinary(nil))
	f.Add(cv(1_000_000_000_000, maxU).AppendBinary(nil))
	f.Add(make([]byte, 17))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := FromBinary(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		checkValid(t, "FromBinary", c)
		if out := c.AppendBinary(nil); !slices.Equal(out, b) {
			t.Fatalf("round trip % x → % x", b, out)
		}
		back, err := FromBase64(c.Base64())
		if err != nil || !back.Equal(c) {
			t.Fatalf("base64 round trip: %v %v", back, err)
		}
	})
}

func FuzzAmountAt(f *testing.F) {
	f.Add(cv(10, 20, 100, 200).AppendBinary(nil), uint64(11))
	f.Add(cv(0, 0, maxU, maxU-1).AppendBinary(nil), uint64(maxU-1))
	f.Fuzz(func(t *testing.T, b []byte, x uint64) {
		c := fuzzCurve(b)
		checkAmountAt(t, c, x)
		checkAmountReverse(t, c, x)
		for _, p := range c.pts { // at the points themselves, and next to them
			checkAmountAt(t, c, p.X)
			checkAmountAt(t, c, p.X-1)
			checkAmountReverse(t, c, p.Y)
			checkAmountReverse(t, c, p.Y+1)
		}
	})
}

func FuzzCombine(f *testing.F) {
	f.Add(cv(0, 0, 50, 60).AppendBinary(nil), cv(0, 0, 100, 100).AppendBinary(nil))
	f.Add(cv(0, 0, 4, 8).AppendBinary(nil), cv(0, 3, 2, 3).AppendBinary(nil))
	f.Add(cv(0, 0, maxU, maxU).AppendBinary(nil), cv(0, maxU/2, maxU-1, maxU/2+1).AppendBinary(nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ca, cb := fuzzCurve(a), fuzzCurve(b)
		got, err := ca.CombineChecked(cb)
		ref, rerr := refCombine(ca, cb)
		sameResult(t, "combine", got, err, ref, rerr)
		plain := ca.Combine(cb)
		checkValid(t, "Combine", plain)
		if err == nil && !plain.Equal(got) {
			t.Fatalf("Combine %v, CombineChecked %v", plain, got)
		}
	})
}

func FuzzJoin(f *testing.F) {
	f.Add(cv(0, 0, 200, 100).AppendBinary(nil), cv(0, 0, 50, 60).AppendBinary(nil))
	f.Add(cv(1, 1, 100, 100).AppendBinary(nil), cv(1000, 0, 1_000_000_000, 100_000).AppendBinary(nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ca, cb := fuzzCurve(a), fuzzCurve(b)
		got, err := ca.JoinChecked(cb)
		ref, rerr := refJoin(ca, cb)
		sameResult(t, "join", got, err, ref, rerr)
		if plain := ca.Join(cb); !plain.Equal(got) {
			t.Fatalf("Join %v, JoinChecked %v", plain, got)
		}
	})
}

// FuzzShift shifts by ±(mag + hi·2^64) on either axis.
func FuzzShift(f *testing.F) {
	f.Add(cv(0, 0, 10, 10, 20, 20).AppendBinary(nil), uint64(10), true, uint8(0), false)
	f.Add(cv(0, 0, 10, 10, 20, 20).AppendBinary(nil), uint64(10), true, uint8(0), true)
	f.Add(cv(maxU, 20).AppendBinary(nil), uint64(1), false, uint8(0), false)
	f.Add(cv(0, 0, 10, 10).AppendBinary(nil), uint64(0), true, uint8(1), true)
	f.Fuzz(func(t *testing.T, b []byte, mag uint64, neg bool, hi uint8, yAxis bool) {
		c := fuzzCurve(b)
		d := new(big.Int).SetUint64(uint64(hi % 3))
		d.Lsh(d, 64)
		d.Add(d, new(big.Int).SetUint64(mag))
		if neg {
			d.Neg(d)
		}
		var got, ref Curve
		var err, rerr error
		if yAxis {
			got, err = c.ShiftY(d)
			ref, rerr = refShiftY(c, decInt(d))
		} else {
			got, err = c.ShiftX(d)
			ref, rerr = refShiftX(c, decInt(d))
		}
		sameResult(t, "shift", got, err, ref, rerr)
		// Without wrapping, a positive shift always succeeds.
		if !neg && hi%3 == 0 && err != nil {
			last := c.pts[len(c.pts)-1]
			v := last.X
			if yAxis {
				v = last.Y
			}
			if _, carry := bits.Add64(v, mag, 0); carry == 0 {
				t.Fatalf("shift(%d, y=%v) of %v failed without wrapping: %v", mag, yAxis, c, err)
			}
		}
	})
}

func FuzzSimplify(f *testing.F) {
	f.Add(cv(0, 0, 1, 1, 2, 2, 3, 3, 4, 10, 5, 11).AppendBinary(nil), int8(3))
	f.Add(cv(0, 0, 1, 5, 2, 5, 3, 9, 4, 10, 5, 11, 6, 30).AppendBinary(nil), int8(4))
	f.Fuzz(func(t *testing.T, b []byte, n int8) {
		c := fuzzCurve(b)
		s := c.Simplify(int(n))
		checkValid(t, "Simplify", s)
		if c.Len() >= 2 && (s.At(0) != c.At(0) || s.At(s.Len()-1) != c.At(c.Len()-1)) {
			t.Fatalf("Simplify(%d) of %v lost an end: %v", n, c, s)
		}
		if c.Len() > int(n) && c.Len() >= 3 && s.Len() > max(int(n), 2) {
			t.Fatalf("Simplify(%d) of %v kept %d points", n, c, s.Len())
		}
		j := 0
		for _, p := range s.pts { // a subsequence of the original
			for j < c.Len() && c.pts[j] != p {
				j++
			}
			if j == c.Len() {
				t.Fatalf("Simplify(%d) of %v invented %v", n, c, p)
			}
		}
		// 2017's choice differs at most in the last point, and only by
		// float64 rounding in the coordinates.
		lossy, err := c.SimplifyLossy(int(n))
		if err == nil {
			checkValid(t, "SimplifyLossy", lossy)
			if lossy.Len() != s.Len() {
				t.Fatalf("SimplifyLossy kept %d points, Simplify %d", lossy.Len(), s.Len())
			}
			for i := range lossy.Len() - 1 {
				if p, q := lossy.At(i), s.At(i); float64(p.X) != float64(q.X) || float64(p.Y) != float64(q.Y) {
					t.Fatalf("SimplifyLossy point %d = %v, Simplify %v", i, p, q)
				}
			}
		}
	})
}

// FuzzArg checks that no string makes the bignumber.js emulation panic,
// and that integer text reaches the fast path with its exact value.
func FuzzArg(f *testing.F) {
	for _, s := range []string{"0", "18446744073709551615", "1e3", "-1", " +5 ", "0x1f", "1.5e-3", "Infinity", "NaN", ".5", "5.", "1e99999999999"} {
		f.Add(s)
	}
	c := cv(0, 0, 1000, 2000)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = c.AmountAtArg(StringArg(s))
		_, _, _ = c.AmountReverseArg(StringArg(s))
		if len(s) < 64 {
			if r, err := c.ShiftXArg(StringArg(s)); err == nil {
				checkValid(t, "ShiftXArg", r)
			}
			if r, err := c.ShiftYArg(StringArg(s)); err == nil {
				checkValid(t, "ShiftYArg", r)
			}
		}
		if n, ok := new(big.Int).SetString(s, 10); ok && n.IsUint64() && s[0] != '+' && s[0] != '-' {
			d, err := parseBigNumber(s)
			if u, isU := d.uint64(); err != nil || !isU || u != n.Uint64() {
				t.Fatalf("parseBigNumber(%q) = %s, %v", s, d, err)
			}
		}
	})
}

// TestFastMatchesReference runs the fuzz properties on a fixed set of
// random curves, so that every `go test` covers them.
func TestFastMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(2017))
	for range 3000 {
		a, b := randCurve(r), randCurve(r)
		checkAmountAt(t, a, r.Uint64()>>uint(r.Intn(64)))
		checkAmountReverse(t, a, r.Uint64()>>uint(r.Intn(64)))
		got, err := a.CombineChecked(b)
		ref, rerr := refCombine(a, b)
		sameResult(t, "combine", got, err, ref, rerr)
		got, err = a.JoinChecked(b)
		ref, rerr = refJoin(a, b)
		sameResult(t, "join", got, err, ref, rerr)
		d := new(big.Int).SetUint64(r.Uint64() >> uint(r.Intn(64)))
		if a.Len() > 0 && r.Intn(2) == 0 { // land exactly on a point
			p := a.pts[r.Intn(a.Len())]
			d.SetUint64([]uint64{p.X, p.Y}[r.Intn(2)])
		}
		if r.Intn(2) == 0 {
			d.Neg(d)
		}
		got, err = a.ShiftX(d)
		ref, rerr = refShiftX(a, decInt(d))
		sameResult(t, "shiftX", got, err, ref, rerr)
		got, err = a.ShiftY(d)
		ref, rerr = refShiftY(a, decInt(d))
		sameResult(t, "shiftY", got, err, ref, rerr)
	}
}
