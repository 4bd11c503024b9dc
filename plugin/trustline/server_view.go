package trustline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// view is one ledger.Plugin view of an account of a Server.
type view struct {
	s       *Server
	a       *account
	logger  *slog.Logger
	gate    *pluginkit.Gate
	events  pluginkit.Emitter
	handler atomic.Pointer[ledger.RequestHandler]
	connMu  sync.Mutex // serialises Connect and Disconnect
}

var _ ledger.Plugin = (*view)(nil)

func (s *Server) newView(a *account) *view {
	v := &view{s: s, a: a, gate: pluginkit.NewGate(), logger: s.logger.With("account", a.addr)}
	v.events.Log = v.logger
	return v
}

// Connect connects the view: it needs the Server connected (else
// ErrServerNotConnected, a ledger.ErrNotConnected) and emits EventConnect.
// The view then receives the account's events. The Server, not the view,
// watches the expiry of the account's transfers.
func (v *view) Connect(ctx context.Context) error {
	v.connMu.Lock()
	defer v.connMu.Unlock()
	if v.gate.IsOpen() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !v.s.gate.IsOpen() || v.s.closing.Load() {
		return ErrServerNotConnected
	}
	v.gate.Open()
	if v.gate.Enter() {
		v.emit(&ledger.Event{Kind: ledger.EventConnect, Info: v.Info()})
		v.gate.Exit()
	}
	v.a.addView(v)
	if v.s.closing.Load() {
		// Close started meanwhile and may not have seen this view.
		v.a.removeView(v)
		_ = v.gate.Close(ctx)
		v.emit(&ledger.Event{Kind: ledger.EventDisconnect})
		return ErrServerNotConnected
	}
	return nil
}

// Disconnect stops the delivery of the account's events to this view,
// waits for its calls in progress (or ctx) and emits EventDisconnect.
func (v *view) Disconnect(ctx context.Context) error {
	v.connMu.Lock()
	defer v.connMu.Unlock()
	if !v.gate.IsOpen() {
		return nil
	}
	v.a.removeView(v)
	err := v.gate.Close(ctx)
	v.emit(&ledger.Event{Kind: ledger.EventDisconnect})
	if err != nil {
		return fmt.Errorf("trustline: disconnect %s: calls still in progress: %w", v.a.addr, err)
	}
	return nil
}

func (v *view) IsConnected() bool { return v.gate.IsOpen() }

// Info describes the ledger; MinBalance and MaxBalance are the account's
// limits and Connectors the issuer's address.
func (v *view) Info() ledger.LedgerInfo {
	l := v.a.limits.Load()
	return ledger.LedgerInfo{
		Prefix:        v.s.prefix,
		CurrencyCode:  v.s.code,
		CurrencyScale: v.s.scale,
		Connectors:    []string{v.s.prefix + v.s.issuer},
		MinBalance:    l.Minimum,
		MaxBalance:    l.Maximum,
	}
}

func (v *view) Account() string { return v.a.addr }

// Balance reads the account's balance from the backend.
func (v *view) Balance(ctx context.Context) (ledger.Int128, error) {
	if !v.gate.Enter() {
		return ledger.Int128{}, ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	b, err := v.a.bal.Load(ctx)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("trustline: balance of %s: %w", v.a.addr, err)
	}
	return b, nil
}

func (v *view) Subscribe(h ledger.EventHandler) func() { return v.events.Subscribe(h) }

func (v *view) RegisterRequestHandler(h ledger.RequestHandler) error {
	if h == nil {
		return ledger.NewError(ledger.ErrInvalidFields, "request handler is nil")
	}
	if !v.handler.CompareAndSwap(nil, &h) {
		return ledger.NewError(ledger.ErrRequestHandlerAlreadyRegistered, "a request handler is already registered")
	}
	return nil
}

func (v *view) DeregisterRequestHandler() { v.handler.Store(nil) }

func (v *view) emit(ev *ledger.Event) {
	if v.events.Active() {
		v.events.Emit(ev)
	}
}

