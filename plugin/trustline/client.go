package trustline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// Errors of the Client.
var (
	// ErrBadClientConfig is returned by NewClient for an unusable configuration.
	ErrBadClientConfig = errors.New("trustline: invalid client configuration")
	// ErrUnauthorized is returned when the server refuses the token (401).
	// Connect gives up at once on it; it is also an UnreachableError.
	ErrUnauthorized error = &unauthorizedError{}
)

type unauthorizedError struct{}

func (*unauthorizedError) Error() string { return "trustline: the server refused the token" }
func (*unauthorizedError) Unwrap() error { return ledger.ErrUnreachable }

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL is the base of the server's wire interface, http(s)://host/base;
	// the client uses <base>/ws (with the ws or wss scheme) and <base>/rpc.
	URL string
	// Token is the account's bearer token (required).
	Token string
	// Clock tells the time (for the events the client makes up after a
	// reconnect); nil means ledger.SystemClock. Backoff and keepalive
	// use real time.
	Clock ledger.Clock
	// Logger receives what goes wrong; nil discards.
	Logger *slog.Logger
	// HTTPClient makes the WebSocket handshake; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// CallTimeout bounds a call without a deadline of its own, the dial
	// and a request the client's handler answers; 30 s by default.
	CallTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, which doubles from MinBackoff up to MaxBackoff, with
	// jitter (a random part of up to half the wait); 100 ms and 30 s by
	// default.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is the time between keepalive pings; a ping
	// unanswered within it drops the connection (and the client
	// reconnects). 30 s by default.
	PingInterval time.Duration
	// MaxFrameBytes bounds a frame from the server; 2 MiB by default.
	MaxFrameBytes int64
}

// Client is the ILP Kit Client plugin: a ledger.Plugin for one account of
// a trustline Server, reached over the Server's WebSocket. It keeps no
// persistent state.
//
// Connect dials the WebSocket (retrying with backoff until ctx is done,
// unless the token is refused) and reads Info and Account from get_info.
// When the connection drops the client emits EventDisconnect, reconnects
// with exponential backoff and jitter, and emits EventConnect when it is
// back (a refused token is retried too, with the same backoff, until
// Disconnect). Calls in flight when it drops fail with an UnreachableError; calls
// made while it is reconnecting fail at once with an error matching
// ledger.ErrNotConnected (IsConnected reports false meanwhile): a caller
// that wants to wait retries.
//
// After every (re)connection the client asks get_fulfillment about the
// transfers it saw prepared and not yet resolved (kept in memory) and
// emits the fulfill, reject or cancel events it missed; a rolled back
// transfer whose expiry has passed is reported as a cancel (R00), one
// that has not as a reject with code T00 (the receiver's reason is lost).
// Each transfer gets one prepare event and one final event: the
// incoming_prepare events the server pushes again on reconnection are
// emitted only for transfers the client has not seen.
//
// Events are delivered in order by one goroutine per connected client, so
// an event handler may call the client's methods (except Disconnect).
// Disconnect closes the socket and stops every goroutine of the client,
// except a request handler that ignores the cancellation of its context.
type Client struct {
	wsURL       string
	header      http.Header
	httpc       *http.Client
	clock       ledger.Clock
	log         *slog.Logger
	callTimeout time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration
	ping        time.Duration
	maxFrame    int64

	emitter pluginkit.Emitter
	handler atomic.Pointer[ledger.RequestHandler]
	info    atomic.Pointer[ledger.LedgerInfo]
	account atomic.Pointer[string]
	q       eventQueue

	connMu  sync.Mutex // serialises Connect and Disconnect
	run     *runState  // nil while disconnected; guarded by connMu
	running atomic.Bool
	sess    atomic.Pointer[session] // the live connection, nil while down
}

var _ ledger.Plugin = (*Client)(nil)

// runState is what one Connect starts and Disconnect stops.
type runState struct {
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // the supervisor ended
	stopEmit chan struct{}
	emitDone chan struct{}
	bg       sync.WaitGroup // reconciliations
}

// NewClient returns a client for cfg, not connected.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q is not an absolute URL", ErrBadClientConfig, cfg.URL)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("%w: URL scheme %q is not http or https", ErrBadClientConfig, u.Scheme)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("%w: no token", ErrBadClientConfig)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
	u.RawPath = ""
	c := &Client{
		wsURL:       u.String(),
		header:      http.Header{"Authorization": {"Bearer " + cfg.Token}},
		httpc:       cfg.HTTPClient,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		callTimeout: cfg.CallTimeout,
		minBackoff:  cfg.MinBackoff,
		maxBackoff:  cfg.MaxBackoff,
		ping:        cfg.PingInterval,
		maxFrame:    cfg.MaxFrameBytes,
	}
	if c.clock == nil {
		c.clock = ledger.SystemClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.callTimeout <= 0 {
		c.callTimeout = 30 * time.Second
	}
	if c.minBackoff <= 0 {
		c.minBackoff = 100 * time.Millisecond
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = max(30*time.Second, c.minBackoff)
	}
	if c.ping <= 0 {
		c.ping = 30 * time.Second
	}
	if c.maxFrame <= 0 {
		c.maxFrame = defaultMaxBodyBytes + maxClientFrameBytesExtra
	}
	c.header.Set(headerBatch, strconv.FormatInt(c.maxFrame, 10))
	c.emitter.Log = c.log
	c.q.init()
	return c, nil
}

