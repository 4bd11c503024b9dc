package pluginkit

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ilpkit/ilpkit/ledger"
)

// Emitter delivers events to the subscribed handlers. Delivery reads an
// immutable snapshot of the handler list without locking; Subscribe and
// unsubscribe replace the snapshot under mu.
type Emitter struct {
	mu   sync.Mutex
	next uint64
	subs atomic.Pointer[[]subscriber]
	// Log receives handler panics; nil discards them.
	Log *slog.Logger
}

type subscriber struct {
	id uint64
	h  ledger.EventHandler
}

// Subscribe adds h and returns the function that removes it; that
// function may be called more than once.
func (em *Emitter) Subscribe(h ledger.EventHandler) func() {
	if h == nil {
		return func() {}
	}
	em.mu.Lock()
	em.next++
	id := em.next
	var list []subscriber
	if cur := em.subs.Load(); cur != nil {
		list = append(list, *cur...)
	}
	list = append(list, subscriber{id: id, h: h})
	em.subs.Store(&list)
	em.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { em.remove(id) }) }
}

func (em *Emitter) remove(id uint64) {
	em.mu.Lock()
	defer em.mu.Unlock()
	cur := em.subs.Load()
	if cur == nil {
		return
	}
	list := make([]subscriber, 0, len(*cur))
	for _, s := range *cur {
		if s.id != id {
			list = append(list, s)
		}
	}
	em.subs.Store(&list)
}

// Active reports whether anyone listens, so callers can skip building an
// event.
func (em *Emitter) Active() bool {
	cur := em.subs.Load()
	return cur != nil && len(*cur) > 0
}

// Emit calls every handler subscribed when it starts, in order of
// subscription, on the calling goroutine.
func (em *Emitter) Emit(ev *ledger.Event) {
	cur := em.subs.Load()
	if cur == nil {
		return
	}
	for _, s := range *cur {
		em.call(s.h, ev)
	}
}

// call runs one handler; a panic is logged, not propagated, so that a
// faulty handler cannot break the caller whose change is already recorded.
func (em *Emitter) call(h ledger.EventHandler, ev *ledger.Event) {
	defer func() {
		if r := recover(); r != nil {
			if em.Log != nil {
				em.Log.Error("plugin event handler panicked", "event", ev.Kind.String(), "transfer", ev.Transfer.ID, "panic", r)
			}
		}
	}()
	h(*ev)
}
