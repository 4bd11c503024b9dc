// Package connector is the Interledger v1 connector of ILP Kit as a library:
// it joins the ledgers of the plugins it is given, answers ILQP quotes on
// each of them, forwards the prepared transfers that arrive on one ledger to
// the next, passes fulfillments and rejections back, and exchanges route
// broadcasts with the connectors it peers with. It behaves as ilp-connector
// 21.1.x (the connector of ILP Kit 3.0, mid-2017) did on the wire, so that it
// interoperates with 2017 peers and agrees with them on every amount.
//
// The connector keeps no state of its own beyond what is rebuilt at start:
// balances live in the plugins (and their backends), the routing tables are
// made from the plugins' ledger info, the configured rates and the peers'
// broadcasts, and what a forwarded payment needs later (the source transfer)
// travels in the outgoing transfer's NoteToSelf.
//
// # Curves and tables
//
// For every ordered pair of its ledgers the connector builds a local liquidity
// curve from the exchange rate (a Rates source, less the spread) and the
// balance limits of the two plugins (PROTOCOLS.md 3.5). It keeps two sets of
// routing tables: the local tables hold the curves as they are and serve
// quoting by source amount and forwarding; the public tables hold them shifted
// one source unit to the right (unless the pair trades one-to-one without
// spread between equal scales) and are what it broadcasts. Peers' broadcasts
// go into both. Quotes by destination amount and by liquidity curve use the
// local curve shifted the same way, because the reverse lookup floors.
//
// A route without a curve (a static route, or one a peer sent without
// points) is priced by asking its next connector for a liquidity quote. The
// answer is kept in the local tables until the expiry the next connector
// gave it, so that later quotes and payments need not ask again: as the
// route's curve (the local pair joined with it), or, when it applies to a
// longer prefix than the route's target, as a route of the next connector's
// own to that prefix (PROTOCOLS.md 3.5).
//
// # Forwarding
//
// An incoming prepared transfer carries an ILP payment packet. The next hop
// is the route of the longest prefix of its destination. On the last hop the
// destination amount is paid to the receiver if the curve gives at least that
// amount less the slippage; otherwise the outgoing amount is what the local
// pair curve gives. The outgoing transfer expires MinMessageWindow before the
// incoming one, has an id derived from the source ledger and transfer id with
// HMAC-SHA256 (so a retried forward does not pay twice) and remembers its
// source in NoteToSelf. Fulfillments are passed back, retried until the source
// transfer expires; rejections and expiries are passed back with forwarded_by
// set to the connector's account on the source ledger. Every refusal carries
// the ILP error code of RFC 0003.
//
// # Route broadcasts
//
// Broadcast sends each peer, on an interval and right after a peer's update
// added or removed something, the routes of the public tables it has not seen
// yet (with their curves), the prefixes lost since the last broadcast, and the
// hold-down time after which the peer must forget them. Received broadcasts
// are checked against the closed 2017 schema (request_full_table understood).
// request_full_table is sent only to the peers of a plugin added with
// PluginOptions.RequestFullTable: a 2017 peer before 21.1.9 would refuse the
// whole message.
//
// Run drives the timers (broadcasts, the removal of routes whose hold-down
// has passed) on the injected clock; Broadcast, ReloadLocalRoutes and
// RemoveExpiredRoutes do one step each for callers that drive time
// themselves.
//
// # Rates
//
// Rates are exact rationals, never floats: OneToOne (ilp-connector's
// one-to-one backend), FixedRates (a table from configuration) and HTTPRates
// (a fixer.io-style JSON document polled on an interval, its numbers read
// exactly).
//
// # Differences from 2017
//
// Where the 2017 connector had a quirk that hurt and no peer depends on it,
// this package does the evident thing, and the code says so where it does:
//
//   - a local curve that changed (money moved, a limit or rate changed) makes
//     the next broadcast send every peer its full table; 2017 sent it only
//     once some other route moved the epoch on;
//   - a broadcast answered with an ILP error counts as failed;
//   - a forward whose derived id is already used is left alone rather than
//     rejected, since the earlier transfer is still under way;
//   - a balance beyond its limit gives a curve with no liquidity where 2017
//     failed to build the curve;
//   - a remote quote's curve is stored on the route in the local tables for
//     all the connector's ledgers paired with the next one, not only the
//     ledger the quote came in on, and a route a peer broadcast that gets
//     one starts its expiry over.
package connector