// Connect dials the server and emits EventConnect. It retries with
// backoff until ctx is done, except when the token is refused.
func (c *Client) Connect(ctx context.Context) error {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.run != nil {
		return nil
	}
	r := &runState{done: make(chan struct{}), stopEmit: make(chan struct{}), emitDone: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	var s *session
	backoff := c.minBackoff
	for {
		dctx, cancel := context.WithTimeout(ctx, c.callTimeout)
		var err error
		s, err = c.dial(dctx)
		cancel()
		if err == nil {
			break
		}
		if errors.Is(err, ErrUnauthorized) || ctx.Err() != nil {
			r.cancel()
			return fmt.Errorf("trustline: connecting to %s: %w", c.wsURL, err)
		}
		c.log.Info("trustline: connecting failed, retrying", "url", c.wsURL, "err", err)
		if !sleep(ctx, jitter(backoff)) {
			r.cancel()
			return fmt.Errorf("trustline: connecting to %s: %w", c.wsURL, err)
		}
		backoff = min(2*backoff, c.maxBackoff)
	}
	c.run = r
	c.running.Store(true)
	go c.emitLoop(r)
	c.activate(r, s)
	go c.supervise(r, s)
	return nil
}

// Disconnect closes the connection, stops reconnecting and emits
// EventDisconnect; no event is delivered after it returns.
func (c *Client) Disconnect(ctx context.Context) error {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	r := c.run
	if r == nil {
		return nil
	}
	c.run = nil
	c.running.Store(false)
	r.cancel()
	if err := wait(ctx, r.done); err != nil {
		return err
	}
	r.bg.Wait()
	c.q.pushDisconnect()
	close(r.stopEmit)
	return wait(ctx, r.emitDone)
}

// IsConnected reports whether the client has a live connection to the
// server.
func (c *Client) IsConnected() bool {
	s := c.sess.Load()
	return s != nil && s.ctx.Err() == nil
}

// Info returns the ledger info of the last get_info.
func (c *Client) Info() ledger.LedgerInfo {
	if i := c.info.Load(); i != nil {
		return i.Clone()
	}
	return ledger.LedgerInfo{}
}

// Account returns the client's account, as the server told it.
func (c *Client) Account() string {
	if a := c.account.Load(); a != nil {
		return *a
	}
	return ""
}

// Balance returns the account's balance.
func (c *Client) Balance(ctx context.Context) (ledger.Int128, error) {
	raw, err := c.call(ctx, methodGetBalance)
	if err != nil {
		return ledger.Int128{}, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ledger.Int128{}, fmt.Errorf("trustline: balance %.50q: %w", raw, ledger.ErrUnreachable)
	}
	v, err := ledger.ParseInt128(s)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("trustline: balance %q: %w: %w", s, ledger.ErrUnreachable, err)
	}
	return v, nil
}

// Fulfillment returns the fulfillment of an executed transfer.
func (c *Client) Fulfillment(ctx context.Context, transferID string) (ilp.Fulfillment, error) {
	return c.fulfillment(ctx, nil, transferID)
}

func (c *Client) fulfillment(ctx context.Context, s *session, id string) (ilp.Fulfillment, error) {
	var raw json.RawMessage
	var err error
	if s != nil {
		raw, err = s.call(ctx, methodGetFulfillment, id)
	} else {
		raw, err = c.call(ctx, methodGetFulfillment, id)
	}
	if err != nil {
		return ilp.Fulfillment{}, err
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("trustline: fulfillment %.60q: %w", raw, ledger.ErrUnreachable)
	}
	f, err := ilp.ParseFulfillment(str)
	if err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("trustline: fulfillment %q: %w: %w", str, ledger.ErrUnreachable, err)
	}
	return f, nil
}

// SendTransfer sends a transfer from the account.
func (c *Client) SendTransfer(ctx context.Context, t ledger.Transfer) error {
	_, err := c.call(ctx, methodSendTransfer, t)
	if t.Conditional() && t.ID != "" && (err == nil || (errors.Is(err, ledger.ErrUnreachable) && !errors.Is(err, ledger.ErrNotConnected))) {
		// The server may have it even if the answer was lost.
		if t.Ledger == "" {
			t.Ledger = c.Info().Prefix
		}
		if t.From == "" {
			t.From = c.Account()
		}
		c.q.watch(t)
	}
	return err
}

