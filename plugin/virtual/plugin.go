package virtual

// The plugin follows ilp-plugin-virtual 16 (PROTOCOLS.md 8.2) with these
// choices of its own:
//
//   - Balance is what the peer owes this side. An incoming prepared
//     transfer counts at once (credited when it arrives, refused with
//     NotAcceptedError if the credit would pass MaxBalance, taken back on
//     reject or expiry); an outgoing one counts when the peer fulfils it;
//     an unconditional one counts at once both ways. Every state change goes
//     through the TransferLog together with its balance change.
//   - Both sides arm a timer for every prepared transfer, on the injected
//     clock, and re-arm them from TransferLog.Prepared on Connect. On
//     expiry a side cancels its own record, emits its cancel event and
//     tells the peer with expire_transfer, whose errors are ignored.
//   - An outgoing conditional transfer whose send_transfer call fails in
//     transport (timeout, connection refused, a reply that is not an LPI
//     error) is kept prepared, as in 2017: it simply expires. A call the
//     peer answered with an LPI error (over its limit, a duplicate id, not
//     connected, 401) is a definite refusal: the record is cancelled
//     without events and the error returned, so that a refused transfer
//     changes nothing visible. An unconditional transfer is recorded (and
//     debited) only after the peer accepted it, so any failure leaves
//     nothing behind; 2017 debited first and rolled back.
//   - A fulfillment is first sent to the peer (fulfill_condition) and
//     recorded here only when the peer accepted it, so that the sender's
//     log decides a race with its expiry; 2017 recorded it locally first.
//     A rejection is recorded here first, then sent (the peer can only
//     cancel the transfer too, or let it expire).
//   - Zero amounts are accepted, as RFC 0004 requires (plugin-virtual 16
//     refused amounts below 1).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ilpkit/ilpkit/backend/kv"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// DefaultTimeout is how long an RPC call to the peer may take, as in
// ilp-plugin-virtual 16.
const DefaultTimeout = 2000 * time.Millisecond

// ErrBadOptions is returned by New for incomplete or inconsistent options.
var ErrBadOptions = errors.New("virtual: invalid options")

// Options configure a Plugin.
type Options struct {
	// Identity is the kit's peering key pair. If it is the zero value,
	// Secret is used to derive it.
	Identity Identity
	Secret   string
	// PeerPublicKey is the peer's public key (from its WebFinger host
	// document).
	PeerPublicKey string
	// CurrencyCode and CurrencyScale are the unit of the trustline; both
	// sides must agree on them to derive the same prefix.
	CurrencyCode  string
	CurrencyScale int
	// Prefix, if set, must equal the derived prefix.
	Prefix string
	// MaxBalance is the credit extended to the peer: the most it may owe,
	// prepared incoming transfers included. The zero Bound is unlimited.
	MaxBalance ledger.Bound
	// RPCURI is the peer's RPC endpoint (its peersRpcUri).
	RPCURI string
	// Backend keeps the balance and the transfers. When it is nil, Store
	// (a 2.x plugin store) is wrapped with kv.FromStore.
	Backend ledger.Backend
	Store   kv.Store
	// HTTPClient sends the RPC calls; nil means a keep-alive client of the
	// plugin's own, which for a plain http:// RPCURI without a proxy makes
	// each call in the calling goroutine (see leanClient). Timeout bounds
	// each call (DefaultTimeout when zero).
	HTTPClient *http.Client
	Timeout    time.Duration
	// Connectors is LedgerInfo.Connectors; nil means the peer's account,
	// as ILP Kit configured it.
	Connectors []string
	Logger     *slog.Logger
	Clock      ledger.Clock
	// Refulfilled, when set, is called when the peer fulfils again an
	// outgoing transfer already executed with that fulfillment. Its
	// outgoing_fulfill event was emitted when it was executed, possibly
	// by another process sharing the backend that died before passing the
	// fulfillment back: the kit hands it to its connector again
	// (connector.PassFulfillment). It must not block.
	Refulfilled func(t ledger.Transfer, f ilp.Fulfillment)
}

