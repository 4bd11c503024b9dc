package curve

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// This file holds dec, the number type of the reference path: a model of the
// bignumber.js 4 values that ilp-routing 10.1.0 computed with. A dec is a
// finite decimal (an integer scaled by a power of ten), ±Infinity or NaN.
// Additions, subtractions and multiplications are exact, as in bignumber.js;
// the only rounding is in div19 (bignumber.js DECIMAL_PLACES 19, ROUNDING_MODE
// ROUND_HALF_UP) and in the explicit floor, ceil and toFixed(0) steps that the
// 2017 code called. The fast uint64 path in the rest of the package is checked
// against this one by tests and fuzzing.

type dkind uint8

const (
	dFinite dkind = iota
	dNaN
	dPosInf
	dNegInf
)

// decPlaces is bignumber.js DECIMAL_PLACES as ilp-routing 10.1.0 configured
// it: a quotient keeps 19 digits after the point.
const decPlaces = 19

// maxDecExp bounds the decimal exponent of a parsed value. bignumber.js went
// to 10^±10^7 (beyond that: Infinity or zero, which parseBigNumber follows);
// between 10^6 and 10^7 this package refuses the value instead of building a
// multi-megabyte integer. No real amount comes near either limit.
const maxDecExp = 1_000_000

type dec struct {
	k dkind
	n *big.Int // finite only: value = n / 10^s; never mutated once built
	s int      // scale, ≥ 0
}

var (
	decNaN    = dec{k: dNaN}
	decPosInf = dec{k: dPosInf}
	decNegInf = dec{k: dNegInf}
)

func decZero() dec { return dec{n: new(big.Int)} }

func decU64(u uint64) dec { return dec{n: new(big.Int).SetUint64(u)} }

func decInt(i *big.Int) dec { return dec{n: new(big.Int).Set(i)} }

func pow10(k int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
}

func (d dec) finite() bool { return d.k == dFinite }

// sign is -1, 0 or +1; NaN has sign 0.
func (d dec) sign() int {
	switch d.k {
	case dPosInf:
		return 1
	case dNegInf:
		return -1
	case dNaN:
		return 0
	}
	return d.n.Sign()
}

// isNeg is bignumber.js isNegative(): true for negative finite values and
// -Infinity, false for NaN. (bignumber.js also said true for -0; no path of
// the 2017 code that this package models can produce a -0 that reaches it.)
func (d dec) isNeg() bool { return d.sign() < 0 }

// scaled returns d's coefficient at scale s ≥ d.s.
func (d dec) scaled(s int) *big.Int {
	if s == d.s {
		return d.n
	}
	return new(big.Int).Mul(d.n, pow10(s-d.s))
}

// cmp compares two values as bignumber.js comparedTo did; ok is false when
// either is NaN (every lt/lte/gt/gte/eq of bignumber.js is then false).
func (d dec) cmp(e dec) (c int, ok bool) {
	if d.k == dNaN || e.k == dNaN {
		return 0, false
	}
	if !d.finite() || !e.finite() {
		rank := func(x dec) int {
			switch x.k {
			case dNegInf:
				return -1
			case dPosInf:
				return 1
			}
			return 0
		}
		rd, re := rank(d), rank(e)
		switch {
		case rd < re:
			return -1, true
		case rd > re:
			return 1, true
		}
		return 0, true
	}
	s := max(d.s, e.s)
	return d.scaled(s).Cmp(e.scaled(s)), true
}

func (d dec) lt(e dec) bool  { c, ok := d.cmp(e); return ok && c < 0 }
func (d dec) lte(e dec) bool { c, ok := d.cmp(e); return ok && c <= 0 }
func (d dec) gt(e dec) bool  { c, ok := d.cmp(e); return ok && c > 0 }
func (d dec) gte(e dec) bool { c, ok := d.cmp(e); return ok && c >= 0 }
func (d dec) eq(e dec) bool  { c, ok := d.cmp(e); return ok && c == 0 }

func (d dec) neg() dec {
	switch d.k {
	case dPosInf:
		return decNegInf
	case dNegInf:
		return decPosInf
	case dNaN:
		return d
	}
	return dec{n: new(big.Int).Neg(d.n), s: d.s}
}

// add is exact, as bignumber.js plus was.
func (d dec) add(e dec) dec {
	if d.k == dNaN || e.k == dNaN {
		return decNaN
	}
	if !d.finite() || !e.finite() {
		if !d.finite() && !e.finite() && d.k != e.k {
			return decNaN // Infinity + -Infinity
		}
		if !d.finite() {
			return d
		}
		return e
	}
	s := max(d.s, e.s)
	return dec{n: new(big.Int).Add(d.scaled(s), e.scaled(s)), s: s}
}

func (d dec) sub(e dec) dec { return d.add(e.neg()) }

