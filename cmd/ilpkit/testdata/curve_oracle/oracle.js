// Runs `ilpkit curve` operation lines (stdin) through ilp-routing 10.1.0 and
// prints one result line each, in the format `ilpkit curve` uses.
// Usage (see README.md): node oracle.js < ops.jsonl > results.jsonl
'use strict'
const LiquidityCurve = require('ilp-routing/src/lib/liquidity-curve.js')
const lines = require('fs').readFileSync(0, 'utf8').split('\n')
const points = (c) => ({ points: c.points.map((p) => [p[0].toFixed(), p[1].toFixed()]) })
const out = []
for (const line of lines) {
  if (line.trim() === '') continue
  let result
  try {
    const { op, args } = JSON.parse(line)
    const c = new LiquidityCurve(args[0])
    switch (op) {
      case 'amountAt': result = c.amountAt(args[1]).toFixed(); break
      case 'amountReverse': result = c.amountReverse(args[1]).toFixed(); break
      case 'combine': result = points(c.combine(new LiquidityCurve(args[1]))); break
      case 'join': result = points(c.join(new LiquidityCurve(args[1]))); break
      case 'shiftX': result = points(c.shiftX(args[1])); break
      case 'shiftY': result = points(c.shiftY(args[1])); break
      case 'simplify': result = points(c.simplify(args[1])); break
      default: throw new Error('unknown op ' + op)
    }
  } catch (e) {
    result = { error: String(e.message).slice(0, 160) }
  }
  out.push(JSON.stringify(result))
}
process.stdout.write(out.map((l) => l + '\n').join(''))
