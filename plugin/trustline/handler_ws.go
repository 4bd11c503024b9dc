package trustline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ledger"
)

// wsConn is one client's WebSocket: a view of its account, a reader (the
// goroutine of ServeHTTP), a writer and a pinger goroutine, and one
// goroutine per call in progress.
type wsConn struct {
	h       *Handler
	ws      *websocket.Conn
	view    ledger.Plugin
	account string
	log     *slog.Logger
	ctx     context.Context // ends the connection when cancelled
	cancel  context.CancelFunc
	out     chan []byte // messages for the writer, bounded
	batch   int         // the largest batch frame the client reads; 0: no batches
	tasks   chan call   // calls for an idle call goroutine

	calls    sync.WaitGroup // call goroutines (each serves calls until the connection ends)
	inFlight atomic.Int64
	closing  atomic.Pointer[closeCode] // why the handler ends the connection
	closer   sync.WaitGroup            // the goroutine of end

	mu       sync.Mutex
	nextID   uint64
	waiting  map[uint64]chan *frame // server-to-client calls waiting for their reply
	finished bool                   // teardown has begun waiting for the closer
}

func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request) {
	name, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.conns.Add(1)
	}
	h.mu.Unlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, wireError{Name: ledger.NameUnreachable, Message: "shutting down"})
		return
	}
	defer h.conns.Done()
	v, ok := h.view(w, name)
	if !ok {
		return
	}
	w.Header().Set(headerBatch, strconv.FormatInt(h.maxBody, 10))
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.origins})
	if err != nil {
		h.log.Debug("trustline: websocket handshake failed", "account", name, "err", err)
		return // Accept wrote the response
	}
	ws.SetReadLimit(h.maxBody)
	c := &wsConn{h: h, ws: ws, view: v, account: name, log: h.log.With("account", name),
		out: make(chan []byte, h.queue), batch: batchLimit(r.Header.Get(headerBatch)),
		tasks: make(chan call), waiting: make(map[uint64]chan *frame)}
	c.ctx, c.cancel = context.WithCancel(h.ctx)
	h.mu.Lock()
	h.live[c] = struct{}{}
	h.mu.Unlock()
	c.run()
	h.mu.Lock()
	delete(h.live, c)
	h.mu.Unlock()
}

// run serves the connection until it ends, then leaves nothing behind: the
// view disconnected, its subscription and request handler removed, every
// goroutine ended.
func (c *wsConn) run() {
	defer c.cancel()
	unsubscribe := c.view.Subscribe(c.onEvent)
	cctx, ccancel := context.WithTimeout(c.ctx, c.h.timeout)
	err := c.view.Connect(cctx)
	ccancel()
	if err != nil {
		unsubscribe()
		c.log.Error("trustline: connecting a view", "err", err)
		_ = c.ws.Close(websocket.StatusTryAgainLater, "account unavailable")
		return
	}

	var bg sync.WaitGroup
	bg.Go(c.writer)
	bg.Go(c.pinger)
	c.repush()
	c.readLoop()

	// Teardown: stop everything, then disconnect the view.
	c.cancel()
	c.calls.Wait()
	c.view.DeregisterRequestHandler()
	unsubscribe()
	bg.Wait()
	c.failWaiting()
	dctx, dcancel := context.WithTimeout(context.Background(), c.h.timeout)
	if err := c.view.Disconnect(dctx); err != nil {
		c.log.Error("trustline: disconnecting a view", "err", err)
	}
	dcancel()
	c.mu.Lock()
	c.finished = true
	c.mu.Unlock()
	c.closer.Wait()
	_ = c.ws.CloseNow()
}

// end closes the connection with code and reason: the close handshake
// runs in a goroutine of its own (at most a few seconds with a peer that
// does not answer), then the connection ends.
func (c *wsConn) end(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || !c.closing.CompareAndSwap(nil, &closeCode{code: code, reason: reason}) {
		return
	}
	c.closer.Go(func() {
		_ = c.ws.Close(code, reason)
		c.cancel()
	})
}

