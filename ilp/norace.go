//go:build !race

package ilp

// raceEnabled reports whether the race detector is on; allocation tests skip
// under it because it adds allocations of its own.
const raceEnabled = false
