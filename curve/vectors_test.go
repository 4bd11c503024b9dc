package curve

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

// The golden vectors of shared/spec/vectors/liquidity_curve.json, produced
// by running ilp-routing 10.1.0. Each one is checked through the fast
// methods, the *Arg methods and the reference path.

type curveVector struct {
	Op        string          `json:"op"`
	Curve     json.RawMessage `json:"curve"`
	A         json.RawMessage `json:"a"`
	B         json.RawMessage `json:"b"`
	Result    json.RawMessage `json:"result"`
	Delta     json.Number     `json:"delta"`
	MaxPoints int             `json:"maxPoints"`
	Hex       *string         `json:"hex"`
	Base64    *string         `json:"base64"`
	Cases     []struct {
		X any `json:"x"` // decimal strings, "Infinity"
		Y any `json:"y"`
	} `json:"cases"`
	Source string `json:"source"`
}

func loadCurveVectors(t *testing.T) []curveVector {
	t.Helper()
	var doc struct {
		Vectors []curveVector `json:"vectors"`
	}
	vectors.Load(t, "liquidity_curve.json", &doc)
	if len(doc.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return doc.Vectors
}

// vectorPoints decodes [[x, y], ...] whose members are JSON numbers or
// strings holding integers.
func vectorPoints(t *testing.T, raw json.RawMessage) []Point {
	t.Helper()
	var pts [][2]json.Number
	if err := json.Unmarshal(raw, &pts); err != nil {
		t.Fatalf("points %s: %v", raw, err)
	}
	out := make([]Point, len(pts))
	for i, p := range pts {
		for k := range 2 {
			v, err := strconv.ParseUint(p[k].String(), 10, 64)
			if err != nil {
				t.Fatalf("point %s: %v", p[k], err)
			}
			if k == 0 {
				out[i].X = v
			} else {
				out[i].Y = v
			}
		}
	}
	return out
}

func vectorCurve(t *testing.T, raw json.RawMessage) Curve {
	t.Helper()
	c, err := New(vectorPoints(t, raw))
	if err != nil {
		t.Fatalf("curve %s: %v", raw, err)
	}
	return c
}

func wantCurve(t *testing.T, what string, got Curve, err error, want []Point) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error %v", what, err)
		return
	}
	if !got.Equal(fromValid(want)) {
		t.Errorf("%s = %v, want %v", what, got, fromValid(want))
	}
}

func TestGoldenVectors(t *testing.T) {
	seen := map[string]int{}
	for i, v := range loadCurveVectors(t) {
		seen[v.Op]++
		t.Run(fmt.Sprintf("%02d_%s", i, v.Op), func(t *testing.T) {
			switch v.Op {
			case "amountAt", "amountReverse":
				checkAmountVector(t, v)
			case "combine", "join":
				a, b := vectorCurve(t, v.A), vectorCurve(t, v.B)
				want := vectorPoints(t, v.Result)
				if v.Op == "combine" {
					wantCurve(t, "Combine", a.Combine(b), nil, want)
					got, err := a.CombineChecked(b)
					wantCurve(t, "CombineChecked", got, err, want)
					got, err = refCombine(a, b)
					wantCurve(t, "refCombine", got, err, want)
				} else {
					wantCurve(t, "Join", a.Join(b), nil, want)
					got, err := a.JoinChecked(b)
					wantCurve(t, "JoinChecked", got, err, want)
					got, err = refJoin(a, b)
					wantCurve(t, "refJoin", got, err, want)
				}
			case "shiftX", "shiftY":
				c := vectorCurve(t, v.Curve)
				want := vectorPoints(t, v.Result)
				d, ok := new(big.Int).SetString(v.Delta.String(), 10)
				if !ok {
					t.Fatalf("delta %q", v.Delta)
				}
				f, err := v.Delta.Float64()
				if err != nil {
					t.Fatal(err)
				}
				dd := decInt(d)
				if v.Op == "shiftX" {
					got, err := c.ShiftX(d)
					wantCurve(t, "ShiftX", got, err, want)
					got, err = c.ShiftXArg(NumberArg(f))
					wantCurve(t, "ShiftXArg(number)", got, err, want)
					got, err = c.ShiftXArg(StringArg(v.Delta.String()))
					wantCurve(t, "ShiftXArg(string)", got, err, want)
					got, err = refShiftX(c, dd)
					wantCurve(t, "refShiftX", got, err, want)
				} else {
					got, err := c.ShiftY(d)
					wantCurve(t, "ShiftY", got, err, want)
					got, err = c.ShiftYArg(NumberArg(f))
					wantCurve(t, "ShiftYArg(number)", got, err, want)
					got, err = refShiftY(c, dd)
					wantCurve(t, "refShiftY", got, err, want)
				}
			case "simplify":
				c := vectorCurve(t, v.Curve)
				want := vectorPoints(t, v.Result)
				wantCurve(t, "Simplify", c.Simplify(v.MaxPoints), nil, want)
				got, err := c.SimplifyLossy(v.MaxPoints)
				wantCurve(t, "SimplifyLossy", got, err, want)
			case "toBuffer":
				checkBinaryVector(t, v)
			case "Route.join":
				t.Skip("Route.join belongs to the routing package")
			default:
				t.Fatalf("vector op %q has no test here", v.Op)
			}
		})
	}
	for _, op := range []string{"amountAt", "amountReverse", "combine", "join", "shiftX", "shiftY", "simplify", "toBuffer"} {
		if seen[op] == 0 {
			t.Errorf("no %s vector found", op)
		}
	}
}

