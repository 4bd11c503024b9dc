package pluginkit

import (
	"context"
	"sync/atomic"
)

// Gate admits calls while a plugin is connected and lets Disconnect wait for
// the calls in progress. It never blocks a caller: a call that finds the
// gate closed fails at once, so two plugins that call into each other cannot
// deadlock on a disconnect.
//
// state holds the open flag in bit 62 and the number of calls inside in the
// bits below.
type Gate struct {
	state atomic.Int64
	// idle receives a token whenever the count drops to zero while the gate
	// is closed. It has room for one token, so a wake-up is never lost and
	// never blocks.
	idle chan struct{}
}

const openBit = int64(1) << 62

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{idle: make(chan struct{}, 1)} }

// Enter admits a call, or reports false when the gate is closed. A true
// result must be paired with Exit.
func (g *Gate) Enter() bool {
	if g.state.Add(1)&openBit != 0 {
		return true
	}
	g.Exit()
	return false
}

func (g *Gate) Exit() {
	if g.state.Add(-1) == 0 {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

func (g *Gate) IsOpen() bool { return g.state.Load()&openBit != 0 }

// Open admits calls again. The caller serialises Open and Close.
func (g *Gate) Open() { g.state.Add(openBit) }

// Close refuses new calls and waits until the calls inside have left, or
// ctx is done.
func (g *Gate) Close(ctx context.Context) error {
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