// SendRequest sends a request from the account and returns the response.
func (c *Client) SendRequest(ctx context.Context, m ledger.Message) (ledger.Message, error) {
	raw, err := c.call(ctx, methodSendRequest, m)
	if err != nil {
		return ledger.Message{}, err
	}
	var resp ledger.Message
	if err := json.Unmarshal(raw, &resp); err != nil {
		return ledger.Message{}, fmt.Errorf("trustline: response: %w: %w", ledger.ErrUnreachable, err)
	}
	return resp, nil
}

// FulfillCondition fulfills a transfer prepared to the account.
func (c *Client) FulfillCondition(ctx context.Context, transferID string, f ilp.Fulfillment) error {
	_, err := c.call(ctx, methodFulfillCondition, transferID, f.String())
	return err
}

// RejectIncomingTransfer rejects a transfer prepared to the account.
func (c *Client) RejectIncomingTransfer(ctx context.Context, transferID string, reason ledger.Rejection) error {
	_, err := c.call(ctx, methodRejectIncoming, transferID, reason)
	return err
}

// RegisterRequestHandler sets the handler of requests to the account and
// tells the server, when connected, to forward them.
func (c *Client) RegisterRequestHandler(h ledger.RequestHandler) error {
	if h == nil {
		return ledger.NewError(ledger.ErrInvalidFields, "nil request handler")
	}
	if !c.handler.CompareAndSwap(nil, &h) {
		return ledger.NewError(ledger.ErrRequestHandlerAlreadyRegistered, "a request handler is already registered")
	}
	if s := c.sess.Load(); s != nil {
		c.syncHandler(s)
	}
	return nil
}

// DeregisterRequestHandler removes the request handler and tells the
// server, when connected, to stop forwarding requests.
func (c *Client) DeregisterRequestHandler() {
	if c.handler.Swap(nil) == nil {
		return
	}
	if s := c.sess.Load(); s != nil {
		c.syncHandler(s)
	}
}

// syncHandler tells the server on s whether the client answers requests,
// when that changed. A failure is logged; the next connection tells again.
func (c *Client) syncHandler(s *session) {
	s.handlerMu.Lock()
	defer s.handlerMu.Unlock()
	want := c.handler.Load() != nil
	if want == s.handlerOn {
		return
	}
	method := methodRegisterHandler
	if !want {
		method = methodDeregisterHandler
	}
	ctx, cancel := context.WithTimeout(s.ctx, c.callTimeout)
	defer cancel()
	if _, err := s.call(ctx, method); err != nil {
		c.log.Info("trustline: telling the server about the request handler", "method", method, "err", err)
		return
	}
	s.handlerOn = want
}

// Subscribe adds an event handler.
func (c *Client) Subscribe(h ledger.EventHandler) func() { return c.emitter.Subscribe(h) }

// call makes one call on the live connection.
func (c *Client) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	s := c.sess.Load()
	if s == nil {
		if c.running.Load() {
			return nil, ledger.NewError(ledger.ErrNotConnected, "the connection to the server is down; reconnecting")
		}
		return nil, ledger.ErrNotConnected
	}
	return s.call(ctx, method, params...)
}

// dial opens a connection, reads the ledger info and registers the request
// handler if there is one. The connection is not yet active.
func (c *Client) dial(ctx context.Context) (*session, error) {
	ws, resp, err := websocket.Dial(ctx, c.wsURL, &websocket.DialOptions{HTTPClient: c.httpc, HTTPHeader: c.header})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, ErrUnauthorized
		}
		return nil, fmt.Errorf("trustline: %w: %w", ledger.ErrUnreachable, err)
	}
	ws.SetReadLimit(c.maxFrame)
	s := &session{c: c, ws: ws, readerDone: make(chan struct{}), writerDone: make(chan struct{}),
		wwake: make(chan struct{}, 1), batch: batchLimit(resp.Header.Get(headerBatch)), names: make(interner),
		waiting: make(map[uint64]chan *frame)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.readLoop()
	go s.writer()
	go s.pinger()
	raw, err := s.call(ctx, methodGetInfo)
	if err == nil {
		var info ledger.LedgerInfo
		var acct string
		if info, acct, err = parseInfo(raw); err == nil {
			c.info.Store(&info)
			c.account.Store(&acct)
		} else {
			err = fmt.Errorf("trustline: get_info: %w: %w", ledger.ErrUnreachable, err)
		}
	}
	if err == nil && c.handler.Load() != nil {
		if _, err = s.call(ctx, methodRegisterHandler); err == nil {
			s.handlerOn = true
		}
	}
	if err != nil {
		s.shutdown()
		return nil, err
	}
	return s, nil
}

