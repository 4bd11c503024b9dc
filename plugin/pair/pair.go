// Package pair is an in-process plugin pair: the two ends of one
// trustline between two accounts, each a ledger.Plugin, with no network in
// between. Each end keeps its state (its balance and its transfer log) in a
// ledger.Backend of its own, so the pair runs on the memory backend in tests
// and benchmarks and on a durable backend when embedded.
//
// # Money
//
// Balances follow ilp-plugin-virtual 16 (PROTOCOLS.md 8.2): an end's
// balance is what the other end owes it. An incoming prepared transfer
// counts at once (credited at prepare, taken back on reject or expiry); an
// outgoing one counts when it is fulfilled. An end's MaxBalance is the
// credit it extends to the other end: an incoming transfer that would take
// the balance above it is refused with ledger.ErrNotAccepted (the error
// matches ledger.ErrMaximumExceeded too) and changes nothing. There is no
// local check on outgoing transfers: the receiving end enforces its own
// limit, so LedgerInfo.MinBalance of an end is minus the other's
// MaxBalance. When no transfer is pending the two balances are each other's
// negative; at every instant A + B equals the sum of the prepared amounts.
//
// # Atomicity
//
// Every state change goes through TransferLog.Create, Fulfill or Cancel
// with its balance change, so each end's state and balance move together.
// A change spans the two ends' logs in a fixed order, and the sending end's
// log decides every race: a transfer is recorded by the receiving end
// (checking its limit) and then the sending end; a fulfillment, rejection or
// expiry is recorded by the sending end first and then copied to the
// receiving end. If the process stops between the two steps, the receiving
// end repairs its records from the sending end's log when it connects again.
//
// # Sub-addresses
//
// An end accepts a transfer addressed to an address under its account,
// "<its account>.<suffix>" (such as a PSK 1.0 address: the account, then
// the receiver id and token), as a transfer to its account, as the 2017
// ledger plugins mapped such addresses to the account they extend. Both
// ends record the transfer with To set to the account; the full address
// stays in the ILP packet, where a PSK receiver reads it. An address under
// the sending end's own account is refused like any other that is not the
// receiving end's.
//
// # Zero and invalid amounts
//
// RFC 0004 says zero-amount transfers MUST work and the pair accepts them
// (ilp-plugin-virtual 16 refused amounts below 1). An amount is a uint64,
// so negative, fractional or too large amounts (2^64 and up) cannot reach
// the pair: ledger.Transfer's JSON decoding refuses them with
// ledger.ErrInvalidTransfer.
//
// # Expiry
//
// The sending end arms a timer on the injected ledger.Clock for each
// prepared outgoing transfer (and re-arms them from TransferLog.Prepared on
// Connect). When it fires, the transfer is cancelled on both ends and each
// emits its cancel event, with an R00 Transfer Timed Out rejection
// triggered by the ledger prefix. A fulfillment that arrives at or after
// the expiry is refused with ledger.ErrAlreadyRolledBack. While the sending
// end is disconnected its transfers wait; while the receiving end is
// disconnected it catches up when it connects.
//
// # Connection
//
// Each end connects on its own. A call on a disconnected end fails with
// ledger.ErrNotConnected; a call that needs the other end while that end is
// disconnected fails the same way (an UnreachableError) and changes
// nothing. Disconnect stops the end's timers and waits for the calls in
// progress; no goroutine of the pair outlives Disconnect, except a request
// handler that ignores the cancellation of its context.
package pair

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// Options configure a pair.
type Options struct {
	// Prefix is the ILP prefix of the trustline, such as
	// "peer.NavKx.usd.2." (required). The ends' accounts are Prefix+Name.
	Prefix string
	// CurrencyCode and CurrencyScale describe the unit of the amounts
	// (CurrencyCode required).
	CurrencyCode  string
	CurrencyScale int
	// A and B configure the two ends.
	A, B Side
	// Clock times expiries; nil means ledger.SystemClock.
	Clock ledger.Clock
	// Logger receives what goes wrong inside the pair; nil discards.
	Logger *slog.Logger
}

// Side configures one end of the pair.
type Side struct {
	// Name is the account segment under the prefix; "a" and "b" by
	// default. The names of the two ends differ.
	Name string
	// Backend keeps this end's balance and transfers (required; the two
	// ends use different backends, as their transfer logs share ids).
	Backend ledger.Backend
	// Balance names the balance in the backend; "" (the 2.x key
	// "balance__") by default.
	Balance string
	// MaxBalance is the credit this end extends to the other: the most
	// the other end may owe it, prepared incoming transfers included.
	// The zero Bound is unlimited.
	MaxBalance ledger.Bound
	// Connectors is this end's LedgerInfo.Connectors.
	Connectors []string
}

