// Runs scenarios against ilp-routing 10.1.0 (the npm package, unchanged) and
// writes what it did to ../ilp-routing-10.1.0.json, which the Go tests replay
// (TestOracle*). Nothing else is used: the clock is the only thing replaced.
//
//   mkdir /tmp/o && cd /tmp/o && npm install ilp-routing@10.1.0
//   NODE_PATH=/tmp/o/node_modules node gen.js > ../ilp-routing-10.1.0.json
//
// Scenarios stay clear of the places where this package deliberately differs
// from 2017 (see the package documentation): several prefixes emptied in one
// pass, bumps of static routes, static routes reached through two pairs,
// curve-less routes in by-destination lookups, empty curves.
'use strict'

const { Route, RoutingTables } = require('ilp-routing')
const version = require('ilp-routing/package.json').version

let now = 0
Date.now = () => now

function summary (r) {
  if (!r) return null
  return {
    sourceLedger: r.sourceLedger,
    nextLedger: r.nextLedger === undefined ? null : r.nextLedger,
    destinationLedger: r.destinationLedger,
    targetPrefix: r.targetPrefix,
    minMessageWindow: r.minMessageWindow,
    expiresAt: r.expiresAt ? r.expiresAt : null,
    static: r.expiresAt === null,
    isLocal: !!r.isLocal,
    sourceAccount: r.sourceAccount === undefined ? null : r.sourceAccount,
    addedDuringEpoch: r.addedDuringEpoch,
    paths: r.paths,
    points: r.curve ? r.curve.toBuffer().toString('base64') : null,
    maxPathLength: r.maxPathLength()
  }
}

function makeRoute (spec) {
  const info = Object.assign({}, spec)
  delete info.points
  delete info.paths
  return new Route(spec.points || null, info, spec.paths)
}

// Route-level operations.
const routeOps = []
function join (head, tail, expiry, epoch) {
  now = 1500000000000
  const r = makeRoute(head).join(makeRoute(tail), expiry, epoch)
  routeOps.push({ op: 'join', head, tail, expiry, epoch, now, result: summary(r), json: r ? r.toJSON() : null })
}
function combine (a, b) {
  const r = makeRoute(a).combine(makeRoute(b))
  routeOps.push({ op: 'combine', a, b, result: summary(r), json: r.toJSON() })
}

const c1 = [[0, 0], [200, 100]]
const c2 = [[0, 0], [50, 60]]
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, points: c1 },
  { sourceLedger: 'b.', nextLedger: 'c.', minMessageWindow: 2, points: c2 }, 45000, 5)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 0.1, points: c1, isLocal: true, sourceAccount: 'a.me' },
  { sourceLedger: 'b.', nextLedger: 'c.', minMessageWindow: 0.2, isLocal: true, sourceAccount: 'b.me' }, 0, 0)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, points: c1, paths: [['x.'], ['y.', 'z.']] },
  { sourceLedger: 'c.', nextLedger: 'd.', destinationLedger: 'e.', targetPrefix: 'e.sub.', minMessageWindow: 1, points: c2, paths: [['p.'], []] }, 1000, 3)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, paths: [['x.'], ['x.']] },
  { sourceLedger: 'c.', nextLedger: 'd.', minMessageWindow: 1, paths: [[], []] }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, paths: [] },
  { sourceLedger: 'b.', nextLedger: 'c.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, points: [[1, 1], [100, 100]] },
  { sourceLedger: 'b.', nextLedger: 'c.', minMessageWindow: 1, points: [[1000, 0], [1000000000, 100000]] }, 1000, 1)
