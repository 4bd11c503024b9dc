package trustline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// Accounts gives the Handler a view of one account. Each call returns a
// new ledger.Plugin with its own connection state, subscriptions and
// request handler, which refuses what its account may not do (sending from
// another account, resolving a transfer that is not incoming to it). The
// Server satisfies it.
type Accounts interface {
	Plugin(name string) (ledger.Plugin, error)
}

// TokenVerifier turns a bearer token into the name of the account it
// belongs to. An error (any error) refuses the token; an error matching
// ledger.ErrUnreachable is answered 503 instead of 401.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (account string, err error)
}

// PreparedLister is implemented by an account view that can list the
// transfers still prepared to its account. When a WebSocket opens, the
// Handler pushes incoming_prepare again for each of them, so that a client
// that was away can still fulfill them. The Server's views implement it; a
// view without it gets no re-push.
type PreparedLister interface {
	PreparedIncoming(ctx context.Context) ([]ledger.Transfer, error)
}

// HandlerOptions configure a Handler. The zero value is usable.
type HandlerOptions struct {
	// Logger receives what goes wrong; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds a POST body and a WebSocket frame from a client;
	// 1 MiB by default.
	MaxBodyBytes int64
	// RequestTimeout bounds one call and one request forwarded to a
	// WebSocket client; 30 s by default.
	RequestTimeout time.Duration
	// QueueSize is the number of frames that may wait to be written to a
	// WebSocket; a client that reads too slowly to keep it below this is
	// disconnected (it catches up when it reconnects). 1024 by default.
	QueueSize int
	// MaxCalls bounds the calls of one WebSocket in progress at once; a
	// call beyond it is refused with UnreachableError. 1024 by default.
	MaxCalls int
	// PingInterval is the time between keepalive pings on a WebSocket;
	// 30 s by default. A ping unanswered within the interval closes it.
	PingInterval time.Duration
	// OriginPatterns are the browser origins (other than the handler's
	// own host) allowed to open a WebSocket; see websocket.AcceptOptions.
	OriginPatterns []string
}

// Handler serves the wire interface of a Server: POST <base>/rpc and GET
// <base>/ws (see the package doc). It matches the last element of the
// path, so it can be mounted under any prefix without stripping it. Close
// ends its WebSockets.
type Handler struct {
	accounts Accounts
	tokens   TokenVerifier
	log      *slog.Logger
	maxBody  int64
	timeout  time.Duration
	queue    int
	maxCalls int
	ping     time.Duration
	origins  []string

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	live   map[*wsConn]struct{}
	conns  sync.WaitGroup
}

// NewHandler returns the Handler of the wire interface over accounts,
// authenticating clients with tokens.
func NewHandler(accounts Accounts, tokens TokenVerifier, opts HandlerOptions) *Handler {
	h := &Handler{accounts: accounts, tokens: tokens, log: opts.Logger, maxBody: opts.MaxBodyBytes,
		timeout: opts.RequestTimeout, queue: opts.QueueSize, maxCalls: opts.MaxCalls, ping: opts.PingInterval,
		origins: opts.OriginPatterns}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxBodyBytes
	}
	if h.timeout <= 0 {
		h.timeout = 30 * time.Second
	}
	if h.queue <= 0 {
		h.queue = 1024
	}
	if h.maxCalls <= 0 {
		h.maxCalls = 1024
	}
	if h.ping <= 0 {
		h.ping = 30 * time.Second
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.live = make(map[*wsConn]struct{})
	return h
}

// Close closes every WebSocket of the handler (with 1001, going away) and
// refuses new ones, and waits until their goroutines have ended or ctx is
// done, when it cuts the remaining ones off. HTTP calls in progress are
// left to the http.Server.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	live := make([]*wsConn, 0, len(h.live))
	for c := range h.live {
		live = append(live, c)
	}
	h.mu.Unlock()
	for _, c := range live {
		c.end(websocket.StatusGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		h.conns.Wait()
		close(done)
	}()
	defer h.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done
		return ctx.Err()
	}
}

// ServeHTTP dispatches on the last element of the path: "rpc" or "ws".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(path, "/rpc") || path == "rpc":
		h.serveRPC(w, r)
	case strings.HasSuffix(path, "/ws") || path == "ws":
		h.serveWS(w, r)
	default:
		writeError(w, http.StatusNotFound, wireError{Name: ledger.NameGeneric, Message: "no such endpoint: use <base>/rpc or <base>/ws"})
	}
}

