//go:build ignore

// gen writes random `ilpkit curve` operations, one JSON line each, mixing
// small and near-2^64 coordinates, flat runs, shifts that land on points,
// fractional and special arguments (-frac) and the odd invalid curve. See
// README.md for how the committed oracle file was made from its output.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"math/big"
	"math/rand"
	"os"
	"sort"
	"strconv"
)

type gen struct {
	r     *rand.Rand
	frac  bool
	maxPt int
}

func (g *gen) value(mode int) *big.Int {
	switch mode {
	case 0:
		return big.NewInt(g.r.Int63n(100))
	case 1:
		return big.NewInt(g.r.Int63n(10_000_000))
	case 2:
		return big.NewInt(g.r.Int63n(1 << 53))
	case 3:
		return new(big.Int).SetUint64(g.r.Uint64())
	}
	v := new(big.Int).SetUint64(^uint64(0)) // just below 2^64
	return v.Sub(v, big.NewInt(g.r.Int63n(1000)))
}

func (g *gen) curve() [][2]*big.Int {
	n := g.r.Intn(g.maxPt + 1)
	mode := g.r.Intn(5)
	if g.r.Intn(3) == 0 {
		mode = 0
	}
	seen := map[string]bool{}
	var xs, ys []*big.Int
	for tries := 0; len(xs) < n && tries < 10*n; tries++ {
		v := g.value(mode)
		if !seen[v.String()] {
			seen[v.String()] = true
			xs = append(xs, v)
		}
	}
	for range xs {
		m := mode
		if g.r.Intn(3) == 0 {
			m = g.r.Intn(5)
		}
		ys = append(ys, g.value(m))
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].Cmp(xs[j]) < 0 })
	sort.Slice(ys, func(i, j int) bool { return ys[i].Cmp(ys[j]) < 0 })
	if g.r.Intn(4) == 0 && len(ys) > 2 { // a flat run
		k := g.r.Intn(len(ys) - 1)
		ys[k+1] = ys[k]
	}
	if g.r.Intn(30) == 0 && len(ys) > 1 { // an invalid curve
		ys[0], ys[len(ys)-1] = ys[len(ys)-1], ys[0]
	}
	out := make([][2]*big.Int, len(xs))
	for i := range xs {
		out[i] = [2]*big.Int{xs[i], ys[i]}
	}
	return out
}

// enc writes a value as a decimal string, or now and then as a JSON number
// when JavaScript holds it exactly.
func (g *gen) enc(v *big.Int) any {
	if v.IsInt64() && v.Int64() < 1<<53 && v.Int64() > -(1<<53) && g.r.Intn(10) == 0 {
		return json.Number(v.String())
	}
	return v.String()
}

func (g *gen) points(c [][2]*big.Int) any {
	out := make([]any, len(c))
	for i, p := range c {
		out[i] = []any{g.enc(p[0]), g.enc(p[1])}
	}
	return out
}

// amount picks an argument near the curve's own coordinates (k = 0: x).
func (g *gen) amount(c [][2]*big.Int, k int) *big.Int {
	switch g.r.Intn(6) {
	case 0:
		return g.value(g.r.Intn(5))
	case 1:
		if len(c) > 0 {
			return new(big.Int).Set(c[g.r.Intn(len(c))][k])
		}
	case 2:
		if len(c) > 1 {
			i := g.r.Intn(len(c) - 1)
			a, b := c[i][k], c[i+1][k]
			if d := new(big.Int).Sub(b, a); d.Sign() > 0 {
				return new(big.Int).Add(a, new(big.Int).Rand(g.r, d))
			}
			return new(big.Int).Set(a)
		}
	case 3:
		return new(big.Int).Lsh(big.NewInt(1), uint(60+g.r.Intn(10)))
	case 4:
		if len(c) > 0 {
			v := new(big.Int).Set(c[g.r.Intn(len(c))][k])
			return v.Add(v, big.NewInt(int64(g.r.Intn(3)-1)))
		}
	}
	return big.NewInt(g.r.Int63n(1000))
}

func (g *gen) arg(v *big.Int) any {
	if !g.frac {
		return g.enc(v)
	}
	s := v.String()
	switch g.r.Intn(14) {
	case 0:
		return s + "." + strconv.Itoa(g.r.Intn(10))
	case 1:
		return s + ".5"
	case 2:
		return s + ".0000000000000000000001"
	case 3:
		return s + ".9999999999999999999999"
	case 4:
		return []string{"Infinity", "-Infinity", "NaN", " 7 ", "+3", "0x10", "1e3", "abc", ""}[g.r.Intn(9)]
	}
	return s
}

func main() {
	seed := flag.Int64("seed", 1, "random seed")
	n := flag.Int("n", 1000, "operations")
	frac := flag.Bool("frac", false, "also fractional and special arguments")
	maxPt := flag.Int("points", 6, "most points in a curve")
	only := flag.String("op", "", "only this operation")
	flag.Parse()
	g := &gen{r: rand.New(rand.NewSource(*seed)), frac: *frac, maxPt: *maxPt}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	ops := []string{"amountAt", "amountReverse", "combine", "join", "shiftX", "shiftY", "simplify"}
	for range *n {
		op := ops[g.r.Intn(len(ops))]
		if *only != "" {
			op = *only
		}
		c := g.curve()
		var arg any
		switch op {
		case "amountAt", "amountReverse", "shiftX", "shiftY":
			k := 0
			if op == "amountReverse" || op == "shiftY" {
				k = 1
			}
			v := g.amount(c, k)
			if (op == "shiftX" || op == "shiftY") && g.r.Intn(2) == 0 {
				v.Neg(v)
			}
			arg = g.arg(v)
		case "combine", "join":
			arg = g.points(g.curve())
		case "simplify":
			arg = g.r.Intn(8)
		}
		b, _ := json.Marshal(map[string]any{"op": op, "args": []any{g.points(c), arg}})
		w.Write(b)
		w.WriteByte('\n')
	}
}
