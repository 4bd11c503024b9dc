package routing

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
)

// clock is a settable clock for the tables.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2017, 7, 28, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func line(x, y uint64) *curve.Curve {
	c := curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: x, Y: y})
	return &c
}

// pairs returns local pairs in both directions between a. and b. at 1:1,
// the connector being "me" on each.
func pairs(ledgers ...string) []Route {
	var rs []Route
	for _, a := range ledgers {
		for _, b := range ledgers {
			if a != b {
				rs = append(rs, Route{SourceLedger: a, NextLedger: b, SourceAccount: a + "me", DestinationAccount: b + "me",
					MinMessageWindow: 1, Curve: line(1000000, 1000000)})
			}
		}
	}
	return rs
}

func peerRoute(src, dst, account string, c *curve.Curve) RouteData {
	return RouteData{SourceLedger: src, DestinationLedger: dst, SourceAccount: account, MinMessageWindow: 1, Points: c}
}

func newTables(t *testing.T, c *clock, ledgers ...string) *Tables {
	t.Helper()
	tb := NewTables(DefaultExpiry, c.Now)
	tb.AddLocalRoutes(pairs(ledgers...)...)
	return tb
}

// prefixes lists the target prefixes that source ledger src has routes to
// through hop ("" = any hop).
func prefixes(tb *Tables, src, hop string) []string {
	var out []string
	for _, e := range tb.Routes() {
		if e.SourceLedger == src && (hop == "" || e.NextHop == hop) {
			out = append(out, e.TargetPrefix)
		}
	}
	return out
}

func TestExpiry(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	tb.AddRouteData(peerRoute("b.", "g.x.", "b.peer", line(10, 10)))
	if tb.AddStaticRoute(Route{SourceLedger: "b.", NextLedger: "g.static.", SourceAccount: "b.conf"}) != true {
		t.Fatal("static route added nothing")
	}
	c.Advance(DefaultExpiry)
	if lost := tb.RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("at exactly the expiry: lost %v (2017 compared with <)", lost)
	}
	c.Advance(time.Millisecond)
	if lost := tb.RemoveExpiredRoutes(); !slices.Equal(lost, []string{"g.x."}) {
		t.Fatalf("after the expiry: lost %v", lost)
	}
	c.Advance(1000 * time.Hour)
	if lost := tb.RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("pairs and static routes expired: %v", lost)
	}
	if got := prefixes(tb, "a.", ""); !slices.Equal(got, []string{"g.static.", "b."}) {
		t.Fatalf("left: %v", got)
	}

	// No expiry at all when the tables have none.
	tb = NewTables(0, c.Now)
	tb.AddLocalRoutes(pairs("a.", "b.")...)
	tb.AddRouteData(peerRoute("b.", "g.x.", "b.peer", line(10, 10)))
	c.Advance(1000 * time.Hour)
	if lost := tb.RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("expiry 0: lost %v", lost)
	}
}

// 2017 skipped the prefix after each one it emptied while walking the list;
// every expired route goes here, in one pass.
func TestExpiryRemovesAdjacentPrefixes(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "A.", "B.")
	for _, d := range []string{"w.", "x.", "y.", "z."} {
		tb.AddRouteData(peerRoute("B.", d, "B.peer", line(10, 10)))
	}
	c.Advance(DefaultExpiry + 1)
	lost := tb.RemoveExpiredRoutes()
	if !slices.Equal(lost, []string{"z.", "y.", "x.", "w."}) { // 2017: [z. x.], then [y. w.] a pass later
		t.Fatalf("lost %v", lost)
	}
	if got := prefixes(tb, "A.", ""); !slices.Equal(got, []string{"B."}) {
		t.Fatalf("left %v", got)
	}
}

