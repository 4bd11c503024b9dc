package connector_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// quotingPeer is a next connector that answers liquidity quotes (and only
// those) with a fixed curve, counting them.
type quotingPeer struct {
	end   *pair.End
	clock ledger.Clock
	curve curve.Curve
	// deep is a prefix the peer has a more specific route to: its answers
	// for destinations under it apply to it; the others to the
	// destination's ledger, "test1.far.".
	deep string
	ttl  time.Duration

	mu    sync.Mutex
	asked []string // destinations, in order
	// applies, if set, is the prefix every answer claims to apply to.
	applies string
	// short makes the answers leave less hold time than was asked for.
	short bool
}

func (p *quotingPeer) handle(_ context.Context, m ledger.Message) (ledger.Message, error) {
	raw, err := ilp.DecodeBase64(m.ILP)
	if err != nil {
		return ledger.Message{}, err
	}
	pkt, err := ilp.Decode(raw)
	if err != nil {
		return ledger.Message{}, err
	}
	q, ok := pkt.(*ilp.QuoteLiquidityRequest)
	if !ok {
		return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "liquidity quotes only")
	}
	p.mu.Lock()
	p.asked = append(p.asked, q.DestinationAccount)
	applies := p.applies
	hold := q.DestinationHoldDuration + 1500
	if p.short {
		hold = q.DestinationHoldDuration - 500
	}
	p.mu.Unlock()
	if applies == "" {
		applies = "test1.far."
		if p.deep != "" && strings.HasPrefix(q.DestinationAccount, p.deep) {
			applies = p.deep
		}
	}
	b, err := (&ilp.QuoteLiquidityResponse{
		LiquidityCurve:     p.curve.AppendBinary(nil),
		AppliesToPrefix:    applies,
		SourceHoldDuration: hold,
		ExpiresAt:          p.clock.Now().Add(p.ttl),
	}).MarshalBinary()
	if err != nil {
		return ledger.Message{}, err
	}
	return ledger.Message{ILP: ilp.EncodeBase64URL(b)}, nil
}

func (p *quotingPeer) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// remoteSetup is alice on the connector's local ledger and a static route
// to "test1.far." through a peer that answers liquidity quotes, curve-less
// in the tables.
type remoteSetup struct {
	clock *plugintest.Clock
	alice *pair.End
	c0    string // the connector's account on alice's ledger
	conn  *connector.Connector
	peer  *quotingPeer
}

// the peer's curve: half a unit out for each unit in, up to 10^12.
var halfCurve = curve.MustNew(curve.Point{}, curve.Point{X: 1_000_000_000_000, Y: 500_000_000_000})

func newRemoteSetup(t *testing.T, deep string) *remoteSetup {
	t.Helper()
	s := &remoteSetup{clock: plugintest.NewClock(t0)}
	var in *pair.End
	s.alice, in = trustline(t, s.clock, "test1.l0.", "alice", "c0", limit(e15), false)
	out, far := trustline(t, s.clock, "peer.px.usd.9.", "c0", "far", limit(e15), true)
	s.peer = &quotingPeer{end: far, clock: s.clock, curve: halfCurve, deep: deep, ttl: 20 * time.Second}
	if err := far.RegisterRequestHandler(s.peer.handle); err != nil {
		t.Fatal(err)
	}
	s.conn = newConnector(t, s.clock, func(cfg *connector.Config) {
		cfg.StaticRoutes = []connector.StaticRoute{{TargetPrefix: "test1.far.", Ledger: "peer.px.usd.9.", Account: far.Account()}}
	})
	add(t, s.conn, in)
	add(t, s.conn, out)
	s.c0 = in.Account()
	return s
}

