package connector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math/big"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/routing"
)

// Plugin is what the connector needs of a ledger plugin: the subset of
// ledger.Plugin it calls. The connector does not connect or disconnect
// plugins; their owner does.
type Plugin interface {
	Info() ledger.LedgerInfo
	Account() string
	Balance(ctx context.Context) (ledger.Int128, error)
	SendTransfer(ctx context.Context, t ledger.Transfer) error
	SendRequest(ctx context.Context, m ledger.Message) (ledger.Message, error)
	FulfillCondition(ctx context.Context, transferID string, f ilp.Fulfillment) error
	RejectIncomingTransfer(ctx context.Context, transferID string, reason ledger.Rejection) error
	RegisterRequestHandler(h ledger.RequestHandler) error
	DeregisterRequestHandler()
	Subscribe(h ledger.EventHandler) (unsubscribe func())
}

// PluginOptions are the options of one plugin.
type PluginOptions struct {
	// Peers are connectors on the plugin's ledger to broadcast routes to, in
	// addition to the ledger's recommended connectors (LedgerInfo.Connectors,
	// ILP Kit's CONNECTOR_AUTOLOAD_PEERS); the connector's own account is
	// never one.
	Peers []string
	// NoAutoloadPeers ignores LedgerInfo.Connectors.
	NoAutoloadPeers bool
	// RequestFullTable marks the peers on this ledger as connectors that
	// understand request_full_table (ilp-connector 21.1.9 and later). Every
	// broadcast to them then carries the field: true while no route through
	// that peer is in the tables (at first, and after its routes were lost
	// or expired), asking it to send its whole table rather than what it
	// thinks is new to the connector; false otherwise. Off by default:
	// connectors up to 21.1.8 refuse a broadcast with a field they do not
	// know, and would drop every route through the connector.
	RequestFullTable bool
}

// Errors of AddPlugin and RemovePlugin.
var (
	ErrDuplicateLedger = errors.New("connector: a plugin for this ledger is already added")
	ErrUnknownLedger   = errors.New("connector: no plugin for this ledger")
	ErrBadPlugin       = errors.New("connector: plugin has no ledger prefix or account")
	ErrClosed          = errors.New("connector: closed")
)

// entry is one plugin added to the connector.
type entry struct {
	plugin      Plugin
	prefix      string
	account     string
	opts        PluginOptions
	unsubscribe func()
}

// Connector is an Interledger v1 connector; see the package documentation.
// Its methods are safe for concurrent use.
type Connector struct {
	cfg      Config
	log      *slog.Logger
	clock    ledger.Clock
	oneToOne bool
	keep     keepRatio // 1−slippage
	// idHashers derive outgoing transfer ids (see outgoingID).
	idHashers sync.Pool

	// local and public are the two sets of routing tables (PROTOCOLS.md 3.5).
	local, public *routing.Tables

	mu      sync.RWMutex
	plugins map[string]*entry // by ledger prefix
	order   []string          // prefixes in the order added

	// Broadcast state: per (ledger, peer) the public epoch of the last
	// successful broadcast, the prefixes lost since the last broadcast, and
	// the local curves last loaded (to notice a change).
	bmu        sync.Mutex
	peerEpochs map[peerKey]int
	lost       []string
	lastCurves map[[2]string]curve.Curve

	// tails holds, for the routes whose curve came from a remote quote
	// (see remoteCurve), when that curve expires.
	tmu   sync.Mutex
	tails map[tailKey]time.Time

	reloadMu sync.Mutex
	kick     chan struct{}

	// smu guards cfg.SettlementMethods, which SetSettlementMethods
	// replaces at run time.
	smu sync.RWMutex

	// Background work (forwarding, passing back): cancelled and waited for
	// by Close.
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex
	closed bool
	wg     sync.WaitGroup
	tasks  chan task
}

type peerKey struct{ ledger, peer string }

