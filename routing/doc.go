// Package routing owns the connector's routing state as Interledger v1
// (mid-2017) kept it, with no I/O: routes (Route), the routing tables built
// from local ledger pairs and the routes peers broadcast (Tables, with the
// longest-prefix PrefixMap), the broadcast_routes message a connector sends
// its peers (RoutingUpdate, RouteData) with its strict decoder, the rules a
// receiver applies to it, the sender's choice of what to send (SelectRoutes),
// and route expiry.
//
// The behaviour is that of ilp-routing 10.1.0 and ilp-connector 21.1.x, the
// libraries ILP Kit 3.0 ran, so that a kit and a 2017 connector build the same
// tables from the same broadcasts and choose the same next hops:
//
//   - Tables keep, per source ledger, a PrefixMap of target prefixes, each
//     holding one route per next hop in the order the hops were first added.
//     A local pair A→B is stored under a pair marker that lookups rewrite to
//     the connector's own account on B.
//   - AddRoute(B→C) joins every local pair A→B with it; a (A, C, next hop)
//     seen for the first time moves the route to the next epoch and the new
//     route A→C is itself added again, so routes travel along chains of pairs.
//     An existing (A, C, next hop) is overwritten in place (position kept, no
//     new epoch), in the same order of visits as 2017.
//   - Next-hop choice: the shorter maximum path wins, then the larger amount
//     delivered (by source amount) or the smaller cost (by destination amount),
//     a route with a curve beats one without, and a full tie keeps the hop
//     first added.
//   - Broadcasts combine the routes of each (source, destination), simplify
//     their curves to ten points and carry the connector's own account.
//
// Where 2017 crashed, hung or depended on a JavaScript accident, this package
// does the evident intended thing instead, and the documentation of that
// place says what 2017 did. The differences: every expired or invalidated
// route is removed in one pass (2017 skipped the prefix after each one it
// emptied); routes made from a static route never expire (2017 gave some of
// them an expiry); broadcast curves keep their last point (curve.Simplify);
// curve-less and empty-curve routes are handled where 2017 threw; and
// AppliesToPrefix ends where 2017 looped forever.
//
// Amounts are uint64 base units and curves come from package curve, whose
// arithmetic is that of ilp-routing 10.1.0 bit for bit. Time comes from the
// clock given to NewTables. Tables are safe for concurrent use (an internal
// lock); Route, RouteData and RoutingUpdate are plain values; a PrefixMap is
// for one goroutine at a time.
package routing
