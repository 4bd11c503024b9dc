package curve

import (
	"errors"
	"math"
	"testing"
)

func mustDec(t *testing.T, s string) dec {
	t.Helper()
	d, err := parseBigNumber(s)
	if err != nil {
		t.Fatalf("parseBigNumber(%q): %v", s, err)
	}
	return d
}

// The expected values are what bignumber.js 4.1.0, configured as
// ilp-routing 10.1.0 configured it, printed for the same operations.
func TestDiv19(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"1", "3", "0.3333333333333333333"},
		{"-2", "3", "-0.6666666666666666667"},                  // half-up works on the magnitude
		{"1", "20000000000000000000", "0.0000000000000000001"}, // exactly half a unit: up
		{"1", "40000000000000000000", "0"},                     // a quarter: down
		{"7", "7", "1"},
		{"10", "-4", "-2.5"},
	} {
		if got := mustDec(t, tc.a).div19(mustDec(t, tc.b)).String(); got != tc.want {
			t.Errorf("%s / %s = %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
	if got := decU64(1).div19(decZero()); got.k != dNaN {
		t.Errorf("1/0 = %s, want NaN (never reached by the 2017 code)", got)
	}
}

func TestRounding(t *testing.T) {
	for _, tc := range []struct{ in, floor, ceil, half string }{
		{"2.5", "2", "3", "3"},
		{"-2.5", "-3", "-2", "-3"},
		{"-0.4", "-1", "0", "0"},
		{"4.49", "4", "5", "4"},
		{"7", "7", "7", "7"},
	} {
		d := mustDec(t, tc.in)
		if got := d.floor().String(); got != tc.floor {
			t.Errorf("floor(%s) = %s, want %s", tc.in, got, tc.floor)
		}
		if got := d.ceil().String(); got != tc.ceil {
			t.Errorf("ceil(%s) = %s, want %s", tc.in, got, tc.ceil)
		}
		if got := d.roundHalfUp().String(); got != tc.half {
			t.Errorf("toFixed(0) of %s = %s, want %s", tc.in, got, tc.half)
		}
	}
}

func TestParseBigNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"},
		{"007", "7"},
		{"18446744073709551616", "18446744073709551616"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-1.25e2", "-125"},
		{"1E+3", "1000"},
		{"1e-3", "0.001"},
		{" +5 ", "5"},
		{"\u00a05", "5"},
		{"0x1f", "31"},
		{"-0x10", "-16"},
		{"0b101", "5"},
		{"0o17", "15"},
		{"Infinity", "Infinity"},
		{" -Infinity", "-Infinity"},
		{"NaN", "NaN"},
		{"1e10000001", "Infinity"}, // beyond bignumber.js MAX_EXP
		{"1e-10000001", "0"},
	} {
		if got := mustDec(t, tc.in).String(); got != tc.want {
			t.Errorf("parseBigNumber(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// bignumber.js refused all of these except "0x1.8" (1.5), a fraction in
	// base 16 that this package does not take (documented at parseBigNumber).
	for _, bad := range []string{"", "   ", "abc", "1e", "+-1", "1 2", "1.2.3", "e5", ".", "0x", "0x1.8", "0x1_0", "١"} {
		if d, err := parseBigNumber(bad); !errors.Is(err, ErrNotANumber) {
			t.Errorf("parseBigNumber(%q) = %s, %v; want ErrNotANumber", bad, d, err)
		}
	}
	if _, err := parseBigNumber("1e2000000"); !errors.Is(err, ErrNotANumber) {
		t.Errorf("1e2000000: %v, want the size limit", err)
	}
}

func TestDecFromJSNumber(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{5, "5"},
		{-2.5, "-2.5"},
		{1e21, "1000000000000000000000"},
		{9007199254740991, "9007199254740991"}, // 16 digits, but safe
		{0.1, "0.1"},
		{1 << 62, ""}, // 4611686018427387904: 19 digits above 2^53
		{0.1234567890123456, ""},
		{math.Inf(1), "Infinity"},
	} {
		d, err := decFromJSNumber(tc.f)
		if tc.want == "" {
			if !errors.Is(err, ErrNotANumber) {
				t.Errorf("decFromJSNumber(%v) = %s, %v; want ErrNotANumber", tc.f, d, err)
			}
			continue
		}
		if err != nil || d.String() != tc.want {
			t.Errorf("decFromJSNumber(%v) = %s, %v; want %s", tc.f, d, err, tc.want)
		}
	}
}
