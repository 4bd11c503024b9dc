package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultExpiry is how long a route learned from a peer lives without a new
// broadcast or heartbeat from that peer (ilp-connector's ROUTE_EXPIRY, also
// the hold_down_time it sent).
const DefaultExpiry = 45 * time.Second

// BroadcastPoints is the number of points a broadcast curve is simplified to.
const BroadcastPoints = 10

// ErrMaxPoints: ToJSON was asked for fewer than one point per curve.
var ErrMaxPoints = errors.New("maxPoints must be positive")

// Tables are a connector's routing tables (RoutingTables of ilp-routing
// 10.1.0, PROTOCOLS.md 3.4): for each of its ledgers, the routes by which a
// payment entering there reaches each target prefix, one route per next hop.
//
// They are filled by AddLocalRoutes (the connector's own ledger pairs, which
// never expire), AddRoute and AddRouteData (routes peers broadcast, each
// joined to every local pair that leads to its source ledger) and
// AddStaticRoute (configured routes, which never expire); they are emptied
// by expiry (RemoveExpiredRoutes, pushed back by BumpConnector) and by the
// Invalidate methods. An epoch counts the additions, so that a broadcast can
// send each peer only what is new to it.
//
// Tables are safe for concurrent use: every method holds an internal lock
// for its whole run, so each is atomic, and ApplyUpdate applies a whole
// received update atomically. Routes handed out are copies.
type Tables struct {
	mu            sync.RWMutex
	now           func() time.Time
	expiry        time.Duration
	epoch         int
	sources       PrefixMap[*table]
	localAccounts map[string]string
}

// table holds the routes entering on one source ledger.
type table struct {
	destinations PrefixMap[*hopList]
}

// hopList holds the routes to one target prefix in the order their next hops
// were first added (a JavaScript Map: setting an existing key keeps its
// place).
type hopList struct {
	entries []hopEntry
}

type hopEntry struct {
	pair  bool   // the local pair itself (2017 next hop "PAIR")
	hop   string // the next connector's account on the source ledger
	route Route
}

func (l *hopList) find(pair bool, hop string) int {
	for i := range l.entries {
		if l.entries[i].pair == pair && l.entries[i].hop == hop {
			return i
		}
	}
	return -1
}

// NewTables returns empty tables. Routes added from peers expire expiry after
// they were added or last bumped (expiry ≤ 0: they never expire, as 2017 did
// with no expiry duration); now is the clock (nil: time.Now).
func NewTables(expiry time.Duration, now func() time.Time) *Tables {
	if now == nil {
		now = time.Now
	}
	return &Tables{now: now, expiry: expiry, localAccounts: make(map[string]string)}
}

// Epoch returns the current epoch: how many times routes were added to the
// tables. Routes added from now on belong to a later epoch.
func (t *Tables) Epoch() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.epoch
}

// LocalAccount returns the connector's own account on ledger, as the local
// routes gave it.
func (t *Tables) LocalAccount(ledger string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	a, ok := t.localAccounts[ledger]
	return a, ok
}

func (t *Tables) sourceTable(ledger string) *table {
	tbl, ok := t.sources.Get(ledger)
	if !ok {
		tbl = &table{}
		t.sources.Insert(ledger, tbl)
	}
	return tbl
}

func (tbl *table) get(dest string, pair bool, hop string) (Route, bool) {
	if l, ok := tbl.destinations.Get(dest); ok {
		if i := l.find(pair, hop); i >= 0 {
			return l.entries[i].route, true
		}
	}
	return Route{}, false
}

func (tbl *table) set(dest string, pair bool, hop string, r Route) {
	l, ok := tbl.destinations.Get(dest)
	if !ok {
		l = &hopList{}
		tbl.destinations.Insert(dest, l)
	}
	if i := l.find(pair, hop); i >= 0 {
		l.entries[i].route = r
		return
	}
	l.entries = append(l.entries, hopEntry{pair: pair, hop: hop, route: r})
}

// removeIf drops the routes to dest that match, and reports whether dest has
// no route left (and was removed).
func (tbl *table) removeIf(dest string, match func(*hopEntry) bool) (lost bool) {
	l, ok := tbl.destinations.Get(dest)
	if !ok {
		return false
	}
	n := len(l.entries)
	l.entries = slices.DeleteFunc(l.entries, func(e hopEntry) bool { return match(&e) })
	if len(l.entries) == n || len(l.entries) > 0 {
		return false // nothing removed, or routes left
	}
	tbl.destinations.Delete(dest)
	return true
}

func (t *Tables) pairRoute(source, dest string) (Route, bool) {
	tbl, ok := t.sources.Get(source)
	if !ok {
		return Route{}, false
	}
	return tbl.get(dest, true, "")
}

