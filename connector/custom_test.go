package connector_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/routing"
)

// peerRecorder is a bare plugin end standing for a 2017 peer: it records the
// custom requests it gets and answers them with an empty object.
type peerRecorder struct {
	mu  sync.Mutex
	got []json.RawMessage
}

func (r *peerRecorder) handler(_ context.Context, m ledger.Message) (ledger.Message, error) {
	r.mu.Lock()
	r.got = append(r.got, m.Custom)
	r.mu.Unlock()
	return ledger.Message{Custom: json.RawMessage(`{}`)}, nil
}

func (r *peerRecorder) last(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("peer got nothing")
	}
	var m struct {
		Method string
		Data   map[string]json.RawMessage
	}
	if err := json.Unmarshal(r.got[len(r.got)-1], &m); err != nil {
		t.Fatal(err)
	}
	if m.Method != "broadcast_routes" {
		t.Fatalf("method %q", m.Method)
	}
	return m.Data
}

func TestBroadcastContent(t *testing.T) {
	clock := plugintest.NewClock(t0)
	user, local := trustline(t, clock, "test1.home.", "alice", "conn", limit(e15), false)
	_ = user
	mine, theirs := trustline(t, clock, "peer.x.usd.9.", "conn", "peer", limit(e15), true)
	rec := &peerRecorder{}
	if err := theirs.RegisterRequestHandler(rec.handler); err != nil {
		t.Fatal(err)
	}
	c := newConnector(t, clock, nil)
	add(t, c, local)
	add(t, c, mine)
	if err := c.Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	data := rec.last(t)
	for k := range data {
		if k != "new_routes" && k != "hold_down_time" && k != "unreachable_through_me" {
			t.Errorf("broadcast carries %q (a 2017 peer refuses unknown fields)", k)
		}
	}
	jsonEqual(t, data["hold_down_time"], `45000`)
	jsonEqual(t, data["unreachable_through_me"], `[]`)
	var routes []map[string]any
	if err := json.Unmarshal(data["new_routes"], &routes); err != nil {
		t.Fatal(err)
	}
	if len(routes) != 1 {
		t.Fatalf("routes %s", data["new_routes"])
	}
	r := routes[0]
	if r["source_ledger"] != "peer.x.usd.9." || r["destination_ledger"] != "test1.home." || r["source_account"] != "peer.x.usd.9.conn" {
		t.Errorf("route %v", r)
	}
	// the public curve: the local pair shifted one unit
	if r["points"] != shift1(pairCurve).Base64() {
		t.Errorf("points %v, want %s", r["points"], shift1(pairCurve).Base64())
	}
	// the whole message decodes under the closed 2017 schema
	if _, err := routing.DecodeRoutingUpdate(mustJSON(t, data)); err != nil {
		t.Errorf("own broadcast refused: %v", err)
	}

	// The peer announces a route of its own (the epoch moves on; 2017 sent
	// everything again while the epoch was 0).
	upd := `{"method":"broadcast_routes","data":{"new_routes":[{"source_ledger":"peer.x.usd.9.","destination_ledger":"test1.far.","min_message_window":1,"source_account":"peer.x.usd.9.peer"}],"hold_down_time":45000,"unreachable_through_me":[]}}`
	if e := errorPacket(t, sendCustom(t, theirs, mine.Account(), upd)); e != nil {
		t.Fatal(e)
	}
	if err := c.Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Next broadcast with nothing new is a heartbeat.
	if err := c.Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, rec.last(t)["new_routes"], `[]`)

	// A curve change (money moved) sends the table again.
	local.SetMaxBalance(limit(e15 / 2))
	if err := c.Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(rec.last(t)["new_routes"]) == "[]" {
		t.Error("changed curve not broadcast")
	}

	// Removing the local ledger announces it unreachable.
	if err := c.RemovePlugin(context.Background(), "test1.home."); err != nil {
		t.Fatal(err)
	}
	if err := c.Broadcast(context.Background()); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, rec.last(t)["unreachable_through_me"], `["test1.home."]`)
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBroadcastFailure: a peer that refuses a broadcast loses its routes.
func TestBroadcastFailure(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.propagate(t)
	if _, ok := ch.conns[0].LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.l9.bob", 1000); !ok {
		t.Fatal("no route before")
	}
	// the second connector stops answering on the peering ledger
	if err := ch.conns[1].RemovePlugin(context.Background(), ch.ins[1].Info().Prefix); err != nil {
		t.Fatal(err)
	}
	if err := ch.conns[0].Broadcast(context.Background()); err == nil {
		t.Fatal("broadcast to a peer without handler succeeded")
	}
	if _, ok := ch.conns[0].LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.l9.bob", 1000); ok {
		t.Fatal("route kept through a failed peer")
	}
}