func TestHoldDown(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	tb.AddRouteData(peerRoute("b.", "g.p1.", "b.p1", line(10, 10)))
	tb.AddRouteData(peerRoute("b.", "g.p2.", "b.p2", line(10, 10)))
	tb.AddStaticRoute(Route{SourceLedger: "b.", NextLedger: "g.s.", SourceAccount: "b.p1"})
	c.Advance(40 * time.Second)
	tb.BumpConnector("b.p1", 10*time.Minute)
	c.Advance(10 * time.Second)
	if lost := tb.RemoveExpiredRoutes(); !slices.Equal(lost, []string{"g.p2."}) {
		t.Fatalf("lost %v", lost)
	}
	for _, e := range tb.Routes() {
		if e.NextHop == "b.p1" && !e.Route.Static && !e.Route.ExpiresAt.Equal(c.Now().Add(-10*time.Second+10*time.Minute)) {
			t.Errorf("bumped route expires at %v", e.Route.ExpiresAt)
		}
		if e.Route.Static && !e.Route.ExpiresAt.IsZero() {
			t.Errorf("a bump gave the static route an expiry (2017 did)")
		}
	}
	c.Advance(10 * time.Minute)
	if lost := tb.RemoveExpiredRoutes(); !slices.Equal(lost, []string{"g.p1."}) {
		t.Fatalf("lost %v", lost)
	}
	// A route re-added after its expiry time but before a cleanup gets a new
	// expiry and is kept.
	tb.AddRouteData(peerRoute("b.", "g.p3.", "b.p3", line(10, 10)))
	c.Advance(DefaultExpiry + 1)
	tb.AddRouteData(peerRoute("b.", "g.p3.", "b.p3", line(10, 10)))
	if lost := tb.RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("refreshed route lost: %v", lost)
	}
}

func TestInvalidate(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	// p1 alone on w., x. and z.; p1 and p2 on y. (2017's walk would have
	// skipped y. after emptying z.)
	for _, d := range []string{"w.", "x.", "y.", "z."} {
		tb.AddRouteData(peerRoute("b.", d, "b.p1", line(10, 10)))
	}
	tb.AddRouteData(peerRoute("b.", "y.", "b.p2", line(10, 10)))
	tb.AddStaticRoute(Route{SourceLedger: "b.", NextLedger: "s.", SourceAccount: "b.p1"})
	lost := tb.InvalidateConnector("b.p1")
	if !slices.Equal(lost, []string{"z.", "x.", "w."}) {
		t.Fatalf("lost %v", lost)
	}
	if got := prefixes(tb, "a.", "b.p1"); !slices.Equal(got, []string{"s."}) {
		t.Fatalf("p1 still has %v", got)
	}
	if got := prefixes(tb, "a.", "b.p2"); !slices.Equal(got, []string{"y."}) {
		t.Fatalf("p2 has %v", got)
	}
	if _, ok := tb.LocalPairRoute("a.", "b."); !ok {
		t.Fatal("the local pair went")
	}
	if lost := tb.InvalidateConnector("b.p1"); len(lost) != 0 {
		t.Fatalf("second time lost %v", lost)
	}

	// InvalidateConnectorsRoutesTo: exactly that prefix, that peer.
	tb.AddRouteData(peerRoute("b.", "y.", "b.p1", line(10, 10)))
	tb.AddRouteData(peerRoute("b.", "y.z.", "b.p1", line(10, 10)))
	if lost := tb.InvalidateConnectorsRoutesTo("b.p1", "y."); len(lost) != 0 {
		t.Fatalf("lost %v while p2 still serves y.", lost)
	}
	if lost := tb.InvalidateConnectorsRoutesTo("b.p2", "y."); !slices.Equal(lost, []string{"y."}) {
		t.Fatalf("lost %v", lost)
	}
	if got := prefixes(tb, "a.", "b.p1"); !slices.Equal(got, []string{"y.z.", "s."}) {
		t.Fatalf("p1 has %v", got)
	}
	if lost := tb.InvalidateConnectorsRoutesTo("b.p1", "s."); len(lost) != 0 || len(prefixes(tb, "a.", "b.p1")) != 2 {
		t.Fatalf("static route invalidated: lost %v", lost)
	}
}