// Errors of New.
var (
	ErrBadOptions = errors.New("pair: invalid options")
)

// link is what the two ends share.
type link struct {
	prefix string
	code   string
	scale  int
	clock  ledger.Clock
	log    *slog.Logger

	// stripes serialise the recording of new transfers with the same id
	// across both ends (both directions), so the check for an existing id
	// and the two Creates act as one step. Other ids rarely share a stripe.
	seed    maphash.Seed
	stripes [64]sync.Mutex
}

func (l *link) stripe(id string) *sync.Mutex {
	return &l.stripes[maphash.String(l.seed, id)%uint64(len(l.stripes))]
}

// End is one end of a pair. It implements ledger.Plugin.
type End struct {
	l           *link
	peer        *End
	account     string
	peerAccount string
	log         ledger.TransferLog
	bal         ledger.Balance
	balName     string
	connectors  []string
	logger      *slog.Logger

	max     atomic.Pointer[ledger.Bound] // credit extended to the peer
	info    atomic.Pointer[ledger.LedgerInfo]
	handler atomic.Pointer[ledger.RequestHandler]

	gate   *pluginkit.Gate
	events pluginkit.Emitter
	timers *expiries
	connMu sync.Mutex // serialises Connect, Disconnect and SetMaxBalance
}

var _ ledger.Plugin = (*End)(nil)

