package ledger

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func bigPow2(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }

// Reference range of Int128, computed independently of int128.go.
func refMax() *big.Int { return new(big.Int).Sub(bigPow2(127), big.NewInt(1)) }
func refMin() *big.Int { return new(big.Int).Neg(bigPow2(127)) }

func inRange(b *big.Int) bool { return b.Cmp(refMin()) >= 0 && b.Cmp(refMax()) <= 0 }

// fromParts is the reference value of an Int128's two words.
func fromParts(hi int64, lo uint64) *big.Int {
	v := new(big.Int).Lsh(big.NewInt(hi), 64)
	return v.Add(v, new(big.Int).SetUint64(lo))
}

func mustParse(t testing.TB, s string) Int128 {
	t.Helper()
	v, err := ParseInt128(s)
	if err != nil {
		t.Fatalf("ParseInt128(%q): %v", s, err)
	}
	return v
}

func TestInt128Extremes(t *testing.T) {
	max := Int128{hi: math.MaxInt64, lo: math.MaxUint64}
	min := Int128{hi: math.MinInt64}
	if max.Big().Cmp(refMax()) != 0 || min.Big().Cmp(refMin()) != 0 {
		t.Fatalf("extremes read as %s and %s", max.Big(), min.Big())
	}
	if got := max.String(); got != refMax().String() {
		t.Errorf("max.String() = %s", got)
	}
	if got := min.String(); got != "-170141183460469231731687303715884105728" {
		t.Errorf("min.String() = %s", got)
	}
	for _, v := range []Int128{max, min} {
		if p := mustParse(t, v.String()); p != v {
			t.Errorf("ParseInt128(%s) = %+v, want %+v", v, p, v)
		}
		b, err := Int128FromBig(v.Big())
		if err != nil || b != v {
			t.Errorf("Int128FromBig(%s) = %+v, %v", v, b, err)
		}
	}
	one := Int128FromInt64(1)
	if _, err := max.Add(one); !errors.Is(err, ErrOverflow) {
		t.Errorf("max+1: %v", err)
	}
	if _, err := max.AddUint64(math.MaxUint64); !errors.Is(err, ErrOverflow) {
		t.Errorf("max+(2^64-1): %v", err)
	}
	if _, err := min.Sub(one); !errors.Is(err, ErrOverflow) {
		t.Errorf("min-1: %v", err)
	}
	if _, err := min.SubUint64(math.MaxUint64); !errors.Is(err, ErrOverflow) {
		t.Errorf("min-(2^64-1): %v", err)
	}
	if _, err := min.Neg(); !errors.Is(err, ErrOverflow) {
		t.Errorf("-min: %v", err)
	}
	if _, err := Int128FromInt64(0).Sub(min); !errors.Is(err, ErrOverflow) {
		t.Errorf("0-min: %v", err)
	}
	if _, err := Int128FromInt64(-1).Sub(max); err != nil {
		t.Errorf("-1-max = min should fit: %v", err)
	}
	if v, err := max.Add(min); err != nil || v != Int128FromInt64(-1) {
		t.Errorf("max+min = %s, %v; want -1", v, err)
	}
	if v, err := max.Neg(); err != nil || v.Big().Cmp(new(big.Int).Neg(refMax())) != 0 {
		t.Errorf("-max = %s, %v", v, err)
	}
	for _, s := range []string{"170141183460469231731687303715884105728", "-170141183460469231731687303715884105729", "1" + strings.Repeat("0", 60)} {
		if _, err := ParseInt128(s); !errors.Is(err, ErrOverflow) {
			t.Errorf("ParseInt128(%s): %v, want ErrOverflow", s, err)
		}
		b, _ := new(big.Int).SetString(s, 10)
		if _, err := Int128FromBig(b); !errors.Is(err, ErrOverflow) {
			t.Errorf("Int128FromBig(%s): %v, want ErrOverflow", s, err)
		}
	}
}