func checkAmountVector(t *testing.T, v curveVector) {
	c := vectorCurve(t, v.Curve)
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range v.Cases {
		in, want := numText(t, tc.X), numText(t, tc.Y)
		if v.Op == "amountReverse" {
			in, want = want, in
		}
		u, err := strconv.ParseUint(in, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		var ref dec
		var argGot string
		if v.Op == "amountAt" {
			got = strconv.FormatUint(c.AmountAt(u), 10)
			ref, err = refAmountAt(c, decU64(u))
			a, aerr := c.AmountAtArg(StringArg(in))
			if aerr != nil {
				t.Errorf("AmountAtArg(%s): %v", in, aerr)
			}
			argGot = strconv.FormatUint(a, 10)
		} else {
			x, ok := c.AmountReverse(u)
			got = "Infinity"
			if ok {
				got = strconv.FormatUint(x, 10)
			}
			ref, err = refAmountReverse(c, decU64(u))
			a, aok, aerr := c.AmountReverseArg(StringArg(in))
			if aerr != nil {
				t.Errorf("AmountReverseArg(%s): %v", in, aerr)
			}
			argGot = "Infinity"
			if aok {
				argGot = strconv.FormatUint(a, 10)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if got != want || ref.String() != want || argGot != want {
			t.Errorf("%s(%s) on %v: fast %s, ref %s, arg %s, want %s", v.Op, in, c, got, ref, argGot, want)
		}
	}
}

// numText is the text of a vector value given as a JSON string or number.
func numText(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	t.Fatalf("vector value %v (%T) is neither a string nor a number", v, v)
	return ""
}

func checkBinaryVector(t *testing.T, v curveVector) {
	if v.Hex == nil || v.Base64 == nil {
		t.Fatal("toBuffer vector without hex or base64")
	}
	c := vectorCurve(t, v.Curve)
	bin, _ := c.MarshalBinary()
	if got := hex.EncodeToString(bin); got != *v.Hex {
		t.Errorf("binary %s, want %s", got, *v.Hex)
	}
	if got := c.Base64(); got != *v.Base64 {
		t.Errorf("base64 %s, want %s", got, *v.Base64)
	}
	raw, err := hex.DecodeString(*v.Hex)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromBinary(raw)
	if err != nil || !back.Equal(c) {
		t.Errorf("FromBinary = %v, %v; want %v", back, err, c)
	}
	back, err = FromBase64(*v.Base64)
	if err != nil || !back.Equal(c) {
		t.Errorf("FromBase64 = %v, %v; want %v", back, err, c)
	}
	var viaText Curve
	if err := json.Unmarshal([]byte(strconv.Quote(*v.Base64)), &viaText); err != nil || !viaText.Equal(c) {
		t.Errorf("JSON string = %v, %v; want %v", viaText, err, c)
	}
	if got := hex.EncodeToString(c.AppendBinary([]byte{0xab})); got != "ab"+*v.Hex {
		t.Errorf("AppendBinary after a prefix = %s, want ab%s", got, *v.Hex)
	}
}