// repush sends incoming_prepare for every transfer still prepared to the
// account, when the view can list them.
func (c *wsConn) repush() {
	pl, ok := c.view.(PreparedLister)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.h.timeout)
	defer cancel()
	ts, err := pl.PreparedIncoming(ctx)
	if err != nil {
		c.log.Error("trustline: listing prepared transfers", "err", err)
		return
	}
	for _, t := range ts {
		if b, ok := encodeEvent(ledger.Event{Kind: ledger.EventIncomingPrepare, Transfer: t}); ok {
			c.enqueue(b)
		}
	}
}

// onEvent forwards an event of the view. It never blocks: a full queue
// ends the connection.
func (c *wsConn) onEvent(ev ledger.Event) {
	if b, ok := encodeEvent(ev); ok {
		c.enqueue(b)
	}
}

// enqueue hands a frame to the writer, or ends the connection when the
// queue is full. It reports whether the frame was queued.
func (c *wsConn) enqueue(b []byte) bool {
	if c.ctx.Err() != nil {
		return false
	}
	select {
	case c.out <- b:
		return true
	default:
		c.log.Warn("trustline: websocket queue full, closing", "size", cap(c.out))
		c.end(websocket.StatusTryAgainLater, "outbound queue full")
		return false
	}
}

// writer writes the queued messages in order. When several are queued
// and the client reads batches, it writes as many as fit in one frame, a
// JSON array of them.
func (c *wsConn) writer() {
	var buf []byte
	var next []byte // a message taken that did not fit in the last frame
	for {
		b := next
		next = nil
		if b == nil {
			select {
			case <-c.ctx.Done():
				return
			case b = <-c.out:
			}
		}
		msg := b
		if c.batch > 0 {
			runtime.Gosched() // let the goroutines that are about to write queue their messages too
		}
		if c.batch > 0 && len(c.out) > 0 {
			buf = append(append(buf[:0], '['), b...)
		fill:
			for {
				select {
				case m := <-c.out:
					if len(buf)+len(m)+2 > c.batch {
						next = m
						break fill
					}
					buf = append(append(buf, ','), m...)
				default:
					break fill
				}
			}
			if len(buf) > 1+len(b) {
				msg = append(buf, ']')
			}
		}
		wctx, cancel := context.WithTimeout(c.ctx, c.h.timeout)
		err := c.ws.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			if c.ctx.Err() == nil {
				c.log.Debug("trustline: websocket write failed", "err", err)
			}
			c.cancel()
			return
		}
	}
}

func (c *wsConn) pinger() {
	t := time.NewTicker(c.h.ping)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(c.ctx, c.h.ping)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				if c.ctx.Err() == nil {
					c.log.Info("trustline: websocket ping failed, closing", "err", err)
				}
				c.cancel()
				return
			}
		}
	}
}

// readLoop reads frames until the connection ends.
func (c *wsConn) readLoop() {
	var buf []byte
	for {
		typ, data, err := readMessage(c.ctx, c.ws, &buf)
		if err != nil {
			if c.ctx.Err() == nil {
				c.log.Debug("trustline: websocket closed", "err", err)
			}
			return
		}
		if typ != websocket.MessageText {
			c.end(websocket.StatusUnsupportedData, "text frames only")
			continue // the reader takes the peer's close frame
		}
		if !isBatch(data) {
			c.handleFrame(data)
			continue
		}
		items, err := parseBatch(data)
		if err != nil {
			c.enqueue(errorFrame(nil, ledger.NewError(ledger.ErrInvalidFields, "frame is not a JSON array of messages of the wire interface")))
			continue
		}
		for i := range items {
			c.handleMessage(&items[i].f, items[i].err)
		}
	}
}

// errorFrame returns the reply to call id with err.
func errorFrame(id json.RawMessage, err error) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	e := toWire(err)
	return mustJSON(frame{ID: id, Error: &e})
}

// call is a call of the client in progress.
type call struct {
	id     json.RawMessage
	method string
	params []json.RawMessage
}

// handleFrame handles one message of the client.
func (c *wsConn) handleFrame(data []byte) {
	var f frame
	err := parseFrame(data, &f)
	c.handleMessage(&f, err)
}