// mul is exact, as bignumber.js times was.
func (d dec) mul(e dec) dec {
	if d.k == dNaN || e.k == dNaN {
		return decNaN
	}
	if !d.finite() || !e.finite() {
		sd, se := d.sign(), e.sign()
		if sd == 0 || se == 0 {
			return decNaN // Infinity × 0
		}
		if sd*se > 0 {
			return decPosInf
		}
		return decNegInf
	}
	return dec{n: new(big.Int).Mul(d.n, e.n), s: d.s + e.s}
}

// div19 is bignumber.js div under ilp-routing's configuration: the exact
// quotient rounded to 19 decimal places, ties away from zero (ROUND_HALF_UP
// works on the magnitude). The 2017 code divided only finite values by
// non-zero ones; anything else gives NaN here.
func (d dec) div19(e dec) dec {
	if !d.finite() || !e.finite() || e.n.Sign() == 0 {
		return decNaN
	}
	// d/e = d.n·10^e.s / (e.n·10^d.s); scale the numerator by 10^19 more.
	num := new(big.Int).Abs(d.n)
	num.Mul(num, pow10(e.s+decPlaces))
	den := new(big.Int).Abs(e.n)
	if d.s > 0 {
		den.Mul(den, pow10(d.s))
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if d.n.Sign()*e.n.Sign() < 0 {
		q.Neg(q)
	}
	return dec{n: q, s: decPlaces}
}

// floor and ceil are exact; specials pass through (as in bignumber.js).
func (d dec) floor() dec { return d.toInt(-1) }
func (d dec) ceil() dec  { return d.toInt(+1) }

// toInt rounds to an integer towards -∞ (dir -1) or +∞ (dir +1).
func (d dec) toInt(dir int) dec {
	if !d.finite() || d.s == 0 {
		return d
	}
	q, m := new(big.Int).DivMod(d.n, pow10(d.s), new(big.Int)) // Euclidean: m ≥ 0
	if dir > 0 && m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return dec{n: q}
}

// roundHalfUp is toFixed(0) under ROUND_HALF_UP: the nearest integer, ties
// away from zero. Finite values only.
func (d dec) roundHalfUp() *big.Int {
	if d.s == 0 {
		return new(big.Int).Set(d.n)
	}
	unit := pow10(d.s)
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(d.n), unit, new(big.Int))
	if r.Lsh(r, 1).Cmp(unit) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if d.n.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// uint64 reports d as an integer in [0, 2^64), if it is one.
func (d dec) uint64() (uint64, bool) {
	if !d.finite() || d.n.Sign() < 0 {
		return 0, false
	}
	v := d.n
	if d.s > 0 {
		q, r := new(big.Int).QuoRem(d.n, pow10(d.s), new(big.Int))
		if r.Sign() != 0 {
			return 0, false
		}
		v = q
	}
	if !v.IsUint64() {
		return 0, false
	}
	return v.Uint64(), true
}

// bigInt reports d as an integer of any size, if it is one.
func (d dec) bigInt() (*big.Int, bool) {
	if !d.finite() {
		return nil, false
	}
	if d.s == 0 {
		return d.n, true
	}
	q, r := new(big.Int).QuoRem(d.n, pow10(d.s), new(big.Int))
	if r.Sign() != 0 {
		return nil, false
	}
	return q, true
}

// String prints the value in plain decimal notation (tests and errors).
func (d dec) String() string {
	switch d.k {
	case dNaN:
		return "NaN"
	case dPosInf:
		return "Infinity"
	case dNegInf:
		return "-Infinity"
	}
	if d.s == 0 {
		return d.n.String()
	}
	digits := new(big.Int).Abs(d.n).String()
	if len(digits) <= d.s {
		digits = strings.Repeat("0", d.s-len(digits)+1) + digits
	}
	out := digits[:len(digits)-d.s] + "." + digits[len(digits)-d.s:]
	out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	if d.n.Sign() < 0 {
		out = "-" + out
	}
	return out
}

// ---- building values the way bignumber.js 4 did ----

// parseBigNumber is new BigNumber(str) of bignumber.js 4.1: plain and
// exponential decimal notation; failing that, surrounding white space and a
// leading '+' are dropped, "Infinity", "-Infinity" and "NaN" are accepted, and
// 0x/0b/0o prefixes select base 16/2/8 (integers only here: bignumber.js
// also took fractions in those bases, which no amount ever used).
func parseBigNumber(str string) (dec, error) {
	if d, ok, err := parseDecimalLiteral(str); ok || err != nil {
		return d, err
	}
	s := trimJSSpaceAndPlus(str)
	switch s {
	case "Infinity":
		return decPosInf, nil
	case "-Infinity":
		return decNegInf, nil
	case "NaN", "-NaN":
		return decNaN, nil
	}
	if d, ok := parsePrefixedInt(s); ok {
		return d, nil
	}
	if s != str {
		if d, ok, err := parseDecimalLiteral(s); ok || err != nil {
			return d, err
		}
	}
	return dec{}, fmt.Errorf("%w: %q", ErrNotANumber, str)
}

// parseDecimalLiteral accepts exactly -?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)? with
// the e in either case (bignumber.js isNumeric).
func parseDecimalLiteral(str string) (d dec, ok bool, err error) {
	s := str
	negative := false
	if strings.HasPrefix(s, "-") {
		negative, s = true, s[1:]
	}
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if !allDigits(intPart) || !allDigits(frac) || intPart+frac == "" {
		return dec{}, false, nil
	}
	e := 0
	if hasExp {
		es := exp
		eneg := false
		if es != "" && (es[0] == '+' || es[0] == '-') {
			eneg = es[0] == '-'
			es = es[1:]
		}
		if es == "" || !allDigits(es) {
			return dec{}, false, nil
		}
		es = strings.TrimLeft(es, "0")
		switch {
		case len(es) > 9:
			e = 999_999_999 // saturate: far past every limit below
		case es != "":
			e, _ = strconv.Atoi(es)
		}
		if eneg {
			e = -e
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return decZero(), true, nil
	}
	// value = 0.digits... × 10^(len(intPart without leading zeros)+e); the
	// bignumber.js exponent of the leading digit decides Infinity/zero.
	lead := len(strings.TrimLeft(intPart, "0")) - 1
	if lead < 0 {
		lead = -(len(frac) - len(strings.TrimLeft(frac, "0"))) - 1
	}
	sciExp := lead + e
	switch {
	case sciExp > 10_000_000:
		if negative {
			return decNegInf, true, nil
		}
		return decPosInf, true, nil
	case sciExp < -10_000_000:
		return decZero(), true, nil
	case sciExp > maxDecExp || sciExp < -maxDecExp || len(digits) > maxDecExp:
		return dec{}, false, fmt.Errorf("%w: %q is too large for this implementation", ErrNotANumber, str)
	}
	n, _ := new(big.Int).SetString(intPart+frac, 10)
	scale := len(frac) - e
	if scale < 0 {
		n.Mul(n, pow10(-scale))
		scale = 0
	}
	if negative {
		n.Neg(n)
	}
	return dec{n: n, s: scale}, true, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isJSSpace is the \s class of JavaScript regular expressions.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isWordOrDot(b byte) bool {
	return b == '_' || b == '.' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

// trimJSSpaceAndPlus drops leading and trailing white space, and a '+' that
// leads (after the space) when a word character or '.' follows it.
func trimJSSpaceAndPlus(s string) string {
	s = strings.TrimLeftFunc(s, isJSSpace)
	if len(s) >= 2 && s[0] == '+' && isWordOrDot(s[1]) {
		s = s[1:]
	}
	return strings.TrimRightFunc(s, isJSSpace)
}

func parsePrefixedInt(s string) (dec, bool) {
	negative := false
	if strings.HasPrefix(s, "-") {
		negative, s = true, s[1:]
	}
	if len(s) < 3 || s[0] != '0' {
		return dec{}, false
	}
	base := 0
	switch s[1] {
	case 'x', 'X':
		base = 16
	case 'b', 'B':
		base = 2
	case 'o', 'O':
		base = 8
	default:
		return dec{}, false
	}
	if len(s)-2 > maxDecExp {
		return dec{}, false
	}
	n, ok := new(big.Int).SetString(s[2:], base)
	if !ok || strings.ContainsAny(s[2:], "_+-") {
		return dec{}, false
	}
	if negative {
		n.Neg(n)
	}
	return dec{n: n}, true
}

// maxSafeInteger is Number.MAX_SAFE_INTEGER.
const maxSafeInteger = 1<<53 - 1

// decFromJSNumber is new BigNumber(n) for a JavaScript number n: exact for
// integers within int32, else built from the shortest decimal form of n (its
// JavaScript toString), which bignumber.js refused when it had more than 15
// significant digits and n was above 2^53-1 or not an integer.
func decFromJSNumber(f float64) (dec, error) {
	switch {
	case math.IsNaN(f):
		return decNaN, nil
	case math.IsInf(f, 1):
		return decPosInf, nil
	case math.IsInf(f, -1):
		return decNegInf, nil
	}
	a := math.Abs(f)
	if a == math.Trunc(a) && a <= math.MaxInt32 {
		d := decU64(uint64(a))
		if f < 0 {
			d = d.neg()
		}
		return d, nil
	}
	short := strconv.FormatFloat(a, 'e', -1, 64) // d.ddde±x, shortest round-trip
	mant, _, _ := strings.Cut(short, "e")
	sig := strings.Trim(strings.Replace(mant, ".", "", 1), "0")
	if len(sig) > 15 && (a > maxSafeInteger || a != math.Trunc(a)) {
		return dec{}, fmt.Errorf("%w: number type has more than 15 significant digits: %s", ErrNotANumber, jsNumberString(f))
	}
	d, _, err := parseDecimalLiteral(short)
	if err != nil {
		return dec{}, err
	}
	if f < 0 {
		d = d.neg()
	}
	return d, nil
}

// jsNumberString approximates JavaScript's Number#toString for messages.
func jsNumberString(f float64) string {
	if a := math.Abs(f); a >= 1e21 || (a != 0 && a < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
