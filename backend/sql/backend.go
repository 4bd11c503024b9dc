package sql

import (
	"context"
	"fmt"
	"sync"

	"github.com/ilpkit/ilpkit/ledger"
)

// backend is the ledger.Backend of one plugin table.
type backend struct {
	db     *DB
	prefix string
	t      *table
	log    *transferLog

	mu     sync.Mutex
	cached map[string]*cachedBalance // by balance name
}

var _ ledger.Backend = (*backend)(nil)

func newBackend(db *DB, prefix string, t *table) *backend {
	b := &backend{db: db, prefix: prefix, t: t, cached: make(map[string]*cachedBalance)}
	b.log = &transferLog{b: b, cache: make(map[string]ledger.Record)}
	return b
}

// cachedBalance is the last value this process saw of one balance, shared by
// every Balance view of that name.
type cachedBalance struct {
	mu sync.Mutex
	v  ledger.Int128
}

func (c *cachedBalance) set(v ledger.Int128) {
	c.mu.Lock()
	c.v = v
	c.mu.Unlock()
}

func (c *cachedBalance) get() ledger.Int128 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

func (b *backend) cache(name string) *cachedBalance {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cached[name]
	if !ok {
		c = &cachedBalance{}
		b.cached[name] = c
	}
	return c
}

// Balance returns a view of the balance stored under "balance__"+name with
// the given limits. Views of one name share the cached value; their limits
// are their own.
func (b *backend) Balance(name string, opts ledger.BalanceOptions) ledger.Balance {
	return &balance{b: b, name: name, key: ledger.BalanceKey(name), c: b.cache(name), min: opts.Minimum, max: opts.Maximum}
}

// TransferLog returns the plugin's transfer log (one per backend).
func (b *backend) TransferLog() ledger.TransferLog { return b.log }

func (b *backend) String() string { return fmt.Sprintf("%s %s", b.db.dialect, b.t.ident) }

// checkOpen fails when the DB is closed or ctx is done: a call made with a
// finished context does nothing.
func (b *backend) checkOpen(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.db.closed.Load() {
		return ErrClosed
	}
	return nil
}

type balance struct {
	b    *backend
	name string
	key  string
	c    *cachedBalance

	mu       sync.Mutex
	min, max ledger.Bound
}

func (l *balance) Name() string { return l.name }

func (l *balance) Connect(ctx context.Context) error {
	if err := l.b.checkOpen(ctx); err != nil {
		return err
	}
	v, err := l.b.db.eng.connectBalance(ctx, l.b.t, l.key)
	if err != nil {
		return fmt.Errorf("backend/sql: connect balance %q: %w", l.name, err)
	}
	l.c.set(v)
	return nil
}

func (l *balance) Get() ledger.Int128 { return l.c.get() }

// Load reads the stored value; a missing row reads as 0.
func (l *balance) Load(ctx context.Context) (ledger.Int128, error) {
	if err := l.b.checkOpen(ctx); err != nil {
		return ledger.Int128{}, err
	}
	s, found, valid, err := l.b.db.eng.read(ctx, l.b.t, l.key)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("backend/sql: load balance %q: %w", l.name, err)
	}
	var v ledger.Int128
	if found {
		if v, err = parseBalance(l.b.t, l.key, s, valid); err != nil {
			return ledger.Int128{}, err
		}
	}
	l.c.set(v)
	return v, nil
}

func (l *balance) Add(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, ledger.Change{Balance: l.name, Amount: n, Minimum: l.Minimum(), Maximum: l.Maximum()})
}

func (l *balance) Sub(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, ledger.Change{Balance: l.name, Amount: n, Sub: true, Minimum: l.Minimum(), Maximum: l.Maximum()})
}

func (l *balance) apply(ctx context.Context, c ledger.Change) (ledger.Int128, error) {
	if err := l.b.checkOpen(ctx); err != nil {
		return ledger.Int128{}, err
	}
	v, err := l.b.db.eng.change(ctx, l.b.t, c)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("backend/sql: %w", err)
	}
	l.c.set(v)
	return v, nil
}

func (l *balance) Minimum() ledger.Bound {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.min
}

func (l *balance) Maximum() ledger.Bound {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max
}

func (l *balance) SetMinimum(v ledger.Bound) {
	l.mu.Lock()
	l.min = v
	l.mu.Unlock()
}

func (l *balance) SetMaximum(v ledger.Bound) {
	l.mu.Lock()
	l.max = v
	l.mu.Unlock()
}

// transferLog is the ledger.TransferLog of one plugin table.
type transferLog struct {
	b *backend

	mu    sync.Mutex
	cache map[string]ledger.Record
}

