package web

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// FuzzAmount: reading an amount never panics; what it accepts is digits
// only, at most 2^63-1, and writes back as its canonical decimal, which
// reads again as the same amount.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{`"0"`, `"1"`, `"007"`, `"9223372036854775807"`, `"9223372036854775808"`, `1`, `1.5`, `"-1"`, `"1e3"`, `" 1"`, `null`, `"١"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			return
		}
		var s string
		if json.Unmarshal([]byte(in), &s) != nil {
			t.Fatalf("accepted a non-string %q", in)
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v != uint64(a) || v > 1<<63-1 {
			t.Fatalf("%q read as %d", in, a)
		}
		out, _ := json.Marshal(a)
		var b Amount
		if err := json.Unmarshal(out, &b); err != nil || b != a || string(out) != `"`+strconv.FormatUint(v, 10)+`"` {
			t.Fatalf("%q → %s → %d %v", in, out, b, err)
		}
	})
}

// FuzzCursor: decoding a cursor never panics, and a cursor the API made
// decodes to its position.
func FuzzCursor(f *testing.F) {
	f.Add(int64(1700000000000), "12:p1", "")
	f.Add(int64(0), "in:x", "bm90LWEtY3Vyc29y")
	f.Fuzz(func(t *testing.T, ms int64, id, raw string) {
		decodeCursor(raw)
		if id == "" {
			return
		}
		c, ok := decodeCursor(encodeCursor(store.Payment{CreatedAt: time.UnixMilli(ms), ID: id}))
		if !ok || c.ID != id || c.CreatedAt.UnixMilli() != ms {
			t.Fatalf("%d %q → %+v %v", ms, id, c, ok)
		}
	})
}