// LocalPairRoute returns the local pair route from source to dest (both
// ledger prefixes, exactly).
func (t *Tables) LocalPairRoute(source, dest string) (Route, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.pairRoute(source, dest)
	return r.clone(), ok
}

// AddLocalRoutes adds or replaces the connector's local pairs (2017
// addLocalRoutes; ilp-connector called it again before every broadcast with
// fresh curves). Each route goes from its SourceLedger to its
// DestinationLedger through the connector itself: it is stored as the pair
// for that destination, marked local, and its SourceAccount and
// DestinationAccount are recorded as the connector's own accounts. Then each
// is added as AddRoute adds a route, which joins it to the other pairs
// where no direct pair exists. The routes keep the AddedDuringEpoch they
// carry (ilp-connector gave them the epoch current when it read the curves,
// so a curve-only change is broadcast once some later addition moves the
// epoch on).
func (t *Tables) AddLocalRoutes(routes ...Route) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := make([]Route, len(routes))
	for i, r := range routes {
		r = r.clone().norm() // the tables keep their own paths
		r.IsLocal = true
		rs[i] = r
		t.sourceTable(r.SourceLedger).set(r.DestinationLedger, true, "", r)
		t.localAccounts[r.SourceLedger] = r.SourceAccount
		if r.DestinationAccount != "" {
			t.localAccounts[r.DestinationLedger] = r.DestinationAccount
		}
	}
	for _, r := range rs {
		t.addRoute(r, false)
	}
}

// AddRoute adds a route B→C that a connector on B offers (its SourceAccount
// is the next hop): for every source ledger A with a local pair A→B, it
// stores pair⋈route as A's route to C's target prefix through that next hop,
// expiring after the tables' expiry. It reports whether any (A, prefix, next
// hop) was new; each new one belongs to the next epoch and is itself added
// again, so that it reaches the ledgers paired with A. An existing one is
// replaced where it stands, without a new epoch. A route that is local is not
// joined where a direct pair A→C exists; a join that would loop is skipped.
func (t *Tables) AddRoute(r Route) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addRoute(r.norm(), false)
}

// AddRouteData is AddRoute(FromData(d, Epoch())), atomically: how a route
// from a peer's broadcast is added.
func (t *Tables) AddRouteData(d RouteData) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addRoute(FromData(d, t.epoch), false)
}

// AddStaticRoute adds a configured route as AddRoute does, except that the
// routes made from it never expire and are never removed by the Invalidate
// methods, bumps or a peer's failure (ilp-connector's CONNECTOR_ROUTES, added
// without a curve so that the next hop is asked for quotes).
//
// 2017 gave the routes made from it by the repeated addition an expiry after
// all, and let a bump from its connector give it one too; here they all stay.
func (t *Tables) AddStaticRoute(r Route) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r = r.norm()
	r.Static = true
	return t.addRoute(r, true)
}

func (t *Tables) addRoute(r Route, static bool) bool {
	added := false
	t.sources.Each(func(a string, tbl *table) {
		if t.addFromSource(tbl, a, r, static) {
			added = true
		}
	})
	if added {
		t.epoch++
	}
	return added
}

func (t *Tables) addFromSource(tbl *table, a string, r Route, static bool) bool {
	b, c, hop := r.SourceLedger, r.TargetPrefix, r.SourceAccount
	if r.IsLocal {
		if _, ok := t.pairRoute(a, c); ok {
			return false // a direct pair beats A→B→C
		}
	}
	ab, ok := t.pairRoute(a, b)
	if !ok {
		return false
	}
	var expiresAt time.Time
	if !static && t.expiry > 0 {
		expiresAt = t.now().Add(t.expiry)
	}
	ac, err := ab.Join(r, expiresAt, t.epoch)
	if err != nil {
		return false
	}
	ac.Static = static
	_, exists := tbl.get(c, false, hop)
	if !exists {
		ac.AddedDuringEpoch++
	}
	tbl.set(c, false, hop, ac)
	if !exists {
		t.addRoute(ac, static)
	}
	return !exists
}

// Hop is the choice of a next hop.
type Hop struct {
	// NextHop is the account to pay on the route's next ledger: the next
	// connector's, or the connector's own account there when the route is a
	// local pair (the payment is then final).
	NextHop string
	Route   Route
	// Amount is the amount delivered (by source amount, 2017 bestValue) or
	// the source amount needed (by destination amount, 2017 bestCost);
	// HasAmount is false when the chosen route has no curve.
	Amount    uint64
	HasAmount bool
}

type candidate struct {
	i       int
	pathLen int
	has     bool
	amount  uint64
}