func (g *transferLog) remember(r ledger.Record) {
	g.mu.Lock()
	g.cache[r.Transfer.ID] = r
	g.mu.Unlock()
}

func (g *transferLog) run(ctx context.Context, op transition) (ledger.Result, error) {
	if err := g.b.checkOpen(ctx); err != nil {
		return ledger.Result{}, err
	}
	res, err := g.b.db.eng.transit(ctx, g.b.t, op)
	if err != nil {
		return ledger.Result{}, err
	}
	g.remember(res.Record)
	if res.Applied {
		for i, c := range op.changes {
			g.b.cache(c.Balance).set(res.Balances[i])
		}
	}
	return res, nil
}

func (g *transferLog) Create(ctx context.Context, rec ledger.Record, changes ...ledger.Change) (ledger.Result, error) {
	rec, err := ledger.CheckNew(rec)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/sql: create: %w", err)
	}
	res, err := g.run(ctx, createTransition(rec, changes))
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/sql: create: %w", err)
	}
	return res, nil
}

func (g *transferLog) Fulfill(ctx context.Context, id, fulfillment string, changes ...ledger.Change) (ledger.Result, error) {
	if err := ledger.CheckFulfillment(id, fulfillment); err != nil {
		return ledger.Result{}, fmt.Errorf("backend/sql: fulfill: %w", err)
	}
	res, err := g.run(ctx, fulfillTransition(id, fulfillment, changes))
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/sql: fulfill: %w", err)
	}
	return res, nil
}

func (g *transferLog) Cancel(ctx context.Context, id string, changes ...ledger.Change) (ledger.Result, error) {
	res, err := g.run(ctx, cancelTransition(id, changes))
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/sql: cancel: %w", err)
	}
	return res, nil
}

func (g *transferLog) Get(ctx context.Context, id string) (ledger.Record, error) {
	if err := g.b.checkOpen(ctx); err != nil {
		return ledger.Record{}, err
	}
	key := ledger.TransferKey(id)
	s, found, valid, err := g.b.db.eng.read(ctx, g.b.t, key)
	if err != nil {
		return ledger.Record{}, fmt.Errorf("backend/sql: get transfer %q: %w", id, err)
	}
	if !found {
		return ledger.Record{}, fmt.Errorf("backend/sql: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	r, err := decodeRecord(g.b.t, key, s, valid)
	if err != nil {
		return ledger.Record{}, err
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
		return "", fmt.Errorf("backend/sql: %w", err)
	}
	return f, nil
}

func (g *transferLog) Prepared(ctx context.Context) ([]ledger.Record, error) {
	if err := g.b.checkOpen(ctx); err != nil {
		return nil, err
	}
	values, err := g.b.db.eng.transfers(ctx, g.b.t)
	if err != nil {
		return nil, fmt.Errorf("backend/sql: list transfers: %w", err)
	}
	var out []ledger.Record
	for _, v := range values {
		r, err := ledger.UnmarshalRecord([]byte(v))
		if err != nil {
			// One unreadable row must not hide the others from expiry.
			g.b.db.log.Warn("backend/sql: unreadable transfer row", "table", g.b.t.name, "err", err)
			continue
		}
		if r.State == ledger.StatePrepared {
			out = append(out, r)
		}
	}
	return out, nil
}

// Snapshot reads the balances of names (a missing one reads as 0) and the
// prepared transfers at one instant of the database, whatever other
// processes sharing it write meanwhile: the sums of a ledger add up
// exactly (plugin/trustline's Totals uses it).
func (b *backend) Snapshot(ctx context.Context, names []string) ([]ledger.Int128, []ledger.Record, error) {
	if err := b.checkOpen(ctx); err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = ledger.BalanceKey(n)
	}
	values, rows, err := b.db.eng.snapshot(ctx, b.t, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("backend/sql: snapshot: %w", err)
	}
	balances := make([]ledger.Int128, len(keys))
	for i, k := range keys {
		v, found := values[k]
		if !found {
			continue
		}
		s := ""
		if v != nil {
			s = *v
		}
		if balances[i], err = parseBalance(b.t, k, s, v != nil); err != nil {
			return nil, nil, err
		}
	}
	var prepared []ledger.Record
	for _, v := range rows {
		r, err := ledger.UnmarshalRecord([]byte(v))
		if err != nil {
			continue // unreadable rows are reported by Prepared
		}
		if r.State == ledger.StatePrepared {
			prepared = append(prepared, r)
		}
	}
	return balances, prepared, nil
}
