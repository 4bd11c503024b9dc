package trustline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// account is the in-memory metadata of one account. Its money is in the
// backend, in two balances:
//
//   - "<name>" (the balance, key "balance__<name>"), debited at prepare
//     and checked against the minimum there, credited to the receiver at
//     fulfill;
//   - "<name>:in" (the balance plus the pending incoming amounts), credited
//     at prepare and checked against the maximum there.
//
// ':' is not an address character, so the second name never clashes with
// an account's.
type account struct {
	name string
	addr string
	bal  ledger.Balance // the balance
	in   ledger.Balance // the balance plus pending incoming

	limits   atomic.Pointer[Limits]
	disabled atomic.Bool

	mu    sync.Mutex
	views atomic.Pointer[[]*view] // connected views; replaced under mu
}

// inName is the name of an account's second balance.
func inName(name string) string { return name + ":in" }

func (s *Server) newAccount(name string, l Limits) *account {
	a := &account{
		name: name,
		addr: s.prefix + name,
		bal:  s.backend.Balance(name, ledger.BalanceOptions{}),
		in:   s.backend.Balance(inName(name), ledger.BalanceOptions{}),
	}
	if name == s.issuer {
		l.Minimum = ledger.Unlimited()
	}
	a.limits.Store(&l)
	a.views.Store(&[]*view{})
	return a
}

// connect loads the account's balances (a missing one is stored as 0).
func (a *account) connect(ctx context.Context) error {
	if err := a.bal.Connect(ctx); err != nil {
		return fmt.Errorf("account %q: %w", a.name, err)
	}
	if err := a.in.Connect(ctx); err != nil {
		return fmt.Errorf("account %q: %w", a.name, err)
	}
	return nil
}

func (a *account) connectedViews() []*view { return *a.views.Load() }

func (a *account) addView(v *view) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := append(slices.Clone(a.connectedViews()), v)
	a.views.Store(&list)
}

func (a *account) removeView(v *view) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := slices.DeleteFunc(slices.Clone(a.connectedViews()), func(w *view) bool { return w == v })
	a.views.Store(&list)
}

// checkName refuses a name that is not one ILP address segment.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidAccountName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '~', c == '-':
		default:
			return fmt.Errorf("%w: %q is not one ILP address segment", ErrInvalidAccountName, name)
		}
	}
	if len(name) > ilp.MaxAddressLen/2 {
		return fmt.Errorf("%w: %q is too long", ErrInvalidAccountName, name)
	}
	return nil
}

// checkLimits refuses a minimum above the maximum.
func checkLimits(l Limits) error {
	min, okMin := l.Minimum.Value()
	max, okMax := l.Maximum.Value()
	if okMin && okMax && min.Cmp(max) > 0 {
		return fmt.Errorf("%w: minimum %s is above maximum %s", ErrInvalidLimits, min, max)
	}
	return nil
}

