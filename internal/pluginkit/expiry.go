package pluginkit

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Expiries schedules the expiry of a plugin's prepared transfers on a
// ledger.Clock and calls a function with each transfer's id when it is
// due. It starts stopped: Add does nothing until Start. Arming a runtime
// timer per transfer would cost more than the rest of a payment, so each
// shard keeps its pending expiries in a map and a heap and
// arms one clock timer, for the earliest; when it fires, every transfer
// that is due is handed to fire, outside the lock. Resolving a transfer
// only deletes it from the map: its heap entry is skipped when it comes up,
// and the heap is rebuilt from the map when such entries pile up.
type Expiries struct {
	clock  ledger.Clock
	fire   func(id string)
	seed   maphash.Seed
	shards [expiryShards]expiryShard
}

const expiryShards = 16

type expiryShard struct {
	mu    sync.Mutex
	due   map[string]int64 // pending transfer id → expiry (Unix ns)
	heap  []expiryItem     // min-heap by at; may hold resolved entries
	timer ledger.Timer     // armed for armAt, or nil
	armAt int64
	gen   uint64 // counts arms, so a callback of a replaced timer can tell
	off   bool   // stopped: nothing is armed until Start
}

type expiryItem struct {
	at int64
	id string
}

// NewExpiries returns a stopped scheduler that calls fire, in a goroutine
// of the clock's, with the id of each transfer whose expiry has come.
func NewExpiries(clock ledger.Clock, fire func(id string)) *Expiries {
	x := &Expiries{clock: clock, fire: fire, seed: maphash.MakeSeed()}
	for i := range x.shards {
		x.shards[i].due = make(map[string]int64)
		x.shards[i].off = true
	}
	return x
}

func (x *Expiries) shard(id string) *expiryShard {
	return &x.shards[maphash.String(x.seed, id)%expiryShards]
}

// Start lets the shards arm timers again.
func (x *Expiries) Start() {
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		sh.off = false
		sh.mu.Unlock()
	}
}

// Stop stops every timer and forgets every pending expiry.
func (x *Expiries) Stop() {
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		sh.off = true
		if sh.timer != nil {
			sh.timer.Stop()
			sh.timer = nil
		}
		sh.gen++
		sh.due = make(map[string]int64)
		sh.heap = nil
		sh.mu.Unlock()
	}
}

// Add schedules the expiry of id at at.
func (x *Expiries) Add(id string, at time.Time) {
	ns := at.UnixNano()
	sh := x.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.off {
		return
	}
	sh.due[id] = ns
	sh.push(expiryItem{at: ns, id: id})
	if len(sh.heap) > 2*len(sh.due)+1024 {
		sh.rebuild()
	}
	if sh.timer == nil || ns < sh.armAt {
		x.arm(sh, ns)
	}
}

// Remove forgets the expiry of id (it was resolved).
func (x *Expiries) Remove(id string) {
	sh := x.shard(id)
	sh.mu.Lock()
	delete(sh.due, id)
	sh.mu.Unlock()
}

// Pending counts the transfers waiting for their expiry.
func (x *Expiries) Pending() int {
	n := 0
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		n += len(sh.due)
		sh.mu.Unlock()
	}
	return n
}

// arm sets the shard's timer for at, replacing the one armed. The caller
// holds sh.mu.
func (x *Expiries) arm(sh *expiryShard, at int64) {
	if sh.timer != nil {
		sh.timer.Stop()
	}
	sh.gen++
	gen := sh.gen
	sh.armAt = at
	sh.timer = x.clock.AfterFunc(time.Duration(at-x.clock.Now().UnixNano()), func() { x.run(sh, gen) })
}

// run is the callback of a shard's timer: it takes the due transfers off
// the shard, arms the timer for the next one and fires the due ones.
func (x *Expiries) run(sh *expiryShard, gen uint64) {
	sh.mu.Lock()
	if sh.off || gen != sh.gen {
		sh.mu.Unlock()
		return
	}
	sh.timer = nil
	now := x.clock.Now().UnixNano()
	var due []string
	for len(sh.heap) > 0 && sh.heap[0].at <= now {
		it := sh.pop()
		if at, ok := sh.due[it.id]; ok && at == it.at {
			delete(sh.due, it.id)
			due = append(due, it.id)
		}
	}
	if len(sh.heap) > 0 {
		x.arm(sh, sh.heap[0].at)
	}
	sh.mu.Unlock()
	for _, id := range due {
		x.fire(id)
	}
}

// rebuild drops the heap entries of resolved transfers.
func (sh *expiryShard) rebuild() {
	h := make([]expiryItem, 0, len(sh.due))
	for id, at := range sh.due {
		h = append(h, expiryItem{at: at, id: id})
	}
	sh.heap = h
	for i := len(h)/2 - 1; i >= 0; i-- {
		sh.down(i)
	}
}

func (sh *expiryShard) push(it expiryItem) {
	sh.heap = append(sh.heap, it)
	h := sh.heap
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].at <= h[i].at {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (sh *expiryShard) pop() expiryItem {
	h := sh.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = expiryItem{}
	sh.heap = h[:last]
	if last > 0 {
		sh.down(0)
	}
	return top
}

func (sh *expiryShard) down(i int) {
	h := sh.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		small := l
		if r := l + 1; r < len(h) && h[r].at < h[l].at {
			small = r
		}
		if h[i].at <= h[small].at {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}
