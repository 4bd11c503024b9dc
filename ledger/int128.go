package ledger

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
)

// Int128 is a signed 128-bit integer in two's complement, used for balances:
// an ILP amount may be as large as 2^64-1 and a balance may be negative, so
// neither int64 nor uint64 is wide enough, and math/big is too slow for the
// hot path. The zero value is 0. Arithmetic reports overflow instead of
// wrapping.
type Int128 struct {
	hi int64
	lo uint64
}

// ErrOverflow reports a result outside the range of Int128.
var ErrOverflow = errors.New("ledger: balance overflow")

// Int128FromUint64 returns v as an Int128.
func Int128FromUint64(v uint64) Int128 { return Int128{lo: v} }

// Int128FromInt64 returns v as an Int128.
func Int128FromInt64(v int64) Int128 { return Int128{hi: v >> 63, lo: uint64(v)} }

// Sign returns -1, 0 or +1.
func (a Int128) Sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.hi == 0 && a.lo == 0:
		return 0
	default:
		return 1
	}
}

// Cmp compares a and b and returns -1, 0 or +1.
func (a Int128) Cmp(b Int128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// Add returns a+b, or ErrOverflow.
func (a Int128) Add(b Int128) (Int128, error) {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi := a.hi + b.hi + int64(carry)
	// Signed overflow: both operands have the same sign and the result's differs.
	if (a.hi >= 0) == (b.hi >= 0) && (hi >= 0) != (a.hi >= 0) {
		return Int128{}, ErrOverflow
	}
	return Int128{hi: hi, lo: lo}, nil
}

// Sub returns a-b, or ErrOverflow.
func (a Int128) Sub(b Int128) (Int128, error) {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi := a.hi - b.hi - int64(borrow)
	if (a.hi >= 0) != (b.hi >= 0) && (hi >= 0) != (a.hi >= 0) {
		return Int128{}, ErrOverflow
	}
	return Int128{hi: hi, lo: lo}, nil
}

// AddUint64 returns a+n, or ErrOverflow.
func (a Int128) AddUint64(n uint64) (Int128, error) { return a.Add(Int128{lo: n}) }

// SubUint64 returns a-n, or ErrOverflow.
func (a Int128) SubUint64(n uint64) (Int128, error) { return a.Sub(Int128{lo: n}) }

// Neg returns -a, or ErrOverflow for the minimum value.
func (a Int128) Neg() (Int128, error) { return Int128{}.Sub(a) }

// Big returns a as a new big.Int.
func (a Int128) Big() *big.Int {
	neg := a.hi < 0
	u := a
	if neg {
		// Two's complement magnitude; the minimum value maps to 2^127 correctly
		// because the arithmetic below is unsigned.
		lo, borrow := bits.Sub64(0, a.lo, 0)
		hi := uint64(0) - uint64(a.hi) - borrow
		u = Int128{hi: int64(hi), lo: lo}
	}
	z := new(big.Int).SetUint64(uint64(u.hi))
	z.Lsh(z, 64)
	z.Or(z, new(big.Int).SetUint64(u.lo))
	if neg {
		z.Neg(z)
	}
	return z
}

var (
	int128Max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	int128Min = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127))
)

// Int128FromBig converts b, or returns ErrOverflow when it does not fit.
func Int128FromBig(b *big.Int) (Int128, error) {
	if b.Cmp(int128Max) > 0 || b.Cmp(int128Min) < 0 {
		return Int128{}, ErrOverflow
	}
	neg := b.Sign() < 0
	m := new(big.Int).Abs(b)
	lo := new(big.Int).And(m, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(m, 64).Uint64()
	if neg {
		// Negate the magnitude in two's complement with unsigned arithmetic:
		// the magnitude 2^127 of the minimum value has no positive Int128.
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi = 0 - hi - borrow
	}
	return Int128{hi: int64(hi), lo: lo}, nil
}

// String returns the decimal form, as the 2.x store kept balances.
func (a Int128) String() string {
	if a.hi == 0 {
		return strconv.FormatUint(a.lo, 10)
	}
	if a.hi == -1 && a.lo != 0 && a.lo >= 1<<63 {
		return strconv.FormatInt(int64(a.lo), 10)
	}
	return a.Big().String()
}

// IsUint64 reports whether a is in [0, 2^64-1]; Uint64 then returns it.
func (a Int128) IsUint64() bool { return a.hi == 0 }

// Uint64 returns the low 64 bits; meaningful when IsUint64.
func (a Int128) Uint64() uint64 { return a.lo }

// IsInt64 reports whether a is in [-2^63, 2^63-1]; Int64 then returns it.
func (a Int128) IsInt64() bool {
	return (a.hi == 0 && a.lo < 1<<63) || (a.hi == -1 && a.lo >= 1<<63)
}

// Int64 returns the low 64 bits as an int64; meaningful when IsInt64.
func (a Int128) Int64() int64 { return int64(a.lo) }

// ParseInt128 parses a decimal integer with an optional leading '-' or '+'.
func ParseInt128(s string) (Int128, error) {
	if s == "" {
		return Int128{}, errors.New("ledger: empty integer")
	}
	neg := false
	digits := s
	if digits[0] == '-' || digits[0] == '+' {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	if digits == "" {
		return Int128{}, fmt.Errorf("ledger: invalid integer %q", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Int128{}, fmt.Errorf("ledger: invalid integer %q", s)
		}
	}
	if len(digits) <= 19 {
		u, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			return Int128{}, fmt.Errorf("ledger: invalid integer %q: %w", s, err)
		}
		v := Int128{lo: u}
		if neg {
			return v.Neg()
		}
		return v, nil
	}
	b, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Int128{}, fmt.Errorf("ledger: invalid integer %q", s)
	}
	if neg {
		b.Neg(b)
	}
	v, err := Int128FromBig(b)
	if err != nil {
		return Int128{}, fmt.Errorf("ledger: integer %q: %w", s, err)
	}
	return v, nil
}

// MarshalText implements encoding.TextMarshaler (decimal).
func (a Int128) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (decimal).
func (a *Int128) UnmarshalText(b []byte) error {
	v, err := ParseInt128(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