func TestEpochs(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	if tb.Epoch() != 0 {
		t.Fatalf("epoch %d after local pairs", tb.Epoch())
	}
	if !tb.AddRouteData(peerRoute("b.", "g.x.", "b.p1", line(10, 10))) || tb.Epoch() != 1 {
		t.Fatalf("epoch %d after a new route", tb.Epoch())
	}
	if tb.AddRouteData(peerRoute("b.", "g.x.", "b.p1", line(10, 20))) || tb.Epoch() != 1 {
		t.Fatalf("epoch %d after the same route again", tb.Epoch())
	}
	rs := tb.Routes()
	var r Route
	for _, e := range rs {
		if e.NextHop == "b.p1" {
			r = e.Route
		}
	}
	// Replaced in place with the current epoch, not the next one.
	if r.AddedDuringEpoch != 1 || r.Curve.AmountAt(10) != 20 {
		t.Fatalf("replaced route: epoch %d, curve %v", r.AddedDuringEpoch, r.Curve)
	}
	tb.AddRouteData(peerRoute("b.", "g.y.", "b.p1", line(10, 10)))
	for _, e := range tb.Routes() {
		if e.TargetPrefix == "g.y." && e.Route.AddedDuringEpoch != 2 {
			t.Fatalf("second new route in epoch %d", e.Route.AddedDuringEpoch)
		}
	}
	// A route that joins nothing adds nothing.
	if tb.AddRouteData(peerRoute("z.", "g.z.", "z.p", line(10, 10))) || tb.Epoch() != 2 {
		t.Fatal("a route on an unknown ledger counted")
	}
}

// With pairs a→b and x→a only, a route from b reaches x through a, and each
// new route moves the epoch on.
func TestAddRoutePropagates(t *testing.T) {
	c := newClock()
	tb := NewTables(DefaultExpiry, c.Now)
	tb.AddLocalRoutes(
		Route{SourceLedger: "a.", NextLedger: "b.", SourceAccount: "a.me", DestinationAccount: "b.me", MinMessageWindow: 1, Curve: line(100, 100)},
		Route{SourceLedger: "x.", NextLedger: "a.", SourceAccount: "x.me", DestinationAccount: "a.me", MinMessageWindow: 1, Curve: line(100, 200)},
	)
	e0 := tb.Epoch()
	if !tb.AddRouteData(peerRoute("b.", "g.c.", "b.bob", line(100, 300))) {
		t.Fatal("nothing added")
	}
	h, ok := tb.FindBestHopForSourceAmount("x.xi", "g.c.1", 50)
	if !ok || h.NextHop != "a.me" || h.Route.NextLedger != "a." || !samePaths(h.Route.Paths, [][]string{{"b."}}) ||
		h.Route.MinMessageWindow != 3 || h.Amount != 300 {
		t.Fatalf("x → g.c.: %v %+v", ok, h)
	}
	if got := tb.Epoch(); got != e0+2 {
		t.Fatalf("epoch moved %d, want 2", got-e0)
	}
}

func TestLoopsRefused(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	for _, d := range []RouteData{
		peerRoute("b.", "a.", "b.p", line(10, 10)),                                                       // back to a source ledger
		{SourceLedger: "b.", DestinationLedger: "g.x.", SourceAccount: "b.p", Paths: [][]string{{"a."}}}, // through a.
		{SourceLedger: "b.", DestinationLedger: "g.x.", SourceAccount: "b.p", Paths: [][]string{{"b."}}}, // through b. again
	} {
		before := tb.Routes()
		// b→a joins a→b only to loop; from source b. nothing joins (no b→b).
		if d.DestinationLedger == "a." {
			tb.AddRouteData(d)
			for _, e := range tb.Routes() {
				if e.SourceLedger == "a." && e.TargetPrefix == "a." {
					t.Fatal("a route a.→a. was made")
				}
			}
			continue
		}
		if tb.AddRouteData(d) {
			t.Fatalf("looping route %+v added", d)
		}
		if len(tb.Routes()) != len(before) {
			t.Fatalf("looping route %+v changed the tables", d)
		}
	}
}