// TestRemoteQuoteCached: the answer of the next connector becomes the curve
// of the static route in the local tables until the expiry it gave; only
// then is it asked again.
func TestRemoteQuoteCached(t *testing.T) {
	s := newRemoteSetup(t, "")
	const dest = "test1.far.carol"
	want := pairCurve.Join(halfCurve)

	lq := liquidity(t, s.alice, s.c0, dest)
	got, err := curve.FromBinary(lq.LiquidityCurve)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(shift1(want)) {
		t.Errorf("liquidity curve %v, want %v", got.Points(), shift1(want).Points())
	}
	// 3 s asked + 1.5 s the peer adds + 1 s here
	if lq.SourceHoldDuration != 5500 {
		t.Errorf("source hold %d ms, want 5500", lq.SourceHoldDuration)
	}
	if !lq.ExpiresAt.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("quote expires %v, want the peer's expiry %v", lq.ExpiresAt, t0.Add(20*time.Second))
	}
	if n := len(s.peer.calls()); n != 1 {
		t.Fatalf("peer asked %d times", n)
	}

	// The route in the local tables now carries the joined curve and the
	// window of both hops, and is still static; the public one has no
	// curve (nothing to broadcast).
	hop, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", dest, 0)
	if !ok || hop.Route.Curve == nil || !hop.Route.Curve.Equal(want) {
		t.Fatalf("local route %+v", hop.Route)
	}
	if !hop.Route.Static || hop.Route.MinMessageWindow != 2.5 || hop.NextHop != s.peer.end.Account() {
		t.Errorf("local route static %v window %v next hop %q", hop.Route.Static, hop.Route.MinMessageWindow, hop.NextHop)
	}
	if ph, ok := s.conn.PublicTables().FindBestHopForSourceAmount("test1.l0.", dest, 0); !ok || ph.Route.Curve != nil {
		t.Errorf("public route %v %+v", ok, ph.Route)
	}

	// Further quotes, of every kind and to other receivers under the same
	// prefix, are answered from it.
	s.clock.Advance(19 * time.Second)
	if d := bySource(t, s.alice, s.c0, "test1.far.dave", 1_000_000); d != want.AmountAt(1_000_000) {
		t.Errorf("by source %d, want %d", d, want.AmountAt(1_000_000))
	}
	src := byDestination(t, s.alice, s.c0, dest, 400_000)
	if w, _ := shift1(want).AmountReverse(400_000); src != w {
		t.Errorf("by destination %d, want %d", src, w)
	}
	lq = liquidity(t, s.alice, s.c0, dest)
	if !lq.ExpiresAt.Equal(t0.Add(20*time.Second)) || lq.SourceHoldDuration != 5500 {
		t.Errorf("cached liquidity: expires %v, hold %d", lq.ExpiresAt, lq.SourceHoldDuration)
	}
	if n := len(s.peer.calls()); n != 1 {
		t.Fatalf("peer asked %d times before the answer expired", n)
	}

	// Once it has expired, the peer is asked again, and the new answer
	// holds for its own time. The static route survives route expiry.
	s.clock.Advance(time.Second)
	s.conn.RemoveExpiredRoutes()
	lq = liquidity(t, s.alice, s.c0, dest)
	if n := len(s.peer.calls()); n != 2 {
		t.Fatalf("peer asked %d times after expiry, want 2", n)
	}
	if !lq.ExpiresAt.Equal(t0.Add(40 * time.Second)) {
		t.Errorf("renewed quote expires %v", lq.ExpiresAt)
	}
	s.clock.Advance(60 * time.Second)
	s.conn.RemoveExpiredRoutes()
	if hop, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", dest, 0); !ok || !hop.Route.Static {
		t.Fatalf("static route gone: %v %+v", ok, hop.Route)
	}
	_ = bySource(t, s.alice, s.c0, dest, 1_000_000)
	if n := len(s.peer.calls()); n != 3 {
		t.Errorf("peer asked %d times, want 3", n)
	}
}