// authenticate returns the account of the request's bearer token, or
// writes the refusal and returns false.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		writeError(w, http.StatusUnauthorized, wireError{Name: nameUnauthorized, Message: messageUnauthorized})
		return "", false
	}
	name, err := h.tokens.VerifyToken(r.Context(), token)
	if err != nil || name == "" {
		if errors.Is(err, ledger.ErrUnreachable) {
			h.log.Error("trustline: verifying a token", "err", err)
			writeError(w, http.StatusServiceUnavailable, wireError{Name: ledger.NameUnreachable, Message: "cannot verify the token now"})
			return "", false
		}
		h.log.Debug("trustline: token refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusUnauthorized, wireError{Name: nameUnauthorized, Message: messageUnauthorized})
		return "", false
	}
	return name, true
}

// view returns a new view of account name, or writes the error.
func (h *Handler) view(w http.ResponseWriter, name string) (ledger.Plugin, bool) {
	v, err := h.accounts.Plugin(name)
	if err != nil {
		h.log.Info("trustline: no view of an authenticated account", "account", name, "err", err)
		writeError(w, statusOf(err), toWire(err))
		return nil, false
	}
	return v, true
}

func (h *Handler) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, wireError{Name: ledger.NameGeneric, Message: "use POST"})
		return
	}
	name, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, wireError{Name: ledger.NameInvalidFields, Message: "request body larger than the limit"})
			return
		}
		writeError(w, http.StatusBadRequest, wireError{Name: ledger.NameInvalidFields, Message: "unreadable request body"})
		return
	}
	method := r.URL.Query().Get("method")
	var params []json.RawMessage
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &params); err != nil {
			writeError(w, http.StatusBadRequest, wireError{Name: ledger.NameInvalidFields, Message: "body is not a JSON array of parameters"})
			return
		}
	}
	if err := checkCall(method, params); err != nil {
		writeError(w, statusOf(err), toWire(err))
		return
	}
	if wsOnly(method) {
		writeError(w, http.StatusBadRequest, wireError{Name: ledger.NameInvalidFields, Message: method + " is a WebSocket call"})
		return
	}
	v, ok := h.view(w, name)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	if err := v.Connect(ctx); err != nil {
		h.log.Error("trustline: connecting a view", "account", name, "err", err)
		writeError(w, http.StatusServiceUnavailable, wireError{Name: ledger.NameUnreachable, Message: "account unavailable"})
		return
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
		defer dcancel()
		if err := v.Disconnect(dctx); err != nil {
			h.log.Error("trustline: disconnecting a view", "account", name, "err", err)
		}
	}()
	result, err := h.dispatch(ctx, v, method, params, nil)
	if err != nil {
		h.logCall(name, method, err)
		writeError(w, statusOf(err), toWire(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(result)
}

// logCall logs a refused call: a plain refusal at debug level, an
// unexpected failure as an error.
func (h *Handler) logCall(account, method string, err error) {
	if ledger.ErrorName(err) == ledger.NameGeneric && !errors.Is(err, errNoSuchMethod) {
		h.log.Error("trustline: call failed", "account", account, "method", method, "err", err)
		return
	}
	h.log.Debug("trustline: call refused", "account", account, "method", method, "err", err)
}

// checkCall refuses an unknown method or a wrong number of parameters.
func checkCall(method string, params []json.RawMessage) error {
	n, ok := paramCount[method]
	if !ok {
		return ledger.Errorf(errNoSuchMethodError{}, "no such method %q", method)
	}
	if len(params) != n {
		return ledger.Errorf(ledger.ErrInvalidFields, "%s takes %d parameters, not %d", method, n, len(params))
	}
	return nil
}

// errNoSuchMethodError is the sentinel of an unknown method: an
// InvalidFieldsError that also matches errNoSuchMethod (status 404).
type errNoSuchMethodError struct{}

func (errNoSuchMethodError) Error() string { return errNoSuchMethod.Error() }
func (errNoSuchMethodError) Is(target error) bool {
	return target == errNoSuchMethod || target == ledger.ErrInvalidFields
}

var jsonTrue = json.RawMessage("true")

// dispatch runs one checked call on view v; ws is the WebSocket it came
// on, nil for a POST.
func (h *Handler) dispatch(ctx context.Context, v ledger.Plugin, method string, params []json.RawMessage, ws *wsConn) (json.RawMessage, error) {
	switch method {
	case methodGetInfo:
		return infoJSON(v.Info(), v.Account())
	case methodGetBalance:
		b, err := v.Balance(ctx)
		if err != nil {
			return nil, err
		}
		return mustJSON(b.String()), nil
	case methodGetLimit:
		info := v.Info()
		return mustJSON(limitJSON{Minimum: boundString(info.MinBalance), Maximum: boundString(info.MaxBalance)}), nil
	case methodSendTransfer:
		var t ledger.Transfer
		if !fastTransfer(params[0], &t, nil) {
			if err := decodeParam(params, 0, &t, "a transfer object"); err != nil {
				return nil, err
			}
		}
		return jsonTrue, v.SendTransfer(ctx, t)
	case methodSendRequest:
		var m ledger.Message
		if err := decodeParam(params, 0, &m, "a message object"); err != nil {
			return nil, err
		}
		resp, err := v.SendRequest(ctx, m)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(resp)
		if err != nil {
			return nil, fmt.Errorf("trustline: encoding the response to request %q: %w", m.ID, err)
		}
		return b, nil
	case methodFulfillCondition:
		id, ok := plainParam(params, 0)
		if !ok {
			if err := decodeParam(params, 0, &id, "a transfer id string"); err != nil {
				return nil, err
			}
		}
		fs, ok := plainParam(params, 1)
		if !ok {
			if err := decodeParam(params, 1, &fs, "a fulfillment string"); err != nil {
				return nil, err
			}
		}
		f, err := ilp.ParseFulfillment(fs)
		if err != nil {
			return nil, ledger.NewError(ledger.ErrInvalidFields, "parameter 2 is not a fulfillment (43 characters of base64url)")
		}
		return jsonTrue, v.FulfillCondition(ctx, id, f)
	case methodRejectIncoming:
		var id string
		if err := decodeParam(params, 0, &id, "a transfer id string"); err != nil {
			return nil, err
		}
		if !ledger.IsJSONObject(params[1]) {
			return nil, ledger.NewError(ledger.ErrInvalidFields, "parameter 2 is not a rejection object")
		}
		var reason ledger.Rejection
		if err := decodeParam(params, 1, &reason, "a rejection object"); err != nil {
			return nil, err
		}
		return jsonTrue, v.RejectIncomingTransfer(ctx, id, reason)
	case methodExpireTransfer:
		// The server expires transfers itself; a client's expire_transfer
		// only confirms that the transfer is gone.
		var id string
		if err := decodeParam(params, 0, &id, "a transfer id string"); err != nil {
			return nil, err
		}
		_, err := v.Fulfillment(ctx, id)
		switch {
		case errors.Is(err, ledger.ErrAlreadyRolledBack):
			return jsonTrue, nil
		case errors.Is(err, ledger.ErrMissingFulfillment):
			return nil, ledger.Errorf(ledger.ErrNotAccepted, "transfer %q has not expired", id)
		case err == nil:
			return nil, ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is fulfilled", id)
		}
		return nil, err
	case methodGetFulfillment:
		var id string
		if err := decodeParam(params, 0, &id, "a transfer id string"); err != nil {
			return nil, err
		}
		f, err := v.Fulfillment(ctx, id)
		if err != nil {
			return nil, err
		}
		return mustJSON(f.String()), nil
	case methodRegisterHandler:
		if err := v.RegisterRequestHandler(ws.forward); err != nil && !errors.Is(err, ledger.ErrRequestHandlerAlreadyRegistered) {
			return nil, err
		}
		return jsonTrue, nil
	case methodDeregisterHandler:
		v.DeregisterRequestHandler()
		return jsonTrue, nil
	}
	return nil, ledger.Errorf(errNoSuchMethodError{}, "no such method %q", method)
}

func writeError(w http.ResponseWriter, status int, e wireError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(e))
}

// closeCode is how the Handler ends a WebSocket for a reason of its own.
type closeCode struct {
	code   websocket.StatusCode
	reason string
}