func TestBestHop(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	// h1 and h3 have the same curve; h1 came first.
	tb.AddRouteData(peerRoute("b.", "g.d.", "b.h1", line(100, 100)))
	tb.AddRouteData(peerRoute("b.", "g.d.", "b.h2", line(100, 50)))
	tb.AddRouteData(peerRoute("b.", "g.d.", "b.h3", line(100, 100)))
	best := func(amount uint64) string {
		h, ok := tb.FindBestHopForSourceAmount("a.alice", "g.d.bob", amount)
		if !ok {
			t.Fatal("no hop")
		}
		return h.NextHop
	}
	if got := best(50); got != "b.h1" {
		t.Fatalf("tie: %s", got)
	}
	// Re-adding h1 keeps its place; removing and re-adding it moves it last.
	tb.AddRouteData(peerRoute("b.", "g.d.", "b.h1", line(100, 100)))
	if got := best(50); got != "b.h1" {
		t.Fatalf("after refresh: %s", got)
	}
	tb.InvalidateConnectorsRoutesTo("b.h1", "g.d.")
	tb.AddRouteData(peerRoute("b.", "g.d.", "b.h1", line(100, 100)))
	if got := best(50); got != "b.h3" {
		t.Fatalf("after re-adding h1: %s", got)
	}
	// A shorter route wins whatever it delivers.
	tb.AddRouteData(RouteData{SourceLedger: "b.", DestinationLedger: "g.d.", SourceAccount: "b.long", Points: line(100, 1000), Paths: [][]string{{"g.e."}}})
	if got := best(50); got != "b.h3" {
		t.Fatalf("longer path chosen: %s", got)
	}
	// By destination amount: the cheaper source amount; beyond every curve no hop.
	if h, ok := tb.FindBestHopForDestinationAmount("a.alice", "g.d.bob", 50); !ok || h.NextHop != "b.h3" || h.Amount != 50 {
		t.Fatalf("by destination: %v %+v", ok, h)
	}
	if h, ok := tb.FindBestHopForDestinationAmount("a.alice", "g.d.bob", 101); !ok || h.NextHop != "b.long" {
		t.Fatalf("by destination beyond the short routes: %v %+v", ok, h)
	}
	if _, ok := tb.FindBestHopForDestinationAmount("a.alice", "g.d.bob", 1001); ok {
		t.Fatal("a hop beyond every curve")
	}

	// Curve-less routes: one with a curve wins; among curve-less, the first.
	tb.AddRouteData(peerRoute("b.", "g.e.", "b.nocurve", nil))
	tb.AddRouteData(peerRoute("b.", "g.e.", "b.curve", line(10, 1)))
	for _, amount := range []uint64{0, 5, 10} {
		h, ok := tb.FindBestHopForSourceAmount("a.", "g.e.x", amount)
		if !ok || h.NextHop != "b.curve" || !h.HasAmount {
			t.Fatalf("curve vs none at %d: %+v", amount, h)
		}
	}
	for amount, want := range map[uint64]string{0: "b.curve", 1: "b.curve", 2: "b.nocurve"} {
		// Beyond the curve (2), the curve-less route is all that is left.
		if h, ok := tb.FindBestHopForDestinationAmount("a.", "g.e.x", amount); !ok || h.NextHop != want {
			t.Fatalf("by destination, curve vs none at %d: %+v", amount, h) // 2017 threw a TypeError
		}
	}
	tb.AddRouteData(peerRoute("b.", "g.f.", "b.n1", nil))
	tb.AddRouteData(peerRoute("b.", "g.f.", "b.n2", nil))
	if h, ok := tb.FindBestHopForDestinationAmount("a.", "g.f.x", 5); !ok || h.NextHop != "b.n1" || h.HasAmount {
		t.Fatalf("by destination among curve-less routes: %v %+v", ok, h)
	}

	// The local pair's hop is the connector's own account on the next ledger.
	if h, ok := tb.FindBestHopForSourceAmount("a.alice", "b.bob", 7); !ok || h.NextHop != "b.me" || !h.Route.IsLocal || h.Amount != 7 {
		t.Fatalf("local pair: %v %+v", ok, h)
	}
	// Unknown source or destination.
	if _, ok := tb.FindBestHopForSourceAmount("z.alice", "g.d.bob", 1); ok {
		t.Fatal("hop from an unknown ledger")
	}
	if _, ok := tb.FindBestHopForSourceAmount("a.alice", "h.bob", 1); ok {
		t.Fatal("hop to an unknown prefix")
	}
	// The route handed out is a copy.
	h, _ := tb.FindBestHopForSourceAmount("a.alice", "g.d.bob", 1)
	h.Route.Paths[0] = append(h.Route.Paths[0], "tampered.")
	if h2, _ := tb.FindBestHopForSourceAmount("a.alice", "g.d.bob", 1); !samePaths(h2.Route.Paths, [][]string{{}}) {
		t.Fatalf("a caller changed the tables: %v", h2.Route.Paths)
	}
}

