package plugintest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

func TestClock(t *testing.T) {
	start := time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)
	c := plugintest.NewClock(start)
	var order []string
	var seenAt []time.Time
	note := func(name string) func() {
		return func() { order = append(order, name); seenAt = append(seenAt, c.Now()) }
	}
	c.AfterFunc(3*time.Second, note("c"))
	c.AfterFunc(time.Second, note("a"))
	stopped := c.AfterFunc(2*time.Second, note("stopped"))
	c.AfterFunc(2*time.Second, func() {
		note("b")()
		c.AfterFunc(500*time.Millisecond, note("b+")) // armed by a timer, due within the same Advance
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of a pending timer must report true once")
	}
	if c.Pending() != 3 {
		t.Fatalf("%d pending timers, want 3", c.Pending())
	}
	c.Advance(2900 * time.Millisecond)
	if got := len(order); got != 3 || order[0] != "a" || order[1] != "b" || order[2] != "b+" {
		t.Fatalf("fired %v", order)
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 2500 * time.Millisecond} {
		if !seenAt[i].Equal(start.Add(want)) {
			t.Fatalf("timer %s saw the time %s, want start+%s", order[i], seenAt[i], want)
		}
	}
	if !c.Now().Equal(start.Add(2900 * time.Millisecond)) {
		t.Fatalf("Now %s after Advance", c.Now())
	}
	c.Advance(time.Second)
	if len(order) != 4 || order[3] != "c" || c.Pending() != 0 {
		t.Fatalf("fired %v, %d pending", order, c.Pending())
	}

	// A timer already due runs at once, in its own goroutine.
	var wg sync.WaitGroup
	wg.Add(1)
	c.AfterFunc(0, wg.Done)
	wg.Wait()
}
