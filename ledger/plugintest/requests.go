package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

func testRequests(t *testing.T, h Harness) {
	t.Run("RoundTrip", func(t *testing.T) { testRequestRoundTrip(t, h) })
	t.Run("HandlerError", func(t *testing.T) { testRequestHandlerError(t, h) })
	t.Run("HandlerBlocks", func(t *testing.T) { testRequestHandlerBlocks(t, h) })
	t.Run("NoHandler", func(t *testing.T) { testRequestNoHandler(t, h) })
	t.Run("OneHandler", func(t *testing.T) { testRequestOneHandler(t, h) })
	t.Run("InvalidMessages", func(t *testing.T) { testRequestInvalid(t, h) })
}

// echo is a request handler that records the requests it sees and answers
// with the same ILP packet and custom {"echo": <request custom>}.
type echo struct {
	mu   sync.Mutex
	seen []ledger.Message
}

func (h *echo) handle(ctx context.Context, req ledger.Message) (ledger.Message, error) {
	h.mu.Lock()
	h.seen = append(h.seen, req)
	h.mu.Unlock()
	custom := json.RawMessage(`{"echo":null}`)
	if len(req.Custom) > 0 {
		custom = json.RawMessage(`{"echo":` + string(req.Custom) + `}`)
	}
	return ledger.Message{ILP: req.ILP, Custom: custom}, nil
}

func (h *echo) requests() []ledger.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ledger.Message(nil), h.seen...)
}

func testRequestRoundTrip(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	prefix := e.s.Info().Prefix
	for _, dir := range []struct{ from, to ledger.Plugin }{{e.s, e.r}, {e.r, e.s}} {
		handler := &echo{}
		wantOK(t, dir.to.RegisterRequestHandler(handler.handle), "RegisterRequestHandler")
		req := ledger.Message{ID: e.id(), To: dir.to.Account(), ILP: samplePacket, Custom: json.RawMessage(`{"method":"ping","n":1}`)}
		resp, err := dir.from.SendRequest(c, req)
		wantOK(t, err, "SendRequest")
		seen := handler.requests()
		if len(seen) != 1 {
			t.Fatalf("the handler saw %d requests, want 1", len(seen))
		}
		got := seen[0]
		if got.ID != req.ID || got.Ledger != prefix || got.From != dir.from.Account() || got.To != dir.to.Account() ||
			got.ILP != req.ILP || !jsonSame(got.Custom, req.Custom) {
			t.Fatalf("the handler saw %+v for request %+v", got, req)
		}
		if resp.ID != req.ID || resp.Ledger != prefix || resp.From != dir.to.Account() || resp.To != dir.from.Account() {
			t.Fatalf("response %+v: want id %q, ledger %q, from %q, to %q", resp, req.ID, prefix, dir.to.Account(), dir.from.Account())
		}
		if resp.ILP != samplePacket || !jsonSame(resp.Custom, json.RawMessage(`{"echo":{"method":"ping","n":1}}`)) {
			t.Fatalf("response carries ilp %q, custom %s", resp.ILP, resp.Custom)
		}

		// Without an id the plugin makes one; the response carries it.
		resp, err = dir.from.SendRequest(c, ledger.Message{To: dir.to.Account(), Custom: json.RawMessage(`{"method":"noid"}`)})
		wantOK(t, err, "SendRequest without id")
		seen = handler.requests()
		if len(seen) != 2 || seen[1].ID == "" || resp.ID != seen[1].ID {
			t.Fatalf("request without id: handler saw %+v, response id %q", seen, resp.ID)
		}
		dir.to.DeregisterRequestHandler()
	}
}

// errorPacket decodes the ILP error packet of a response.
func errorPacket(t testing.TB, resp ledger.Message) *ilp.Error {
	t.Helper()
	b, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		t.Fatalf("response ilp %q: %v", resp.ILP, err)
	}
	p, err := ilp.Decode(b)
	if err != nil {
		t.Fatalf("response ilp %q: %v", resp.ILP, err)
	}
	pe, ok := p.(*ilp.Error)
	if !ok {
		t.Fatalf("response carries a %T, want an ILP error", p)
	}
	return pe
}

