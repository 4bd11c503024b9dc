package connector_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

var t0 = time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)

func limit(n uint64) ledger.Bound { return ledger.Limit(ledger.Int128FromUint64(n)) }

const e15 = 1_000_000_000_000_000

// trustline makes a connected pair on prefix with ends named a and b, each
// extending max credit to the other; each end lists the other as a connector
// when peered.
func trustline(t testing.TB, clock ledger.Clock, prefix, a, b string, max ledger.Bound, peered bool) (*pair.End, *pair.End) {
	t.Helper()
	o := pair.Options{
		Prefix: prefix, CurrencyCode: "USD", CurrencyScale: 9, Clock: clock,
		A: pair.Side{Name: a, Backend: memory.New(), MaxBalance: max},
		B: pair.Side{Name: b, Backend: memory.New(), MaxBalance: max},
	}
	if peered {
		o.A.Connectors = []string{prefix + b}
		o.B.Connectors = []string{prefix + a}
	} else {
		// a local ledger: the user's recommended connector is b.
		o.A.Connectors = []string{prefix + b}
	}
	ea, eb, err := pair.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []*pair.End{ea, eb} {
		if err := e.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = ea.Disconnect(context.Background())
		_ = eb.Disconnect(context.Background())
	})
	return ea, eb
}

func newConnector(t testing.TB, clock ledger.Clock, mod func(*connector.Config)) *connector.Connector {
	t.Helper()
	cfg := connector.Config{Secret: []byte("0123456789abcdef-secret"), Clock: clock}
	if mod != nil {
		mod(&cfg)
	}
	c, err := connector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func add(t testing.TB, c *connector.Connector, p connector.Plugin) {
	t.Helper()
	if err := c.AddPlugin(context.Background(), p, connector.PluginOptions{}); err != nil {
		t.Fatal(err)
	}
}

// chain is sender alice on ledger l0, connectors c[0..n-1] joined by peering
// ledgers, and receiver bob on the last local ledger.
type chain struct {
	clock *plugintest.Clock
	alice *pair.End
	bob   *pair.End
	// ends[i] = connector i's two plugins (in, out).
	ins, outs []*pair.End
	conns     []*connector.Connector
	prefixes  []string
	sender    *watcher
	receiver  *receiver
}

func ledgerPrefix(i, n int) string {
	switch i {
	case 0:
		return "test1.l0."
	case n:
		return "test1.l9."
	}
	return "peer.p" + string(rune('a'+i)) + ".usd.9."
}

func newChain(t testing.TB, n int, mod func(*connector.Config)) *chain {
	t.Helper()
	ch := &chain{clock: plugintest.NewClock(t0)}
	name := func(k int) string { return "c" + string(rune('0'+k)) }
	ch.ins = make([]*pair.End, n)
	ch.outs = make([]*pair.End, n)
	for k := 0; k <= n; k++ {
		p := ledgerPrefix(k, n)
		ch.prefixes = append(ch.prefixes, p)
		switch k {
		case 0:
			ch.alice, ch.ins[0] = trustline(t, ch.clock, p, "alice", name(0), limit(e15), false)
		case n:
			ch.bob, ch.outs[n-1] = trustline(t, ch.clock, p, "bob", name(n-1), limit(e15), false)
		default:
			ch.outs[k-1], ch.ins[k] = trustline(t, ch.clock, p, name(k-1), name(k), limit(e15), true)
		}
	}
	for k := 0; k < n; k++ {
		c := newConnector(t, ch.clock, mod)
		add(t, c, ch.ins[k])
		add(t, c, ch.outs[k])
		ch.conns = append(ch.conns, c)
	}
	ch.sender = watch(t, ch.alice)
	ch.receiver = receive(t, ch.bob)
	return ch
}

// propagate broadcasts from the last connector to the first, twice.
func (ch *chain) propagate(t testing.TB) {
	t.Helper()
	for range 2 {
		for i := len(ch.conns) - 1; i >= 0; i-- {
			if err := ch.conns[i].Broadcast(context.Background()); err != nil {
				t.Fatalf("broadcast of c%d: %v", i, err)
			}
		}
	}
}

// watcher collects the final events of a sender's outgoing transfers.
type watcher struct {
	mu   sync.Mutex
	got  map[string]ledger.Event
	cond chan struct{}
}

func watch(t testing.TB, p *pair.End) *watcher {
	w := &watcher{got: map[string]ledger.Event{}, cond: make(chan struct{}, 1)}
	unsub := p.Subscribe(func(ev ledger.Event) {
		switch ev.Kind {
		case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			w.mu.Lock()
			w.got[ev.Transfer.ID] = ev
			w.mu.Unlock()
			select {
			case w.cond <- struct{}{}:
			default:
			}
		}
	})
	t.Cleanup(unsub)
	return w
}

func (w *watcher) wait(t testing.TB, id string) ledger.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		w.mu.Lock()
		ev, ok := w.got[id]
		w.mu.Unlock()
		if ok {
			return ev
		}
		select {
		case <-w.cond:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("transfer %s: no final event", id)
		}
	}
}