// better returns the better of the current choice and another route
// (getBetterPath of 2017): the shorter maximum path, then a route with a
// curve over one without, then the larger amount (higher) or the smaller one;
// a tie keeps the current choice.
func better(cur *candidate, o candidate, higher bool) *candidate {
	switch {
	case cur == nil:
		return &o
	case cur.pathLen < o.pathLen:
		return cur
	case o.pathLen < cur.pathLen:
		return &o
	case !o.has:
		return cur
	case !cur.has:
		return &o
	case higher && o.amount > cur.amount, !higher && o.amount < cur.amount:
		return &o
	}
	return cur
}

func (t *Tables) hopsFor(sourceAddress, destination string) *hopList {
	_, tbl, ok := t.sources.Resolve(sourceAddress)
	if !ok {
		return nil
	}
	_, l, _ := tbl.destinations.Resolve(destination)
	return l
}

func (t *Tables) hop(l *hopList, c *candidate) Hop {
	e := l.entries[c.i]
	h := Hop{NextHop: e.hop, Route: e.route.clone(), Amount: c.amount, HasAmount: c.has}
	if e.pair {
		h.NextHop = t.localAccounts[e.route.DestinationLedger]
	}
	return h
}

// FindBestHopForSourceAmount chooses how to pay destination (an address)
// from sourceAddress (an address on, or the prefix of, one of the
// connector's ledgers) when sourceAmount enters: among the routes of the
// longest target prefix of destination, the best by the rule of better. ok is
// false when no route leads there.
//
// 2017 failed on a route whose curve had no points; such a route delivers 0
// here.
func (t *Tables) FindBestHopForSourceAmount(sourceAddress, destination string, sourceAmount uint64) (Hop, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.hopsFor(sourceAddress, destination)
	if l == nil {
		return Hop{}, false
	}
	var best *candidate
	for i := range l.entries {
		r := &l.entries[i].route
		c := candidate{i: i, pathLen: r.MaxPathLength()}
		c.amount, c.has = r.AmountAt(sourceAmount)
		best = better(best, c, true)
	}
	return t.hop(l, best), true
}

// FindBestHopForDestinationAmount chooses how to deliver destinationAmount
// to destination from sourceAddress, as FindBestHopForSourceAmount does but
// preferring the smaller source amount. Routes whose curve cannot deliver the
// amount are left out; ok is false when no route is left.
//
// A route without a curve stays a candidate that loses to every route with
// one (2017 failed with a TypeError on it).
func (t *Tables) FindBestHopForDestinationAmount(sourceAddress, destination string, destinationAmount uint64) (Hop, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.hopsFor(sourceAddress, destination)
	if l == nil {
		return Hop{}, false
	}
	var best *candidate
	for i := range l.entries {
		r := &l.entries[i].route
		c := candidate{i: i, pathLen: r.MaxPathLength()}
		if r.Curve != nil {
			if c.amount, c.has = r.AmountReverse(destinationAmount); !c.has {
				continue // 2017: cost Infinity
			}
		}
		best = better(best, c, false)
	}
	if best == nil {
		return Hop{}, false
	}
	return t.hop(l, best), true
}

// AppliesToPrefix returns the prefix of destination that a quote over the
// route to routePrefix (from the table of sourceAddress) applies to: the most
// general prefix of destination, starting from routePrefix and growing one
// segment at a time, that no other target prefix of the table starts with
// (getAppliesToPrefix of 2017). It returns routePrefix unchanged when there
// is no table for sourceAddress.
//
// When a target prefix starts with the whole destination 2017 looped forever;
// here the answer is then destination itself.
func (t *Tables) AppliesToPrefix(sourceAddress, routePrefix, destination string) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, tbl, ok := t.sources.Resolve(sourceAddress)
	if !ok {
		return routePrefix
	}
	applies := routePrefix
	tbl.destinations.Each(func(target string, _ *hopList) {
		if target == routePrefix {
			return
		}
		for strings.HasPrefix(target, applies) {
			next := destination
			if n := len(applies); n < len(destination) {
				if j := strings.IndexByte(destination[n:], '.'); j >= 0 {
					next = destination[:n+j+1]
				}
			}
			if next == applies {
				break
			}
			applies = next
		}
	})
	return applies
}

// lostSet collects lost prefixes once each, in the order first lost.
type lostSet struct {
	list []string
	seen map[string]bool
}

func (s *lostSet) add(p string) {
	if s.seen == nil {
		s.seen = make(map[string]bool)
	}
	if !s.seen[p] {
		s.seen[p] = true
		s.list = append(s.list, p)
	}
}

// removeWhere drops every route that match selects, and returns the target
// prefixes left with no route in some table ("lost ledger links").
//
// 2017 removed routes while walking the prefix list and so skipped the
// prefix after each one it emptied (its routes went at the next cleanup, or
// stayed after a peer's failure); every matching route goes here.
func (t *Tables) removeWhere(match func(*hopEntry) bool) []string {
	var lost lostSet
	t.sources.Each(func(_ string, tbl *table) {
		for _, dest := range tbl.destinations.Keys() {
			if tbl.removeIf(dest, match) {
				lost.add(dest)
			}
		}
	})
	return lost.list
}

