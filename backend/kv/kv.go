// Package kv owns createBackendFromStore: a ledger.Backend over the
// key-value store of ILP Kit 2.x (get, put and del of strings, no
// transactions), so that a plugin given an old store and no backend still
// works, and a 2.x store keeps its layout:
//
//	balance__<name>   the balance, a decimal integer string (may exceed 64 bits)
//	transfer_<id>     ledger.MarshalRecord JSON: {"transfer","state","isIncoming","fulfillment","written"}
//
// and two keys of its own, which 2.x plugins ignore:
//
//	ilpkit__prepared  JSON array of the ids of the prepared transfers (Prepared reads it;
//	                  a 2.x store has no way to list keys)
//	ilpkit__journal   the redo journal of an operation in progress (see below)
//
// # Single process
//
// A 2.x store cannot change two keys atomically, nor compare and set one.
// The backend therefore serialises every operation through one mutex, and
// it is safe only while it is the one writer of its store: one Backend in
// one process. Several processes sharing a database need backend/sql.
// Each operation reads the values it needs from the store (the store, not
// a cache, is the truth); Balance.Get and TransferLog.GetCached answer from
// the values the last operations saw.
//
// # Crashes
//
// A transfer's state change writes several keys (the record, one or more
// balances, the prepared index). Writing the state first and the balances
// second, or the other way round, cannot be made safe: a balance is an
// absolute number with no mark of which transfers it includes, so after a
// crash between the two writes nobody can tell whether it still needs the
// change; one order loses money silently, the other applies it twice. So
// an operation writing more than one key first writes the complete set of
// new values (absolute, not deltas) as one JSON value under
// ilpkit__journal; that single write is the commit point. Then it writes
// each key and deletes the journal. Before its next operation, and at the
// first operation after a restart, the backend replays any journal it finds
// (writing absolute values twice is harmless) and deletes it. A crash at
// any moment therefore leaves either none or all of an operation's writes
// once the store is next used. A single-key write (Balance.Add and Sub, an
// unconditional transfer without changes) needs no journal.
//
// When a store call fails, the outcome may be unknown (a write may have
// happened and its reply been lost), as with any remote store: the
// operation returns the error, and the backend checks for a journal again
// before its next operation, so the store, not the backend's memory, decides
// what happened. Once the journal is written the operation is committed: a
// failure after that is logged, the call succeeds, and the writes are
// completed by the replay.
package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"

	"github.com/ilpkit/ilpkit/ledger"
)

// Store is the 2.x plugin store: string keys and values, no transactions.
// Each call on its own must be atomic (a Put writes the whole value or
// nothing). Get reports ok false for a missing key.
type Store interface {
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	Put(ctx context.Context, key, value string) error
	Del(ctx context.Context, key string) error
}

// Keys of the backend's own, next to the 2.x keys.
const (
	JournalKey  = "ilpkit__journal"
	PreparedKey = "ilpkit__prepared"
)

// ErrCorrupt reports a stored value the backend cannot read.
var ErrCorrupt = errors.New("backend/kv: corrupt value in the store")

// Option configures FromStore.
type Option func(*Backend)

// WithLogger sets where the backend reports a replayed journal, a failed
// write after the commit point, and invalid stored values. The default
// discards.
func WithLogger(l *slog.Logger) Option { return func(b *Backend) { b.logger = l } }

// Backend is the ledger.Backend over a Store. Create it with FromStore.
type Backend struct {
	store  Store
	logger *slog.Logger
	tlog   *transferLog

	mu    sync.Mutex // serialises every operation on the store
	ready bool       // guarded by mu: no journal is left to replay

	cmu    sync.Mutex // guards the caches; never held during store calls
	values map[string]ledger.Int128
	cached map[string]ledger.Record
}

var _ ledger.Backend = (*Backend)(nil)