// receiver fulfills incoming prepares with the preimage registered for
// their condition (unless hold is set).
type receiver struct {
	mu       sync.Mutex
	p        *pair.End
	preimg   map[string]ilp.Fulfillment
	hold     bool
	prepared chan ledger.Transfer
}

func receive(t testing.TB, p *pair.End) *receiver {
	r := &receiver{p: p, preimg: map[string]ilp.Fulfillment{}, prepared: make(chan ledger.Transfer, 100)}
	unsub := p.Subscribe(func(ev ledger.Event) {
		if ev.Kind != ledger.EventIncomingPrepare {
			return
		}
		r.mu.Lock()
		f, ok := r.preimg[ev.Transfer.ExecutionCondition]
		hold := r.hold
		r.mu.Unlock()
		select {
		case r.prepared <- ev.Transfer:
		default:
		}
		if ok && !hold {
			go func() { _ = p.FulfillCondition(context.Background(), ev.Transfer.ID, f) }()
		}
	})
	t.Cleanup(unsub)
	return r
}

// condition returns a fresh condition the receiver can fulfill.
func (r *receiver) condition(seed string) string {
	f := ilp.Fulfillment(sha256.Sum256([]byte(seed)))
	c := ilp.ConditionOf(f).String()
	r.mu.Lock()
	r.preimg[c] = f
	r.mu.Unlock()
	return c
}

func payment(t testing.TB, account string, amount uint64) string {
	t.Helper()
	b, err := (&ilp.Payment{Amount: amount, Account: account}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return ilp.EncodeBase64URL(b)
}

// request sends an ILQP packet from p to the connector account to and
// decodes the answer.
func request(t testing.TB, p *pair.End, to string, pkt ilp.Packet) ilp.Packet {
	t.Helper()
	b, err := pkt.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.SendRequest(context.Background(), ledger.Message{To: to, ILP: ilp.EncodeBase64URL(b)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ilp.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func bySource(t testing.TB, p *pair.End, to, dest string, amt uint64) uint64 {
	t.Helper()
	r := request(t, p, to, &ilp.QuoteBySourceRequest{DestinationAccount: dest, SourceAmount: amt, DestinationHoldDuration: 3000})
	q, ok := r.(*ilp.QuoteBySourceResponse)
	if !ok {
		t.Fatalf("by source %d: got %T %v", amt, r, r)
	}
	return q.DestinationAmount
}

func byDestination(t testing.TB, p *pair.End, to, dest string, amt uint64) uint64 {
	t.Helper()
	r := request(t, p, to, &ilp.QuoteByDestinationRequest{DestinationAccount: dest, DestinationAmount: amt, DestinationHoldDuration: 3000})
	q, ok := r.(*ilp.QuoteByDestinationResponse)
	if !ok {
		t.Fatalf("by destination %d: got %T %v", amt, r, r)
	}
	return q.SourceAmount
}

func liquidity(t testing.TB, p *pair.End, to, dest string) *ilp.QuoteLiquidityResponse {
	t.Helper()
	r := request(t, p, to, &ilp.QuoteLiquidityRequest{DestinationAccount: dest, DestinationHoldDuration: 3000})
	q, ok := r.(*ilp.QuoteLiquidityResponse)
	if !ok {
		t.Fatalf("liquidity: got %T %v", r, r)
	}
	return q
}

func balance(t testing.TB, p *pair.End) *big.Int {
	t.Helper()
	b, err := p.Balance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b.Big()
}

func jsonEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	ga, _ := json.Marshal(a)
	gb, _ := json.Marshal(b)
	if string(ga) != string(gb) {
		t.Fatalf("got %s, want %s", ga, gb)
	}
}

// pairCurve is the local curve of a connector between two ledgers of scale 9
// with limits 10^15, one-to-one with the default spread: [[0,0],[1e15,998e12]].
var pairCurve = curve.MustNew(curve.Point{}, curve.Point{X: e15, Y: 998_000_000_000_000})
