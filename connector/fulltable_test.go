package connector_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

// TestRequestFullTable: request_full_table goes only to the peers of a
// plugin added with the option, true while no route through the peer is
// held.
func TestRequestFullTable(t *testing.T) {
	run := func(t *testing.T, opts connector.PluginOptions) (updates func() []map[string]json.RawMessage, send, tick, expire func()) {
		clock := plugintest.NewClock(t0)
		_, in := trustline(t, clock, "test1.l0.", "alice", "c0", limit(e15), false)
		out, far := trustline(t, clock, "peer.px.usd.9.", "c0", "far", limit(e15), true)
		var mu sync.Mutex
		var got []map[string]json.RawMessage
		err := far.RegisterRequestHandler(func(_ context.Context, m ledger.Message) (ledger.Message, error) {
			var custom struct {
				Method string                     `json:"method"`
				Data   map[string]json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(m.Custom, &custom); err != nil || custom.Method != "broadcast_routes" {
				return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "broadcasts only")
			}
			mu.Lock()
			got = append(got, custom.Data)
			mu.Unlock()
			return ledger.Message{Custom: json.RawMessage(`{}`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		c := newConnector(t, clock, nil)
		add(t, c, in)
		if err := c.AddPlugin(context.Background(), out, opts); err != nil {
			t.Fatal(err)
		}
		updates = func() []map[string]json.RawMessage {
			mu.Lock()
			defer mu.Unlock()
			return append([]map[string]json.RawMessage(nil), got...)
		}
		// the peer announces a route of its own
		send = func() {
			custom := `{"method":"broadcast_routes","data":{"new_routes":[{"source_ledger":"peer.px.usd.9.","destination_ledger":"test1.far.","min_message_window":1,"source_account":"` +
				far.Account() + `"}],"hold_down_time":45000,"unreachable_through_me":[]}}`
			if _, err := far.SendRequest(context.Background(), ledger.Message{To: out.Account(), Custom: json.RawMessage(custom)}); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.x", 0); !ok {
				t.Fatal("the peer's route was not taken")
			}
		}
		tick = func() {
			if err := c.Broadcast(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// the peer falls silent past the hold-down time
		expire = func() {
			clock.Advance(46 * time.Second)
			if lost := c.RemoveExpiredRoutes(); len(lost) != 1 {
				t.Fatalf("lost %v", lost)
			}
		}
		return updates, send, tick, expire
	}

	t.Run("on", func(t *testing.T) {
		updates, send, tick, expire := run(t, connector.PluginOptions{RequestFullTable: true})
		tick()
		send()
		tick()
		expire()
		tick()
		u := updates()
		if len(u) != 3 {
			t.Fatalf("%d broadcasts", len(u))
		}
		if string(u[0]["request_full_table"]) != "true" {
			t.Errorf("first broadcast, no route through the peer: request_full_table %s", u[0]["request_full_table"])
		}
		if string(u[1]["request_full_table"]) != "false" {
			t.Errorf("with the peer's route held: request_full_table %s", u[1]["request_full_table"])
		}
		if string(u[2]["request_full_table"]) != "true" {
			t.Errorf("after the peer's routes expired: request_full_table %s", u[2]["request_full_table"])
		}
	})
	t.Run("off", func(t *testing.T) {
		updates, send, tick, _ := run(t, connector.PluginOptions{})
		tick()
		send()
		tick()
		for i, u := range updates() {
			if v, ok := u["request_full_table"]; ok {
				t.Errorf("broadcast %d carries request_full_table %s", i, v)
			}
		}
		if n := len(updates()); n != 2 {
			t.Errorf("%d broadcasts", n)
		}
	})
}