// RemoveExpiredRoutes drops the routes that expired before now (never local
// pairs nor static routes) and returns the target prefixes left with no
// route, each once.
func (t *Tables) RemoveExpiredRoutes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return t.removeWhere(func(e *hopEntry) bool { return e.route.IsExpired(now) })
}

// BumpConnector renews the routes through the next hop peer: they now expire
// holdDown from now (a peer's broadcast or heartbeat; its hold_down_time).
// Static routes keep never expiring.
func (t *Tables) BumpConnector(peer string, holdDown time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bump(peer, holdDown)
}

func (t *Tables) bump(peer string, holdDown time.Duration) {
	expiresAt := t.now().Add(holdDown)
	t.sources.Each(func(_ string, tbl *table) {
		tbl.destinations.Each(func(_ string, l *hopList) {
			for i := range l.entries {
				if e := &l.entries[i]; !e.pair && e.hop == peer && !e.route.Static {
					e.route.ExpiresAt = expiresAt
				}
			}
		})
	})
}

// InvalidateConnector drops every route through the next hop peer except
// static ones (the peer failed to take a broadcast) and returns the target
// prefixes left with no route.
func (t *Tables) InvalidateConnector(peer string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removeWhere(func(e *hopEntry) bool { return !e.pair && e.hop == peer && !e.route.Static })
}

// InvalidateConnectorsRoutesTo drops the routes through peer whose target
// prefix is exactly ledger, except static ones (the peer announced the
// ledger unreachable), and returns ledger if some table is left with no route
// to it.
func (t *Tables) InvalidateConnectorsRoutesTo(peer, ledger string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.invalidateTo(peer, ledger)
}

func (t *Tables) invalidateTo(peer, ledger string) []string {
	var lost lostSet
	t.sources.Each(func(_ string, tbl *table) {
		if tbl.removeIf(ledger, func(e *hopEntry) bool { return !e.pair && e.hop == peer && !e.route.Static }) {
			lost.add(ledger)
		}
	})
	return lost.list
}

// RemoveLedger drops every route, local pairs and static routes included,
// that enters on ledger or targets exactly ledger (a ledger plugin was
// removed).
func (t *Tables) RemoveLedger(ledger string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sources.Each(func(source string, tbl *table) {
		for _, dest := range tbl.destinations.Keys() {
			if source == ledger || dest == ledger {
				tbl.destinations.Delete(dest)
			}
		}
	})
}

// ToJSON returns what the tables offer, as a broadcast describes it
// (RoutingTables#toJSON): for each source ledger and target prefix, in the
// 2017 order, the routes of all next hops combined (Route.Combine, in the
// order the hops were added), the curve simplified to at most maxPoints
// points (BroadcastPoints in broadcasts), and the connector's own account on
// the source ledger as source_account. Entries carry added_during_epoch;
// SelectRoutes makes broadcasts of them.
//
// Curves are simplified with curve.Simplify, which keeps each curve's last
// point; 2017's simplification could drop it (see curve.SimplifyLossy) or fail
// on coordinates beyond 2^53.
func (t *Tables) ToJSON(maxPoints int) ([]RouteData, error) {
	if maxPoints <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrMaxPoints, maxPoints)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []RouteData
	t.sources.Each(func(_ string, tbl *table) {
		tbl.destinations.Each(func(_ string, l *hopList) {
			r := l.entries[0].route
			for _, e := range l.entries[1:] {
				r = r.Combine(e.route)
			}
			d := r.clone().ToJSON()
			if d.Points != nil {
				c := d.Points.Simplify(maxPoints)
				d.Points = &c
			}
			d.SourceAccount = t.localAccounts[r.SourceLedger]
			out = append(out, d)
		})
	})
	return out, nil
}

// Entry is one route of the tables, as Routes lists them.
type Entry struct {
	SourceLedger string
	TargetPrefix string
	// NextHop is the next connector's account; empty for a local pair.
	NextHop string
	Pair    bool
	Route   Route
}

// Routes lists every route of the tables in the 2017 order (source ledgers,
// then target prefixes, then next hops as first added).
func (t *Tables) Routes() []Entry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []Entry
	t.sources.Each(func(source string, tbl *table) {
		tbl.destinations.Each(func(dest string, l *hopList) {
			for _, e := range l.entries {
				out = append(out, Entry{SourceLedger: source, TargetPrefix: dest, NextHop: e.hop, Pair: e.pair, Route: e.route.clone()})
			}
		})
	})
	return out
}
