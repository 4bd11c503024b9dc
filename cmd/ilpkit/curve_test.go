package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

// runCurveLines runs `ilpkit curve` on input and returns its output lines.
func runCurveLines(t *testing.T, input string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"curve"}, strings.NewReader(input), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	out := strings.TrimSuffix(stdout.String(), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// sameCurveResult compares two result lines; two errors match whatever
// their text (the 2017 messages were JavaScript's).
func sameCurveResult(got, want string) bool {
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	gm, gok := g.(map[string]any)
	wm, wok := w.(map[string]any)
	if gok && wok {
		_, gerr := gm["error"]
		_, werr := wm["error"]
		if gerr || werr {
			return gerr && werr
		}
	}
	return fmt.Sprint(g) == fmt.Sprint(w)
}

// TestCurveOracle replays operations whose answers were produced by running
// ilp-routing 10.1.0 itself (see testdata/curve_oracle/README.md).
func TestCurveOracle(t *testing.T) {
	f, err := os.Open("testdata/curve_oracle.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in strings.Builder
	var want []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			In   json.RawMessage `json:"in"`
			Want json.RawMessage `json:"want"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("oracle line %d: %v", len(want)+1, err)
		}
		in.Write(c.In)
		in.WriteByte('\n')
		want = append(want, string(c.Want))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(want) < 500 {
		t.Fatalf("only %d oracle cases", len(want))
	}
	got := runCurveLines(t, in.String())
	if len(got) != len(want) {
		t.Fatalf("%d results for %d operations", len(got), len(want))
	}
	inLines := strings.Split(in.String(), "\n")
	bad, errs := 0, 0
	for i := range want {
		if strings.HasPrefix(want[i], `{"error"`) {
			errs++
		}
		if !sameCurveResult(got[i], want[i]) {
			bad++
			if bad <= 10 {
				t.Errorf("operation %d: %s\n got  %s\n want %s", i+1, inLines[i], got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d results differ from ilp-routing 10.1.0", bad, len(want))
	}
	if errs == 0 || errs == len(want) {
		t.Errorf("oracle file has %d errors out of %d: expected a mix", errs, len(want))
	}
}

// TestCurveVectors runs the golden vectors through the command.
func TestCurveVectors(t *testing.T) {
	var doc struct {
		Vectors []map[string]any `json:"vectors"`
	}
	vectors.Load(t, "liquidity_curve.json", &doc)
	var in strings.Builder
	var want []string
	add := func(op string, a, b any, result any) {
		line, err := json.Marshal(map[string]any{"op": op, "args": []any{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		in.Write(line)
		in.WriteByte('\n')
		w, _ := json.Marshal(result)
		want = append(want, string(w))
	}
	for _, v := range doc.Vectors {
		switch op := v["op"].(string); op {
		case "amountAt", "amountReverse":
			in, out := "x", "y"
			if op == "amountReverse" {
				in, out = out, in
			}
			for _, c := range v["cases"].([]any) {
				c := c.(map[string]any)
				add(op, v["curve"], c[in], c[out])
			}
		case "combine", "join":
			add(op, v["a"], v["b"], map[string]any{"points": stringPoints(t, v["result"])})
		case "shiftX", "shiftY":
			add(op, v["curve"], v["delta"], map[string]any{"points": stringPoints(t, v["result"])})
		case "simplify":
			add(op, v["curve"], v["maxPoints"], map[string]any{"points": stringPoints(t, v["result"])})
		}
	}
	if len(want) < 30 {
		t.Fatalf("only %d vector operations", len(want))
	}
	got := runCurveLines(t, in.String())
	if len(got) != len(want) {
		t.Fatalf("%d results for %d operations", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vector operation %d: got %s, want %s", i+1, got[i], want[i])
		}
	}
}

func stringPoints(t *testing.T, v any) [][2]string {
	t.Helper()
	var out [][2]string
	for _, p := range v.([]any) {
		p := p.([]any)
		out = append(out, [2]string{fmt.Sprint(p[0]), fmt.Sprint(p[1])})
	}
	if out == nil {
		out = [][2]string{}
	}
	return out
}

func TestCurveStreamRules(t *testing.T) {
	input := strings.Join([]string{
		`{"op":"amountAt","args":[[["10","20"],["100","200"]],"11"]}`,
		``,    // blank: skipped
		`   `, // blank: skipped
		`{not json`,
		`{"op":"fly","args":[[],1]}`,
		`{"op":"amountAt","args":[[["0","0"]]]}`,
		`{"op":"amountAt","args":[[],"1"]}`, // 2017 threw
		`{"op":"amountReverse","args":[[["0","0"],["10","10"]],"11"]}` + "\r", // CRLF
		`{"op":"shiftY","args":[[["0","0"],["10","10"]],-20]}`,
		`{"op":"amountAt","args":[[["0","0"],["10","10"]],"5"]} {"op":"x"}`,
		`{"op":"join","args":["AAAAAAAAAAAAAAAAAAAAAAAAAABkAAAAAAAAADwAAAA=",[["0","0"],["60","6"]]]}`,
		`{"op":"simplify","args":[[["0","0"],["1","1"],["2","2"],["3","3"],["4","10"],["5","11"]],"3"]}`,
	}, "\n")
	got := runCurveLines(t, input)
	want := []string{
		`"22"`,
		`error`,
		`error`,
		`error`,
		`error`,
		`"Infinity"`,
		`{"points":[["0","0"]]}`,
		`error`,
		`{"points":[["0","0"],["100","6"]]}`,
		`{"points":[["0","0"],["3","3"],["5","11"]]}`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines %q, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if w == "error" {
			var e struct{ Error string }
			if json.Unmarshal([]byte(got[i]), &e) != nil || e.Error == "" {
				t.Errorf("line %d = %s, want an error object", i+1, got[i])
			}
			continue
		}
		if got[i] != w {
			t.Errorf("line %d = %s, want %s", i+1, got[i], w)
		}
	}
}

func TestCurveLongLineAndNoTrailingNewline(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"op":"amountAt","args":[[`)
	const n = 20000 // a line of about 400 kB
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%d","%d"]`, i*10, i*20)
	}
	b.WriteString(`],"15"]}`) // no newline at the end
	got := runCurveLines(t, b.String())
	if len(got) != 1 || got[0] != `"30"` {
		t.Fatalf("got %q", got)
	}
}

func TestCurveUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"curve", "--help"}, strings.NewReader(""), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "amountReverse") {
		t.Errorf("--help: exit %d, %q", code, stdout.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"curve", "extra"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
	if got := runCurveLines(t, ""); got != nil {
		t.Errorf("empty input gave %q", got)
	}
}

// A reader that fails must end the command with an error, after the lines
// already answered.
func TestCurveReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(`{"op":"amountAt","args":[[["0","0"],["10","10"]],"5"]}`+"\n"), errReader{})
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"curve"}, r, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout.String() != "\"5\"\n" || !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("test: broken pipe") }

func TestCurveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"curve"}, strings.NewReader(`{"op":"amountAt","args":[[],"1"]}`+"\n"), &stdout, &stderr); code != 1 || stdout.Len() != 0 {
		t.Errorf("cancelled: exit %d, stdout %q", code, stdout.String())
	}
}

func BenchmarkCurveCommand(b *testing.B) {
	line := `{"op":"combine","args":[[["0","0"],["33","450"],["66","550"]],[["0","0"],["100","1000"]]]}` + "\n" +
		`{"op":"amountAt","args":[[["10","20"],["100","200"]],"55"]}` + "\n" +
		`{"op":"shiftX","args":[[["0","0"],["50","60"],["100","100"]],"-10"]}` + "\n"
	input := strings.Repeat(line, 1000)
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		if code := run(context.Background(), []string{"curve"}, strings.NewReader(input), io.Discard, io.Discard); code != 0 {
			b.Fatal(code)
		}
	}
}