func TestInt128AtTheWordBoundaries(t *testing.T) {
	// Carries and borrows between the two words, and the int64 and uint64
	// edges, where a hand-written 128-bit type goes wrong.
	cases := []string{
		"0", "1", "-1",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "-18446744073709551615", "-18446744073709551616", "-18446744073709551617",
		"36893488147419103230", "-36893488147419103232",
	}
	for _, a := range cases {
		for _, b := range cases {
			x, y := mustParse(t, a), mustParse(t, b)
			xb, yb := x.Big(), y.Big()
			sum, err := x.Add(y)
			if err != nil || sum.Big().Cmp(new(big.Int).Add(xb, yb)) != 0 {
				t.Errorf("%s + %s = %s, %v", a, b, sum, err)
			}
			diff, err := x.Sub(y)
			if err != nil || diff.Big().Cmp(new(big.Int).Sub(xb, yb)) != 0 {
				t.Errorf("%s - %s = %s, %v", a, b, diff, err)
			}
			if x.Cmp(y) != xb.Cmp(yb) {
				t.Errorf("Cmp(%s, %s) = %d", a, b, x.Cmp(y))
			}
		}
	}
}

func TestInt128Conversions(t *testing.T) {
	for _, v := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 12345, -12345} {
		x := Int128FromInt64(v)
		if !x.IsInt64() || x.Int64() != v || x.Big().Int64() != v || x.Sign() != big.NewInt(v).Sign() {
			t.Errorf("Int128FromInt64(%d) = %+v", v, x)
		}
		if x.IsUint64() != (v >= 0) {
			t.Errorf("IsUint64(%d) = %v", v, x.IsUint64())
		}
	}
	for _, v := range []uint64{0, 1, math.MaxInt64 + 1, math.MaxUint64} {
		x := Int128FromUint64(v)
		if !x.IsUint64() || x.Uint64() != v || x.String() != new(big.Int).SetUint64(v).String() {
			t.Errorf("Int128FromUint64(%d) = %+v", v, x)
		}
		if x.IsInt64() != (v <= math.MaxInt64) {
			t.Errorf("IsInt64(%d) = %v", v, x.IsInt64())
		}
	}
	var z Int128
	if err := z.UnmarshalText([]byte("-340282366920938463463374607431768211")); err != nil {
		t.Fatal(err)
	}
	txt, _ := z.MarshalText()
	if string(txt) != "-340282366920938463463374607431768211" {
		t.Errorf("text round trip: %s", txt)
	}
	if err := z.UnmarshalText([]byte("1.5")); err == nil {
		t.Error("UnmarshalText accepted 1.5")
	}
}

func TestParseInt128(t *testing.T) {
	good := map[string]string{
		"0": "0", "-0": "0", "+0": "0", "+42": "42", "-42": "-42", "007": "7",
		"0000000000000000000000000000000000000001":         "1",
		"-00000000000000000000000000018446744073709551616": "-18446744073709551616",
	}
	for in, want := range good {
		v, err := ParseInt128(in)
		if err != nil || v.String() != want {
			t.Errorf("ParseInt128(%q) = %s, %v; want %s", in, v, err, want)
		}
	}
	for _, in := range []string{"", "-", "+", " 1", "1 ", "1_000", "0x10", "1e3", "1.0", "--1", "+-1", "١", "NaN", "∞"} {
		if v, err := ParseInt128(in); err == nil {
			t.Errorf("ParseInt128(%q) = %s, want an error", in, v)
		}
	}
}

// TestInt128AgainstBig compares random operations with math/big, drawing
// operands near the edges of both words as often as in the middle.
func TestInt128AgainstBig(t *testing.T) {
	seed := uint64(20170601)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	word := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return r.Uint64N(4)
		case 1:
			return math.MaxUint64 - r.Uint64N(4)
		case 2:
			return 1<<63 + r.Uint64N(4) - 2
		}
		return r.Uint64()
	}
	for i := 0; i < 20000; i++ {
		checkAgainstBig(t, int64(word()), word(), int64(word()), word())
	}
}