// New returns the two ends of a trustline, not yet connected.
func New(opts Options) (a, b *End, err error) {
	if err := ilp.ValidatePrefix(opts.Prefix); err != nil {
		return nil, nil, fmt.Errorf("%w: prefix: %v", ErrBadOptions, err)
	}
	if opts.CurrencyCode == "" {
		return nil, nil, fmt.Errorf("%w: no currency code", ErrBadOptions)
	}
	sa, sb := opts.A, opts.B
	if sa.Name == "" {
		sa.Name = "a"
	}
	if sb.Name == "" {
		sb.Name = "b"
	}
	if sa.Name == sb.Name {
		return nil, nil, fmt.Errorf("%w: both ends are named %q", ErrBadOptions, sa.Name)
	}
	for _, s := range []Side{sa, sb} {
		if err := ilp.ValidateAddress(opts.Prefix + s.Name); err != nil || strings.Contains(s.Name, ".") {
			return nil, nil, fmt.Errorf("%w: account name %q is not one address segment", ErrBadOptions, s.Name)
		}
		if s.Backend == nil {
			return nil, nil, fmt.Errorf("%w: end %q has no backend", ErrBadOptions, s.Name)
		}
	}
	if sameValue(sa.Backend, sb.Backend) {
		return nil, nil, fmt.Errorf("%w: both ends use one backend", ErrBadOptions)
	}
	l := &link{prefix: opts.Prefix, code: opts.CurrencyCode, scale: opts.CurrencyScale, clock: opts.Clock, log: opts.Logger, seed: maphash.MakeSeed()}
	if l.clock == nil {
		l.clock = ledger.SystemClock{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	a, b = newEnd(l, sa), newEnd(l, sb)
	a.peer, b.peer = b, a
	a.peerAccount, b.peerAccount = b.account, a.account
	a.refreshInfo()
	b.refreshInfo()
	return a, b, nil
}

// sameValue reports whether two interface values are equal, without
// panicking on values of incomparable types.
func sameValue(x, y any) bool {
	if reflect.TypeOf(x) != reflect.TypeOf(y) || !reflect.TypeOf(x).Comparable() {
		return false
	}
	return x == y
}

func newEnd(l *link, s Side) *End {
	e := &End{
		l:          l,
		account:    l.prefix + s.Name,
		log:        s.Backend.TransferLog(),
		bal:        s.Backend.Balance(s.Balance, ledger.BalanceOptions{Maximum: s.MaxBalance}),
		balName:    s.Balance,
		connectors: append([]string(nil), s.Connectors...),
		gate:       pluginkit.NewGate(),
	}
	e.timers = newExpiries(l.clock, e.onExpiry)
	e.logger = l.log.With("account", e.account)
	e.events.Log = e.logger
	m := s.MaxBalance
	e.max.Store(&m)
	return e
}

// Peer returns the other end.
func (e *End) Peer() *End { return e.peer }

// refreshInfo recomputes the cached LedgerInfo from the limits.
func (e *End) refreshInfo() {
	info := ledger.LedgerInfo{
		Prefix:        e.l.prefix,
		CurrencyCode:  e.l.code,
		CurrencyScale: e.l.scale,
		Connectors:    e.connectors,
		MaxBalance:    *e.max.Load(),
	}
	if v, ok := e.peer.max.Load().Value(); ok {
		if neg, err := v.Neg(); err == nil {
			info.MinBalance = ledger.Limit(neg)
		}
	}
	e.info.Store(&info)
}

// Info returns the ledger's description. MaxBalance is this end's
// MaxBalance, MinBalance minus the other end's.
func (e *End) Info() ledger.LedgerInfo { return e.info.Load().Clone() }

// Account returns Prefix + the end's name.
func (e *End) Account() string { return e.account }

// IsConnected reports whether the end is connected.
func (e *End) IsConnected() bool { return e.gate.IsOpen() }

// Subscribe adds an event handler (see ledger.Plugin).
func (e *End) Subscribe(h ledger.EventHandler) func() { return e.events.Subscribe(h) }

// RegisterRequestHandler sets the request handler (see ledger.Plugin).
func (e *End) RegisterRequestHandler(h ledger.RequestHandler) error {
	if h == nil {
		return ledger.NewError(ledger.ErrInvalidFields, "request handler is nil")
	}
	if !e.handler.CompareAndSwap(nil, &h) {
		return ledger.NewError(ledger.ErrRequestHandlerAlreadyRegistered, "a request handler is already registered")
	}
	return nil
}

// DeregisterRequestHandler removes the request handler.
func (e *End) DeregisterRequestHandler() { e.handler.Store(nil) }

// Balance returns what the other end owes this one, incoming prepared
// transfers included.
func (e *End) Balance(ctx context.Context) (ledger.Int128, error) {
	if !e.gate.Enter() {
		return ledger.Int128{}, ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	v, err := e.bal.Load(ctx)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("pair: balance: %w", err)
	}
	return v, nil
}

// SetMaxBalance changes the credit this end extends to the other. Both
// ends' LedgerInfo change and, when connected, emit EventInfoChange. A
// lower limit refuses new incoming transfers; it does not undo anything.
func (e *End) SetMaxBalance(max ledger.Bound) {
	e.connMu.Lock()
	e.max.Store(&max)
	e.bal.SetMaximum(max)
	e.refreshInfo()
	e.peer.refreshInfo()
	e.connMu.Unlock()
	for _, end := range []*End{e, e.peer} {
		if end.gate.Enter() {
			end.emit(&ledger.Event{Kind: ledger.EventInfoChange, Info: end.Info()})
			end.gate.Exit()
		}
	}
}

// Connect loads the balance, repairs incoming transfers left prepared by an
// interrupted change, re-arms the expiry of prepared outgoing transfers
// (expiring those already due) and emits EventConnect.
func (e *End) Connect(ctx context.Context) error {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	if e.gate.IsOpen() {
		return nil
	}
	if err := e.bal.Connect(ctx); err != nil {
		return fmt.Errorf("pair: connect %s: %w", e.account, err)
	}
	prepared, err := e.log.Prepared(ctx)
	if err != nil {
		return fmt.Errorf("pair: connect %s: %w", e.account, err)
	}
	e.timers.start()
	e.gate.Open()
	if !e.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	e.emit(&ledger.Event{Kind: ledger.EventConnect, Info: e.Info()})
	for _, rec := range prepared {
		if rec.Incoming {
			e.repairIncoming(ctx, rec)
		} else {
			e.watchExpiry(rec.Transfer)
		}
	}
	return nil
}

// Disconnect refuses new calls, waits for the calls in progress (or ctx),
// stops the expiry timers and emits EventDisconnect, the last event until
// the next Connect. A handler must not call it: it would wait for itself.
func (e *End) Disconnect(ctx context.Context) error {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	if !e.gate.IsOpen() {
		return nil
	}
	err := e.gate.Close(ctx)
	e.timers.stop()
	e.emit(&ledger.Event{Kind: ledger.EventDisconnect})
	if err != nil {
		return fmt.Errorf("pair: disconnect %s: calls still in progress: %w", e.account, err)
	}
	return nil
}

func (e *End) emit(ev *ledger.Event) {
	if e.events.Active() {
		e.events.Emit(ev)
	}
}

// enterPeer admits a call into the other end, or returns the error for an
// unreachable peer.
func (e *End) enterPeer() error {
	if !e.peer.gate.Enter() {
		return ledger.NewError(ledger.ErrNotConnected, "the other end of the trustline is not connected")
	}
	return nil
}