func sendCustom(t *testing.T, from interface {
	SendRequest(context.Context, ledger.Message) (ledger.Message, error)
}, to, custom string) ledger.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := from.SendRequest(ctx, ledger.Message{To: to, Custom: json.RawMessage(custom)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func errorPacket(t *testing.T, m ledger.Message) *ilp.Error {
	t.Helper()
	if m.ILP == "" {
		return nil
	}
	raw, err := ilp.DecodeBase64(m.ILP)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ilp.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := p.(*ilp.Error)
	return e
}

func TestCustomRequests(t *testing.T) {
	clock := plugintest.NewClock(t0)
	mine, theirs := trustline(t, clock, "peer.x.usd.9.", "conn", "peer", limit(e15), true)
	_, local := trustline(t, clock, "test1.home.", "alice", "conn", limit(e15), false)
	c := newConnector(t, clock, func(cfg *connector.Config) {
		cfg.SettlementMethods = json.RawMessage(`[{"id":"paypal","name":"PayPal","type":"paypal","description":"","uri":"https://x/pay","logo":""}]`)
	})
	add(t, c, mine)
	add(t, c, local)
	to := mine.Account()
	before := len(c.LocalTables().Routes())

	resp := sendCustom(t, theirs, to, `{"method":"settlement_methods_request"}`)
	jsonEqual(t, resp.Custom, `{"method":"settlement_methods_response","settlement_methods":[{"id":"paypal","name":"PayPal","type":"paypal","description":"","uri":"https://x/pay","logo":""}]}`)

	resp = sendCustom(t, theirs, to, `{"method":"do_something_new"}`)
	if e := errorPacket(t, resp); e == nil || e.Code != ilp.CodeBadRequest {
		t.Fatalf("unknown method answered %+v", resp)
	}

	// A broadcast with a field the 2017 schema does not know is refused
	// and changes nothing.
	bad := `{"method":"broadcast_routes","data":{"new_routes":[{"source_ledger":"peer.x.usd.9.","destination_ledger":"test1.far.","min_message_window":1,"source_account":"peer.x.usd.9.peer"}],"hold_down_time":45000,"unreachable_through_me":[],"colour":"red"}}`
	if e := errorPacket(t, sendCustom(t, theirs, to, bad)); e == nil {
		t.Fatal("broadcast with unknown field accepted")
	}
	if len(c.LocalTables().Routes()) != before {
		t.Fatal("refused broadcast changed the tables")
	}
	// request_full_table is understood.
	good := strings.Replace(bad, `,"colour":"red"`, `,"request_full_table":true`, 1)
	if e := errorPacket(t, sendCustom(t, theirs, to, good)); e != nil {
		t.Fatalf("broadcast refused: %v", e)
	}
	hop, ok := c.LocalTables().FindBestHopForSourceAmount("test1.home.", "test1.far.x", 10)
	if !ok || hop.NextHop != "peer.x.usd.9.peer" || hop.Route.Curve != nil {
		t.Fatalf("route to test1.far.: %v %+v", ok, hop)
	}
}