// New returns a connector with no plugin.
func New(cfg Config) (*Connector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	_, oneToOne := cfg.Rates.(OneToOne)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Connector{
		cfg:        cfg,
		keep:       keepOf(cfg.Slippage),
		log:        cfg.Logger,
		clock:      cfg.Clock,
		oneToOne:   oneToOne,
		local:      routing.NewTables(cfg.RouteExpiry, cfg.Clock.Now),
		public:     routing.NewTables(cfg.RouteExpiry, cfg.Clock.Now),
		plugins:    make(map[string]*entry),
		peerEpochs: make(map[peerKey]int),
		lastCurves: make(map[[2]string]curve.Curve),
		tails:      make(map[tailKey]time.Time),
		kick:       make(chan struct{}, 1),
		tasks:      make(chan task),
		ctx:        ctx,
		cancel:     cancel,
	}
	secret := slices.Clone(cfg.Secret)
	c.idHashers.New = func() any { return newIDHasher(secret) }
	return c, nil
}

// Close stops the connector's background work (payments being forwarded or
// passed back are abandoned; their transfers expire) and waits for it.
// Plugins stay as they are; remove them first to release their handlers.
func (c *Connector) Close() {
	c.wmu.Lock()
	c.closed = true
	c.wmu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// workerIdle is how long a background worker waits for more work before it
// ends. It manages goroutines, not payments, so it runs on real time.
const workerIdle = 5 * time.Second

// task is one piece of background work: an event of a plugin to act on.
// It travels by value, so handing it to a worker allocates nothing (a
// closure capturing the transfer would).
type task struct {
	kind ledger.EventKind
	e    *entry
	t    ledger.Transfer
	f    ilp.Fulfillment
	r    ledger.Rejection
}

func (c *Connector) do(ctx context.Context, k *task) {
	switch k.kind {
	case ledger.EventIncomingPrepare:
		c.forward(ctx, k.e, k.t)
	case ledger.EventOutgoingFulfill:
		c.passFulfillment(ctx, k.t, k.f)
	case ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
		c.passRejection(ctx, k.t, k.r)
	}
}

// spawn runs k in the background unless the connector is closed: on an idle
// worker if one is waiting, else on a new one. Workers are reused because a
// payment's work runs deep into the plugins and a fresh goroutine would grow
// its stack again each time.
func (c *Connector) spawn(k task) {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return
	}
	c.wg.Add(1)
	c.wmu.Unlock()
	select {
	case c.tasks <- k:
	default:
		go c.worker(k)
	}
}

func (c *Connector) worker(k task) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		c.do(c.ctx, &k)
		k = task{} // let the transfer go while idle
		c.wg.Done()
		idle.Reset(workerIdle)
		select {
		case k = <-c.tasks:
		case <-c.ctx.Done():
			return
		case <-idle.C:
			return
		}
	}
}

// AddPlugin adds a plugin at run time: the connector answers requests on
// it, forwards its incoming prepared transfers, builds the local pairs
// between its ledger and every other, and broadcasts routes to its peers.
// The plugin should be connected (its Info and Account known).
func (c *Connector) AddPlugin(ctx context.Context, p Plugin, opts PluginOptions) error {
	info := p.Info()
	e := &entry{plugin: p, prefix: info.Prefix, account: p.Account(), opts: opts}
	if e.prefix == "" || e.account == "" {
		return ErrBadPlugin
	}
	c.mu.Lock()
	if _, dup := c.plugins[e.prefix]; dup {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrDuplicateLedger, e.prefix)
	}
	if err := p.RegisterRequestHandler(c.requestHandler(e)); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("connector: plugin %s: %w", e.prefix, err)
	}
	e.unsubscribe = p.Subscribe(c.eventHandler(e))
	c.plugins[e.prefix] = e
	c.order = append(c.order, e.prefix)
	c.mu.Unlock()
	c.log.Info("plugin added", "ledger", e.prefix, "account", e.account)

	err := c.ReloadLocalRoutes(ctx)
	c.addStaticRoutes()
	c.Kick()
	return err
}

// RemovePlugin removes the plugin of ledger: its handlers are released and
// every route entering or targeting that ledger is dropped (peers hear of it
// in the next broadcast). Transfers in flight through it are not touched.
func (c *Connector) RemovePlugin(ctx context.Context, ledgerPrefix string) error {
	c.mu.Lock()
	e, ok := c.plugins[ledgerPrefix]
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownLedger, ledgerPrefix)
	}
	delete(c.plugins, ledgerPrefix)
	c.order = slices.DeleteFunc(c.order, func(p string) bool { return p == ledgerPrefix })
	c.mu.Unlock()

	e.plugin.DeregisterRequestHandler()
	e.unsubscribe()
	c.local.RemoveLedger(ledgerPrefix)
	c.public.RemoveLedger(ledgerPrefix)
	c.bmu.Lock()
	for k := range c.peerEpochs {
		if k.ledger == ledgerPrefix {
			delete(c.peerEpochs, k)
		}
	}
	for k := range c.lastCurves {
		if k[0] == ledgerPrefix || k[1] == ledgerPrefix {
			delete(c.lastCurves, k)
		}
	}
	c.lost = appendUnique(c.lost, ledgerPrefix)
	c.bmu.Unlock()
	c.log.Info("plugin removed", "ledger", ledgerPrefix)
	c.Kick()
	return nil
}