// loops and gaps: each gives no route
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1 }, { sourceLedger: 'x.', nextLedger: 'c.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1 }, { sourceLedger: 'b.', nextLedger: 'a.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1 }, { sourceLedger: 'b.', nextLedger: 'b.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1 }, { sourceLedger: 'c.', nextLedger: 'b.', destinationLedger: 'd.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, paths: [['d.']] }, { sourceLedger: 'c.', nextLedger: 'd.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, paths: [['a.']] }, { sourceLedger: 'c.', nextLedger: 'd.', minMessageWindow: 1 }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, paths: [['x.']] }, { sourceLedger: 'c.', nextLedger: 'd.', destinationLedger: 'e.', minMessageWindow: 1, paths: [['x.']] }, 1000, 1)
join({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1 }, { sourceLedger: 'b.', nextLedger: 'c.', destinationLedger: 'e.', minMessageWindow: 1, paths: [['b.']] }, 1000, 1)

combine({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, points: c2, addedDuringEpoch: 1, sourceAccount: 'a.x' },
  { sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 2, points: [[0, 0], [100, 100]], addedDuringEpoch: 4, sourceAccount: 'a.y' })
combine({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 3, points: c2, addedDuringEpoch: 7, paths: [['x.']] },
  { sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 2, points: c1, addedDuringEpoch: 2, paths: [['y.'], ['x.']] })
combine({ sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 1, points: c2, addedDuringEpoch: 1, paths: [['x.', 'y.']] },
  { sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 2, points: c1, addedDuringEpoch: 2, sourceAccount: 'a.short' })
combine({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, points: c2, addedDuringEpoch: 1, sourceAccount: 'a.short' },
  { sourceLedger: 'a.', nextLedger: 'b.', destinationLedger: 'c.', minMessageWindow: 2, points: c1, addedDuringEpoch: 2 })
combine({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, addedDuringEpoch: 1 },
  { sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 2, points: c1, addedDuringEpoch: 0 })
combine({ sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 1, paths: [], addedDuringEpoch: 1 },
  { sourceLedger: 'a.', nextLedger: 'b.', minMessageWindow: 2, paths: [], addedDuringEpoch: 0 })

// Table scenarios. Each step records its result.
const scenarios = []
function scenario (name, expiry, localRoutes, steps) {
  now = 1500000000000
  const start = now
  const tables = new RoutingTables([], expiry)
  const out = { name, expiry, start, steps: [] }
  const run = (step) => {
    let result
    switch (step.op) {
      case 'at': now = start + step.ms; break
      case 'addLocalRoutes':
        tables.addLocalRoutes(step.routes.map((d) => Route.fromData(d, tables.currentEpoch)))
        break
      case 'addRoute': result = tables.addRoute(step.route); break
      case 'addStaticRoute':
        result = tables.addRoute(new Route(null, {
          sourceLedger: step.route.connectorLedger,
          nextLedger: step.route.targetPrefix,
          minMessageWindow: step.route.minMessageWindow,
          sourceAccount: step.route.connectorAccount,
          targetPrefix: step.route.targetPrefix
        }), true)
        break
      case 'removeExpired': result = tables.removeExpiredRoutes(); break
      case 'bump': tables.bumpConnector(step.peer, step.holdDown); break
      case 'invalidate': result = tables.invalidateConnector(step.peer); break
      case 'invalidateTo': result = tables.invalidateConnectorsRoutesTo(step.peer, step.ledger); break
      case 'removeLedger': tables.removeLedger(step.ledger); break
      case 'toJSON': result = JSON.stringify(tables.toJSON(step.maxPoints)); break
      case 'epoch': result = tables.currentEpoch; break
      case 'bySource': {
        const h = tables.findBestHopForSourceAmount(step.src, step.dst, step.amount)
        result = h ? { bestHop: h.bestHop === undefined ? null : h.bestHop, amount: h.bestValue === undefined ? null : h.bestValue, route: summary(h.bestRoute) } : null
        break
      }
      case 'byDestination': {
        const h = tables.findBestHopForDestinationAmount(step.src, step.dst, step.amount)
        result = h ? { bestHop: h.bestHop === undefined ? null : h.bestHop, amount: h.bestCost === undefined ? null : h.bestCost, route: summary(h.bestRoute) } : null
        break
      }
      case 'appliesTo':
        result = tables.sources.resolve(step.src).getAppliesToPrefix(step.routePrefix, step.dst)
        break
      case 'routes': {
        result = []
        tables.eachRoute((r, a, b, hop) => result.push({ source: a, target: b, hop, route: summary(r) }))
        break
      }
      default: throw new Error('unknown op ' + step.op)
    }
    out.steps.push(result === undefined ? step : Object.assign({}, step, { result }))
  }
  run({ op: 'addLocalRoutes', routes: localRoutes })
  steps.forEach(run)
  scenarios.push(out)
}

function pair (src, dst, points, mmw) {
  return { source_ledger: src, destination_ledger: dst, source_account: src + 'me', destination_account: dst + 'me', min_message_window: mmw === undefined ? 1 : mmw, points }
}
function peer (src, dst, account, points, mmw, paths) {
  const d = { source_ledger: src, destination_ledger: dst, source_account: account, min_message_window: mmw === undefined ? 1 : mmw }
  if (points) d.points = points
  if (paths) d.paths = paths
  return d
}
const all = [{ op: 'routes' }, { op: 'toJSON', maxPoints: 10 }, { op: 'epoch' }]

// The case of routing_rpc_spsp.json, then lookups on it.
scenario('two ledgers, two peers', 45000, [
  { source_ledger: 'ledgerA.', destination_ledger: 'ledgerB.', source_account: 'ledgerA.mark', destination_account: 'ledgerB.mark', min_message_window: 1, points: [[0, 0], [200, 100]] },
  { source_ledger: 'ledgerB.', destination_ledger: 'ledgerA.', source_account: 'ledgerB.mark', destination_account: 'ledgerA.mark', min_message_window: 1, points: [[0, 0], [100, 200]] }
], [
  { op: 'addRoute', route: peer('ledgerB.', 'ledgerC.', 'ledgerB.mary', [[0, 0], [50, 60]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'ledgerC.', 'ledgerB.martin', [[0, 0], [100, 100]], 2) },
  ...all,
  ...['0', '1', '100', '110', '120', '121', '199', '200', '1000'].map((a) => ({ op: 'bySource', src: 'ledgerA.alice', dst: 'ledgerC.bob', amount: a })),
  ...['0', '1', '59', '60', '61', '99', '100', '101'].map((a) => ({ op: 'byDestination', src: 'ledgerA.alice', dst: 'ledgerC.bob', amount: a })),
  { op: 'bySource', src: 'ledgerA.alice', dst: 'ledgerB.bob', amount: '100' },
  { op: 'byDestination', src: 'ledgerA.alice', dst: 'ledgerB.bob', amount: '50' },
  { op: 'bySource', src: 'ledgerB.', dst: 'ledgerA.carl', amount: '10' },
  { op: 'bySource', src: 'ledgerA.alice', dst: 'ledgerD.bob', amount: '10' },
  { op: 'bySource', src: 'ledgerZ.alice', dst: 'ledgerC.bob', amount: '10' },
  // the same route again: nothing new, same place, no new epoch
  { op: 'addRoute', route: peer('ledgerB.', 'ledgerC.', 'ledgerB.mary', [[0, 0], [10, 1000]], 0.5) },
  ...all,
  { op: 'bySource', src: 'ledgerA.alice', dst: 'ledgerC.bob', amount: '100' }
])

// Pairs among three ledgers: a route reaches each source once directly and
// again through the recursive addition, in the 2017 order of visits.
scenario('three ledgers, full mesh', 45000, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 900]]), pair('ledgerB.', 'ledgerA.', [[0, 0], [1000, 1100]]),
  pair('ledgerA.', 'ledgerX.', [[0, 0], [1000, 500]]), pair('ledgerX.', 'ledgerA.', [[0, 0], [500, 1000]]),
  pair('ledgerB.', 'ledgerX.', [[0, 0], [1000, 400]]), pair('ledgerX.', 'ledgerB.', [[0, 0], [400, 1000]])
], [
  ...all,
  { op: 'addRoute', route: peer('ledgerB.', 'g.c.', 'ledgerB.bob', [[0, 0], [1000, 2000]], 0.1) },
  ...all,
  { op: 'addRoute', route: peer('ledgerX.', 'g.c.', 'ledgerX.xavier', [[0, 0], [300, 3000]], 0.2) },
  ...all,
  { op: 'addRoute', route: peer('ledgerB.', 'g.c.', 'ledgerB.bob', [[0, 0], [1000, 2000]], 0.1) },
  ...all,
  ...['10', '100', '300', '1000'].map((a) => ({ op: 'bySource', src: 'ledgerA.', dst: 'g.c.d', amount: a })),
  ...['10', '500', '1000', '2000'].map((a) => ({ op: 'byDestination', src: 'ledgerX.', dst: 'g.c.d', amount: a }))
])

