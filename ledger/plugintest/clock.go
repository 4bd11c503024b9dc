package plugintest

import (
	"sort"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Clock is a ledger.Clock that moves only when told to. Its timers fire in
// Advance, synchronously, in order of their due time, so that when Advance
// returns every expiry it made due has run. A timer armed with a duration of
// zero or less runs at once in a goroutine of its own, as time.AfterFunc
// does. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers map[*manualTimer]struct{}
}

var _ ledger.Clock = (*Clock)(nil)

// NewClock returns a clock showing start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: make(map[*manualTimer]struct{})}
}

type manualTimer struct {
	c    *Clock
	when time.Time
	seq  uint64 // arming order, to break ties
	f    func()
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f for when the clock has advanced by d.
func (c *Clock) AfterFunc(d time.Duration, f func()) ledger.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	if d <= 0 {
		go f()
		return t
	}
	c.timers[t] = struct{}{}
	return t
}

// Stop cancels the timer; it reports whether it was still pending.
func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// Advance moves the clock forward by d and runs every timer that falls
// due, including timers those timers arm within the new time.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var due []*manualTimer
		for t := range c.timers {
			if !t.when.After(target) {
				due = append(due, t)
			}
		}
		if len(due) == 0 {
			c.now = target
			c.mu.Unlock()
			return
		}
		sort.Slice(due, func(i, j int) bool {
			if !due[i].when.Equal(due[j].when) {
				return due[i].when.Before(due[j].when)
			}
			return due[i].seq < due[j].seq
		})
		t := due[0]
		delete(c.timers, t)
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending returns the number of timers not yet fired or stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
