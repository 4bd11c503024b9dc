package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/ilpkit/ilpkit/curve"
)

const curveUsage = `Usage: ilpkit curve < operations.jsonl

Reads one JSON object per line on standard input and writes one JSON value
per line on standard output, in the same order:

  {"op": "amountAt",      "args": [points, x]}        → "y"
  {"op": "amountReverse", "args": [points, y]}        → "x" or "Infinity"
  {"op": "combine",       "args": [points, points]}   → {"points": [...]}
  {"op": "join",          "args": [points, points]}   → {"points": [...]}
  {"op": "shiftX",        "args": [points, dx]}       → {"points": [...]}
  {"op": "shiftY",        "args": [points, dy]}       → {"points": [...]}
  {"op": "simplify",      "args": [points, n]}        → {"points": [...]}

points is [["x","y"], ...] (decimal strings or JSON numbers) or a base64
string of the binary form; amounts are strings or numbers, shifts may be
negative or fractional. Every result is computed as ilp-routing 10.1.0
(2017) computed it, and where it threw the line is {"error": "..."}. A line
that is not a valid operation also gives an {"error": ...} line; blank lines
are skipped and give no output. JSON numbers are read as JavaScript read
them (float64, so above 2^53 use strings).
`

// runCurve streams operations from stdin to stdout (see curveUsage).
func runCurve(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			_, err := io.WriteString(stdout, curveUsage)
			return err
		}
		return fmt.Errorf("%w: curve takes no arguments (got %q); see ilpkit curve --help", errUsage, args[0])
	}
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriterSize(stdout, 64<<10)
	var buf []byte
	for {
		if err := ctx.Err(); err != nil {
			out.Flush()
			return err
		}
		// Flush before a read could block, so an interactive caller sees
		// each answer; a piped batch is still written in large chunks.
		if in.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				return fmt.Errorf("curve: writing: %w", err)
			}
		}
		line, err := readLine(in)
		if len(line) > 0 || err == nil {
			if t := bytes.TrimSpace(line); len(t) > 0 {
				buf = appendCurveResult(buf[:0], t)
				buf = append(buf, '\n')
				if _, werr := out.Write(buf); werr != nil {
					return fmt.Errorf("curve: writing: %w", werr)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Flush()
			return fmt.Errorf("curve: reading: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("curve: writing: %w", err)
	}
	return nil
}

// readLine returns the next line without its end of line, whatever its
// length.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), err
}

type curveOp struct {
	Op   string            `json:"op"`
	Args []json.RawMessage `json:"args"`
}

// appendCurveResult evaluates one operation line and appends its JSON result.
func appendCurveResult(b []byte, line []byte) []byte {
	res, err := evalCurveOp(line)
	if err != nil {
		msg, _ := json.Marshal(err.Error())
		b = append(b, `{"error":`...)
		b = append(b, msg...)
		return append(b, '}')
	}
	return append(b, res...)
}

func evalCurveOp(line []byte) ([]byte, error) {
	var op curveOp
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&op); err != nil {
		return nil, fmt.Errorf("malformed operation: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed operation: more than one JSON value on the line")
	}
	if len(op.Args) != 2 {
		return nil, fmt.Errorf("%s: want 2 arguments, got %d", op.Op, len(op.Args))
	}
	switch op.Op {
	case "amountAt", "amountReverse", "combine", "join", "shiftX", "shiftY", "simplify":
	default:
		return nil, fmt.Errorf("unknown op %q", op.Op)
	}
	c, err := curveArg(op.Args[0])
	if err != nil {
		return nil, err
	}
	switch op.Op {
	case "amountAt":
		a, err := numberArg(op.Args[1])
		if err != nil {
			return nil, err
		}
		y, err := c.AmountAtArg(a)
		if err != nil {
			return nil, err
		}
		return quoteUint(y), nil
	case "amountReverse":
		a, err := numberArg(op.Args[1])
		if err != nil {
			return nil, err
		}
		x, ok, err := c.AmountReverseArg(a)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []byte(`"Infinity"`), nil
		}
		return quoteUint(x), nil
	case "combine", "join":
		o, err := curveArg(op.Args[1])
		if err != nil {
			return nil, err
		}
		if op.Op == "combine" {
			return pointsResult(c.CombineChecked(o))
		}
		return pointsResult(c.JoinChecked(o))
	case "shiftX", "shiftY":
		a, err := numberArg(op.Args[1])
		if err != nil {
			return nil, err
		}
		if op.Op == "shiftX" {
			return pointsResult(c.ShiftXArg(a))
		}
		return pointsResult(c.ShiftYArg(a))
	default: // simplify
		n, err := pointCount(op.Args[1])
		if err != nil {
			return nil, err
		}
		return pointsResult(c.SimplifyLossy(n))
	}
}

func quoteUint(v uint64) []byte {
	b := append(make([]byte, 0, 24), '"')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '"')
}

func pointsResult(c curve.Curve, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 16+c.Len()*48)
	b = append(b, `{"points":[`...)
	for i := range c.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		p := c.At(i)
		b = append(b, `["`...)
		b = strconv.AppendUint(b, p.X, 10)
		b = append(b, `","`...)
		b = strconv.AppendUint(b, p.Y, 10)
		b = append(b, `"]`...)
	}
	return append(b, "]}"...), nil
}

// numberArg reads a JSON string or number as the JavaScript value it was.
func numberArg(raw json.RawMessage) (curve.Arg, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			return curve.StringArg(string(raw[1 : len(raw)-1])), nil // no escapes: as is
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return curve.Arg{}, fmt.Errorf("bad string: %w", err)
		}
		return curve.StringArg(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return curve.Arg{}, fmt.Errorf("want a number or a string, got %s", truncate(raw))
	}
	// JSON.parse gives the nearest float64, and ±Infinity beyond its range.
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return curve.Arg{}, fmt.Errorf("bad number %s: %w", n, err)
	}
	return curve.NumberArg(f), nil
}

// curveArg reads points ([[x, y], ...]) or a base64 binary form, as
// `new LiquidityCurve(data)` took an array or a base64 string.
func curveArg(raw json.RawMessage) (curve.Curve, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return curve.Curve{}, fmt.Errorf("bad curve: %w", err)
		}
		return curve.FromBase64(s)
	}
	var pts []json.RawMessage
	if err := json.Unmarshal(raw, &pts); err != nil || pts == nil {
		return curve.Curve{}, fmt.Errorf("want a curve (an array of [x, y] points or base64), got %s", truncate(raw))
	}
	args := make([][2]curve.Arg, len(pts))
	for i, p := range pts {
		var xy []json.RawMessage
		if err := json.Unmarshal(p, &xy); err != nil || len(xy) < 2 {
			return curve.Curve{}, fmt.Errorf("point %d: want [x, y], got %s", i, truncate(p))
		}
		for k := range 2 {
			a, err := numberArg(xy[k])
			if err != nil {
				return curve.Curve{}, fmt.Errorf("point %d: %w", i, err)
			}
			args[i][k] = a
		}
	}
	return curve.NewFromArgs(args)
}

// pointCount reads simplify's maximum point count: a number or a numeric
// string, used as JavaScript compared it (only its floor matters).
func pointCount(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	text := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("simplify: bad string: %w", err)
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) {
		return 0, fmt.Errorf("simplify: want a point count, got %s", truncate(raw))
	}
	f = math.Floor(f)
	switch {
	case f > math.MaxInt32:
		return math.MaxInt32, nil
	case f < math.MinInt32:
		return math.MinInt32, nil
	}
	return int(f), nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