// Pairs A→B and X→A only: routes travel the chain X→A→B.
scenario('chain of pairs', 45000, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 1000]]), pair('ledgerX.', 'ledgerA.', [[0, 0], [1000, 2000]]),
  { source_ledger: 'ledgerB.', destination_ledger: 'ledgerY.', source_account: 'ledgerB.me', destination_account: 'ledgerY.me', min_message_window: 1, points: [[0, 0], [10, 10]] }
], [
  ...all,
  { op: 'addRoute', route: peer('ledgerB.', 'g.c.', 'ledgerB.bob', [[0, 0], [1000, 3000]], 1, [['g.z.'], []]) },
  ...all,
  { op: 'addRoute', route: peer('ledgerB.', 'ledgerA.', 'ledgerB.bob', [[0, 0], [1000, 3000]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.d.', 'ledgerB.bob', [[0, 0], [1000, 3000]], 1, [['ledgerX.']]) },
  { op: 'addRoute', route: peer('ledgerY.', 'g.d.', 'ledgerY.yan', [[0, 0], [1000, 3000]]) },
  ...all,
  { op: 'bySource', src: 'ledgerX.xi', dst: 'g.c.1', amount: '500' },
  { op: 'bySource', src: 'ledgerA.a', dst: 'ledgerY.y', amount: '500' }
])

// Expiry, bumps and invalidation by one peer and another.
scenario('expiry and hold-down', 45000, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 1000]])
], [
  { op: 'addRoute', route: peer('ledgerB.', 'g.p1.', 'ledgerB.p1', [[0, 0], [10, 10]]) },
  { op: 'at', ms: 10000 },
  { op: 'addRoute', route: peer('ledgerB.', 'g.p2.', 'ledgerB.p2', [[0, 0], [10, 10]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.both.', 'ledgerB.p2', [[0, 0], [10, 20]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.both.', 'ledgerB.p1', [[0, 0], [10, 10]]) },
  { op: 'routes' },
  { op: 'at', ms: 45000 },
  { op: 'removeExpired' },
  { op: 'at', ms: 45001 },
  { op: 'removeExpired' },
  { op: 'routes' },
  { op: 'bump', peer: 'ledgerB.p2', holdDown: 600000 },
  { op: 'at', ms: 60000 },
  { op: 'removeExpired' },
  { op: 'routes' },
  { op: 'addRoute', route: peer('ledgerB.', 'g.p1.', 'ledgerB.p1', [[0, 0], [10, 10]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.both.', 'ledgerB.p1', [[0, 0], [10, 10]]) },
  { op: 'epoch' },
  { op: 'invalidateTo', peer: 'ledgerB.p1', ledger: 'g.both.' },
  { op: 'invalidateTo', peer: 'ledgerB.p1', ledger: 'g.nothing.' },
  { op: 'invalidateTo', peer: 'ledgerB.p2', ledger: 'g.both.' },
  { op: 'routes' },
  { op: 'invalidate', peer: 'ledgerB.p1' },
  { op: 'invalidate', peer: 'ledgerB.p1' },
  { op: 'at', ms: 660000 },
  { op: 'removeExpired' },
  { op: 'at', ms: 660001 },
  { op: 'removeExpired' },
  ...all
])

// A configured route: no curve, never expires, survives invalidation.
scenario('static route', 45000, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 1000]]), pair('ledgerB.', 'ledgerA.', [[0, 0], [1000, 1000]])
], [
  { op: 'addStaticRoute', route: { connectorLedger: 'ledgerB.', connectorAccount: 'ledgerB.conn', targetPrefix: 'g.far.', minMessageWindow: 1 } },
  ...all,
  { op: 'bySource', src: 'ledgerA.a', dst: 'g.far.x', amount: '10' },
  { op: 'invalidate', peer: 'ledgerB.conn' },
  { op: 'invalidateTo', peer: 'ledgerB.conn', ledger: 'g.far.' },
  { op: 'addRoute', route: peer('ledgerB.', 'g.far.', 'ledgerB.peer', [[0, 0], [100, 50]]) },
  { op: 'bySource', src: 'ledgerA.a', dst: 'g.far.x', amount: '10' },
  ...all,
  { op: 'at', ms: 3600000 },
  { op: 'removeExpired' },
  ...all,
  { op: 'bySource', src: 'ledgerA.a', dst: 'g.far.x', amount: '10' }
])

