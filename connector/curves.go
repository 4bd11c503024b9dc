package connector

import (
	"math"
	"math/big"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ledger"
)

// probeAmount is the amount the 2017 connector used for the end of a curve
// when no balance limits it (10^14 keeps both coordinates within 15
// significant digits, which JavaScript numbers carry exactly).
const probeAmount = 100_000_000_000_000

// pairRate is the rate the connector applies from a ledger to another, in
// base units: rate·(1−spread)·10^(dstScale−srcScale).
func pairRate(rate, spread *big.Rat, srcScale, dstScale int) *big.Rat {
	r := new(big.Rat).Sub(big.NewRat(1, 1), spread)
	r.Mul(r, rate)
	d := dstScale - srcScale
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d))), nil))
	if d >= 0 {
		r.Mul(r, p)
	} else {
		r.Quo(r, p)
	}
	return r
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// side is what a local curve needs to know of one plugin.
type side struct {
	info    ledger.LedgerInfo
	balance ledger.Int128
	failed  bool // the balance could not be read
}

// localCurve builds the liquidity curve of a local pair as ilp-connector
// 21.1's backends did (PROTOCOLS.md 3.5): the rate, limited by what the source
// ledger can still take in (its maxBalance less the balance) and what the
// destination ledger can still pay out (the balance less its minBalance).
//
// Rounding follows 2017: a limit's y (amount in × rate) is exact and then
// rounded half-up by the curve constructor; a limit's x (amount out ÷ rate)
// was divided to 20 decimal places, half-up, then rounded half-up again;
// without limits the probe point was computed in JavaScript numbers and
// floored. Where 2017 failed (a balance beyond its limit gave a negative
// amount; a limit x rounding to zero gave two points at x = 0), the pair
// gets no liquidity instead: [[0,0],[10^14,0]]. Amounts beyond 2^64−1 are
// capped there.
func localCurve(rate *big.Rat, src, dst side) curve.Curve {
	var limX, limY *big.Rat
	var limXZero bool
	if maxB, ok := src.info.MaxBalance.Value(); ok {
		in := new(big.Rat).SetInt(new(big.Int).Sub(maxB.Big(), src.balance.Big()))
		if in.Sign() < 0 {
			in.SetInt64(0)
		}
		limX, limY = in, new(big.Rat).Mul(in, rate)
		limXZero = in.Sign() == 0
	}
	if minB, ok := dst.info.MinBalance.Value(); ok {
		out := new(big.Rat).SetInt(new(big.Int).Sub(dst.balance.Big(), minB.Big()))
		if out.Sign() < 0 {
			out.SetInt64(0)
		}
		if limY == nil || out.Cmp(limY) < 0 {
			limX = roundPlaces(new(big.Rat).Quo(out, rate), 20)
			limY = out
			limXZero = out.Sign() == 0
		}
	}
	if limX != nil {
		x, y := roundHalfUp(limX), roundHalfUp(limY)
		if limXZero || x == 0 {
			return curve.MustNew(curve.Point{}, curve.Point{X: probeAmount, Y: y})
		}
		return curve.MustNew(curve.Point{}, curve.Point{X: x, Y: y})
	}
	f, _ := rate.Float64()
	if f > 1 {
		return curve.MustNew(curve.Point{}, curve.Point{X: floorFloat(probeAmount / f), Y: probeAmount})
	}
	return curve.MustNew(curve.Point{}, curve.Point{X: probeAmount, Y: floorFloat(probeAmount * f)})
}

var (
	maxUint64Rat = new(big.Rat).SetUint64(math.MaxUint64)
	half         = big.NewRat(1, 2)
)

// roundHalfUp rounds a non-negative r to the nearest integer, halves up,
// capped at 2^64−1.
func roundHalfUp(r *big.Rat) uint64 {
	if r.Cmp(maxUint64Rat) >= 0 {
		return math.MaxUint64
	}
	t := new(big.Rat).Add(r, half)
	q := new(big.Int).Quo(t.Num(), t.Denom())
	return q.Uint64()
}

// roundPlaces rounds a non-negative r half-up to n decimal places.
func roundPlaces(r *big.Rat, n int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	t := new(big.Rat).Mul(r, new(big.Rat).SetInt(p))
	t.Add(t, half)
	q := new(big.Int).Quo(t.Num(), t.Denom())
	return new(big.Rat).SetFrac(q, p)
}

func floorFloat(f float64) uint64 {
	if f >= math.MaxUint64 {
		return math.MaxUint64
	}
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	return uint64(math.Floor(f))
}

// shiftFor is the source-unit pessimism of 2017 (getScaleAdjustment): one
// unit, unless the pair trades one-to-one without spread between ledgers
// of the same scale.
func shiftFor(oneToOne bool, spread *big.Rat, src, dst ledger.LedgerInfo) int64 {
	if oneToOne && spread.Sign() == 0 && src.CurrencyScale == dst.CurrencyScale {
		return 0
	}
	return 1
}
