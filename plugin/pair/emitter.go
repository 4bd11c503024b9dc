package pair

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ilpkit/ilpkit/ledger"
)

// emitter delivers events to the subscribed handlers. Delivery reads an
// immutable snapshot of the handler list without locking; Subscribe and
// unsubscribe replace the snapshot under mu.
type emitter struct {
	mu   sync.Mutex
	next uint64
	subs atomic.Pointer[[]subscriber]
	log  *slog.Logger
}

type subscriber struct {
	id uint64
	h  ledger.EventHandler
}

func (em *emitter) subscribe(h ledger.EventHandler) func() {
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

func (em *emitter) remove(id uint64) {
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

// active reports whether anyone listens, so callers can skip building an
// event.
func (em *emitter) active() bool {
	cur := em.subs.Load()
	return cur != nil && len(*cur) > 0
}

func (em *emitter) emit(ev *ledger.Event) {
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
func (em *emitter) call(h ledger.EventHandler, ev *ledger.Event) {
	defer func() {
		if r := recover(); r != nil {
			em.log.Error("pair: event handler panicked", "event", ev.Kind.String(), "transfer", ev.Transfer.ID, "panic", r)
		}
	}()
	h(*ev)
}
