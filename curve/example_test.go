package curve_test

import (
	"fmt"

	"github.com/ilpkit/ilpkit/curve"
)

func Example() {
	// A local pair with a 0.2% spread, and a peer's route behind it.
	local := curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: 100_000_000_000_000, Y: 99_800_000_000_000})
	peer := curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: 100_000_000_000_000, Y: 124_750_000_000_000})

	route := local.Join(peer)
	fmt.Println(route)
	fmt.Println(route.AmountAt(1000))
	// AmountReverse floors too: 999 delivers only 1243 (1000 would deliver
	// 1245). The 2017 connector answered such quotes from a curve shifted by
	// one source unit to make up for it.
	x, ok := route.AmountReverse(1245)
	fmt.Println(x, ok, route.AmountAt(x))

	// Broadcasts shift local curves by one source unit.
	shifted, err := route.ShiftXInt64(1)
	fmt.Println(shifted, err)
	fmt.Println(shifted.Base64())
	// Output:
	// [[0,0],[100000000000000,124500500000000]]
	// 1245
	// 999 true 1243
	// [[1,0],[100000000000001,124500500000000]] <nil>
	// AAAAAAEAAAAAAAAAAAAAAPNaAAABQHoQO3EAAACtE4g=
}

func ExampleCurve_ShiftY() {
	c := curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: 10, Y: 10}, curve.Point{X: 20, Y: 20})

	down, err := c.ShiftYInt64(-5)
	fmt.Println(down, err)

	// Below the top: nothing is left but the 2017 placeholder.
	gone, err := c.ShiftYInt64(-30)
	fmt.Println(gone, err)

	// One point below zero and one exactly on it: 2017 threw here.
	_, err = c.ShiftYInt64(-10)
	fmt.Println(err)
	// Output:
	// [[5,0],[10,5],[20,15]] <nil>
	// [[0,0]] <nil>
	// shiftY: invalid liquidity curve: x-coordinates must strictly increase (point 1: 10 after 10)
}