// Choice between hops: path length, curve, amount, ties.
scenario('best hop', 0, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000000, 1000000]])
], [
  { op: 'addRoute', route: peer('ledgerB.', 'g.d.', 'ledgerB.h1', [[0, 0], [100, 100], [1000, 500]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.d.', 'ledgerB.h2', [[0, 0], [100, 50], [1000, 1000]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.d.', 'ledgerB.h3', [[0, 0], [100, 100], [1000, 500]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.d.', 'ledgerB.long', [[0, 0], [1000, 100000]], 1, [['g.x.']]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.e.', 'ledgerB.nocurve') },
  { op: 'addRoute', route: peer('ledgerB.', 'g.e.', 'ledgerB.curve', [[0, 0], [10, 1]]) },
  { op: 'addRoute', route: peer('ledgerB.', 'g.e.', 'ledgerB.nocurve2') },
  { op: 'addRoute', route: peer('ledgerB.', 'g.f.', 'ledgerB.nocurve') },
  { op: 'addRoute', route: peer('ledgerB.', 'g.f.', 'ledgerB.nocurve2') },
  { op: 'addRoute', route: peer('ledgerB.', 'g.g.', 'ledgerB.long', [[0, 0], [1000, 100000]], 1, [['g.x.']]) },
  ...all,
  ...['0', '50', '100', '500', '550', '600', '1000', '5000'].map((a) => ({ op: 'bySource', src: 'ledgerA.', dst: 'g.d.x', amount: a })),
  ...['0', '50', '100', '300', '600', '1000', '1001'].map((a) => ({ op: 'byDestination', src: 'ledgerA.', dst: 'g.d.x', amount: a })),
  ...['0', '5', '10'].map((a) => ({ op: 'bySource', src: 'ledgerA.', dst: 'g.e.x', amount: a })),
  { op: 'bySource', src: 'ledgerA.', dst: 'g.f.x', amount: '5' },
  { op: 'bySource', src: 'ledgerA.', dst: 'g.g.x', amount: '5' },
  { op: 'byDestination', src: 'ledgerA.', dst: 'g.g.x', amount: '100000' },
  { op: 'byDestination', src: 'ledgerA.', dst: 'g.g.x', amount: '100001' }
])

// Longest-prefix resolution and appliesToPrefix.
scenario('prefixes', 0, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 1000]])
], [
  ...['g.', 'g.us.', 'g.usd.', 'g.us', 'g.us.a.', 'g.us.a.b.', 'g.us.ab.', 'g.eu.x.'].map((p, i) =>
    ({ op: 'addRoute', route: peer('ledgerB.', p, 'ledgerB.h', [[0, 0], [10, i + 1]]) })),
  { op: 'routes' },
  ...['g.usd.bob', 'g.us.bob', 'g.usx', 'g.u', 'g.us', 'g.us.a.b.c', 'g.us.a.bc', 'g.us.ab', 'g.eu.x.y', 'g.eu.y', 'h.x', 'ledgerB.x'].map((d) =>
    ({ op: 'bySource', src: 'ledgerA.', dst: d, amount: '10' })),
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.', dst: 'g.x.y.z' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.', dst: 'g.ux.y.z' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.', dst: 'g.e.f' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.us.', dst: 'g.us.b.c' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.us.', dst: 'g.us.abc' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.us.a.', dst: 'g.us.a.x.y' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.us.a.b.', dst: 'g.us.a.b.c.d' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.usd.', dst: 'g.usd.bob' },
  { op: 'appliesTo', src: 'ledgerA.', routePrefix: 'g.us', dst: 'g.usx.y' },
  { op: 'appliesTo', src: 'ledgerA.x', routePrefix: 'ledgerB.', dst: 'ledgerB.bob.x' }
])