// FromStore returns a backend over store, keeping the 2.x keys and values.
// It does no I/O: a journal left by a crash is replayed by the first
// operation, or by Recover.
func FromStore(store Store, opts ...Option) *Backend {
	b := &Backend{
		store:  store,
		values: make(map[string]ledger.Int128),
		cached: make(map[string]ledger.Record),
	}
	b.tlog = &transferLog{b: b}
	for _, o := range opts {
		o(b)
	}
	if b.logger == nil {
		b.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return b
}

// Recover replays the journal of an operation a crash interrupted, if there
// is one. Every operation does this first anyway; calling it at start-up
// surfaces a problem early.
func (b *Backend) Recover(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ready = false
	return b.begin(ctx)
}

// Balance returns a handle on the balance stored under "balance__"+name,
// with the given limits. Handles on one name share the cached value.
func (b *Backend) Balance(name string, opts ledger.BalanceOptions) ledger.Balance {
	return &balance{b: b, name: name, min: opts.Minimum, max: opts.Maximum}
}

// TransferLog returns the backend's transfer log.
func (b *Backend) TransferLog() ledger.TransferLog { return b.tlog }

// journal is the value of JournalKey: every key an operation writes, with
// its new value.
type journal struct {
	Put map[string]string `json:"put"`
}

// begin starts an operation; the caller holds mu. It replays a journal
// when the last operation (or a previous process) may have left one.
func (b *Backend) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.ready {
		return nil
	}
	raw, ok, err := b.store.Get(ctx, JournalKey)
	if err != nil {
		return fmt.Errorf("backend/kv: read the journal: %w", err)
	}
	if ok {
		var j journal
		if err := json.Unmarshal([]byte(raw), &j); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, JournalKey, err)
		}
		if err := b.replay(ctx, j); err != nil {
			return err
		}
		b.logger.Warn("backend/kv: completed an interrupted operation from the journal", "keys", len(j.Put))
		// The replay may have changed what the caches hold.
		b.cmu.Lock()
		clear(b.values)
		clear(b.cached)
		b.cmu.Unlock()
	}
	b.ready = true
	return nil
}

// replay writes every value of j, then deletes the journal.
func (b *Backend) replay(ctx context.Context, j journal) error {
	keys := make([]string, 0, len(j.Put))
	for k := range j.Put {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := b.store.Put(ctx, k, j.Put[k]); err != nil {
			return fmt.Errorf("backend/kv: write %q: %w", k, err)
		}
	}
	if err := b.store.Del(ctx, JournalKey); err != nil {
		return fmt.Errorf("backend/kv: delete the journal: %w", err)
	}
	return nil
}

// commit writes puts so that a crash leaves all of them or none; the
// caller holds mu. An error means the operation did not commit (or, when
// the store failed, may not have): the store decides at the next begin.
func (b *Backend) commit(ctx context.Context, puts map[string]string) error {
	if len(puts) == 1 {
		for k, v := range puts {
			if err := b.store.Put(ctx, k, v); err != nil {
				b.ready = false
				return fmt.Errorf("backend/kv: write %q: %w", k, err)
			}
		}
		return nil
	}
	raw, err := json.Marshal(journal{Put: puts})
	if err != nil {
		return fmt.Errorf("backend/kv: journal: %w", err)
	}
	if err := b.store.Put(ctx, JournalKey, string(raw)); err != nil {
		b.ready = false
		return fmt.Errorf("backend/kv: write the journal: %w", err)
	}
	// Committed: from here the operation happens, now or at the replay.
	if err := b.replay(ctx, journal{Put: puts}); err != nil {
		b.ready = false
		b.logger.Warn("backend/kv: an operation is committed but not yet written; the next operation completes it", "err", err)
	}
	return nil
}

// readBalance reads a stored balance; a missing one is 0.
func (b *Backend) readBalance(ctx context.Context, name string) (ledger.Int128, error) {
	key := ledger.BalanceKey(name)
	s, ok, err := b.store.Get(ctx, key)
	if err != nil {
		b.ready = false
		return ledger.Int128{}, fmt.Errorf("backend/kv: read %q: %w", key, err)
	}
	if !ok {
		return ledger.Int128{}, nil
	}
	v, err := ledger.ParseInt128(s)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("%w: %q: %w", ErrCorrupt, key, err)
	}
	return v, nil
}

// readRecord reads a stored transfer.
func (b *Backend) readRecord(ctx context.Context, id string) (ledger.Record, bool, error) {
	key := ledger.TransferKey(id)
	s, ok, err := b.store.Get(ctx, key)
	if err != nil {
		b.ready = false
		return ledger.Record{}, false, fmt.Errorf("backend/kv: read %q: %w", key, err)
	}
	if !ok {
		return ledger.Record{}, false, nil
	}
	r, err := ledger.UnmarshalRecord([]byte(s))
	if err != nil {
		return ledger.Record{}, false, fmt.Errorf("%w: %q: %w", ErrCorrupt, key, err)
	}
	return r, true, nil
}