// Plugin is one side of a symmetric peering. It implements ledger.Plugin,
// and its ServeHTTP (or a Mux holding it) answers the peer's RPC calls.
type Plugin struct {
	peering Peering
	rpcURL  string
	// header is the header of every call, shared read-only.
	header  http.Header
	client  *http.Client
	lean    *leanClient // the calls' client when the plugin has its own client
	timeout time.Duration
	clock   ledger.Clock
	logger  *slog.Logger
	// refulfilled is Options.Refulfilled.
	refulfilled func(ledger.Transfer, ilp.Fulfillment)
	info        atomic.Pointer[ledger.LedgerInfo]
	maxStr      atomic.Pointer[string]

	tlog ledger.TransferLog
	bal  ledger.Balance

	handler atomic.Pointer[ledger.RequestHandler]
	gate    *pluginkit.Gate
	events  pluginkit.Emitter
	timers  timers
	connMu  sync.Mutex

	// announcing holds the outgoing transfers whose send_transfer call is
	// in flight. A reply of the peer about one of them (fulfil, reject,
	// expire) first emits its outgoing_prepare, so that the prepare event
	// always comes first.
	annMu      sync.Mutex
	announcing map[string]*announcement
}

type announcement struct {
	once sync.Once
	t    ledger.Transfer
}

var _ ledger.Plugin = (*Plugin)(nil)

// New returns a plugin for the peering opts describe, not connected.
func New(opts Options) (*Plugin, error) {
	id := opts.Identity
	if id.priv == nil {
		var err error
		if id, err = NewIdentity(opts.Secret); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
		}
	}
	peering, err := id.Peer(opts.PeerPublicKey, opts.CurrencyCode, opts.CurrencyScale)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	if opts.Prefix != "" && opts.Prefix != peering.Prefix {
		return nil, fmt.Errorf("%w: prefix %q is not the derived %q", ErrBadOptions, opts.Prefix, peering.Prefix)
	}
	if opts.RPCURI == "" || !(strings.HasPrefix(opts.RPCURI, "http://") || strings.HasPrefix(opts.RPCURI, "https://")) {
		return nil, fmt.Errorf("%w: rpc uri %q is not an http(s) URL", ErrBadOptions, opts.RPCURI)
	}
	backend := opts.Backend
	if backend == nil {
		if opts.Store == nil {
			return nil, fmt.Errorf("%w: neither backend nor store", ErrBadOptions)
		}
		backend = kv.FromStore(opts.Store)
	}
	p := &Plugin{
		peering:     peering,
		client:      opts.HTTPClient,
		timeout:     opts.Timeout,
		clock:       opts.Clock,
		logger:      opts.Logger,
		gate:        pluginkit.NewGate(),
		announcing:  make(map[string]*announcement),
		refulfilled: opts.Refulfilled,
	}
	if p.client == nil {
		p.client = newClient()
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.clock == nil {
		p.clock = ledger.SystemClock{}
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.logger = p.logger.With("peer_prefix", peering.Prefix)
	p.events.Log = p.logger
	sep := "?"
	if strings.Contains(opts.RPCURI, "?") {
		sep = "&"
	}
	p.rpcURL = opts.RPCURI + sep + "method="
	p.header = http.Header{"Content-Type": contentTypeJSON, "Authorization": {"Bearer " + peering.AuthToken}}
	if opts.HTTPClient == nil {
		p.lean = newLeanClient(opts.RPCURI, p.header)
	}
	connectors := opts.Connectors
	if connectors == nil {
		connectors = []string{peering.PeerAccount}
	}
	p.info.Store(&ledger.LedgerInfo{
		Prefix:        peering.Prefix,
		CurrencyCode:  peering.CurrencyCode,
		CurrencyScale: peering.CurrencyScale,
		Connectors:    append([]string(nil), connectors...),
		MaxBalance:    opts.MaxBalance,
	})
	p.maxStr.Store(limitString(opts.MaxBalance))
	p.tlog = backend.TransferLog()
	p.bal = backend.Balance("", ledger.BalanceOptions{Maximum: opts.MaxBalance})
	return p, nil
}

// newClient returns an HTTP client that keeps connections to the peer
// open.
func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 1024
	return &http.Client{Transport: tr}
}