// Ledgers returns the prefixes of the plugins, in the order added.
func (c *Connector) Ledgers() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.order)
}

// entries returns the plugins in the order added.
func (c *Connector) entries() []*entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*entry, 0, len(c.order))
	for _, p := range c.order {
		out = append(out, c.plugins[p])
	}
	return out
}

func (c *Connector) entry(prefix string) (*entry, bool) {
	c.mu.RLock()
	e, ok := c.plugins[prefix]
	c.mu.RUnlock()
	return e, ok
}

// ReloadLocalRoutes rebuilds the local pair curves from the current rates,
// balances and limits (the 2017 connector did so before every broadcast).
// A pair whose currencies the rate source does not trade has no route. When a
// curve changed, every peer is sent the full table at the next broadcast (2017
// sent a changed curve only once some other route moved the epoch on).
func (c *Connector) ReloadLocalRoutes(ctx context.Context) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	entries := c.entries()
	sides := make([]side, len(entries))
	var errs []error
	for i, e := range entries {
		sides[i].info = e.plugin.Info()
		if _, hasMax := sides[i].info.MaxBalance.Value(); !hasMax {
			if _, hasMin := sides[i].info.MinBalance.Value(); !hasMin {
				continue
			}
		}
		b, err := e.plugin.Balance(ctx)
		if err != nil {
			// Keep the curves of this ledger as they were rather than
			// guess its balance.
			errs = append(errs, fmt.Errorf("connector: balance of %s: %w", e.prefix, err))
			sides[i].failed = true
		}
		sides[i].balance = b
	}
	epoch := c.public.Epoch()
	window := c.cfg.MinMessageWindow.Seconds()
	var localRoutes, publicRoutes []routing.Route
	changed := false
	curves := make(map[[2]string]curve.Curve)
	for i, a := range entries {
		for j, b := range entries {
			if i == j || sides[i].failed || sides[j].failed {
				continue
			}
			rate, err := c.cfg.Rates.Rate(ctx, sides[i].info.CurrencyCode, sides[j].info.CurrencyCode)
			if err != nil {
				if !errors.Is(err, ErrNoRate) {
					errs = append(errs, err)
				}
				continue
			}
			if rate.Sign() <= 0 {
				continue
			}
			r := pairRate(rate, c.cfg.Spread, sides[i].info.CurrencyScale, sides[j].info.CurrencyScale)
			lc := localCurve(r, sides[i], sides[j])
			pc, err := lc.ShiftXInt64(shiftFor(c.oneToOne, c.cfg.Spread, sides[i].info, sides[j].info))
			if err != nil {
				errs = append(errs, fmt.Errorf("connector: shifting curve %s→%s: %w", a.prefix, b.prefix, err))
				continue
			}
			key := [2]string{a.prefix, b.prefix}
			curves[key] = lc
			route := routing.Route{
				SourceLedger:       a.prefix,
				NextLedger:         b.prefix,
				DestinationLedger:  b.prefix,
				TargetPrefix:       b.prefix,
				MinMessageWindow:   window,
				IsLocal:            true,
				SourceAccount:      a.account,
				DestinationAccount: b.account,
				AddedDuringEpoch:   epoch,
			}
			lr, pr := route, route
			lr.Curve, pr.Curve = &lc, &pc
			localRoutes = append(localRoutes, lr)
			publicRoutes = append(publicRoutes, pr)
		}
	}
	c.bmu.Lock()
	for k, cv := range curves {
		if old, ok := c.lastCurves[k]; !ok || !old.Equal(cv) {
			changed = true
		}
		c.lastCurves[k] = cv
	}
	if changed {
		for k := range c.peerEpochs {
			c.peerEpochs[k] = -1
		}
	}
	c.bmu.Unlock()
	c.local.AddLocalRoutes(localRoutes...)
	c.public.AddLocalRoutes(publicRoutes...)
	return errors.Join(errs...)
}