// Reloading the local pairs: pairs replaced, joined routes kept, no epoch.
scenario('local reload and removeLedger', 45000, [
  pair('ledgerA.', 'ledgerB.', [[0, 0], [1000, 1000]]), pair('ledgerB.', 'ledgerA.', [[0, 0], [1000, 1000]])
], [
  { op: 'addRoute', route: peer('ledgerB.', 'g.c.', 'ledgerB.bob', [[0, 0], [1000, 2000]]) },
  { op: 'addLocalRoutes', routes: [pair('ledgerA.', 'ledgerB.', [[0, 0], [500, 1000]]), pair('ledgerB.', 'ledgerA.', [[0, 0], [2000, 1000]])] },
  ...all,
  { op: 'addLocalRoutes', routes: [pair('ledgerA.', 'ledgerC.', [[0, 0], [700, 700]])] },
  ...all,
  { op: 'removeLedger', ledger: 'ledgerB.' },
  ...all,
  { op: 'bySource', src: 'ledgerA.', dst: 'g.c.x', amount: '10' }
])

process.stdout.write(JSON.stringify({
  description: 'What ilp-routing@' + version + ' (npm) did, step by step, on the scenarios of gen.js; replayed by the Go tests.',
  library: 'ilp-routing@' + version,
  routeOps,
  scenarios
}, null, 1) + '\n')
