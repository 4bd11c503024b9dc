package pluginkit

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

func TestExpiries(t *testing.T) {
	t0 := time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)
	clock := plugintest.NewClock(t0)
	var mu sync.Mutex
	var fired []string
	x := NewExpiries(clock, func(id string) {
		mu.Lock()
		fired = append(fired, id)
		mu.Unlock()
	})
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(fired)
		fired = nil
		slices.Sort(out)
		return out
	}
	x.Add("ignored", t0.Add(time.Second)) // stopped: nothing is armed
	if x.Pending() != 0 || clock.Pending() != 0 {
		t.Fatal("a stopped scheduler armed a timer")
	}
	x.Start()
	for i, id := range []string{"a", "b", "c", "d"} {
		x.Add(id, t0.Add(time.Duration(i+1)*time.Second))
	}
	x.Remove("b")
	if n := x.Pending(); n != 3 {
		t.Fatalf("%d pending, want 3", n)
	}
	clock.Advance(2 * time.Second)
	if f := got(); !slices.Equal(f, []string{"a"}) {
		t.Fatalf("fired %v at 2s, want [a]", f)
	}
	clock.Advance(2 * time.Second)
	if f := got(); !slices.Equal(f, []string{"c", "d"}) {
		t.Fatalf("fired %v at 4s, want [c d]", f)
	}
	x.Add("e", t0.Add(10*time.Second))
	x.Stop()
	clock.Advance(time.Minute)
	if f := got(); len(f) != 0 || x.Pending() != 0 {
		t.Fatalf("fired %v after Stop", f)
	}
	x.Start()
	x.Add("f", clock.Now().Add(time.Second))
	clock.Advance(time.Second)
	if f := got(); !slices.Equal(f, []string{"f"}) {
		t.Fatalf("fired %v after Start, want [f]", f)
	}
}