func TestAppliesToPrefix(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	for _, p := range []string{"g.", "g.us.", "g.us.a.", "g.us.ab."} {
		tb.AddRouteData(peerRoute("b.", p, "b.h", line(10, 10)))
	}
	for _, tc := range []struct{ route, dst, want string }{
		{"g.", "g.eu.bob", "g.eu."},          // g.us... start with g. but not g.eu.
		{"g.", "g.ux.bob", "g.ux."},          // no '.' needed to differ: g.us. vs g.ux.
		{"g.us.", "g.us.b.c", "g.us.b."},     // more specific routes under g.us.
		{"g.us.", "g.us.abc", "g.us.abc"},    // no further '.': the whole address
		{"g.us.a.", "g.us.a.x.y", "g.us.a."}, // nothing under g.us.a.
		{"g.", "g.us.a", "g.us.a"},           // g.us.a. starts with the whole address: 2017 looped forever
		{"g.", "g.us", "g.us"},               // same
	} {
		if got := tb.AppliesToPrefix("a.alice", tc.route, tc.dst); got != tc.want {
			t.Errorf("AppliesToPrefix(%q, %q) = %q, want %q", tc.route, tc.dst, got, tc.want)
		}
	}
	if got := tb.AppliesToPrefix("z.alice", "g.", "g.x.y"); got != "g." {
		t.Errorf("unknown source: %q", got)
	}
}

func TestToJSON(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	if _, err := tb.ToJSON(0); !errors.Is(err, ErrMaxPoints) {
		t.Fatalf("ToJSON(0): %v", err)
	}
	var pts []curve.Point
	for i := range uint64(40) {
		pts = append(pts, curve.Point{X: i * 10, Y: i * i})
	}
	many := curve.MustNew(pts...)
	tb.AddRouteData(peerRoute("b.", "g.x.", "b.p", &many))
	tb.AddRouteData(peerRoute("b.", "g.x.", "b.q", nil))
	tb.AddRouteData(peerRoute("b.", "g.y.", "b.p", &many))
	rs, err := tb.ToJSON(BroadcastPoints)
	if err != nil {
		t.Fatal(err)
	}
	byDest := map[string]RouteData{}
	for _, r := range rs {
		if r.SourceAccount != r.SourceLedger+"me" {
			t.Errorf("%s→%s: source_account %q", r.SourceLedger, r.DestinationLedger, r.SourceAccount)
		}
		if r.AddedDuringEpoch == nil {
			t.Errorf("%s→%s: no epoch", r.SourceLedger, r.DestinationLedger)
		}
		byDest[r.SourceLedger+r.DestinationLedger] = r
	}
	if len(rs) != 4 {
		t.Fatalf("%d routes: %+v", len(rs), rs)
	}
	y := byDest["a.g.y."].Points
	if y == nil || y.Len() > BroadcastPoints || y.At(y.Len()-1) != many.At(many.Len()-1) {
		t.Fatalf("simplified curve %v", y)
	}
	// Combined with a curve-less route of the same length: no curve (2017).
	if byDest["a.g.x."].Points != nil {
		t.Fatalf("combined with a curve-less route: %v", byDest["a.g.x."].Points)
	}
}

func TestRemoveLedger(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.", "c.")
	tb.AddRouteData(peerRoute("b.", "g.x.", "b.p", line(10, 10)))
	tb.RemoveLedger("c.")
	for _, e := range tb.Routes() {
		if e.SourceLedger == "c." || e.TargetPrefix == "c." {
			t.Fatalf("route %+v left", e)
		}
	}
	if _, ok := tb.FindBestHopForSourceAmount("a.", "g.x.1", 5); !ok {
		t.Fatal("a route not involving c. went")
	}
}

