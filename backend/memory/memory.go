// Package memory owns the in-memory ledger.Backend: the reference semantics
// of the PluginBackend, for tests and development. Nothing is durable; the
// state lives as long as the Backend values that share it.
//
// It is safe for concurrent use. A balance change takes only that balance's
// mutex and does not allocate, so Balance.Add and Balance.Sub are cheap. A
// transfer log operation takes the backend's transfer mutex, then the
// mutexes of the balances it changes in name order, decides the state change
// with ledger.DecideCreate, DecideFulfill or DecideCancel, applies every
// change or none, and only then writes the record: the state change and its
// balance changes are one atomic step.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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
	mu        sync.Mutex // guards balances and transfers, and serialises transfer log operations
	balances  map[string]*cell
	transfers map[string]ledger.Record
}

// cell is one balance. Its mutex also guards the limits of every handle
// onto it, so that a change reads value and limits under one lock.
type cell struct {
	mu sync.Mutex
	v  ledger.Int128
}

// New returns an empty backend.
func New() *Backend {
	return newBackend(&state{balances: make(map[string]*cell), transfers: make(map[string]ledger.Record)})
}

func newBackend(st *state) *Backend {
	b := &Backend{st: st}
	b.log = &transferLog{st: st, cache: make(map[string]ledger.Record)}
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

// cell returns the balance called name, creating it at zero.
func (st *state) cell(name string) *cell {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cellLocked(name)
}

func (st *state) cellLocked(name string) *cell {
	c, ok := st.balances[name]
	if !ok {
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
	st *state

	mu    sync.Mutex
	cache map[string]ledger.Record
}

func (g *transferLog) remember(r ledger.Record) {
	g.mu.Lock()
	g.cache[r.Transfer.ID] = r
	g.mu.Unlock()
}

// decide is one of the ledger.Decide functions bound to its arguments.
type decide func(stored ledger.Record, found bool) (ledger.Record, bool, error)

// run performs one transfer log operation atomically: under the transfer
// mutex and the mutexes of the balances it changes, it decides, applies
// every change or none, and writes the record.
func (g *transferLog) run(ctx context.Context, id string, d decide, changes []ledger.Change) (ledger.Result, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Result{}, err
	}
	st := g.st
	st.mu.Lock()
	stored, found := st.transfers[id]
	next, write, err := d(stored, found)
	if err != nil || !write {
		st.mu.Unlock()
		if err != nil {
			return ledger.Result{}, err
		}
		g.remember(next)
		return ledger.Result{Record: next}, nil
	}
	cells := g.lockCells(changes)
	after, final, err := ledger.ApplyChanges(changes, func(name string) (ledger.Int128, error) {
		return cells[name].v, nil
	})
	if err == nil {
		for name, v := range final {
			cells[name].v = v
		}
		st.transfers[id] = next
	}
	for _, c := range cells {
		c.mu.Unlock()
	}
	st.mu.Unlock()
	if err != nil {
		return ledger.Result{}, err
	}
	g.remember(next)
	return ledger.Result{Record: next, Applied: true, Balances: after}, nil
}

// lockCells locks the balances that changes touch, in name order so that
// two operations never wait on each other in a cycle. The caller holds
// st.mu.
func (g *transferLog) lockCells(changes []ledger.Change) map[string]*cell {
	if len(changes) == 0 {
		return nil
	}
	names := make([]string, 0, len(changes))
	for _, c := range changes {
		names = append(names, c.Balance)
	}
	sort.Strings(names)
	names = slices.Compact(names)
	cells := make(map[string]*cell, len(names))
	for _, n := range names {
		c := g.st.cellLocked(n)
		c.mu.Lock()
		cells[n] = c
	}
	return cells
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
	g.st.mu.Lock()
	r, ok := g.st.transfers[id]
	g.st.mu.Unlock()
	if !ok {
		return ledger.Record{}, fmt.Errorf("backend/memory: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	g.remember(r)
	return r, nil
}

func (g *transferLog) GetCached(id string) (ledger.Record, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.cache[id]
	return r, ok
}

func (g *transferLog) DropCached(id string) {
	g.mu.Lock()
	delete(g.cache, id)
	g.mu.Unlock()
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
	g.st.mu.Lock()
	var out []ledger.Record
	for _, r := range g.st.transfers {
		if r.State == ledger.StatePrepared {
			out = append(out, r)
		}
	}
	g.st.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Transfer.ID < out[j].Transfer.ID })
	return out, nil
}

// ownRecord copies the JSON fields the caller could still modify.
func ownRecord(r ledger.Record) ledger.Record {
	r.Transfer.Custom = bytes.Clone(r.Transfer.Custom)
	r.Transfer.NoteToSelf = bytes.Clone(r.Transfer.NoteToSelf)
	return r
}