// readIndex reads the ids of the prepared transfers.
func (b *Backend) readIndex(ctx context.Context) ([]string, error) {
	s, ok, err := b.store.Get(ctx, PreparedKey)
	if err != nil {
		b.ready = false
		return nil, fmt.Errorf("backend/kv: read %q: %w", PreparedKey, err)
	}
	if !ok {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorrupt, PreparedKey, err)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func (b *Backend) setValue(name string, v ledger.Int128) {
	b.cmu.Lock()
	b.values[name] = v
	b.cmu.Unlock()
}

func (b *Backend) remember(r ledger.Record) {
	b.cmu.Lock()
	b.cached[r.Transfer.ID] = r
	b.cmu.Unlock()
}

type balance struct {
	b    *Backend
	name string

	lmu      sync.Mutex
	min, max ledger.Bound
}

func (l *balance) Name() string { return l.name }

// Connect loads the stored value. A missing value is stored as "0"; so is
// one that is not an integer (logged), as the 2.x plugins did.
func (l *balance) Connect(ctx context.Context) error {
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return err
	}
	key := ledger.BalanceKey(l.name)
	raw, ok, err := b.store.Get(ctx, key)
	if err != nil {
		b.ready = false
		return fmt.Errorf("backend/kv: connect balance %q: %w", l.name, err)
	}
	if ok {
		v, err := ledger.ParseInt128(raw)
		if err == nil {
			b.setValue(l.name, v)
			return nil
		}
		b.logger.Warn("backend/kv: balance is not an integer; storing 0 as 2.x did", "key", key, "value", raw)
	}
	if err := b.commit(ctx, map[string]string{key: "0"}); err != nil {
		return err
	}
	b.setValue(l.name, ledger.Int128{})
	return nil
}

func (l *balance) Get() ledger.Int128 {
	l.b.cmu.Lock()
	defer l.b.cmu.Unlock()
	return l.b.values[l.name]
}

// Load reads the stored value; a missing one is 0.
func (l *balance) Load(ctx context.Context) (ledger.Int128, error) {
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return ledger.Int128{}, err
	}
	v, err := b.readBalance(ctx, l.name)
	if err != nil {
		return ledger.Int128{}, err
	}
	b.setValue(l.name, v)
	return v, nil
}

func (l *balance) Add(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, n, false)
}

func (l *balance) Sub(ctx context.Context, n uint64) (ledger.Int128, error) {
	return l.apply(ctx, n, true)
}

func (l *balance) apply(ctx context.Context, n uint64, sub bool) (ledger.Int128, error) {
	l.lmu.Lock()
	ch := ledger.Change{Balance: l.name, Amount: n, Sub: sub, Minimum: l.min, Maximum: l.max}
	l.lmu.Unlock()
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return ledger.Int128{}, err
	}
	v, err := b.readBalance(ctx, l.name)
	if err != nil {
		return ledger.Int128{}, err
	}
	next, err := ch.Apply(v)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("backend/kv: %w", err)
	}
	if err := b.commit(ctx, map[string]string{ledger.BalanceKey(l.name): next.String()}); err != nil {
		return ledger.Int128{}, err
	}
	b.setValue(l.name, next)
	return next, nil
}

func (l *balance) Minimum() ledger.Bound {
	l.lmu.Lock()
	defer l.lmu.Unlock()
	return l.min
}

func (l *balance) Maximum() ledger.Bound {
	l.lmu.Lock()
	defer l.lmu.Unlock()
	return l.max
}

func (l *balance) SetMinimum(v ledger.Bound) {
	l.lmu.Lock()
	l.min = v
	l.lmu.Unlock()
}

func (l *balance) SetMaximum(v ledger.Bound) {
	l.lmu.Lock()
	l.max = v
	l.lmu.Unlock()
}

type transferLog struct{ b *Backend }