// Peering returns what the plugin derived from the two public keys.
func (p *Plugin) Peering() Peering { return p.peering }

// Prefix returns the ledger prefix of the peering.
func (p *Plugin) Prefix() string { return p.peering.Prefix }

// Info returns the ledger's description: the peering prefix, the currency,
// the connectors and MaxBalance. MinBalance is left unlimited, as
// plugin-virtual 16 left it out; GetLimit asks the peer for it.
func (p *Plugin) Info() ledger.LedgerInfo { return p.info.Load().Clone() }

// SetMaxBalance changes the credit extended to the peer (ILP Kit's peer
// limit). It applies to the next incoming transfer, undoes nothing, and
// emits EventInfoChange when connected.
func (p *Plugin) SetMaxBalance(max ledger.Bound) {
	p.connMu.Lock()
	info := p.info.Load().Clone()
	info.MaxBalance = max
	p.bal.SetMaximum(max)
	p.maxStr.Store(limitString(max))
	p.info.Store(&info)
	p.connMu.Unlock()
	if p.gate.Enter() {
		p.events.Emit(&ledger.Event{Kind: ledger.EventInfoChange, Info: info.Clone()})
		p.gate.Exit()
	}
}

// limitString is the get_limit answer for a limit: the integer, or
// "Infinity" for none (which 2017 BigNumber arithmetic reads).
func limitString(b ledger.Bound) *string {
	s := "Infinity"
	if v, ok := b.Value(); ok {
		s = v.String()
	}
	return &s
}

// Account returns the plugin's own address: prefix + own public key.
func (p *Plugin) Account() string { return p.peering.Account }

// PeerAccount returns the peer's address on the peering ledger.
func (p *Plugin) PeerAccount() string { return p.peering.PeerAccount }

// IsConnected reports whether the plugin is connected.
func (p *Plugin) IsConnected() bool { return p.gate.IsOpen() }

// Subscribe adds an event handler (see ledger.Plugin).
func (p *Plugin) Subscribe(h ledger.EventHandler) func() { return p.events.Subscribe(h) }

// RegisterRequestHandler sets the handler of the peer's requests.
func (p *Plugin) RegisterRequestHandler(h ledger.RequestHandler) error {
	if h == nil {
		return ledger.NewError(ledger.ErrInvalidFields, "request handler is nil")
	}
	if !p.handler.CompareAndSwap(nil, &h) {
		return ledger.NewError(ledger.ErrRequestHandlerAlreadyRegistered, "a request handler is already registered")
	}
	return nil
}

// DeregisterRequestHandler removes the request handler.
func (p *Plugin) DeregisterRequestHandler() { p.handler.Store(nil) }

// Connect loads the balance, re-arms the expiry of the prepared transfers
// (expiring those already due) and emits EventConnect. It does not call the
// peer, which may not be up yet.
func (p *Plugin) Connect(ctx context.Context) error {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if p.gate.IsOpen() {
		return nil
	}
	if err := p.bal.Connect(ctx); err != nil {
		return fmt.Errorf("virtual: connect %s: %w", p.peering.Prefix, err)
	}
	prepared, err := p.tlog.Prepared(ctx)
	if err != nil {
		return fmt.Errorf("virtual: connect %s: %w", p.peering.Prefix, err)
	}
	p.timers.start()
	p.gate.Open()
	if !p.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	p.events.Emit(&ledger.Event{Kind: ledger.EventConnect, Info: p.Info()})
	var due []string
	now := p.clock.Now()
	for _, rec := range prepared {
		if now.Before(rec.Transfer.ExpiresAt) {
			p.watch(rec.Transfer)
		} else if p.expire(ctx, rec.Transfer.ID, false) {
			due = append(due, rec.Transfer.ID)
		}
	}
	if len(due) > 0 && p.gate.Enter() {
		// Tell the peer about what expired while this side was down,
		// without holding up Connect; its own timers expire them too.
		go func() {
			defer p.gate.Exit()
			for _, id := range due {
				if _, err := p.call(context.Background(), "expire_transfer", id); err != nil {
					p.logger.Debug("virtual: expire_transfer failed (ignored)", "transfer", id, "err", err)
				}
			}
		}()
	}
	return nil
}