func checkAgainstBig(t *testing.T, hi1 int64, lo1 uint64, hi2 int64, lo2 uint64) {
	t.Helper()
	a, b := Int128{hi: hi1, lo: lo1}, Int128{hi: hi2, lo: lo2}
	ab, bb := fromParts(hi1, lo1), fromParts(hi2, lo2)
	if a.Big().Cmp(ab) != 0 {
		t.Fatalf("Big(%d,%d) = %s, want %s", hi1, lo1, a.Big(), ab)
	}
	if a.String() != ab.String() {
		t.Fatalf("String = %s, want %s", a.String(), ab)
	}
	if p, err := ParseInt128(ab.String()); err != nil || p != a {
		t.Fatalf("ParseInt128(%s) = %+v, %v; want %+v", ab, p, err, a)
	}
	if f, err := Int128FromBig(ab); err != nil || f != a {
		t.Fatalf("Int128FromBig(%s) = %+v, %v", ab, f, err)
	}
	if a.Cmp(b) != ab.Cmp(bb) || a.Sign() != ab.Sign() {
		t.Fatalf("Cmp/Sign of %s, %s", ab, bb)
	}
	if a.IsInt64() != ab.IsInt64() || (a.IsInt64() && a.Int64() != ab.Int64()) {
		t.Fatalf("IsInt64/Int64 of %s", ab)
	}
	if a.IsUint64() != ab.IsUint64() || (a.IsUint64() && a.Uint64() != ab.Uint64()) {
		t.Fatalf("IsUint64/Uint64 of %s", ab)
	}
	ops := []struct {
		name string
		got  func() (Int128, error)
		want *big.Int
	}{
		{"+", func() (Int128, error) { return a.Add(b) }, new(big.Int).Add(ab, bb)},
		{"-", func() (Int128, error) { return a.Sub(b) }, new(big.Int).Sub(ab, bb)},
		{"+lo", func() (Int128, error) { return a.AddUint64(lo2) }, new(big.Int).Add(ab, new(big.Int).SetUint64(lo2))},
		{"-lo", func() (Int128, error) { return a.SubUint64(lo2) }, new(big.Int).Sub(ab, new(big.Int).SetUint64(lo2))},
		{"neg", func() (Int128, error) { return a.Neg() }, new(big.Int).Neg(ab)},
	}
	for _, op := range ops {
		got, err := op.got()
		if !inRange(op.want) {
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("%s %s %s = %s, %v; want ErrOverflow", ab, op.name, bb, got, err)
			}
			continue
		}
		if err != nil || got.Big().Cmp(op.want) != 0 {
			t.Fatalf("%s %s %s = %s, %v; want %s", ab, op.name, bb, got, err, op.want)
		}
	}
}

// FuzzInt128Arith compares Int128 with math/big on any two values: every
// operation agrees, overflow exactly when big's result leaves ±2^127, and
// String/Parse round trips.
func FuzzInt128Arith(f *testing.F) {
	f.Add(int64(0), uint64(0), int64(0), uint64(1))
	f.Add(int64(math.MaxInt64), uint64(math.MaxUint64), int64(0), uint64(1))
	f.Add(int64(math.MinInt64), uint64(0), int64(-1), uint64(math.MaxUint64))
	f.Add(int64(-1), uint64(1<<63), int64(0), uint64(1<<63))
	f.Fuzz(func(t *testing.T, hi1 int64, lo1 uint64, hi2 int64, lo2 uint64) {
		checkAgainstBig(t, hi1, lo1, hi2, lo2)
	})
}

var decimalRE = regexp.MustCompile(`^[+-]?[0-9]+$`)

// FuzzParseInt128 checks ParseInt128 on any string against math/big: it
// accepts exactly an optional sign and decimal digits within ±2^127, gives
// big's value, and its String parses back to the same value.
func FuzzParseInt128(f *testing.F) {
	for _, s := range []string{"0", "-0", "+7", "18446744073709551616", "-170141183460469231731687303715884105728", "170141183460469231731687303715884105728", "1e3", " 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseInt128(s)
		want, ok := new(big.Int), decimalRE.MatchString(s)
		if ok {
			want.SetString(s, 10)
		}
		switch {
		case !ok:
			if err == nil {
				t.Fatalf("ParseInt128(%q) = %s, want an error", s, v)
			}
		case !inRange(want):
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("ParseInt128(%q) = %s, %v; want ErrOverflow", s, v, err)
			}
		default:
			if err != nil || v.Big().Cmp(want) != 0 {
				t.Fatalf("ParseInt128(%q) = %s, %v; want %s", s, v, err, want)
			}
			if back := mustParse(t, v.String()); back != v || v.String() != want.String() {
				t.Fatalf("round trip of %q: %s", s, v.String())
			}
		}
	})
}