// run performs one transfer log operation: it reads the stored record,
// decides, applies the changes to the stored balances, and commits the
// record, the balances and the prepared index together.
func (g *transferLog) run(ctx context.Context, id string, d func(ledger.Record, bool) (ledger.Record, bool, error), changes []ledger.Change) (ledger.Result, error) {
	b := g.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return ledger.Result{}, err
	}
	stored, found, err := b.readRecord(ctx, id)
	if err != nil {
		return ledger.Result{}, err
	}
	next, write, err := d(stored, found)
	if err != nil {
		return ledger.Result{}, err
	}
	if !write {
		b.remember(next)
		return ledger.Result{Record: next}, nil
	}
	after, final, err := ledger.ApplyChanges(changes, func(name string) (ledger.Int128, error) {
		return b.readBalance(ctx, name)
	})
	if err != nil {
		return ledger.Result{}, err
	}
	value, err := ledger.MarshalRecord(next)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: encode transfer %q: %w", id, err)
	}
	puts := map[string]string{ledger.TransferKey(id): string(value)}
	for name, v := range final {
		puts[ledger.BalanceKey(name)] = v.String()
	}
	wasPrepared := found && stored.State == ledger.StatePrepared
	if isPrepared := next.State == ledger.StatePrepared; isPrepared != wasPrepared {
		ids, err := b.readIndex(ctx)
		if err != nil {
			return ledger.Result{}, err
		}
		i, present := slices.BinarySearch(ids, id)
		switch {
		case isPrepared && !present:
			ids = slices.Insert(ids, i, id)
		case !isPrepared && present:
			ids = slices.Delete(ids, i, i+1)
		}
		idx, err := json.Marshal(ids)
		if err != nil {
			return ledger.Result{}, fmt.Errorf("backend/kv: encode the prepared index: %w", err)
		}
		if len(ids) == 0 {
			idx = []byte("[]")
		}
		puts[PreparedKey] = string(idx)
	}
	if err := b.commit(ctx, puts); err != nil {
		return ledger.Result{}, err
	}
	for name, v := range final {
		b.setValue(name, v)
	}
	b.remember(next)
	return ledger.Result{Record: next, Applied: true, Balances: after}, nil
}

func (g *transferLog) Create(ctx context.Context, rec ledger.Record, changes ...ledger.Change) (ledger.Result, error) {
	rec, err := ledger.CheckNew(rec)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: create: %w", err)
	}
	res, err := g.run(ctx, rec.Transfer.ID, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideCreate(stored, found, rec)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: create: %w", err)
	}
	return res, nil
}

func (g *transferLog) Fulfill(ctx context.Context, id, fulfillment string, changes ...ledger.Change) (ledger.Result, error) {
	if err := ledger.CheckFulfillment(id, fulfillment); err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: fulfill: %w", err)
	}
	res, err := g.run(ctx, id, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideFulfill(stored, found, id, fulfillment)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: fulfill: %w", err)
	}
	return res, nil
}

func (g *transferLog) Cancel(ctx context.Context, id string, changes ...ledger.Change) (ledger.Result, error) {
	res, err := g.run(ctx, id, func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
		return ledger.DecideCancel(stored, found, id)
	}, changes)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("backend/kv: cancel: %w", err)
	}
	return res, nil
}

// Get reads a transfer from the store and caches it.
func (g *transferLog) Get(ctx context.Context, id string) (ledger.Record, error) {
	b := g.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return ledger.Record{}, err
	}
	r, ok, err := b.readRecord(ctx, id)
	if err != nil {
		return ledger.Record{}, err
	}
	if !ok {
		return ledger.Record{}, fmt.Errorf("backend/kv: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	b.remember(r)
	return r, nil
}

func (g *transferLog) GetCached(id string) (ledger.Record, bool) {
	g.b.cmu.Lock()
	defer g.b.cmu.Unlock()
	r, ok := g.b.cached[id]
	return r, ok
}

func (g *transferLog) DropCached(id string) {
	g.b.cmu.Lock()
	delete(g.b.cached, id)
	g.b.cmu.Unlock()
}

func (g *transferLog) GetFulfillment(ctx context.Context, id string) (string, error) {
	r, err := g.Get(ctx, id)
	if err != nil {
		return "", err
	}
	f, err := ledger.FulfillmentOf(r)
	if err != nil {
		return "", fmt.Errorf("backend/kv: %w", err)
	}
	return f, nil
}

// Prepared lists the transfers of the prepared index, in id order. A
// record that cannot be read is logged and left out, so that it does not
// hide the others from expiry.
func (g *transferLog) Prepared(ctx context.Context) ([]ledger.Record, error) {
	b := g.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.begin(ctx); err != nil {
		return nil, err
	}
	ids, err := b.readIndex(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.Record, 0, len(ids))
	for _, id := range ids {
		r, ok, err := b.readRecord(ctx, id)
		switch {
		case errors.Is(err, ErrCorrupt):
			b.logger.Warn("backend/kv: unreadable prepared transfer", "id", id, "err", err)
			continue
		case err != nil:
			return nil, err
		case !ok || r.State != ledger.StatePrepared:
			b.logger.Warn("backend/kv: the prepared index names a transfer that is not prepared", "id", id)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
