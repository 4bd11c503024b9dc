package trustline

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ledger"
)

// session is one WebSocket connection of a Client.
type session struct {
	c          *Client
	ws         *websocket.Conn
	ctx        context.Context // cancelled when the connection ends
	cancel     context.CancelFunc
	readerDone chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	batch      int      // the largest batch frame the server reads; 0: no batches
	names      interner // of the reader

	wmu   sync.Mutex
	wq    [][]byte      // messages for the writer
	wwake chan struct{} // the writer has messages

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan *frame
	ready   bool           // events go to the client's queue
	held    []ledger.Event // events received before the connection was active

	handlerMu sync.Mutex // serialises syncHandler
	handlerOn bool       // the server forwards requests on this connection
}

// shutdown closes the connection and waits for its reader.
func (s *session) shutdown() {
	s.closeOnce.Do(func() {
		if s.ctx.Err() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			go func() {
				<-ctx.Done()
				_ = s.ws.CloseNow()
			}()
			_ = s.ws.Close(websocket.StatusNormalClosure, "")
			cancel()
		}
		s.cancel()
		_ = s.ws.CloseNow()
	})
	<-s.readerDone
	<-s.writerDone
}

// fail ends the connection after an error and fails the calls waiting.
func (s *session) fail() {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ch := range s.waiting {
		close(ch)
		delete(s.waiting, id)
	}
}

// send queues message b for the writer.
func (s *session) send(b []byte) {
	s.wmu.Lock()
	s.wq = append(s.wq, b)
	s.wmu.Unlock()
	select {
	case s.wwake <- struct{}{}:
	default:
	}
}

// writer writes the queued messages in order, each write bounded by the
// call timeout and the connection (a caller's context does not cut a write
// short: that would end the connection for every call). When several are
// queued and the server reads batches, it writes as many as fit in one
// frame, a JSON array of them. A failed write ends the connection.
func (s *session) writer() {
	defer close(s.writerDone)
	var buf []byte
	var spare [][]byte
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wwake:
		}
		runtime.Gosched() // let the goroutines that are about to write queue their messages too
		s.wmu.Lock()
		all := s.wq
		s.wq = spare
		s.wmu.Unlock()
		for q := all; len(q) > 0; {
			msg, n := q[0], 1
			if s.batch > 0 && len(q) > 1 {
				buf = append(append(buf[:0], '['), q[0]...)
				for n < len(q) && len(buf)+len(q[n])+2 <= s.batch {
					buf = append(append(buf, ','), q[n]...)
					n++
				}
				if n > 1 {
					msg = append(buf, ']')
				}
			}
			ctx, cancel := context.WithTimeout(s.ctx, s.c.callTimeout)
			err := s.ws.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil {
					s.c.log.Info("trustline: writing to the server failed, dropping the connection", "err", err)
				}
				s.cancel()
				return
			}
			q = q[n:]
		}
		clear(all)
		spare = all[:0]
	}
}

// call makes one call and waits for its reply, ctx, the call timeout (for
// a call whose ctx has no deadline, or any call but send_request) or the
// end of the connection.
func (s *session) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	n := 40 + len(method)
	ps := make([][]byte, len(params))
	for i, p := range params {
		b, err := encodeParam(p)
		if err != nil {
			return nil, ledger.Errorf(ledger.ErrInvalidFields, "%s: parameter %d cannot be encoded as JSON", method, i+1)
		}
		ps[i] = b
		n += len(b) + 1
	}
	if _, has := ctx.Deadline(); method != methodSendRequest || !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.c.callTimeout)
		defer cancel()
	}
	ch := make(chan *frame, 1)
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return nil, ledger.NewError(ledger.ErrNotConnected, "the connection to the server is down; reconnecting")
	}
	s.nextID++
	id := s.nextID
	s.waiting[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, id)
		s.mu.Unlock()
	}()
	b := appendCall(make([]byte, 0, n), id, method, ps)
	if len(b) > defaultMaxBodyBytes {
		// The server would close the connection on a frame this large.
		return nil, ledger.Errorf(ledger.ErrInvalidFields, "%s: call of %d bytes is larger than the limit of %d", method, len(b), defaultMaxBodyBytes)
	}
	s.send(b)
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, ledger.NewError(ledger.ErrUnreachable, "the connection to the server was lost during the call")
		}
		if f.Error != nil {
			return nil, fromWire(f.Error)
		}
		return f.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("trustline: %s: %w", method, ctx.Err())
	case <-s.ctx.Done():
		return nil, ledger.NewError(ledger.ErrUnreachable, "the connection to the server was lost during the call")
	}
}

