// Liquidity-curve arithmetic, exactly as the kit computes it (curve/amount.go,
// the rules of ilp-routing 10.1.0): exact integers (BigInt), quotients
// floored. Points are [x, y] pairs of BigInt, x increasing, y never
// decreasing, so every difference here is non-negative and BigInt's
// truncating division is the floor.

// parsePoints turns the API's [["x","y"], ...] into BigInt pairs.
export function parsePoints(raw) {
  return raw.map(([x, y]) => [BigInt(x), BigInt(y)]);
}

// first index i >= 1 with p[i][k] >= v, given p[0][k] < v <= p[n-1][k].
function search(p, k, v) {
  let lo = 1, hi = p.length - 1;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (p[m][k] < v) lo = m + 1; else hi = m;
  }
  return lo;
}

// amountAt: what the curve delivers for x entering.
export function amountAt(p, x) {
  const n = p.length;
  if (n === 0) return 0n;
  if (x <= p[0][0]) return x === p[0][0] ? p[0][1] : 0n;
  if (x >= p[n - 1][0]) return p[n - 1][1];
  const i = search(p, 0, x);
  const [ax, ay] = p[i - 1], [bx, by] = p[i];
  return ay + ((by - ay) * (x - ax)) / (bx - ax);
}

// amountReverse: the smallest x the curve maps to at least y, or null where
// 2017 answered Infinity (y above the last point, or an empty curve).
export function amountReverse(p, y) {
  const n = p.length;
  if (n === 0) return null;
  if (p[0][1] >= y) return p[0][0];
  if (p[n - 1][1] < y) return null;
  const i = search(p, 1, y);
  const [ax, ay] = p[i - 1], [bx, by] = p[i];
  return ax + ((bx - ax) * (y - ay)) / (by - ay);
}

// The API refuses amounts above this (int64).
export const MAX_AMOUNT = 9223372036854775807n;

// parseDecimal reads what a person typed ("12.5") as base units of a
// currency with the given scale; it throws an Error with a message for
// people when it cannot.
export function parseDecimal(text, scale) {
  const s = text.trim();
  if (!/^(\d+\.?\d*|\.\d+)$/.test(s)) throw new Error("Enter an amount such as 12.50");
  const [int, frac = ""] = s.split(".");
  if (frac.length > scale) {
    throw new Error(scale === 0 ? "Enter a whole amount" : `At most ${scale} decimal places`);
  }
  const v = BigInt((int || "0") + frac.padEnd(scale, "0"));
  if (v > MAX_AMOUNT) throw new Error("That amount is too large");
  return v;
}

// formatDecimal writes base units as a decimal with no trailing zeros.
export function formatDecimal(v, scale) {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, "");
  return (neg ? "-" : "") + int + (frac ? "." + frac : "");
}
