package curve

import (
	"math/big"
	"testing"
)

// benchCurve is a 10-point curve like the ones route broadcasts carry.
func benchCurve() Curve {
	return MustNew(pts(
		0, 0,
		1_000_000, 997_000,
		5_000_000, 4_980_000,
		20_000_000, 19_900_000,
		100_000_000, 99_400_000,
		500_000_000, 496_500_000,
		2_000_000_000, 1_984_000_000,
		10_000_000_000, 9_910_000_000,
		50_000_000_000, 49_500_000_000,
		100_000_000_000_000, 99_000_000_000_000,
	)...)
}

func BenchmarkAmountAt(b *testing.B) {
	bc := benchCurve()
	xs := []uint64{0, 3_333_333, 77_777_777, 1_234_567_890, 42_000_000_000_000, maxU}
	b.ReportAllocs()
	var sink uint64
	for i := 0; b.Loop(); i++ {
		sink += bc.AmountAt(xs[i%len(xs)])
	}
	_ = sink
}

func BenchmarkAmountReverse(b *testing.B) {
	bc := benchCurve()
	ys := []uint64{0, 3_333_333, 77_777_777, 1_234_567_890, 42_000_000_000_000, maxU}
	b.ReportAllocs()
	var sink uint64
	for i := 0; b.Loop(); i++ {
		x, _ := bc.AmountReverse(ys[i%len(ys)])
		sink += x
	}
	_ = sink
}

// BenchmarkAmountAtReference is the 2017-style decimal path, for scale.
func BenchmarkAmountAtReference(b *testing.B) {
	bc := benchCurve()
	x := decU64(1_234_567_890)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refAmountAt(bc, x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	bc := benchCurve()
	other, err := bc.ShiftXInt64(3_000_000)
	if err != nil {
		b.Fatal(err)
	}
	other, err = other.ShiftYInt64(1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bc.Combine(other)
	}
}

func BenchmarkJoin(b *testing.B) {
	bc := benchCurve()
	tail := MustNew(pts(0, 0, 100_000_000_000_000, 124_750_000_000_000)...)
	b.ReportAllocs()
	for b.Loop() {
		bc.Join(tail)
	}
}

func BenchmarkShiftX(b *testing.B) {
	bc := benchCurve()
	one := big.NewInt(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bc.ShiftX(one); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSimplify(b *testing.B) {
	// 40 points on a curve with diminishing returns, simplified to 10.
	p := make([]Point, 40)
	for i := range p {
		x := uint64(i) * 250_000_000
		p[i] = Point{X: x, Y: x - x/uint64(60-i)}
	}
	c := MustNew(p...)
	b.ReportAllocs()
	for b.Loop() {
		c.Simplify(10)
	}
}

func BenchmarkFromBinary(b *testing.B) {
	bc := benchCurve()
	bin := bc.AppendBinary(nil)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromBinary(bin); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	bc := benchCurve()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = bc.AppendBinary(buf[:0])
	}
}