func (s *session) readLoop() {
	defer close(s.readerDone)
	defer s.fail()
	var buf []byte
	for {
		typ, data, err := readMessage(s.ctx, s.ws, &buf)
		if err != nil {
			if s.ctx.Err() == nil {
				s.c.log.Debug("trustline: connection closed", "err", err)
			}
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if !isBatch(data) {
			s.handleFrame(data)
			continue
		}
		items, err := parseBatch(data)
		if err != nil {
			s.c.log.Info("trustline: unreadable frame from the server", "err", err)
			continue
		}
		for i := range items {
			s.handleMessage(&items[i].f, items[i].err)
		}
	}
}

// handleFrame handles one message from the server.
func (s *session) handleFrame(data []byte) {
	var f frame
	err := parseFrame(data, &f)
	s.handleMessage(&f, err)
}

// handleMessage handles one message from the server, parsed (err is the
// failure to parse it).
func (s *session) handleMessage(fp *frame, err error) {
	if err != nil {
		s.c.log.Info("trustline: unreadable frame from the server", "err", err)
		return
	}
	f := *fp
	switch {
	case f.Event != "":
		ev, err := decodeEvent(&f, s.names)
		if err != nil {
			s.c.log.Info("trustline: unreadable event from the server", "event", f.Event, "err", err)
			return
		}
		s.intake(ev)
	case f.Method != "":
		s.serveCall(&f)
	default:
		id, ok := callID(f.ID)
		if !ok {
			if f.Error != nil {
				s.c.log.Info("trustline: the server refused a frame", "name", f.Error.Name, "message", f.Error.Message)
			}
			return
		}
		s.mu.Lock()
		ch := s.waiting[id]
		delete(s.waiting, id)
		s.mu.Unlock()
		if ch != nil {
			ch <- &f
		}
	}
}

func (s *session) pinger() {
	t := time.NewTicker(s.c.ping)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, s.c.ping)
			err := s.ws.Ping(ctx)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil {
					s.c.log.Info("trustline: ping failed, dropping the connection", "err", err)
				}
				s.cancel()
				return
			}
		}
	}
}

// intake takes an event from the server: held until the connection is
// active, then queued (with duplicates dropped).
func (s *session) intake(ev ledger.Event) {
	if ev.Kind == ledger.EventInfoChange {
		info := ev.Info.Clone()
		s.c.info.Store(&info)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		s.held = append(s.held, ev)
		return
	}
	s.c.q.offer(ev)
}

// serveCall answers a call of the server: send_request, with the client's
// request handler, in a goroutine of its own. A failing handler's error
// becomes an error response (ledger.ErrorResponse); without a handler the
// call fails with NoSubscriptionsError.
func (s *session) serveCall(f *frame) {
	reply := func(result json.RawMessage, err error) {
		if err != nil {
			s.send(errorFrame(f.ID, err))
		} else {
			s.send(resultFrame(f.ID, result))
		}
	}
	if len(f.ID) == 0 {
		return
	}
	if f.Method != methodSendRequest || len(f.Params) != 1 {
		go reply(nil, ledger.Errorf(ledger.ErrInvalidFields, "the client answers only send_request [message], not %s", f.Method))
		return
	}
	var req ledger.Message
	if err := json.Unmarshal(f.Params[0], &req); err != nil {
		go reply(nil, ledger.NewError(ledger.ErrInvalidFields, "parameter 1 is not a message"))
		return
	}
	hp := s.c.handler.Load()
	if hp == nil {
		go reply(nil, ledger.NewError(ledger.ErrNoSubscriptions, "no request handler registered"))
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(s.ctx, s.c.callTimeout)
		defer cancel()
		resp, err := callHandler(ctx, *hp, req)
		if err != nil {
			s.c.log.Info("trustline: request handler failed", "request", req.ID, "err", err)
			if resp, err = ledger.ErrorResponse(req, s.c.Account(), err, s.c.clock.Now()); err != nil {
				reply(nil, err)
				return
			}
		}
		b, err := json.Marshal(resp)
		if err != nil {
			reply(nil, ledger.NewError(ledger.ErrInvalidFields, "the request handler's response cannot be encoded"))
			return
		}
		reply(b, nil)
	}()
}