// SendRequest sends a message to another account of the server and returns
// the answer of the request handler of one of that account's connected
// views. The handler runs in a goroutine of its own with a context that
// ends when SendRequest returns. Without a connected view the call fails
// with ledger.ErrNoSubscriptions; with connected views but no handler,
// with ledger.ErrNotAccepted.
func (v *view) SendRequest(ctx context.Context, m ledger.Message) (ledger.Message, error) {
	if !v.gate.Enter() {
		return ledger.Message{}, ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	to, err := v.checkRequest(&m)
	if err != nil {
		return ledger.Message{}, err
	}
	if v.a.disabled.Load() {
		return ledger.Message{}, ledger.Errorf(ledger.ErrNotAccepted, "account %s is disabled", v.a.addr)
	}
	if to.disabled.Load() {
		return ledger.Message{}, ledger.Errorf(ledger.ErrNotAccepted, "account %s is disabled", to.addr)
	}
	resp, found, err := v.s.answer(ctx, to, m)
	if !found && v.s.remote != nil {
		// Its client may be connected to another process.
		r, rerr := v.s.remote(ctx, to.name, m)
		if rerr == nil || !errors.Is(rerr, ledger.ErrNoSubscriptions) {
			resp, err = r, rerr
		}
	}
	if err != nil {
		return ledger.Message{}, err
	}
	resp.ID, resp.Ledger, resp.From, resp.To = m.ID, v.s.prefix, to.addr, v.a.addr
	return resp, nil
}

// answer calls the request handler of one of to's connected views; found
// is false when no view here has one (err says why).
func (s *Server) answer(ctx context.Context, to *account, m ledger.Message) (ledger.Message, bool, error) {
	views := to.connectedViews()
	if len(views) == 0 {
		return ledger.Message{}, false, ledger.Errorf(ledger.ErrNoSubscriptions, "account %s is not connected", to.addr)
	}
	var target *view
	var h *ledger.RequestHandler
	for _, w := range views {
		if h = w.handler.Load(); h != nil && w.gate.Enter() {
			target = w
			break
		}
	}
	if target == nil {
		return ledger.Message{}, false, ledger.Errorf(ledger.ErrNotAccepted, "account %s has no request handler", to.addr)
	}
	defer target.gate.Exit()
	resp, err := pluginkit.CallHandler(ctx, *h, m, to.addr, s.clock.Now, target.logger, "trustline")
	return resp, true, err
}

// AnswerRequest answers a request that another process sharing the
// backend passed on (Config.RemoteRequest) with the request handler of one
// of account to's views here; found is false when none has one.
func (s *Server) AnswerRequest(ctx context.Context, to string, m ledger.Message) (resp ledger.Message, found bool, err error) {
	if !s.gate.Enter() {
		return ledger.Message{}, false, ErrServerNotConnected
	}
	defer s.gate.Exit()
	a, ok := s.account(to)
	if !ok || a.disabled.Load() {
		return ledger.Message{}, false, nil
	}
	return s.answer(ctx, a, m)
}

// checkRequest validates a request this view sends, fills in its defaults
// and returns the receiving account. To is set to that account's address.
func (v *view) checkRequest(m *ledger.Message) (*account, error) {
	if len(m.ID) > pluginkit.MaxIDLen {
		return nil, ledger.Errorf(ledger.ErrInvalidFields, "message id is longer than %d bytes", pluginkit.MaxIDLen)
	}
	if m.ID == "" {
		m.ID = pluginkit.NewID()
	}
	if m.Ledger == "" {
		m.Ledger = v.s.prefix
	} else if m.Ledger != v.s.prefix {
		return nil, ledger.Errorf(ledger.ErrInvalidFields, "ledger %q is not %q", m.Ledger, v.s.prefix)
	}
	if m.From == "" {
		m.From = v.a.addr
	} else if m.From != v.a.addr {
		return nil, ledger.Errorf(ledger.ErrInvalidFields, "from %q is not this account", m.From)
	}
	to, err := v.s.destination(m.To)
	if err != nil {
		return nil, err
	}
	if to == v.a {
		return nil, ledger.NewError(ledger.ErrInvalidFields, "a request to the sending account itself")
	}
	m.To = to.addr
	if m.ILP == "" && len(m.Custom) == 0 {
		return nil, ledger.NewError(ledger.ErrInvalidFields, "message has neither ilp nor custom")
	}
	if len(m.Custom) > 0 && !ledger.IsJSONObject(m.Custom) {
		return nil, ledger.NewError(ledger.ErrInvalidFields, "custom is not a JSON object")
	}
	return to, nil
}

// PreparedIncoming lists the transfers still prepared to the view's
// account, oldest expiry first, as the receiver sees them (without the
// sender's note to self): the wire Handler pushes incoming_prepare again for
// each when a client's WebSocket opens. It reads the backend's prepared
// transfers, so it sees those of other processes too.
func (v *view) PreparedIncoming(ctx context.Context) ([]ledger.Transfer, error) {
	if !v.gate.Enter() {
		return nil, ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	recs, err := v.s.log.Prepared(ctx)
	if err != nil {
		return nil, fmt.Errorf("trustline: listing prepared transfers: %w", err)
	}
	var out []ledger.Transfer
	for _, r := range recs {
		if r.Transfer.To == v.a.addr {
			out = append(out, incomingCopy(r.Transfer))
		}
	}
	slices.SortStableFunc(out, func(a, b ledger.Transfer) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return out, nil
}
