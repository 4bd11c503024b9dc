package trustline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// wireBase is where the tests mount the handler: it matches the last path
// element, so any prefix works.
const wireBase = "/api/trustline"

// tokenMap is a TokenVerifier: token → account name.
type tokenMap map[string]string

func (m tokenMap) VerifyToken(_ context.Context, token string) (string, error) {
	if n, ok := m[token]; ok {
		return n, nil
	}
	return "", errors.New("unknown token")
}

func tokenOf(name string) string { return "token-" + name }

// wireKit is a Server on the memory backend behind a Handler on a real
// HTTP server on loopback.
type wireKit struct {
	srv   *trustline.Server
	h     *trustline.Handler
	hs    *httptest.Server
	url   string
	clock ledger.Clock

	mu    sync.Mutex
	conns []net.Conn // hijacked (WebSocket) connections
}

func newWireKit(tb testing.TB, clock ledger.Clock, limits *trustline.Limits, opts trustline.HandlerOptions, users ...string) *wireKit {
	tb.Helper()
	if clock == nil {
		clock = ledger.SystemClock{}
	}
	backend := memory.New()
	srv, err := trustline.New(trustline.Config{Prefix: "test1.wire.", CurrencyCode: "USD", CurrencyScale: 2, Backend: backend, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Connect(ctx); err != nil {
		tb.Fatal(err)
	}
	tokens := tokenMap{}
	for _, u := range users {
		if err := srv.CreateAccount(ctx, u, limits); err != nil {
			tb.Fatal(err)
		}
		tokens[tokenOf(u)] = u
	}
	k := &wireKit{srv: srv, clock: clock}
	v, err := srv.Plugin(users[0])
	if err != nil {
		tb.Fatal(err)
	}
	if _, ok := v.(trustline.PreparedLister); !ok {
		tb.Fatal("the Server's views do not list their prepared incoming transfers: no re-push on reconnection")
	}
	k.h = trustline.NewHandler(srv, tokens, opts)
	mux := http.NewServeMux()
	mux.Handle(wireBase+"/", k.h)
	k.hs = httptest.NewUnstartedServer(mux)
	k.hs.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateHijacked {
			k.mu.Lock()
			k.conns = append(k.conns, c)
			k.mu.Unlock()
		}
	}
	k.hs.Start()
	k.url = k.hs.URL + wireBase
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := k.h.Close(ctx); err != nil {
			tb.Errorf("Handler.Close: %v", err)
		}
		k.hs.Close()
		tot, err := srv.Totals(ctx)
		if err != nil {
			tb.Errorf("Totals: %v", err)
		} else if err := tot.Check(); err != nil {
			tb.Error(err)
		}
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("Server.Close: %v", err)
		}
	})
	return k
}

// drop closes every WebSocket connection under the server's feet.
func (k *wireKit) drop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		c.Close()
	}
	k.conns = nil
}

// client returns a client of account name, not connected.
func (k *wireKit) client(tb testing.TB, name string, clock ledger.Clock) *trustline.Client {
	tb.Helper()
	c, err := trustline.NewClient(trustline.ClientConfig{URL: k.url, Token: tokenOf(name), Clock: clock,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, CallTimeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// view returns a connected in-process view of account name.
func (k *wireKit) view(tb testing.TB, name string) ledger.Plugin {
	tb.Helper()
	v, err := k.srv.Plugin(name)
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.Connect(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = v.Disconnect(context.Background()) })
	return v
}

func (k *wireKit) balance(tb testing.TB, name string) ledger.Int128 {
	tb.Helper()
	info, err := k.srv.AccountInfo(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Balance
}

// TestClientConformance runs the plugin conformance suite on two Clients
// (alice and bob) talking to a Server through the Handler over real HTTP
// and WebSocket.
func TestClientConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Harness{
		Name: "trustline client",
		New: func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
			var l *trustline.Limits
			if v, ok := cfg.Limit.Value(); ok {
				neg, err := v.Neg()
				if err != nil {
					tb.Fatal(err)
				}
				l = &trustline.Limits{Minimum: ledger.Limit(neg), Maximum: cfg.Limit}
			} else {
				l = &trustline.Limits{}
			}
			k := newWireKit(tb, cfg.Clock, l, trustline.HandlerOptions{}, "alice", "bob")
			return k.client(tb, "alice", cfg.Clock), k.client(tb, "bob", cfg.Clock)
		},
		SenderHoldsAtPrepare: true,
	})
}

// rpc makes one POST call and returns the status and body.
func rpc(tb testing.TB, url, token, method string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/rpc?method="+method, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, b
}