// handleMessage handles one message of the client, parsed (err is the
// failure to parse it).
func (c *wsConn) handleMessage(fp *frame, err error) {
	if err != nil {
		c.enqueue(errorFrame(nil, ledger.NewError(ledger.ErrInvalidFields, "frame is not a JSON object of the wire interface")))
		return
	}
	f := *fp
	switch {
	case f.Method != "":
		if len(f.ID) == 0 {
			c.enqueue(errorFrame(nil, ledger.Errorf(ledger.ErrInvalidFields, "call of %s without an id", f.Method)))
			return
		}
		if err := checkCall(f.Method, f.Params); err != nil {
			c.enqueue(errorFrame(f.ID, err))
			return
		}
		if c.inFlight.Add(1) > int64(c.h.maxCalls) {
			c.inFlight.Add(-1)
			c.enqueue(errorFrame(f.ID, ledger.NewError(ledger.ErrUnreachable, "too many calls in progress")))
			return
		}
		k := call{id: f.ID, method: f.Method, params: f.Params}
		select {
		case c.tasks <- k: // an idle call goroutine takes it
		default:
			c.calls.Go(func() { c.serveCalls(k) })
		}
	case f.Event != "":
		c.enqueue(errorFrame(nil, ledger.NewError(ledger.ErrInvalidFields, "clients do not send events")))
	case len(f.ID) > 0:
		id, ok := callID(f.ID)
		if !ok {
			return
		}
		c.mu.Lock()
		ch := c.waiting[id]
		delete(c.waiting, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- &f
		}
	default:
		c.enqueue(errorFrame(nil, ledger.NewError(ledger.ErrInvalidFields, "frame is neither a call nor a reply")))
	}
}

// serveCalls runs call k, then the calls handed to it while it is idle,
// until the connection ends: a connection keeps the goroutines its
// busiest moment needed (at most HandlerOptions.MaxCalls).
func (c *wsConn) serveCalls(k call) {
	for {
		c.runCall(k)
		select {
		case k = <-c.tasks:
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *wsConn) runCall(k call) {
	defer c.inFlight.Add(-1)
	ctx, cancel := context.WithTimeout(c.ctx, c.h.timeout)
	defer cancel()
	result, err := c.h.dispatch(ctx, c.view, k.method, k.params, c)
	if err != nil {
		c.h.logCall(c.account, k.method, err)
		c.enqueue(errorFrame(k.id, err))
		return
	}
	c.enqueue(resultFrame(k.id, result))
}

// failWaiting ends the server-to-client calls still waiting.
func (c *wsConn) failWaiting() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
}

// forward is the request handler registered on the view for a client that
// answers requests: it calls send_request on the client and waits for its
// answer, as long as ctx, the request timeout and the connection allow.
func (c *wsConn) forward(ctx context.Context, req ledger.Message) (ledger.Message, error) {
	ch := make(chan *frame, 1)
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		return ledger.Message{}, ledger.NewError(ledger.ErrUnreachable, "the client is gone")
	}
	c.nextID++
	id := c.nextID
	c.waiting[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
	}()
	rb, err := req.MarshalJSON()
	if err != nil {
		return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "the request cannot be encoded")
	}
	b := callFrame(id, methodSendRequest, []json.RawMessage{rb})
	if !c.enqueue(b) {
		return ledger.Message{}, ledger.NewError(ledger.ErrUnreachable, "the client is gone")
	}
	tctx, cancel := context.WithTimeout(ctx, c.h.timeout)
	defer cancel()
	select {
	case f, ok := <-ch:
		if !ok {
			return ledger.Message{}, ledger.NewError(ledger.ErrUnreachable, "the client went away")
		}
		if f.Error != nil {
			return ledger.Message{}, fromWire(f.Error)
		}
		var resp ledger.Message
		if err := json.Unmarshal(f.Result, &resp); err != nil {
			return ledger.Message{}, fmt.Errorf("trustline: the client answered a request with %.100q: %w", f.Result, ledger.ErrInvalidFields)
		}
		return resp, nil
	case <-tctx.Done():
		return ledger.Message{}, fmt.Errorf("trustline: the client did not answer request %q: %w", req.ID, tctx.Err())
	case <-c.ctx.Done():
		return ledger.Message{}, ledger.NewError(ledger.ErrUnreachable, "the client went away")
	}
}