// callHandler runs a request handler, turning a panic into an error.
func callHandler(ctx context.Context, h ledger.RequestHandler, req ledger.Message) (resp ledger.Message, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("trustline: request handler panicked: %v", v)
		}
	}()
	return h(ctx, req)
}

// eventQueue holds the events waiting for delivery and what the client
// remembers of transfers: those prepared and not yet final (pending), and
// the ids of recent final ones, so that each transfer gets one prepare and
// one final event.
type eventQueue struct {
	mu      sync.Mutex
	items   []ledger.Event
	wake    chan struct{}
	up      bool // the last connection event queued was a connect
	pending map[string]pendingTransfer
	final   map[string]struct{}
	ring    []string // the final ids in order, to forget the oldest
	next    int
}

type pendingTransfer struct {
	t        ledger.Transfer
	incoming bool
	emitted  bool // its prepare event was emitted (else it is only watched)
}

// finalMemory is how many final transfer ids the client remembers.
const finalMemory = 1 << 16

func (q *eventQueue) init() {
	q.wake = make(chan struct{}, 1)
	q.pending = make(map[string]pendingTransfer)
	q.final = make(map[string]struct{})
	q.ring = make([]string, 0, 64)
}

func (q *eventQueue) push(ev ledger.Event) {
	q.items = append(q.items, ev)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pushConnect(info ledger.LedgerInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.up = true
	q.push(ledger.Event{Kind: ledger.EventConnect, Info: info})
}

func (q *eventQueue) pushDisconnect() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.up {
		q.up = false
		q.push(ledger.Event{Kind: ledger.EventDisconnect})
	}
}

// offer queues ev unless it repeats what the client already emitted.
func (q *eventQueue) offer(ev ledger.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	id := ev.Transfer.ID
	switch {
	case ev.Kind == ledger.EventIncomingPrepare || ev.Kind == ledger.EventOutgoingPrepare:
		if _, done := q.final[id]; done {
			return
		}
		if p, seen := q.pending[id]; seen && p.emitted {
			return
		}
		q.pending[id] = pendingTransfer{t: ev.Transfer, incoming: ev.Kind.Incoming(), emitted: true}
	case ev.Kind.Final():
		if _, done := q.final[id]; done {
			return
		}
		delete(q.pending, id)
		q.markFinal(id)
	}
	q.push(ev)
}

func (q *eventQueue) markFinal(id string) {
	if len(q.ring) < finalMemory {
		q.ring = append(q.ring, id)
	} else {
		delete(q.final, q.ring[q.next])
		q.ring[q.next] = id
		q.next = (q.next + 1) % finalMemory
	}
	q.final[id] = struct{}{}
}

// watch remembers an outgoing transfer the client sent, so that it learns
// its outcome after a reconnection even if the connection dropped before
// its prepare event came.
func (q *eventQueue) watch(t ledger.Transfer) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, done := q.final[t.ID]; done {
		return
	}
	if _, seen := q.pending[t.ID]; !seen {
		q.pending[t.ID] = pendingTransfer{t: t}
	}
}

func (q *eventQueue) forget(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.pending, id)
}

func (q *eventQueue) pendingList() []pendingTransfer {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]pendingTransfer, 0, len(q.pending))
	for _, p := range q.pending {
		out = append(out, p)
	}
	return out
}

// take returns the queued events and empties the queue, which keeps spare
// (events the caller is done with) for the next ones.
func (q *eventQueue) take(spare []ledger.Event) []ledger.Event {
	clear(spare)
	if cap(spare) > 4096 {
		spare = nil // not kept after a burst
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.items
	q.items = spare[:0]
	return evs
}
