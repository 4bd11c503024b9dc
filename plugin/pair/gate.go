package pair

import (
	"context"
	"sync/atomic"
)

// gate admits calls while an end is connected and lets Disconnect wait for
// the calls in progress. It never blocks a caller: a call that finds the
// gate closed fails at once, so two ends that call into each other cannot
// deadlock on a disconnect.
//
// state holds the open flag in bit 62 and the number of calls inside in the
// bits below.
type gate struct {
	state atomic.Int64
	// idle receives a token whenever the count drops to zero while the gate
	// is closed. It has room for one token, so a wake-up is never lost and
	// never blocks.
	idle chan struct{}
}

const openBit = int64(1) << 62

func newGate() *gate { return &gate{idle: make(chan struct{}, 1)} }

// enter admits a call, or reports false when the gate is closed. A true
// result must be paired with exit.
func (g *gate) enter() bool {
	if g.state.Add(1)&openBit != 0 {
		return true
	}
	g.exit()
	return false
}

func (g *gate) exit() {
	if g.state.Add(-1) == 0 {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

func (g *gate) isOpen() bool { return g.state.Load()&openBit != 0 }

// open admits calls again. The caller serialises open and close.
func (g *gate) open() { g.state.Add(openBit) }

// close refuses new calls and waits until the calls inside have left, or
// ctx is done.
func (g *gate) close(ctx context.Context) error {
	g.state.Add(-openBit)
	for g.state.Load() != 0 {
		select {
		case <-g.idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
