package trustline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// Errors of the Server.
var (
	// ErrBadConfig is wrapped by the errors of New.
	ErrBadConfig = errors.New("trustline: invalid configuration")
	// ErrAccountExists is returned by CreateAccount for a name in use.
	ErrAccountExists = errors.New("trustline: account already exists")
	// ErrInvalidAccountName is returned for a name that is not one ILP
	// address segment ([A-Za-z0-9_~-]+).
	ErrInvalidAccountName = errors.New("trustline: invalid account name")
	// ErrInvalidLimits is returned for limits whose minimum is above their
	// maximum.
	ErrInvalidLimits = errors.New("trustline: invalid limits")
	// ErrServerNotConnected is returned by a view's Connect while the
	// Server is not connected (before Server.Connect or after Close). It
	// matches ledger.ErrNotConnected, so it crosses the wire as an
	// UnreachableError.
	ErrServerNotConnected error = &serverNotConnected{}
)

type serverNotConnected struct{}

func (*serverNotConnected) Error() string { return "trustline: the server is not connected" }
func (*serverNotConnected) Unwrap() error { return ledger.ErrNotConnected }

// DefaultIssuer is the account name of the issuer when Config.Issuer is
// empty.
const DefaultIssuer = "connector"

// Limits are the limits of an account's balance. The zero Bound is
// unlimited. Minimum bounds the balance after outgoing amounts are held;
// Maximum bounds the balance plus the pending incoming amounts.
type Limits struct {
	Minimum, Maximum ledger.Bound
}

// UserLimits are the default limits of a user account: minimum 0, maximum
// unlimited.
func UserLimits() Limits { return Limits{Minimum: ledger.Limit(ledger.Int128{})} }

// Config configures a Server.
type Config struct {
	// Prefix is the ILP prefix of the kit's ledger, such as
	// "us.usd.red." (required).
	Prefix string
	// CurrencyCode and CurrencyScale describe the unit of the amounts
	// (CurrencyCode required).
	CurrencyCode  string
	CurrencyScale int
	// Backend keeps the balances and the transfer log (required).
	Backend ledger.Backend
	// Issuer is the account name of the issuer, the kit's own account
	// (its minimum is always unlimited); DefaultIssuer when empty.
	Issuer string
	// MaxHoldTime refuses, with ledger.ErrNotAccepted, a conditional
	// transfer that expires later than now + MaxHoldTime; 0 is no limit.
	MaxHoldTime time.Duration
	// DefaultLimits are the limits of an account created without limits
	// of its own. The zero value (both unlimited) means UserLimits:
	// minimum 0, maximum unlimited. An account without any limit is made
	// by passing &Limits{} to CreateAccount.
	DefaultLimits Limits
	// Clock times expiries; nil means ledger.SystemClock.
	Clock ledger.Clock
	// Logger receives what goes wrong inside the server; nil discards.
	Logger *slog.Logger
	// Relay, when set, receives every event this server commits, after
	// its own views and admin handlers, for the other processes sharing
	// the backend (which hand it to their Deliver). It must not block.
	Relay func(account string, ev ledger.Event)
	// RemoteRequest, when set, passes on a request to an account that has
	// no view with a request handler here: another process sharing the
	// backend may have its client (it answers with AnswerRequest). It
	// returns ledger.ErrNoSubscriptions when none does.
	RemoteRequest func(ctx context.Context, to string, m ledger.Message) (ledger.Message, error)
}

// Server is the ILP Kit Server plugin: one ledger with one account per
// user and the issuer account. See the package documentation.
type Server struct {
	prefix   string
	code     string
	scale    int
	issuer   string
	maxHold  time.Duration
	defaults Limits
	backend  ledger.Backend
	log      ledger.TransferLog
	clock    ledger.Clock
	logger   *slog.Logger

	mu       sync.RWMutex // guards accounts
	accounts map[string]*account

	held sync.Map // account name → *heldSum: outgoing prepared amounts

	// steps is held (shared) by every transfer step while the backend
	// records it, and (exclusive) by Totals, which so reads the balances
	// and the prepared transfers with no step of this server in between.
	steps sync.RWMutex

	admin   adminEmitter
	gate    *pluginkit.Gate // open between Connect and Close
	closing atomic.Bool     // set while Close runs, so views stop connecting
	timers  *pluginkit.Expiries
	connMu  sync.Mutex // serialises Connect and Close

	relay  func(string, ledger.Event)
	remote func(context.Context, string, ledger.Message) (ledger.Message, error)
	keeper atomic.Bool // expires the transfers other processes prepared
}