// CreateAccount registers an account, with limits l (nil for the default
// limits), and loads its balances from the backend: an account that existed
// before a restart gets its balance back. The kit calls it at start-up for
// each of its users, and when a user signs up. A name in use fails with
// ErrAccountExists, one that is not an address segment with
// ErrInvalidAccountName.
func (s *Server) CreateAccount(ctx context.Context, name string, l *Limits) error {
	if err := checkName(name); err != nil {
		return err
	}
	lim := s.defaults
	if l != nil {
		lim = *l
	}
	if err := checkLimits(lim); err != nil {
		return err
	}
	s.mu.RLock()
	_, found := s.accounts[name]
	s.mu.RUnlock()
	if found {
		return fmt.Errorf("%w: %q", ErrAccountExists, name)
	}
	a := s.newAccount(name, lim)
	if err := a.connect(ctx); err != nil {
		return fmt.Errorf("trustline: create account: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.accounts[name]; found {
		return fmt.Errorf("%w: %q", ErrAccountExists, name)
	}
	s.accounts[name] = a
	return nil
}

// account returns the account called name.
func (s *Server) account(name string) (*account, bool) {
	s.mu.RLock()
	a, ok := s.accounts[name]
	s.mu.RUnlock()
	return a, ok
}

// mustAccount returns the account called name or an error matching
// ledger.ErrAccountNotFound.
func (s *Server) mustAccount(name string) (*account, error) {
	a, ok := s.account(name)
	if !ok {
		return nil, ledger.Errorf(ledger.ErrAccountNotFound, "no account %q", name)
	}
	return a, nil
}

// accountList returns the accounts sorted by name.
func (s *Server) accountList() []*account {
	s.mu.RLock()
	list := make([]*account, 0, len(s.accounts))
	for _, a := range s.accounts {
		list = append(list, a)
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *account) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return list
}

// SetLimits changes an account's limits (the issuer's minimum stays
// unlimited). New limits refuse new transfers; they undo nothing. The
// account's connected views emit EventInfoChange.
func (s *Server) SetLimits(ctx context.Context, name string, l Limits) error {
	if err := checkLimits(l); err != nil {
		return err
	}
	a, err := s.mustAccount(name)
	if err != nil {
		return err
	}
	if name == s.issuer {
		l.Minimum = ledger.Unlimited()
	}
	a.limits.Store(&l)
	for _, v := range a.connectedViews() {
		if v.gate.Enter() {
			v.emit(&ledger.Event{Kind: ledger.EventInfoChange, Info: v.Info()})
			v.gate.Exit()
		}
	}
	return nil
}

// SetDisabled disables or enables an account. A disabled account can
// neither send nor receive new transfers or requests (they fail with
// ledger.ErrNotAccepted); its pending transfers still resolve.
func (s *Server) SetDisabled(ctx context.Context, name string, disabled bool) error {
	a, err := s.mustAccount(name)
	if err != nil {
		return err
	}
	a.disabled.Store(disabled)
	return nil
}

// AccountInfo describes an account.
type AccountInfo struct {
	Name    string
	Address string
	// Balance is the account's balance: what Plugin(name).Balance reports
	// (outgoing prepared amounts already deducted, incoming ones not yet
	// added).
	Balance ledger.Int128
	// Held is the sum of the account's outgoing prepared transfers, as
	// this process knows them: its own, and those other processes sharing
	// the backend relay (Deliver).
	Held ledger.Int128
	// Pending is the sum of the account's incoming prepared transfers.
	Pending  ledger.Int128
	Limits   Limits
	Disabled bool
}

// AccountInfo reads an account's balances from the backend.
func (s *Server) AccountInfo(ctx context.Context, name string) (AccountInfo, error) {
	a, err := s.mustAccount(name)
	if err != nil {
		return AccountInfo{}, err
	}
	return s.info(ctx, a)
}

// Accounts describes every account, sorted by name.
func (s *Server) Accounts(ctx context.Context) ([]AccountInfo, error) {
	list := s.accountList()
	out := make([]AccountInfo, 0, len(list))
	for _, a := range list {
		info, err := s.info(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Server) info(ctx context.Context, a *account) (AccountInfo, error) {
	b, err := a.bal.Load(ctx)
	if err != nil {
		return AccountInfo{}, fmt.Errorf("trustline: account %q: %w", a.name, err)
	}
	h, err := a.in.Load(ctx)
	if err != nil {
		return AccountInfo{}, fmt.Errorf("trustline: account %q: %w", a.name, err)
	}
	p, err := h.Sub(b)
	if err != nil {
		return AccountInfo{}, fmt.Errorf("trustline: account %q: %w", a.name, err)
	}
	return AccountInfo{
		Name:     a.name,
		Address:  a.addr,
		Balance:  b,
		Held:     s.heldOf(a.name),
		Pending:  p,
		Limits:   *a.limits.Load(),
		Disabled: a.disabled.Load(),
	}, nil
}

// heldSum is the sum of an account's outgoing prepared amounts.
type heldSum struct {
	mu sync.Mutex
	v  ledger.Int128
}

// addHeld adds (or, with sub, subtracts) n to the held sum of account name.
func (s *Server) addHeld(name string, n uint64, sub bool) {
	c, ok := s.held.Load(name)
	if !ok {
		c, _ = s.held.LoadOrStore(name, &heldSum{})
	}
	h := c.(*heldSum)
	h.mu.Lock()
	var err error
	var next ledger.Int128
	if sub {
		next, err = h.v.SubUint64(n)
	} else {
		next, err = h.v.AddUint64(n)
	}
	if err == nil {
		h.v = next
	}
	h.mu.Unlock()
}

func (s *Server) heldOf(name string) ledger.Int128 {
	c, ok := s.held.Load(name)
	if !ok {
		return ledger.Int128{}
	}
	h := c.(*heldSum)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.v
}

// Plugin returns a new ledger.Plugin view of account name, not connected.
// Each view has its own connection, subscriptions and request handler; the
// events of the account go to each of its connected views. An unknown name
// fails with an error matching ledger.ErrAccountNotFound.
func (s *Server) Plugin(name string) (ledger.Plugin, error) {
	a, err := s.mustAccount(name)
	if err != nil {
		return nil, err
	}
	return s.newView(a), nil
}