// Disconnect refuses new calls, waits for those in progress (or ctx), stops
// the expiry timers and emits EventDisconnect.
func (p *Plugin) Disconnect(ctx context.Context) error {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if !p.gate.IsOpen() {
		return nil
	}
	err := p.gate.Close(ctx)
	p.timers.stop()
	if p.lean != nil {
		p.lean.closeIdle()
	}
	p.events.Emit(&ledger.Event{Kind: ledger.EventDisconnect})
	if err != nil {
		return fmt.Errorf("virtual: disconnect %s: calls still in progress: %w", p.peering.Prefix, err)
	}
	return nil
}

// Balance returns what the peer owes this side, incoming prepared
// transfers included.
func (p *Plugin) Balance(ctx context.Context) (ledger.Int128, error) {
	if !p.gate.Enter() {
		return ledger.Int128{}, ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	v, err := p.bal.Load(ctx)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("virtual: balance: %w", err)
	}
	return v, nil
}

// GetLimit asks the peer for the credit it extends (get_limit) and returns
// it negated: the lowest this side's balance may go. A peer that answers
// counts as online in ILP Kit.
func (p *Plugin) GetLimit(ctx context.Context) (ledger.Bound, error) {
	if !p.gate.Enter() {
		return ledger.Bound{}, ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	raw, err := p.call(ctx, "get_limit")
	if err != nil {
		return ledger.Bound{}, err
	}
	return negatedBound(raw)
}

// PeerBalance asks the peer for its balance (get_balance) and returns it
// negated: what this side owes the peer by the peer's books.
func (p *Plugin) PeerBalance(ctx context.Context) (ledger.Int128, error) {
	if !p.gate.Enter() {
		return ledger.Int128{}, ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	raw, err := p.call(ctx, "get_balance")
	if err != nil {
		return ledger.Int128{}, err
	}
	b, err := negatedBound(raw)
	if err != nil {
		return ledger.Int128{}, err
	}
	v, ok := b.Value()
	if !ok {
		return ledger.Int128{}, ledger.NewError(ledger.ErrInvalidFields, "peer balance is not a number")
	}
	return v, nil
}

// emitPrepareOf emits the outgoing_prepare of a transfer whose
// send_transfer call is still in flight, if nobody has yet.
func (p *Plugin) emitPrepareOf(id string) {
	p.annMu.Lock()
	a := p.announcing[id]
	p.annMu.Unlock()
	if a != nil {
		a.once.Do(func() { p.events.Emit(&ledger.Event{Kind: ledger.EventOutgoingPrepare, Transfer: a.t}) })
	}
}

// record returns the plugin's record of a transfer.
func (p *Plugin) record(ctx context.Context, id string) (ledger.Record, bool, error) {
	if rec, ok := p.tlog.GetCached(id); ok {
		return rec, true, nil
	}
	rec, err := p.tlog.Get(ctx, id)
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return ledger.Record{}, false, nil
	}
	if err != nil {
		return ledger.Record{}, false, fmt.Errorf("virtual: reading transfer %q: %w", id, err)
	}
	return rec, true, nil
}

// credit counts an incoming amount, within MaxBalance.
func (p *Plugin) credit(n uint64) ledger.Change { return ledger.Credit(p.bal, n) }

// debit takes an amount off the balance. The balance has no minimum here:
// the peer enforces its own limit.
func (p *Plugin) debit(n uint64) ledger.Change { return ledger.Debit(p.bal, n) }