// activate makes s the live connection: it emits EventConnect, then the
// events s received meanwhile, then reconciles the pending transfers.
func (c *Client) activate(r *runState, s *session) {
	s.mu.Lock()
	c.q.pushConnect(c.Info())
	for _, ev := range s.held {
		c.q.offer(ev)
	}
	s.held, s.ready = nil, true
	s.mu.Unlock()
	c.sess.Store(s)
	r.bg.Go(func() {
		c.syncHandler(s) // a handler (de)registered while connecting
		c.reconcile(s)
	})
}

// supervise watches the live connection and reconnects when it drops,
// until Disconnect.
func (c *Client) supervise(r *runState, s *session) {
	defer close(r.done)
	for {
		select {
		case <-r.ctx.Done():
			c.sess.CompareAndSwap(s, nil)
			s.shutdown()
			return
		case <-s.ctx.Done():
		}
		<-s.readerDone
		c.sess.CompareAndSwap(s, nil)
		s.shutdown()
		if r.ctx.Err() != nil {
			return
		}
		c.q.pushDisconnect()
		c.log.Info("trustline: connection lost, reconnecting", "url", c.wsURL)
		backoff := c.minBackoff
		for {
			if !sleep(r.ctx, jitter(backoff)) {
				return
			}
			dctx, cancel := context.WithTimeout(r.ctx, c.callTimeout)
			next, err := c.dial(dctx)
			cancel()
			if err == nil {
				s = next
				break
			}
			c.log.Info("trustline: reconnecting failed", "url", c.wsURL, "err", err)
			backoff = min(2*backoff, c.maxBackoff)
		}
		if r.ctx.Err() != nil {
			c.sess.CompareAndSwap(s, nil)
			s.shutdown()
			return
		}
		c.activate(r, s)
		c.log.Info("trustline: reconnected", "url", c.wsURL)
	}
}

// reconcile asks the server about the transfers still pending in memory
// and emits the final events the client missed.
func (c *Client) reconcile(s *session) {
	for _, p := range c.q.pendingList() {
		ctx, cancel := context.WithTimeout(s.ctx, c.callTimeout)
		f, err := c.fulfillment(ctx, s, p.t.ID)
		cancel()
		if !p.emitted && (err == nil || errors.Is(err, ledger.ErrAlreadyRolledBack) || errors.Is(err, ledger.ErrMissingFulfillment)) {
			// A transfer the client sent whose prepare event it missed.
			c.q.offer(ledger.Event{Kind: ledger.EventOutgoingPrepare, Transfer: p.t})
		}
		ev := ledger.Event{Transfer: p.t}
		switch {
		case err == nil:
			ev.Kind, ev.Fulfillment = ledger.EventOutgoingFulfill, f
			if p.incoming {
				ev.Kind = ledger.EventIncomingFulfill
			}
		case errors.Is(err, ledger.ErrAlreadyRolledBack):
			if !c.clock.Now().Before(p.t.ExpiresAt) {
				ev.Kind, ev.Rejection = ledger.EventOutgoingCancel, ledger.Timeout(c.Info().Prefix, p.t.ExpiresAt)
				if p.incoming {
					ev.Kind = ledger.EventIncomingCancel
				}
			} else {
				ev.Kind = ledger.EventOutgoingReject
				ev.Rejection = ledger.NewRejection(ilp.CodeInternalError, c.Info().Prefix, "rejected while the client was disconnected; the reason is lost", c.clock.Now())
				if p.incoming {
					ev.Kind = ledger.EventIncomingReject
				}
			}
		case errors.Is(err, ledger.ErrTransferNotFound):
			c.q.forget(p.t.ID)
			continue
		case errors.Is(err, ledger.ErrMissingFulfillment):
			continue
		default:
			if s.ctx.Err() == nil {
				c.log.Info("trustline: reconciling a pending transfer", "transfer", p.t.ID, "err", err)
			}
			return
		}
		c.q.offer(ev)
	}
}

// emitLoop delivers the queued events in order until Disconnect.
func (c *Client) emitLoop(r *runState) {
	defer close(r.emitDone)
	var evs []ledger.Event
	for {
		evs = c.q.take(evs)
		for i := range evs {
			c.emitter.Emit(&evs[i])
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-c.q.wake:
		case <-r.stopEmit:
			evs = c.q.take(evs)
			for i := range evs {
				c.emitter.Emit(&evs[i])
			}
			return
		}
	}
}

// jitter returns a wait between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// wait waits for done or ctx.
func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("trustline: disconnecting: %w", ctx.Err())
	}
}