type errBody struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func wantRPCError(tb testing.TB, what string, status int, body []byte, wantStatus int, wantName string) {
	tb.Helper()
	var e errBody
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("%s: body %q is not an error: %v", what, body, err)
	}
	if status != wantStatus || e.Name != wantName || e.Message == "" {
		tb.Fatalf("%s: %d %s %q, want %d %s with a message", what, status, e.Name, e.Message, wantStatus, wantName)
	}
}

func TestRPCBadInput(t *testing.T) {
	k := newWireKit(t, nil, &trustline.Limits{}, trustline.HandlerOptions{}, "alice", "bob", "carol")
	ctx := context.Background()
	issuer := k.view(t, trustline.DefaultIssuer)
	// Fund alice.
	if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: "fund-alice", To: "test1.wire.alice", Amount: 1000}); err != nil {
		t.Fatal(err)
	}
	balances := func() [3]ledger.Int128 {
		return [3]ledger.Int128{k.balance(t, "alice"), k.balance(t, "bob"), k.balance(t, "carol")}
	}
	start := balances()
	unchanged := func(what string) {
		t.Helper()
		if got := balances(); got != start {
			t.Fatalf("%s: balances moved from %v to %v", what, start, got)
		}
	}
	cond, f := condition(1)
	exp := ledger.FormatTime(time.Now().Add(time.Minute))
	transfer := func(id, from, to string, amount int) []byte {
		return []byte(`[{"id":"` + id + `","from":"` + from + `","to":"test1.wire.` + to + `","amount":"` + itoa(amount) +
			`","executionCondition":"` + cond + `","expiresAt":"` + exp + `"}]`)
	}

	// Tokens.
	st, b := rpc(t, k.url, "", "get_balance", []byte("[]"))
	wantRPCError(t, "no token", st, b, http.StatusUnauthorized, "UnauthorizedError")
	st, b = rpc(t, k.url, "wrong", "send_transfer", transfer("t-wrong-token", "", "bob", 5))
	wantRPCError(t, "wrong token", st, b, http.StatusUnauthorized, "UnauthorizedError")
	unchanged("wrong token")

	// A good call works.
	st, b = rpc(t, k.url, tokenOf("alice"), "get_balance", nil)
	if st != http.StatusOK || string(b) != `"1000"` {
		t.Fatalf("get_balance: %d %s", st, b)
	}
	st, b = rpc(t, k.url, tokenOf("alice"), "get_info", nil)
	if st != http.StatusOK || !strings.Contains(string(b), `"account":"test1.wire.alice"`) || !strings.Contains(string(b), `"prefix":"test1.wire."`) {
		t.Fatalf("get_info: %d %s", st, b)
	}
	st, b = rpc(t, k.url, tokenOf("alice"), "get_limit", nil)
	if st != http.StatusOK || string(b) != `{"minimum":null,"maximum":null}` {
		t.Fatalf("get_limit: %d %s", st, b)
	}

	// Malformed input.
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", []byte(`[{"id":`))
	wantRPCError(t, "malformed JSON", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", []byte(`{"id":"x"}`))
	wantRPCError(t, "object instead of array", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "steal_money", []byte(`[]`))
	wantRPCError(t, "unknown method", st, b, http.StatusNotFound, ledger.NameInvalidFields)
	big := append(append([]byte(`[{"id":"big","to":"test1.wire.bob","amount":"1","custom":{"x":"`), bytes.Repeat([]byte("a"), 1<<20)...), `"}}]`...)
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", big)
	wantRPCError(t, "oversized body", st, b, http.StatusRequestEntityTooLarge, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", []byte(`[42]`))
	wantRPCError(t, "transfer is a number", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", []byte(`[{"id":"neg","to":"test1.wire.bob","amount":"-5"}]`))
	wantRPCError(t, "negative amount", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", []byte(`[]`))
	wantRPCError(t, "no parameters", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("bob"), "fulfill_condition", []byte(`[1, 2]`))
	wantRPCError(t, "id and fulfillment are numbers", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("bob"), "fulfill_condition", []byte(`["x", "short"]`))
	wantRPCError(t, "short fulfillment", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("bob"), "reject_incoming_transfer", []byte(`["x", "no"]`))
	wantRPCError(t, "rejection is a string", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	st, b = rpc(t, k.url, tokenOf("alice"), "register_request_handler", []byte(`[]`))
	wantRPCError(t, "websocket call over POST", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	unchanged("malformed input")

	// A transfer from another account.
	st, b = rpc(t, k.url, tokenOf("bob"), "send_transfer", transfer("t-from-alice", "test1.wire.alice", "carol", 5))
	wantRPCError(t, "transfer from another account", st, b, http.StatusBadRequest, ledger.NameInvalidFields)
	unchanged("transfer from another account")

	// A prepared transfer alice → bob; carol may not fulfill or reject it.
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", transfer("t1", "", "bob", 10))
	if st != http.StatusOK || string(b) != "true" {
		t.Fatalf("send_transfer: %d %s", st, b)
	}
	held := k.balance(t, "alice")
	for _, m := range []struct{ method, body string }{
		{"fulfill_condition", `["t1","` + f + `"]`},
		{"reject_incoming_transfer", `["t1",{"code":"F99","name":"Application Error","message":"mine now","triggered_by":"x"}]`},
	} {
		st, b = rpc(t, k.url, tokenOf("carol"), m.method, []byte(m.body))
		var e errBody
		_ = json.Unmarshal(b, &e)
		if st == http.StatusOK || (e.Name != ledger.NameNotAccepted && e.Name != ledger.NameTransferNotFound) {
			t.Fatalf("carol's %s of alice's transfer to bob: %d %s", m.method, st, b)
		}
		st, b = rpc(t, k.url, tokenOf("alice"), m.method, []byte(m.body))
		_ = json.Unmarshal(b, &e)
		if st == http.StatusOK || (e.Name != ledger.NameNotAccepted && e.Name != ledger.NameTransferNotFound) {
			t.Fatalf("the sender's %s of its own transfer: %d %s", m.method, st, b)
		}
	}
	if got := k.balance(t, "alice"); got != held {
		t.Fatalf("alice's balance moved from %s to %s", held, got)
	}
	if got := k.balance(t, "bob"); got != start[1] {
		t.Fatalf("bob's balance moved to %s", got)
	}

	// The same id again: the same transfer is a no-op, another is a 409.
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", transfer("t1", "", "bob", 10))
	if st != http.StatusOK {
		t.Fatalf("repeating the same transfer: %d %s", st, b)
	}
	st, b = rpc(t, k.url, tokenOf("alice"), "send_transfer", transfer("t1", "", "bob", 11))
	wantRPCError(t, "replayed id, other amount", st, b, http.StatusConflict, ledger.NameDuplicateID)
	st, b = rpc(t, k.url, tokenOf("carol"), "send_transfer", transfer("t1", "", "bob", 10))
	wantRPCError(t, "replayed id from another account", st, b, http.StatusConflict, ledger.NameDuplicateID)
	if got := k.balance(t, "alice"); got != held {
		t.Fatalf("alice's balance moved from %s to %s", held, got)
	}

	// Fulfillment states map to statuses.
	st, b = rpc(t, k.url, tokenOf("bob"), "get_fulfillment", []byte(`["t1"]`))
	wantRPCError(t, "get_fulfillment of a prepared transfer", st, b, http.StatusUnprocessableEntity, ledger.NameMissingFulfillment)
	st, b = rpc(t, k.url, tokenOf("bob"), "get_fulfillment", []byte(`["nope"]`))
	wantRPCError(t, "get_fulfillment of an unknown transfer", st, b, http.StatusNotFound, ledger.NameTransferNotFound)
	st, b = rpc(t, k.url, tokenOf("bob"), "expire_transfer", []byte(`["t1"]`))
	wantRPCError(t, "expire_transfer before the expiry", st, b, http.StatusUnprocessableEntity, ledger.NameNotAccepted)

	// bob fulfills: the money moves once.
	st, b = rpc(t, k.url, tokenOf("bob"), "fulfill_condition", []byte(`["t1","`+f+`"]`))
	if st != http.StatusOK {
		t.Fatalf("fulfill_condition: %d %s", st, b)
	}
	st, b = rpc(t, k.url, tokenOf("bob"), "get_fulfillment", []byte(`["t1"]`))
	if st != http.StatusOK || string(b) != `"`+f+`"` {
		t.Fatalf("get_fulfillment: %d %s", st, b)
	}
	if got := k.balance(t, "bob"); got != ledger.Int128FromInt64(10) {
		t.Fatalf("bob's balance %s, want 10", got)
	}

	// A wrong method on the endpoints.
	resp, err := http.Get(k.url + "/rpc?method=get_balance")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /rpc: %d", resp.StatusCode)
	}
}

// condition returns a condition and its fulfillment, made from n.
func condition(n byte) (cond, fulfillment string) {
	var f ilp.Fulfillment
	f[0], f[31] = n, 0xAA
	return ilp.ConditionOf(f).String(), f.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
