package virtual

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// TestEncodeParams checks that the direct encoding of call parameters is
// byte for byte what json.Marshal writes, including where it escapes.
func TestEncodeParams(t *testing.T) {
	exp := time.Date(2017, 7, 24, 12, 0, 0, 123000000, time.UTC)
	tr := ledger.Transfer{ID: "2d0ad3f8-5d0e-4d2c-9a53-a2bb2c5e0c1a", Ledger: "peer.x.usd.9.", From: "peer.x.usd.9.a", To: "peer.x.usd.9.b",
		Amount: 1000, ILP: "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA", ExecutionCondition: "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", ExpiresAt: exp}
	withCustom := tr
	withCustom.Custom = json.RawMessage(`{"a":"<b>&c</b>","u":"é\u2028"}`)
	spaced := tr
	spaced.Custom = json.RawMessage(`{ "a" : 1 }`)
	msg := ledger.Message{ID: "m1", Ledger: "peer.x.usd.9.", From: "peer.x.usd.9.a", To: "peer.x.usd.9.b", ILP: "AQ", Custom: json.RawMessage(`{"k":"v \" \\ x"}`)}
	cases := [][]any{
		nil,
		{},
		{tr},
		{withCustom},
		{spaced},
		{"id", "fulfillment"},
		{"a<b", "é"},
		{"quote\"", "back\\slash", "ctl\x01"},
		{msg},
		{"id", ledger.Rejection{Code: "F00", Name: "Bad Request", Message: "<no>", TriggeredBy: "peer.x.usd.9.b", TriggeredAt: exp}},
		{"id", ledger.Rejection{Code: "F00", Name: "Bad Request", Message: "fine", TriggeredBy: "peer.x.usd.9.b", TriggeredAt: exp}},
		{42},
	}
	for _, params := range cases {
		want, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		if params == nil {
			want = []byte("[]")
		}
		got, err := encodeParams(params)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("encodeParams(%v) =\n%s\nwant\n%s", params, got, want)
		}
	}
}

func TestReadLimited(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4000} {
		body := strings.Repeat("x", n)
		var buf bytes.Buffer
		if err := readLimited(&buf, strings.NewReader(body), 600); err != nil {
			t.Fatal(err)
		}
		want := min(n, 601)
		if buf.Len() != want {
			t.Errorf("%d bytes with limit 600: read %d, want %d", n, buf.Len(), want)
		}
	}
}

// TestDecodeParam checks that decodeParam decodes every parameter of a
// body as json.Unmarshal does, with the same errors.
func TestDecodeParam(t *testing.T) {
	body := `[{"id":"t1","ledger":"peer.x.usd.9.","from":"peer.x.usd.9.a","to":"peer.x.usd.9.b","amount":"1000","ilp":"AQ","executionCondition":"47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU","expiresAt":"2017-07-24T12:00:00.123Z","direction":"outgoing"},
		null, "plain", "esc\"aped", "\u00e9t\u00e9", "<&>", 12, {"amount":"-1"}, {"amount":1.5}, [1], true, "", {"id":1}]`
	var params []wireParam
	if err := json.Unmarshal([]byte(body), &params); err != nil {
		t.Fatal(err)
	}
	for i, p := range params {
		var t1, t2 ledger.Transfer
		e1, e2 := decodeParam(p, &t1), json.Unmarshal(p, &t2)
		if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Error() != e2.Error() || e1 == nil && !transfersEqual(t1, t2) {
			t.Errorf("param %d %s as a transfer: %v %+v, json.Unmarshal: %v %+v", i, p, e1, t1, e2, t2)
		}
		var s1, s2 string
		e1, e2 = decodeParam(p, &s1), json.Unmarshal(p, &s2)
		if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Error() != e2.Error() || s1 != s2 {
			t.Errorf("param %d %s as a string: %v %q, json.Unmarshal: %v %q", i, p, e1, s1, e2, s2)
		}
		var m1, m2 ledger.Message
		e1, e2 = decodeParam(p, &m1), json.Unmarshal(p, &m2)
		if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Error() != e2.Error() {
			t.Errorf("param %d %s as a message: %v, json.Unmarshal: %v", i, p, e1, e2)
		}
	}
}

func transfersEqual(a, b ledger.Transfer) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
