// Package memory owns the in-memory ledger.Backend: the reference semantics
// of the PluginBackend, for tests and development. Nothing is durable; the
// state lives as long as the Backend values that share it.
//
// It is safe for concurrent use. A balance change takes only that balance's
// mutex and does not allocate, so Balance.Add and Balance.Sub are cheap. A
// transfer log operation takes the mutex of the shard that holds its
// transfer id, then the mutexes of the balances it changes in name order
// (operations on different shards run in parallel), decides the state change
// with ledger.DecideCreate, DecideFulfill or DecideCancel, applies every
// change or none, and only then writes the record: the state change and its
// balance changes are one atomic step.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"sort"
	"sync"

	"github.com/ilpkit/ilpkit/ledger"
)

// Backend is an in-memory ledger.Backend. Create it with New.
type Backend struct {
	st  *state
	log *transferLog
}

var _ ledger.Backend = (*Backend)(nil)

// state is the data every Backend from one New shares.
type state struct {
	mu       sync.RWMutex // guards balances (the map; each cell has its own mutex)
	balances map[string]*cell
	shards   [numShards]shard
}

// numShards is the number of transfer shards: a power of two.
const numShards = 64

// shard holds the transfers whose ids hash to it. Its mutex serialises the
// transfer log operations on those ids.
type shard struct {
	mu        sync.Mutex
	transfers map[string]ledger.Record
	_         [48]byte // keeps shards on separate cache lines
}

var shardSeed = maphash.MakeSeed()

// shard returns the shard of a transfer id.
func (st *state) shard(id string) *shard {
	return &st.shards[maphash.String(shardSeed, id)&(numShards-1)]
}

// cell is one balance. Its mutex also guards the limits of every handle
// onto it, so that a change reads value and limits under one lock.
type cell struct {
	mu sync.Mutex
	v  ledger.Int128
}

// New returns an empty backend.
func New() *Backend {
	st := &state{balances: make(map[string]*cell)}
	for i := range st.shards {
		st.shards[i].transfers = make(map[string]ledger.Record)
	}
	return newBackend(st)
}

func newBackend(st *state) *Backend {
	b := &Backend{st: st}
	b.log = &transferLog{st: st}
	for i := range b.log.cache {
		b.log.cache[i].m = make(map[string]ledger.Record)
	}
	return b
}

// Reopen returns another Backend over the same data with an empty transfer
// cache, as a process sees its store after a restart. Both stay usable and
// see each other's changes at once.
func (b *Backend) Reopen() *Backend { return newBackend(b.st) }

// SetBalance sets the value of a balance outright, ignoring limits: for
// tests and for importing balances from elsewhere.
func (b *Backend) SetBalance(name string, v ledger.Int128) {
	c := b.st.cell(name)
	c.mu.Lock()
	c.v = v
	c.mu.Unlock()
}

// cell returns the balance called name, creating it at zero. Balances
// are created once and looked up by every transfer log operation that
// changes one, so the lookup takes the map's read lock only.
func (st *state) cell(name string) *cell {
	st.mu.RLock()
	c, ok := st.balances[name]
	st.mu.RUnlock()
	if ok {
		return c
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ok = st.balances[name]; !ok {
		c = &cell{}
		st.balances[name] = c
	}
	return c
}

// Balance returns a handle on the balance called name with the given
// limits. Handles on one name share the value; each has its own limits.
func (b *Backend) Balance(name string, opts ledger.BalanceOptions) ledger.Balance {
	return &balance{name: name, c: b.st.cell(name), min: opts.Minimum, max: opts.Maximum}
}

// TransferLog returns the backend's transfer log.
func (b *Backend) TransferLog() ledger.TransferLog { return b.log }

type balance struct {
	name     string
	c        *cell
	min, max ledger.Bound // guarded by c.mu
}

func (l *balance) Name() string { return l.name }

// Connect has nothing to load: the value is always in memory.
func (l *balance) Connect(ctx context.Context) error { return ctx.Err() }

func (l *balance) Get() ledger.Int128 {
	l.c.mu.Lock()
	v := l.c.v
	l.c.mu.Unlock()
	return v
}

func (l *balance) Load(ctx context.Context) (ledger.Int128, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Int128{}, err
	}
	return l.Get(), nil
}