func (c *Connector) addStaticRoutes() {
	for _, s := range c.cfg.StaticRoutes {
		r := routing.Route{
			SourceLedger:      s.Ledger,
			NextLedger:        s.TargetPrefix,
			DestinationLedger: s.TargetPrefix,
			TargetPrefix:      s.TargetPrefix,
			SourceAccount:     s.Account,
			MinMessageWindow:  c.cfg.MinMessageWindow.Seconds(),
			Static:            true,
		}
		c.local.AddStaticRoute(r)
		c.public.AddStaticRoute(r)
	}
}

// shift is the shift of the local pair from src to dst (0 or 1).
func (c *Connector) shift(src, dst string) int64 {
	a, ok1 := c.entry(src)
	b, ok2 := c.entry(dst)
	if !ok1 || !ok2 {
		return 1
	}
	return shiftFor(c.oneToOne, c.cfg.Spread, a.plugin.Info(), b.plugin.Info())
}

// Kick asks Run to broadcast routes now.
func (c *Connector) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// LocalTables and PublicTables return the connector's routing tables, for
// inspection (the 2017 connector's GET /routes showed the public ones).
func (c *Connector) LocalTables() *routing.Tables  { return c.local }
func (c *Connector) PublicTables() *routing.Tables { return c.public }

// OutgoingTransferID derives the id of the transfer that forwards the
// transfer id of ledger: HMAC-SHA256(secret, ledger+"/"+id) in hex, cut to
// 36 characters and shaped as a version 4 UUID, as ilp-connector did.
func OutgoingTransferID(secret []byte, ledgerPrefix, id string) string {
	return newIDHasher(secret).id(ledgerPrefix, id)
}

// idHasher derives outgoing transfer ids with a keyed HMAC it resets
// between uses, and a buffer for the message; the connector keeps a pool of
// them, as keying an HMAC allocates.
type idHasher struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newIDHasher(secret []byte) *idHasher {
	return &idHasher{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 128)}
}

func (h *idHasher) id(ledgerPrefix, id string) string {
	h.mac.Reset()
	h.buf = append(append(append(h.buf[:0], ledgerPrefix...), '/'), id...)
	h.mac.Write(h.buf)
	var x [64]byte
	hex.Encode(x[:], h.mac.Sum(h.sum[:0]))
	b := x[:36]
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	b[14], b[19] = '4', '8'
	return string(b)
}

// outgoingID is OutgoingTransferID with the connector's secret.
func (c *Connector) outgoingID(ledgerPrefix, id string) string {
	h := c.idHashers.Get().(*idHasher)
	out := h.id(ledgerPrefix, id)
	c.idHashers.Put(h)
	return out
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// keepRatio is 1−slippage as a fraction of two uint64s, when it fits (ok);
// it lets the last hop check a payment without big numbers.
type keepRatio struct {
	num, den uint64
	ok       bool
}

func keepOf(slippage *big.Rat) keepRatio {
	k := new(big.Rat).Sub(big.NewRat(1, 1), slippage)
	if !k.Num().IsUint64() || !k.Denom().IsUint64() {
		return keepRatio{}
	}
	return keepRatio{num: k.Num().Uint64(), den: k.Denom().Uint64(), ok: true}
}

// withinSlippage reports whether n·(1−slippage) ≤ m, exactly: as
// n·num ≤ m·den in 128 bits when 1−slippage fits two uint64s.
func (c *Connector) withinSlippage(n, m uint64) bool {
	if !c.keep.ok {
		return ratLE(n, c.cfg.Slippage, m)
	}
	h1, l1 := bits.Mul64(n, c.keep.num)
	h2, l2 := bits.Mul64(m, c.keep.den)
	return h1 < h2 || h1 == h2 && l1 <= l2
}

// ratLE reports whether n·(1−s) ≤ m, exactly.
func ratLE(n uint64, s *big.Rat, m uint64) bool {
	l := new(big.Rat).Sub(big.NewRat(1, 1), s)
	l.Mul(l, new(big.Rat).SetUint64(n))
	return l.Cmp(new(big.Rat).SetUint64(m)) <= 0
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