func TestApplyUpdate(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.")
	tb.AddRouteData(peerRoute("b.", "g.old.", "b.p", line(10, 10)))
	tb.AddRouteData(peerRoute("b.", "g.gone.", "b.p", line(10, 10)))
	c.Advance(40 * time.Second)

	// A heartbeat renews the sender's routes for its hold-down time.
	res := tb.ApplyUpdate("b.p", RoutingUpdate{HoldDownTime: 60000}, true)
	if !res.Heartbeat || res.Added || len(res.Lost) != 0 {
		t.Fatalf("heartbeat: %+v", res)
	}
	c.Advance(50 * time.Second)
	if lost := tb.RemoveExpiredRoutes(); len(lost) != 0 {
		t.Fatalf("heartbeat did not renew: lost %v", lost)
	}

	full := true
	res = tb.ApplyUpdate("b.p", RoutingUpdate{
		HoldDownTime:         45000,
		UnreachableThroughMe: []string{"g.gone.", "g.unknown."},
		RequestFullTable:     &full,
		NewRoutes: []RouteData{
			peerRoute("b.", "g.new.", "b.p", line(10, 20)),
			peerRoute("b.", "g.relayed.", "b.other", line(10, 20)),
			peerRoute("c.", "g.wrongledger.", "b.p", line(10, 20)),
			peerRoute("b.", "peer.x.", "b.p", line(10, 20)),
			peerRoute("b.", "g.old.", "b.p", line(10, 30)),
		},
	}, false)
	if res.Heartbeat || !res.Added || !slices.Equal(res.Lost, []string{"g.gone."}) || !res.RequestFullTable {
		t.Fatalf("update: %+v", res)
	}
	for i, want := range map[int]error{1: ErrNotFromSender, 2: ErrAccountNotOnLedger, 3: ErrPeerDestination} {
		if !errors.Is(res.Refused[i], want) {
			t.Errorf("route %d refused with %v, want %v", i, res.Refused[i], want)
		}
	}
	if len(res.Refused) != 3 {
		t.Errorf("refused %v", res.Refused)
	}
	h, ok := tb.FindBestHopForSourceAmount("a.", "g.new.x", 10)
	if !ok || h.HasAmount || h.Route.Curve != nil {
		t.Fatalf("stored with a curve although storeCurves is off: %+v", h)
	}
	if got := prefixes(tb, "a.", "b.p"); !slices.Equal(got, []string{"g.old.", "g.new."}) {
		t.Fatalf("routes through b.p: %v", got)
	}
	// Only losses count too: not a heartbeat.
	res = tb.ApplyUpdate("b.p", RoutingUpdate{HoldDownTime: 1, UnreachableThroughMe: []string{"g.new."}}, true)
	if res.Heartbeat || !slices.Equal(res.Lost, []string{"g.new."}) {
		t.Fatalf("loss only: %+v", res)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newClock()
	tb := newTables(t, c, "a.", "b.", "c.")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				peer := fmt.Sprintf("b.p%d", w)
				switch i % 5 {
				case 0:
					tb.AddRouteData(peerRoute("b.", fmt.Sprintf("g.%d.", i%17), peer, line(10, uint64(i))))
				case 1:
					tb.FindBestHopForSourceAmount("a.x", fmt.Sprintf("g.%d.y", i%17), 5)
				case 2:
					if _, err := tb.ToJSON(BroadcastPoints); err != nil {
						t.Error(err)
					}
				case 3:
					tb.BumpConnector(peer, time.Second)
					c.Advance(time.Second)
					tb.RemoveExpiredRoutes()
				case 4:
					tb.ApplyUpdate(peer, RoutingUpdate{HoldDownTime: 1000, NewRoutes: []RouteData{peerRoute("b.", "g.u.", peer, nil)}}, true)
				}
			}
		}()
	}
	wg.Wait()
	// Every route left is reachable through the lookups.
	for _, e := range tb.Routes() {
		if _, ok := tb.FindBestHopForSourceAmount(e.SourceLedger, e.TargetPrefix+"z", 1); !ok {
			t.Fatalf("route %+v not found", e)
		}
	}
}

// The tables keep their own copy of what they are given and hand out copies.
func TestTablesOwnTheirRoutes(t *testing.T) {
	c := newClock()
	tb := NewTables(DefaultExpiry, c.Now)
	paths := [][]string{{}}
	tb.AddLocalRoutes(Route{SourceLedger: "a.", NextLedger: "b.", SourceAccount: "a.me", Curve: line(10, 10), Paths: paths})
	paths[0] = []string{"changed."}
	r, ok := tb.LocalPairRoute("a.", "b.")
	if !ok || !samePaths(r.Paths, [][]string{{}}) {
		t.Fatalf("pair paths %v", r.Paths)
	}
	r.Paths[0] = []string{"changed."}
	if r, _ := tb.LocalPairRoute("a.", "b."); !samePaths(r.Paths, [][]string{{}}) {
		t.Fatalf("pair paths changed through a copy: %v", r.Paths)
	}
	if _, ok := tb.LocalPairRoute("b.", "a."); ok {
		t.Fatal("a pair that was never added")
	}
	if a, ok := tb.LocalAccount("a."); !ok || a != "a.me" {
		t.Fatalf("local account %q %v", a, ok)
	}
}