func (l *balance) Add(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, n, false)
}

func (l *balance) Sub(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, n, true)
}

func (l *balance) apply(ctx context.Context, n uint64, sub bool) (ledger.Int128, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Int128{}, err
	}
	l.c.mu.Lock()
	ch := ledger.Change{Balance: l.name, Amount: n, Sub: sub, Minimum: l.min, Maximum: l.max}
	next, err := ch.Apply(l.c.v)
	if err == nil {
		l.c.v = next
	}
	l.c.mu.Unlock()
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("backend/memory: %w", err)
	}
	return next, nil
}

func (l *balance) Minimum() ledger.Bound {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.min
}

func (l *balance) Maximum() ledger.Bound {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.max
}

func (l *balance) SetMinimum(v ledger.Bound) {
	l.c.mu.Lock()
	l.min = v
	l.c.mu.Unlock()
}

func (l *balance) SetMaximum(v ledger.Bound) {
	l.c.mu.Lock()
	l.max = v
	l.c.mu.Unlock()
}

// transferLog is the transfer log of one Backend value. The records are
// shared (st); the cache of GetCached is this value's own.
type transferLog struct {
	st    *state
	cache [numShards]cacheShard
}

// cacheShard is the part of a log's cache whose ids hash to one shard.
type cacheShard struct {
	mu sync.Mutex
	m  map[string]ledger.Record
	_  [48]byte // keeps shards on separate cache lines
}

// cacheOf returns the cache shard of a transfer id.
func (g *transferLog) cacheOf(id string) *cacheShard {
	return &g.cache[maphash.String(shardSeed, id)&(numShards-1)]
}

func (g *transferLog) remember(r ledger.Record) {
	c := g.cacheOf(r.Transfer.ID)
	c.mu.Lock()
	c.m[r.Transfer.ID] = r
	c.mu.Unlock()
}

// decide is one of the ledger.Decide functions bound to its arguments.
type decide func(stored ledger.Record, found bool) (ledger.Record, bool, error)

// maxInline is the number of distinct balances an operation changes
// without allocating.
const maxInline = 4

// lockedCell is a balance an operation changes, locked, with its value
// after the changes so far.
type lockedCell struct {
	name string
	c    *cell
	v    ledger.Int128
}

// run performs one transfer log operation atomically: under the mutex of
// the id's shard and the mutexes of the balances it changes, it decides,
// applies every change or none, and writes the record.
func (g *transferLog) run(ctx context.Context, id string, d decide, changes []ledger.Change) (ledger.Result, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Result{}, err
	}
	sh := g.st.shard(id)
	sh.mu.Lock()
	stored, found := sh.transfers[id]
	next, write, err := d(stored, found)
	if err != nil || !write {
		sh.mu.Unlock()
		if err != nil {
			return ledger.Result{}, err
		}
		g.remember(next)
		return ledger.Result{Record: next}, nil
	}
	var buf [maxInline]lockedCell
	cells := g.lockCells(changes, buf[:0])
	after, err := applyChanges(changes, cells)
	if err == nil {
		for i := range cells {
			cells[i].c.v = cells[i].v
		}
		sh.transfers[id] = next
	}
	for i := range cells {
		cells[i].c.mu.Unlock()
	}
	sh.mu.Unlock()
	if err != nil {
		return ledger.Result{}, err
	}
	g.remember(next)
	return ledger.Result{Record: next, Applied: true, Balances: after}, nil
}

// applyChanges is ledger.ApplyChanges over locked cells: it chains the
// changes to each balance in order, starting from the cell's value, and
// leaves each cell's final value in cells[i].v. It returns the balance
// after each change, or the first refusal.
func applyChanges(changes []ledger.Change, cells []lockedCell) ([]ledger.Int128, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	after := make([]ledger.Int128, len(changes))
	for i, ch := range changes {
		lc := findCell(cells, ch.Balance)
		next, err := ch.Apply(lc.v)
		if err != nil {
			return nil, err
		}
		lc.v = next
		after[i] = next
	}
	return after, nil
}

