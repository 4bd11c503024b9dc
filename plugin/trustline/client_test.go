package trustline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// events records a plugin's events.
type events struct {
	mu  sync.Mutex
	all []ledger.Event
}

func (e *events) handle(ev ledger.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) count(kind ledger.EventKind, id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == kind && ev.Transfer.ID == id {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// dialRaw opens a WebSocket with token and no client logic.
func dialRaw(tb testing.TB, k *wireKit, token string) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(k.url, "http") + "/ws"
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
}

// readFrame reads frames until one that is not an event.
func readReply(tb testing.TB, c *websocket.Conn) map[string]json.RawMessage {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			tb.Fatalf("read: %v", err)
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(b, &f); err != nil {
			tb.Fatalf("frame %q: %v", b, err)
		}
		if _, ev := f["event"]; !ev {
			return f
		}
	}
}

func wantFrameError(tb testing.TB, what string, f map[string]json.RawMessage, id, name string) {
	tb.Helper()
	var e errBody
	if err := json.Unmarshal(f["error"], &e); err != nil || string(f["id"]) != id || e.Name != name || e.Message == "" {
		tb.Fatalf("%s: reply %s, want id %s and error %s", what, mapString(f), id, name)
	}
}

func mapString(f map[string]json.RawMessage) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestWebSocketBadInput(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "alice", "bob")
	ctx := context.Background()
	issuer := k.view(t, trustline.DefaultIssuer)
	if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "fund", To: "test1.wire.alice", Amount: 100}); err != nil {
		t.Fatal(err)
	}

	for _, tok := range []string{"", "wrong"} {
		_, resp, err := dialRaw(t, k, tok)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial with token %q: %v, %v; want 401", tok, err, resp)
		}
	}
	c := k.client(t, "alice", nil)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Connect(cctx); !errors.Is(err, trustline.ErrUnauthorized) {
		// alice's token is right: this Connect must work.
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
	}
	defer c.Disconnect(ctx)
	bad, err := trustline.NewClient(trustline.ClientConfig{URL: k.url, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Connect(cctx); !errors.Is(err, trustline.ErrUnauthorized) || !errors.Is(err, ledger.ErrUnreachable) {
		t.Fatalf("Connect with a wrong token: %v, want ErrUnauthorized", err)
	}

	ws, _, err := dialRaw(t, k, tokenOf("alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	write := func(s string) {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"id":1,"method":`)
	wantFrameError(t, "malformed frame", readReply(t, ws), "null", ledger.NameInvalidFields)
	write(`{"id":2,"method":"steal_money","params":[]}`)
	wantFrameError(t, "unknown method", readReply(t, ws), "2", ledger.NameInvalidFields)
	write(`{"id":3,"method":"send_transfer","params":[42]}`)
	wantFrameError(t, "wrong parameter type", readReply(t, ws), "3", ledger.NameInvalidFields)
	write(`{"id":4,"method":"send_transfer","params":[]}`)
	wantFrameError(t, "wrong parameter count", readReply(t, ws), "4", ledger.NameInvalidFields)
	write(`{"id":5,"method":"send_transfer","params":[{"id":"x","from":"test1.wire.bob","to":"test1.wire.alice","amount":"1"}]}`)
	wantFrameError(t, "transfer from another account", readReply(t, ws), "5", ledger.NameInvalidFields)
	write(`{"id":6,"method":"send_transfer","params":[{"id":"fund","to":"test1.wire.bob","amount":"1"}]}`)
	wantFrameError(t, "replayed id", readReply(t, ws), "6", ledger.NameDuplicateID)
	write(`{"id":7,"method":"get_balance"}`)
	if f := readReply(t, ws); string(f["id"]) != "7" || string(f["result"]) != `"100"` {
		t.Fatalf("get_balance: %s", mapString(f))
	}

	// A frame over the limit closes the connection with 1009.
	big := `{"id":8,"method":"get_balance","params":["` + string(bytes.Repeat([]byte("a"), 1<<20)) + `"]}`
	_ = ws.Write(ctx, websocket.MessageText, []byte(big))
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	for {
		_, _, err := ws.Read(rctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st != websocket.StatusMessageTooBig {
				t.Fatalf("after an oversized frame: %v (status %d), want close 1009", err, st)
			}
			break
		}
	}
	for _, n := range []string{"alice", "bob"} {
		want := ledger.Int128FromInt64(0)
		if n == "alice" {
			want = ledger.Int128FromInt64(100)
		}
		if got := k.balance(t, n); got != want {
			t.Fatalf("%s: balance %s, want %s", n, got, want)
		}
	}
	// The good client was not disturbed.
	if v, err := c.Balance(ctx); err != nil || v != ledger.Int128FromInt64(100) {
		t.Fatalf("Balance: %s, %v", v, err)
	}
}

// TestQueueOverflow checks that a client that does not read is cut off
// when its queue fills, and that the handler is not held up.
func TestQueueOverflow(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{QueueSize: 4}, "alice")
	ctx := context.Background()
	ws, _, err := dialRaw(t, k, tokenOf("alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	// Make sure the view is connected before the flood.
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"id":1,"method":"get_balance"}`)); err != nil {
		t.Fatal(err)
	}
	readReply(t, ws)
	issuer := k.view(t, trustline.DefaultIssuer)
	// Large events, so that the socket buffers cannot absorb them all.
	custom := json.RawMessage(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	for i := range 200 {
		if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "flood-" + itoa(i), To: "test1.wire.alice", Amount: 1, Custom: custom}); err != nil {
			t.Fatal(err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n := 0
	for {
		_, _, err := ws.Read(rctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st != websocket.StatusTryAgainLater {
				t.Fatalf("after %d frames: %v (status %d), want close 1013", n, err, st)
			}
			break
		}
		n++
	}
	if n >= 200 {
		t.Fatalf("read all %d events through a queue of 4", n)
	}
	if got := k.balance(t, "alice"); got != ledger.Int128FromInt64(200) {
		t.Fatalf("balance %s", got)
	}
}

// TestClientReconnect drops the connections mid-payment: the clients
// come back, calls during the outage fail fast, and every payment ends
// with exactly one final event on each side.
func TestClientReconnect(t *testing.T) {
	before := runtime.NumGoroutine()
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "alice", "bob")
	ctx := context.Background()
	issuer := k.view(t, trustline.DefaultIssuer)
	if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "fund", To: "test1.wire.alice", Amount: 1000}); err != nil {
		t.Fatal(err)
	}
	newClient := func(name string) (*trustline.Client, *events) {
		c, err := trustline.NewClient(trustline.ClientConfig{URL: k.url, Token: tokenOf(name),
			MinBackoff: 150 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ev := &events{}
		c.Subscribe(ev.handle)
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		return c, ev
	}
	alice, aEv := newClient("alice")
	bob, bEv := newClient("bob")

	send := func(id string, n byte, amount uint64) ilp.Fulfillment {
		t.Helper()
		var f ilp.Fulfillment
		f[0] = n
		tr := ledger.Transfer{ID: id, To: bob.Account(), Amount: amount, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(time.Minute)}
		if err := alice.SendTransfer(ctx, tr); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "incoming_prepare "+id, func() bool { return bEv.count(ledger.EventIncomingPrepare, id) == 1 })
		return f
	}
	f1 := send("p1", 1, 10) // fulfilled while the clients are away
	f2 := send("p2", 2, 20) // still prepared when they come back
	_ = send("p3", 3, 30)   // rejected while they are away

	k.drop()
	waitFor(t, "the clients to notice", func() bool { return !alice.IsConnected() && !bob.IsConnected() })
	if _, err := alice.Balance(ctx); !errors.Is(err, ledger.ErrNotConnected) {
		t.Fatalf("Balance while reconnecting: %v, want ErrNotConnected", err)
	}
	bobView := k.view(t, "bob")
	if err := bobView.FulfillCondition(ctx, "p1", f1); err != nil {
		t.Fatal(err)
	}
	if err := bobView.RejectIncomingTransfer(ctx, "p3", ledger.NewRejection("F99", bob.Account(), "no", time.Now())); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "the clients to reconnect", func() bool { return alice.IsConnected() && bob.IsConnected() })
	waitFor(t, "the missed events", func() bool {
		return aEv.count(ledger.EventOutgoingFulfill, "p1") == 1 && bEv.count(ledger.EventIncomingFulfill, "p1") == 1 &&
			aEv.count(ledger.EventOutgoingReject, "p3") == 1 && bEv.count(ledger.EventIncomingReject, "p3") == 1
	})
	if err := bob.FulfillCondition(ctx, "p2", f2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "p2 fulfilled", func() bool {
		return aEv.count(ledger.EventOutgoingFulfill, "p2") == 1 && bEv.count(ledger.EventIncomingFulfill, "p2") == 1
	})
	// Drop once more, with nothing pending: nothing is emitted twice.
	k.drop()
	waitFor(t, "the clients to reconnect again", func() bool {
		return aEv.count(ledger.EventConnect, "") == 3 && bEv.count(ledger.EventConnect, "") == 3 && alice.IsConnected() && bob.IsConnected()
	})
	time.Sleep(50 * time.Millisecond)
	for _, id := range []string{"p1", "p2", "p3"} {
		if n := bEv.count(ledger.EventIncomingPrepare, id); n != 1 {
			t.Fatalf("%d incoming_prepare events for %s", n, id)
		}
		if n := aEv.count(ledger.EventOutgoingPrepare, id); n != 1 {
			t.Fatalf("%d outgoing_prepare events for %s", n, id)
		}
		finals := 0
		for _, kind := range []ledger.EventKind{ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel} {
			finals += aEv.count(kind, id)
		}
		if finals != 1 {
			t.Fatalf("%d final events at alice for %s", finals, id)
		}
	}
	if n := aEv.count(ledger.EventDisconnect, ""); n != 2 {
		t.Fatalf("%d disconnect events at alice, want 2", n)
	}
	if got := k.balance(t, "bob"); got != ledger.Int128FromInt64(30) {
		t.Fatalf("bob's balance %s, want 30", got)
	}
	if got := k.balance(t, "alice"); got != ledger.Int128FromInt64(970) {
		t.Fatalf("alice's balance %s, want 970", got)
	}

	for _, c := range []*trustline.Client{alice, bob} {
		if err := c.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if alice.IsConnected() {
		t.Fatal("connected after Disconnect")
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := k.h.Close(cctx); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "goroutines to end", func() bool {
		// The server, its expiry timers and the httptest server remain.
		return runtime.NumGoroutine() <= before+8 && leftover() == ""
	})
}

// leftover returns the stacks of goroutines of the wire interface (the
// Client's and the Handler's) still running.
func leftover() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range []string{"trustline.(*Client)", "trustline.(*session)", "trustline.(*wsConn)", "trustline.(*Handler)"} {
			if strings.Contains(g, fn) && !strings.Contains(g, "trustline_test.leftover") {
				out = append(out, g)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// TestSlowCallDoesNotBlock checks that a call waiting for a slow request
// handler holds up neither the caller's other calls nor its events.
func TestSlowCallDoesNotBlock(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "alice", "bob")
	ctx := context.Background()
	issuer := k.view(t, trustline.DefaultIssuer)
	if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "fund", To: "test1.wire.alice", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	alice, bob := k.client(t, "alice", nil), k.client(t, "bob", nil)
	aEv := &events{}
	alice.Subscribe(aEv.handle)
	for _, c := range []*trustline.Client{alice, bob} {
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer c.Disconnect(ctx)
	}
	release := make(chan struct{})
	entered := make(chan struct{})
	if err := bob.RegisterRequestHandler(func(ctx context.Context, m ledger.Message) (ledger.Message, error) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return ledger.Message{ILP: m.ILP}, nil
	}); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		_, err := alice.SendRequest(ctx, ledger.Message{To: bob.Account(), Custom: json.RawMessage(`{"slow":true}`)})
		slow <- err
	}()
	<-entered
	// Meanwhile alice pays and gets her events.
	for i := range 5 {
		if err := alice.SendTransfer(ctx, ledger.Transfer{ID: "fast-" + itoa(i), To: bob.Account(), Amount: 1}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "outgoing_transfer", func() bool { return aEv.count(ledger.EventOutgoingTransfer, "fast-"+itoa(i)) == 1 })
	}
	if v, err := alice.Balance(ctx); err != nil || v != ledger.Int128FromInt64(95) {
		t.Fatalf("Balance: %s, %v", v, err)
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow request returned early: %v", err)
	default:
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("slow request: %v", err)
	}
}

// TestInFlightCallFailsOnDrop checks that a call in flight when the
// connection drops fails with an UnreachableError, at once.
func TestInFlightCallFailsOnDrop(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "alice", "bob")
	ctx := context.Background()
	alice := k.client(t, "alice", nil)
	aEv := &events{}
	alice.Subscribe(aEv.handle)
	if err := alice.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer alice.Disconnect(ctx)
	bob := k.view(t, "bob") // in process: stays up when the sockets drop
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	if err := bob.RegisterRequestHandler(func(ctx context.Context, m ledger.Message) (ledger.Message, error) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return ledger.Message{}, errors.New("late")
	}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := alice.SendRequest(ctx, ledger.Message{To: bob.Account(), Custom: json.RawMessage(`{}`)})
		errc <- err
	}()
	<-entered
	begin := time.Now()
	k.drop()
	select {
	case err := <-errc:
		if ledger.ErrorName(err) != ledger.NameUnreachable {
			t.Fatalf("call in flight: %v, want UnreachableError", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight did not fail when the connection dropped")
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("the call took %s to fail", d)
	}
	waitFor(t, "the client to reconnect", func() bool { return aEv.count(ledger.EventConnect, "") == 2 && alice.IsConnected() })
	if _, err := alice.Balance(ctx); err != nil {
		t.Fatalf("Balance after reconnecting: %v", err)
	}
}

// TestRepushOnConnect checks that a client that was away gets the
// transfers prepared to it meanwhile, once, and can fulfill them.
func TestRepushOnConnect(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "bob")
	ctx := context.Background()
	issuer := k.view(t, trustline.DefaultIssuer)
	var f ilp.Fulfillment
	f[5] = 5
	tr := ledger.Transfer{ID: "away", To: "test1.wire.bob", Amount: 7, ExecutionCondition: ilp.ConditionOf(f).String(),
		ExpiresAt: time.Now().Add(time.Minute), NoteToSelf: json.RawMessage(`{"issuer":"secret"}`)}
	if err := issuer.SendTransfer(ctx, tr); err != nil {
		t.Fatal(err)
	}
	bob := k.client(t, "bob", nil)
	ev := &events{}
	bob.Subscribe(ev.handle)
	if err := bob.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer bob.Disconnect(ctx)
	waitFor(t, "the re-pushed incoming_prepare", func() bool { return ev.count(ledger.EventIncomingPrepare, "away") == 1 })
	ev.mu.Lock()
	first := ev.all[0]
	var got ledger.Event
	for _, e := range ev.all {
		if e.Kind == ledger.EventIncomingPrepare {
			got = e
		}
	}
	ev.mu.Unlock()
	if first.Kind != ledger.EventConnect {
		t.Fatalf("first event %s, want connect", first.Kind)
	}
	if !got.Transfer.SameAs(ledger.Transfer{ID: "away", Ledger: "test1.wire.", From: "test1.wire." + trustline.DefaultIssuer, To: "test1.wire.bob",
		Amount: 7, ExecutionCondition: tr.ExecutionCondition, ExpiresAt: tr.ExpiresAt}) || len(got.Transfer.NoteToSelf) != 0 {
		t.Fatalf("re-pushed transfer %+v", got.Transfer)
	}
	if err := bob.FulfillCondition(ctx, "away", f); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "incoming_fulfill", func() bool { return ev.count(ledger.EventIncomingFulfill, "away") == 1 })
	if got := k.balance(t, "bob"); got != ledger.Int128FromInt64(7) {
		t.Fatalf("bob's balance %s", got)
	}
}