// TestRemoteQuoteTailRoute: the peer's answer applies to a longer prefix
// than the static route's, so it is added as the peer's route to that prefix;
// destinations under it are quoted from that route, the others still ask.
func TestRemoteQuoteTailRoute(t *testing.T) {
	s := newRemoteSetup(t, "test1.far.deep.")
	want := pairCurve.Join(halfCurve)

	lq := liquidity(t, s.alice, s.c0, "test1.far.deep.carol")
	if lq.AppliesToPrefix != "test1.far.deep." {
		t.Errorf("applies to %q", lq.AppliesToPrefix)
	}
	got, err := curve.FromBinary(lq.LiquidityCurve)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(shift1(want)) {
		t.Errorf("liquidity curve %v", got.Points())
	}
	if lq.SourceHoldDuration != 5500 {
		t.Errorf("source hold %d", lq.SourceHoldDuration)
	}
	hop, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.deep.carol", 0)
	if !ok || hop.Route.TargetPrefix != "test1.far.deep." || hop.Route.Curve == nil || !hop.Route.Curve.Equal(want) ||
		hop.NextHop != s.peer.end.Account() || hop.Route.Static {
		t.Fatalf("tail route %v %+v", ok, hop)
	}
	// the static route itself stays curve-less
	if h, _ := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.erin", 0); h.Route.Curve != nil || h.Route.TargetPrefix != "test1.far." {
		t.Errorf("static route changed: %+v", h.Route)
	}

	if d := bySource(t, s.alice, s.c0, "test1.far.deep.dave", 2_000_000); d != want.AmountAt(2_000_000) {
		t.Errorf("by source via the tail route %d", d)
	}
	if calls := s.peer.calls(); len(calls) != 1 {
		t.Fatalf("peer asked %v", calls)
	}
	// elsewhere under the static route: asked, and cached on that route
	_ = bySource(t, s.alice, s.c0, "test1.far.erin", 2_000_000)
	_ = bySource(t, s.alice, s.c0, "test1.far.frank", 2_000_000)
	if calls := s.peer.calls(); len(calls) != 2 || calls[1] != "test1.far.erin" {
		t.Fatalf("peer asked %v", calls)
	}

	// The tail route is the peer's like a broadcast one: it goes when the
	// peer is not heard from within the route expiry, and the next quote
	// there asks again.
	s.clock.Advance(46 * time.Second)
	s.conn.RemoveExpiredRoutes()
	if h, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.deep.carol", 0); !ok || h.Route.TargetPrefix != "test1.far." {
		t.Fatalf("after expiry: %v %+v", ok, h.Route)
	}
	_ = liquidity(t, s.alice, s.c0, "test1.far.deep.carol")
	if calls := s.peer.calls(); len(calls) != 3 || calls[2] != "test1.far.deep.carol" {
		t.Fatalf("peer asked %v", calls)
	}
}

// TestRemoteQuoteForeignPrefix: an answer claiming to apply to a longer
// prefix that the destination is not under adds no route; it is kept as the
// answer for the route asked about.
func TestRemoteQuoteForeignPrefix(t *testing.T) {
	s := newRemoteSetup(t, "")
	s.peer.mu.Lock()
	s.peer.applies = "test1.elsewhere.deeper."
	s.peer.mu.Unlock()
	want := pairCurve.Join(halfCurve)
	if d := bySource(t, s.alice, s.c0, "test1.far.x", 1_000_000); d != want.AmountAt(1_000_000) {
		t.Errorf("by source %d, want %d", d, want.AmountAt(1_000_000))
	}
	for _, r := range s.conn.LocalTables().Routes() {
		if strings.HasPrefix(r.TargetPrefix, "test1.elsewhere.") {
			t.Fatalf("route to %q added", r.TargetPrefix)
		}
	}
	hop, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.x", 0)
	if !ok || hop.Route.Curve == nil || !hop.Route.Curve.Equal(want) {
		t.Fatalf("static route %v %+v", ok, hop.Route)
	}
	_ = bySource(t, s.alice, s.c0, "test1.far.y", 1_000_000)
	if n := len(s.peer.calls()); n != 1 {
		t.Errorf("peer asked %d times", n)
	}
}

// TestRemoteQuoteShortHold: an answer that leaves the source transfer less
// time than the destination one is refused, and nothing of it is kept.
func TestRemoteQuoteShortHold(t *testing.T) {
	s := newRemoteSetup(t, "")
	s.peer.mu.Lock()
	s.peer.short = true
	s.peer.mu.Unlock()
	for i := range 2 {
		r := request(t, s.alice, s.c0, &ilp.QuoteLiquidityRequest{DestinationAccount: "test1.far.x", DestinationHoldDuration: 3000})
		if e, ok := r.(*ilp.Error); !ok || e.Code != ilp.CodeInternalError || e.TriggeredBy != s.c0 {
			t.Fatalf("quote %d: %T %v", i, r, r)
		}
	}
	if n := len(s.peer.calls()); n != 2 {
		t.Errorf("peer asked %d times, want 2 (nothing cached)", n)
	}
	if hop, ok := s.conn.LocalTables().FindBestHopForSourceAmount("test1.l0.", "test1.far.x", 0); !ok || hop.Route.Curve != nil {
		t.Errorf("static route %v %+v", ok, hop.Route)
	}
}