// New returns a Server, not yet connected, with its issuer account.
func New(cfg Config) (*Server, error) {
	if err := ilp.ValidatePrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("%w: prefix: %v", ErrBadConfig, err)
	}
	if cfg.CurrencyCode == "" {
		return nil, fmt.Errorf("%w: no currency code", ErrBadConfig)
	}
	if cfg.Backend == nil {
		return nil, fmt.Errorf("%w: no backend", ErrBadConfig)
	}
	if cfg.MaxHoldTime < 0 {
		return nil, fmt.Errorf("%w: negative MaxHoldTime", ErrBadConfig)
	}
	s := &Server{
		prefix:   cfg.Prefix,
		code:     cfg.CurrencyCode,
		scale:    cfg.CurrencyScale,
		issuer:   cfg.Issuer,
		maxHold:  cfg.MaxHoldTime,
		defaults: UserLimits(),
		backend:  cfg.Backend,
		log:      cfg.Backend.TransferLog(),
		clock:    cfg.Clock,
		logger:   cfg.Logger,
		accounts: make(map[string]*account),
		gate:     pluginkit.NewGate(),
		relay:    cfg.Relay,
		remote:   cfg.RemoteRequest,
	}
	if s.issuer == "" {
		s.issuer = DefaultIssuer
	}
	if cfg.DefaultLimits != (Limits{}) {
		if err := checkLimits(cfg.DefaultLimits); err != nil {
			return nil, fmt.Errorf("%w: default limits: %v", ErrBadConfig, err)
		}
		s.defaults = cfg.DefaultLimits
	}
	if err := checkName(s.issuer); err != nil {
		return nil, fmt.Errorf("%w: issuer: %v", ErrBadConfig, err)
	}
	if s.clock == nil {
		s.clock = ledger.SystemClock{}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.admin.log = s.logger
	s.timers = pluginkit.NewExpiries(s.clock, s.onExpiry)
	s.accounts[s.issuer] = s.newAccount(s.issuer, Limits{Maximum: ledger.Unlimited()})
	return s, nil
}

// Prefix returns the ledger's ILP prefix.
func (s *Server) Prefix() string { return s.prefix }

// Issuer returns the account name of the issuer.
func (s *Server) Issuer() string { return s.issuer }

// IsConnected reports whether the server is connected.
func (s *Server) IsConnected() bool { return s.gate.IsOpen() }

// Connect loads the balances of the accounts registered so far and the
// prepared transfers from the backend, and arms the expiry of those
// transfers on the clock (expiring at once those already due). Connecting
// a connected server does nothing.
func (s *Server) Connect(ctx context.Context) error {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.gate.IsOpen() {
		return nil
	}
	for _, a := range s.accountList() {
		if err := a.connect(ctx); err != nil {
			return fmt.Errorf("trustline: connect: %w", err)
		}
	}
	prepared, err := s.log.Prepared(ctx)
	if err != nil {
		return fmt.Errorf("trustline: connect: loading prepared transfers: %w", err)
	}
	s.held.Clear()
	for _, rec := range prepared {
		s.addHeld(s.nameOf(rec.Transfer.From), rec.Transfer.Amount, false)
	}
	s.timers.Start()
	s.gate.Open()
	if !s.gate.Enter() {
		return ErrServerNotConnected
	}
	defer s.gate.Exit()
	for _, rec := range prepared {
		s.watchExpiry(rec.Transfer)
	}
	s.logger.Info("trustline: server connected", "prefix", s.prefix, "prepared", len(prepared))
	return nil
}

// Close disconnects every connected view, waits for the calls in progress
// (or ctx) and stops the expiry timers. Prepared transfers stay in the
// backend; the next Connect (of this or another Server on the same
// backend) arms them again.
func (s *Server) Close(ctx context.Context) error {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if !s.gate.IsOpen() {
		return nil
	}
	s.closing.Store(true)
	defer s.closing.Store(false)
	var errs []error
	for _, a := range s.accountList() {
		for _, v := range a.connectedViews() {
			errs = append(errs, v.Disconnect(ctx))
		}
	}
	errs = append(errs, s.gate.Close(ctx))
	s.timers.Stop()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("trustline: close: %w", err)
	}
	return nil
}

// Subscribe adds a handler for every event of every account: the admin
// view. Each event comes with the name of the account it belongs to (a
// transfer between two accounts gives the sender's outgoing event and the
// receiver's incoming one). Handlers are called as ledger.Plugin describes
// (synchronously, must not block, panics recovered), whether or not any
// view is connected; connect and disconnect events of views are not
// delivered here. It returns the function that removes the handler.
func (s *Server) Subscribe(h func(account string, ev ledger.Event)) (unsubscribe func()) {
	return s.admin.subscribe(h)
}