func testRequestHandlerError(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	const secret = "/var/lib/ilpkit/secret.db: disk on fire"
	var mode atomic.Value
	mode.Store("plain")
	wantOK(t, e.r.RegisterRequestHandler(func(ctx context.Context, req ledger.Message) (ledger.Message, error) {
		switch mode.Load() {
		case "ilp":
			return ledger.Message{}, ilp.NewError(ilp.CodeUnreachable, "example.far.away", time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC), []byte("no route"))
		case "panic":
			panic(secret)
		}
		return ledger.Message{}, errors.New(secret)
	}), "RegisterRequestHandler")

	for _, m := range []string{"plain", "panic"} {
		mode.Store(m)
		resp, err := e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
		wantOK(t, err, "SendRequest to a failing handler ("+m+")")
		pkt := errorPacket(t, resp)
		if code, _ := ilp.NormalizeCode(pkt.Code, pkt.Name); code != ilp.CodeBadRequest {
			t.Fatalf("%s: error packet code %s %q, want F00", m, pkt.Code, pkt.Name)
		}
		if pkt.TriggeredBy != e.r.Account() {
			t.Fatalf("%s: error triggered by %q, want %q", m, pkt.TriggeredBy, e.r.Account())
		}
		if strings.Contains(string(pkt.Data), "disk on fire") || strings.Contains(resp.ILP+string(resp.Custom), "disk on fire") {
			t.Fatalf("%s: the handler's internal error reached the peer: %q", m, pkt.Data)
		}
		if resp.From != e.r.Account() || resp.To != e.s.Account() {
			t.Fatalf("%s: error response from %q to %q", m, resp.From, resp.To)
		}
	}

	mode.Store("ilp")
	resp, err := e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	wantOK(t, err, "SendRequest to a handler returning an ILP error")
	pkt := errorPacket(t, resp)
	if pkt.Code != ilp.CodeUnreachable || pkt.TriggeredBy != "example.far.away" || string(pkt.Data) != "no route" {
		t.Fatalf("error packet %+v, want the handler's F02", pkt)
	}
}

func testRequestHandlerBlocks(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	entered := make(chan struct{}, 1)
	wantOK(t, e.r.RegisterRequestHandler(func(ctx context.Context, req ledger.Message) (ledger.Message, error) {
		entered <- struct{}{}
		select {
		case <-ctx.Done():
		case <-release:
		}
		return ledger.Message{}, errors.New("gave up")
	}), "RegisterRequestHandler")
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	if err == nil {
		t.Fatal("SendRequest to a handler that never answers returned no error")
	}
	if d := time.Since(begin); d > WaitTimeout {
		t.Fatalf("SendRequest took %s after its context ended", d)
	}
	select {
	case <-entered:
	default:
		t.Fatal("the handler was never called")
	}
}

func testRequestNoHandler(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	_, err := e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	wantErr(t, err, "SendRequest without a handler", ledger.NameNotAccepted, ledger.NameNoSubscriptions)
	handler := &echo{}
	wantOK(t, e.r.RegisterRequestHandler(handler.handle), "RegisterRequestHandler")
	e.r.DeregisterRequestHandler()
	e.r.DeregisterRequestHandler() // again: nothing happens
	_, err = e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	wantErr(t, err, "SendRequest after the handler left", ledger.NameNotAccepted, ledger.NameNoSubscriptions)
	if n := len(handler.requests()); n != 0 {
		t.Fatalf("a deregistered handler saw %d requests", n)
	}
}

func testRequestOneHandler(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	first, second := &echo{}, &echo{}
	wantOK(t, e.r.RegisterRequestHandler(first.handle), "RegisterRequestHandler")
	wantErr(t, e.r.RegisterRequestHandler(second.handle), "second RegisterRequestHandler", ledger.NameRequestHandlerAlreadyRegistered)
	_, err := e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	wantOK(t, err, "SendRequest")
	e.r.DeregisterRequestHandler()
	wantOK(t, e.r.RegisterRequestHandler(second.handle), "RegisterRequestHandler after Deregister")
	_, err = e.s.SendRequest(c, ledger.Message{ID: e.id(), To: e.r.Account(), ILP: samplePacket})
	wantOK(t, err, "SendRequest")
	if a, b := len(first.requests()), len(second.requests()); a != 1 || b != 1 {
		t.Fatalf("the handlers saw %d and %d requests, want 1 each", a, b)
	}
}

func testRequestInvalid(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	handler := &echo{}
	wantOK(t, e.r.RegisterRequestHandler(handler.handle), "RegisterRequestHandler")
	prefix := e.s.Info().Prefix
	cases := []struct {
		name string
		m    ledger.Message
	}{
		{"no destination", ledger.Message{ILP: samplePacket}},
		{"unknown destination", ledger.Message{To: prefix + "nobody", ILP: samplePacket}},
		{"other ledger", ledger.Message{To: e.r.Account(), Ledger: "example.elsewhere.", ILP: samplePacket}},
		{"neither ilp nor custom", ledger.Message{To: e.r.Account()}},
		{"custom not an object", ledger.Message{To: e.r.Account(), ILP: samplePacket, Custom: json.RawMessage(`"text"`)}},
	}
	for _, tc := range cases {
		_, err := e.s.SendRequest(c, tc.m)
		wantErr(t, err, tc.name, ledger.NameInvalidFields, ledger.NameAccountNotFound)
	}
	if n := len(handler.requests()); n != 0 {
		t.Fatalf("the handler saw %d invalid requests", n)
	}
}