func findCell(cells []lockedCell, name string) *lockedCell {
	for i := range cells {
		if cells[i].name == name {
			return &cells[i]
		}
	}
	panic("backend/memory: balance " + name + " not locked")
}

// lockCells locks the balances that changes touch, in name order so that
// two operations never wait on each other in a cycle, and appends them to
// buf with their current values. The caller holds the shard's mutex.
func (g *transferLog) lockCells(changes []ledger.Change, buf []lockedCell) []lockedCell {
	if len(changes) == 0 {
		return nil
	}
	cells := buf
	for _, ch := range changes {
		if !hasCell(cells, ch.Balance) {
			cells = append(cells, lockedCell{name: ch.Balance})
		}
	}
	// Insertion sort: there are only a few, and sort.Slice would move
	// buf to the heap.
	for i := 1; i < len(cells); i++ {
		for j := i; j > 0 && cells[j].name < cells[j-1].name; j-- {
			cells[j], cells[j-1] = cells[j-1], cells[j]
		}
	}
	for i := range cells {
		c := g.st.cell(cells[i].name)
		c.mu.Lock()
		cells[i].c, cells[i].v = c, c.v
	}
	return cells
}

func hasCell(cells []lockedCell, name string) bool {
	for i := range cells {
		if cells[i].name == name {
			return true
		}
	}
	return false
}

func (g *transferLog) Create(ctx context.Context, rec ledger.Record, changes ...ledger.Change) (ledger.Result, error) {
	rec, err := ledger.CheckNew(rec)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/memory: create: %w", err)
	}
	rec = ownRecord(rec)
	res, err := g.run(ctx, rec.Transfer.ID, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideCreate(stored, found, rec)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/memory: create: %w", err)
	}
	return res, nil
}

func (g *transferLog) Fulfill(ctx context.Context, id, fulfillment string, changes ...ledger.Change) (ledger.Result, error) {
	if err := ledger.CheckFulfillment(id, fulfillment); err != nil {
		return ledger.Result{}, fmt.Errorf("backend/memory: fulfill: %w", err)
	}
	res, err := g.run(ctx, id, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideFulfill(stored, found, id, fulfillment)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/memory: fulfill: %w", err)
	}
	return res, nil
}

func (g *transferLog) Cancel(ctx context.Context, id string, changes ...ledger.Change) (ledger.Result, error) {
	res, err := g.run(ctx, id, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideCancel(stored, found, id)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/memory: cancel: %w", err)
	}
	return res, nil
}

// Get reads the shared record and caches it. The JSON fields of the
// returned record share memory with the store: do not modify them.
func (g *transferLog) Get(ctx context.Context, id string) (ledger.Record, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Record{}, err
	}
	sh := g.st.shard(id)
	sh.mu.Lock()
	r, ok := sh.transfers[id]
	sh.mu.Unlock()
	if !ok {
		return ledger.Record{}, fmt.Errorf("backend/memory: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	g.remember(r)
	return r, nil
}

func (g *transferLog) GetCached(id string) (ledger.Record, bool) {
	c := g.cacheOf(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[id]
	return r, ok
}

func (g *transferLog) DropCached(id string) {
	c := g.cacheOf(id)
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (g *transferLog) GetFulfillment(ctx context.Context, id string) (string, error) {
	r, err := g.Get(ctx, id)
	if err != nil {
		return "", err
	}
	f, err := ledger.FulfillmentOf(r)
	if err != nil {
		return "", fmt.Errorf("backend/memory: %w", err)
	}
	return f, nil
}

// Prepared lists the prepared transfers in id order.
func (g *transferLog) Prepared(ctx context.Context) ([]ledger.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []ledger.Record
	for i := range g.st.shards {
		sh := &g.st.shards[i]
		sh.mu.Lock()
		for _, r := range sh.transfers {
			if r.State == ledger.StatePrepared {
				out = append(out, r)
			}
		}
		sh.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Transfer.ID < out[j].Transfer.ID })
	return out, nil
}

// ownRecord copies the JSON fields the caller could still modify.
func ownRecord(r ledger.Record) ledger.Record {
	r.Transfer.Custom = bytes.Clone(r.Transfer.Custom)
	r.Transfer.NoteToSelf = bytes.Clone(r.Transfer.NoteToSelf)
	return r
}
