package virtual

import (
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// timers holds one expiry timer per prepared transfer of either direction.
type timers struct {
	mu  sync.Mutex
	on  bool
	all map[string]ledger.Timer
}

func (ts *timers) start() {
	ts.mu.Lock()
	ts.on = true
	ts.all = make(map[string]ledger.Timer)
	ts.mu.Unlock()
}

func (ts *timers) stop() {
	ts.mu.Lock()
	ts.on = false
	for _, t := range ts.all {
		t.Stop()
	}
	ts.all = nil
	ts.mu.Unlock()
}

// arm schedules f after d for id, replacing an earlier timer of id.
func (ts *timers) arm(clock ledger.Clock, id string, d time.Duration, f func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.on {
		return
	}
	if old, ok := ts.all[id]; ok {
		old.Stop()
	}
	ts.all[id] = clock.AfterFunc(d, f)
}

func (ts *timers) disarm(id string) {
	ts.mu.Lock()
	if t, ok := ts.all[id]; ok {
		t.Stop()
		delete(ts.all, id)
	}
	ts.mu.Unlock()
}

// fired forgets the timer of id once it has run.
func (ts *timers) fired(id string) {
	ts.mu.Lock()
	delete(ts.all, id)
	ts.mu.Unlock()
}