// nameOf returns the account name of an address under the prefix (the
// first segment after it), or "" for any other address.
func (s *Server) nameOf(addr string) string {
	rest, ok := strings.CutPrefix(addr, s.prefix)
	if !ok {
		return ""
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// Totals are the sums over the registered accounts that Server.Totals
// reports. Money enters only through the issuer account, so at every
// instant the balances plus the held amounts add up to zero (Sum), and the
// pending incoming amounts equal the held ones.
type Totals struct {
	// Balances is the sum of the balances.
	Balances ledger.Int128
	// Held is the sum of the amounts of the prepared transfers (held from
	// their senders), from the backend.
	Held ledger.Int128
	// Pending is the sum of the pending incoming amounts of the accounts
	// (each account's balance plus pending incoming, minus its balance).
	Pending ledger.Int128
}

// Sum returns Balances + Held, which is zero when all is well (it
// saturates at the Int128 range, which it cannot reach when all is well).
func (t Totals) Sum() ledger.Int128 {
	sum, err := t.Balances.Add(t.Held)
	if err != nil {
		return t.Balances
	}
	return sum
}

// String gives Sum in decimal.
func (t Totals) String() string { return t.Sum().String() }

// Check reports an error unless the balances plus the held amounts add up
// to zero and the pending incoming amounts equal the held ones.
func (t Totals) Check() error {
	sum, err := t.Balances.Add(t.Held)
	if err != nil {
		return fmt.Errorf("trustline: totals: %w", err)
	}
	if sum.Sign() != 0 {
		return fmt.Errorf("trustline: totals: balances %s + held %s = %s, not 0", t.Balances, t.Held, sum)
	}
	if t.Pending != t.Held {
		return fmt.Errorf("trustline: totals: pending incoming %s differs from held %s", t.Pending, t.Held)
	}
	return nil
}

// Totals reads every registered account's balances and the prepared
// transfers from the backend and adds them up. A backend that reads a
// snapshot (backend/sql) gives exact sums also while other processes
// sharing it make payments; with another, Totals holds the transfer steps
// of this server back while it reads (they wait, none is lost), so that
// payments in progress through this Server do not make the sum look
// wrong. Every account that holds money must be registered.
func (s *Server) Totals(ctx context.Context) (Totals, error) {
	s.steps.Lock()
	defer s.steps.Unlock()
	var balances []ledger.Int128
	var prepared []ledger.Record
	var err error
	if snap, ok := s.backend.(snapshotter); ok {
		// One instant of the database: exact also while other processes
		// sharing it make payments.
		var names []string
		for _, a := range s.accountList() {
			names = append(names, a.name, inName(a.name))
		}
		if balances, prepared, err = snap.Snapshot(ctx, names); err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
	} else {
		if balances, err = s.balanceSnapshot(ctx); err != nil {
			return Totals{}, err
		}
		if prepared, err = s.log.Prepared(ctx); err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
	}
	var t Totals
	for j := 0; j < len(balances); j += 2 {
		b, h := balances[j], balances[j+1]
		p, err := h.Sub(b)
		if err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
		if t.Balances, err = t.Balances.Add(b); err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
		if t.Pending, err = t.Pending.Add(p); err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
	}
	for _, rec := range prepared {
		if t.Held, err = t.Held.AddUint64(rec.Transfer.Amount); err != nil {
			return Totals{}, fmt.Errorf("trustline: totals: %w", err)
		}
	}
	return t, nil
}

// snapshotter is a backend that reads balances and prepared transfers at
// one instant (backend/sql).
type snapshotter interface {
	Snapshot(ctx context.Context, names []string) ([]ledger.Int128, []ledger.Record, error)
}

// balanceSnapshot reads the two balances of every registered account, in
// the order of accountList.
func (s *Server) balanceSnapshot(ctx context.Context) ([]ledger.Int128, error) {
	list := s.accountList()
	out := make([]ledger.Int128, 0, 2*len(list))
	for _, a := range list {
		b, err := a.bal.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("trustline: totals: %w", err)
		}
		h, err := a.in.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("trustline: totals: %w", err)
		}
		out = append(out, b, h)
	}
	return out, nil
}

// adminEmitter delivers events with their account to the admin handlers.
// Delivery reads an immutable snapshot of the handler list without
// locking; subscribe and unsubscribe replace it under mu.
type adminEmitter struct {
	mu   sync.Mutex
	next uint64
	subs atomic.Pointer[[]adminSub]
	log  *slog.Logger
}

type adminSub struct {
	id uint64
	h  func(string, ledger.Event)
}

func (em *adminEmitter) subscribe(h func(string, ledger.Event)) func() {
	if h == nil {
		return func() {}
	}
	em.mu.Lock()
	em.next++
	id := em.next
	list := append(slices.Clone(em.snapshot()), adminSub{id: id, h: h})
	em.subs.Store(&list)
	em.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			em.mu.Lock()
			defer em.mu.Unlock()
			list := slices.DeleteFunc(slices.Clone(em.snapshot()), func(s adminSub) bool { return s.id == id })
			em.subs.Store(&list)
		})
	}
}

func (em *adminEmitter) snapshot() []adminSub {
	if p := em.subs.Load(); p != nil {
		return *p
	}
	return nil
}

func (em *adminEmitter) emit(account string, ev *ledger.Event) {
	for _, s := range em.snapshot() {
		em.call(s.h, account, ev)
	}
}

func (em *adminEmitter) call(h func(string, ledger.Event), account string, ev *ledger.Event) {
	defer func() {
		if r := recover(); r != nil {
			em.log.Error("trustline: admin event handler panicked", "event", ev.Kind.String(), "transfer", ev.Transfer.ID, "panic", r)
		}
	}()
	h(account, *ev)
}
