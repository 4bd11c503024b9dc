package ledger_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// A transfer as ilp-plugin-virtual 16 sent it, with the legacy fields
// (direction, account, cases) that 2017 peers still added.
const peerTransfer = `{
  "id": "5857d460-2a46-4545-8311-ea6a3a3e5a4f",
  "amount": "1000",
  "ledger": "peer.Kx4wC.usd.9.",
  "from": "peer.Kx4wC.usd.9.alice",
  "to": "peer.Kx4wC.usd.9.bob",
  "direction": "incoming",
  "account": "peer.Kx4wC.usd.9.alice",
  "cases": [],
  "ilp": "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA",
  "executionCondition": "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U",
  "expiresAt": "2017-06-01T12:00:10.042Z",
  "custom": {"memo": "<tea & cake>", "n": 12345678901234567890},
  "noteToSelf": {"source": "ui"}
}`

func TestTransferReads2017Shape(t *testing.T) {
	var tr ledger.Transfer
	if err := json.Unmarshal([]byte(peerTransfer), &tr); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2017, 6, 1, 12, 0, 10, 42_000_000, time.UTC)
	if tr.ID != "5857d460-2a46-4545-8311-ea6a3a3e5a4f" || tr.Amount != 1000 || tr.Ledger != "peer.Kx4wC.usd.9." ||
		tr.From != "peer.Kx4wC.usd.9.alice" || tr.To != "peer.Kx4wC.usd.9.bob" || tr.ILP != "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA" ||
		tr.ExecutionCondition != "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U" || !tr.ExpiresAt.Equal(want) || !tr.Conditional() {
		t.Fatalf("decoded %+v", tr)
	}
	// Big numbers inside custom keep all their digits.
	if !strings.Contains(string(tr.Custom), "12345678901234567890") || !strings.Contains(string(tr.NoteToSelf), `"ui"`) {
		t.Fatalf("custom %s, noteToSelf %s", tr.Custom, tr.NoteToSelf)
	}

	out, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["amount"] != "1000" || m["expiresAt"] != "2017-06-01T12:00:10.042Z" {
		t.Fatalf("encoded amount %v, expiresAt %v", m["amount"], m["expiresAt"])
	}
	if _, ok := m["direction"]; ok {
		t.Fatal("legacy field direction was written back")
	}
	var back ledger.Transfer
	if err := json.Unmarshal(out, &back); err != nil || !back.SameAs(tr) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestTransferAmounts(t *testing.T) {
	good := map[string]uint64{
		`"0"`: 0, `0`: 0, `"1000"`: 1000, `1000`: 1000,
		`"18446744073709551615"`: math.MaxUint64, `18446744073709551615`: math.MaxUint64,
	}
	for amt, want := range good {
		var tr ledger.Transfer
		if err := json.Unmarshal([]byte(`{"id":"x","amount":`+amt+`}`), &tr); err != nil || tr.Amount != want {
			t.Errorf("amount %s: %d, %v; want %d", amt, tr.Amount, err, want)
		}
	}
	bad := []string{`"18446744073709551616"`, `18446744073709551616`, `"-1"`, `-1`, `"1.5"`, `1.5`, `1e3`, `"1e3"`, `""`,
		`null`, `true`, `"0x10"`, `" 5"`, `"+5"`, `{}`, `[]`}
	for _, amt := range bad {
		var tr ledger.Transfer
		err := json.Unmarshal([]byte(`{"id":"x","amount":`+amt+`}`), &tr)
		if !errors.Is(err, ledger.ErrInvalidTransfer) {
			t.Errorf("amount %s: %v, want ErrInvalidTransfer", amt, err)
		}
	}
	var tr ledger.Transfer
	if err := json.Unmarshal([]byte(`{"id":"x"}`), &tr); !errors.Is(err, ledger.ErrInvalidTransfer) {
		t.Errorf("missing amount: %v", err)
	}
}

func TestTransferExpiry(t *testing.T) {
	cases := map[string]string{
		"2017-06-01T12:00:10.042Z":      "2017-06-01T12:00:10.042Z",
		"2017-06-01T12:00:10Z":          "2017-06-01T12:00:10.000Z",
		"2017-06-01T14:00:10.5+02:00":   "2017-06-01T12:00:10.500Z",
		"2017-06-01T12:00:10.042999Z":   "2017-06-01T12:00:10.042Z",
		"2017-12-31T23:59:59.999-00:30": "2018-01-01T00:29:59.999Z",
	}
	for in, want := range cases {
		var tr ledger.Transfer
		if err := json.Unmarshal([]byte(`{"id":"x","amount":"1","expiresAt":"`+in+`"}`), &tr); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		out, _ := json.Marshal(tr)
		if !strings.Contains(string(out), `"expiresAt":"`+want+`"`) {
			t.Errorf("%s written as %s, want %s", in, out, want)
		}
	}
	for _, in := range []string{"yesterday", "2017-06-01", "2017-06-01 12:00:00Z", "1496318410042"} {
		var tr ledger.Transfer
		if err := json.Unmarshal([]byte(`{"id":"x","amount":"1","expiresAt":"`+in+`"}`), &tr); err == nil {
			t.Errorf("expiresAt %q accepted", in)
		}
	}
	out, _ := json.Marshal(ledger.Transfer{ID: "x", Amount: 1})
	if strings.Contains(string(out), "expiresAt") {
		t.Errorf("a transfer without expiry wrote %s", out)
	}
	if got := ledger.FormatTime(time.Date(2017, 6, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))); got != "2017-06-01T11:00:00.000Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

func TestTransferWritesJSONAsJavaScriptDid(t *testing.T) {
	tr := ledger.Transfer{ID: "x", Amount: 5, Custom: json.RawMessage(`{"memo": "<a & b>"}`)}
	out, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	// The outer json.Marshal escapes HTML in what MarshalJSON returns; the
	// Transfer's own encoding (used by MarshalRecord) does not.
	rec, err := ledger.MarshalRecord(ledger.Record{Transfer: tr, State: ledger.StateExecuted})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rec), `"memo":"<a & b>"`) {
		t.Errorf("record %s escapes what JSON.stringify would not", rec)
	}
	var back ledger.Transfer
	if err := json.Unmarshal(out, &back); err != nil || !back.SameAs(tr) {
		t.Errorf("round trip through escaped JSON: %+v, %v", back, err)
	}
}

func TestTransferSameAs(t *testing.T) {
	base := ledger.Transfer{ID: "x", Amount: 5, To: "a.b", ExpiresAt: time.Date(2017, 6, 1, 12, 0, 0, 123_000_000, time.UTC),
		Custom: json.RawMessage(`{"a":1,"b":[1,2],"c":"<"}`), NoteToSelf: json.RawMessage(`{"k":1}`)}
	same := base
	same.ExpiresAt = base.ExpiresAt.Add(400 * time.Microsecond).In(time.FixedZone("y", -7200))
	same.Custom = json.RawMessage(` { "c" : "\u003c", "b":[1, 2], "a":1 } `)
	same.NoteToSelf = json.RawMessage(`{"k":2}`) // local, not compared
	if !base.SameAs(same) {
		t.Fatal("transfers equal by meaning (key order, spaces, escapes, time zone, sub-millisecond) are not SameAs")
	}
	// Numbers are compared by their text, never through float64, so that
	// large integers keep every digit; 1.0e0 is therefore not 1.
	same.Custom = json.RawMessage(`{"a":1.0e0,"b":[1,2],"c":"<"}`)
	if base.SameAs(same) {
		t.Fatal("1.0e0 compared equal to 1")
	}
	for name, change := range map[string]func(*ledger.Transfer){
		"amount":    func(t *ledger.Transfer) { t.Amount = 6 },
		"to":        func(t *ledger.Transfer) { t.To = "a.c" },
		"expiry":    func(t *ledger.Transfer) { t.ExpiresAt = t.ExpiresAt.Add(time.Millisecond) },
		"no expiry": func(t *ledger.Transfer) { t.ExpiresAt = time.Time{} },
		"custom":    func(t *ledger.Transfer) { t.Custom = json.RawMessage(`{"a":1,"b":[2,1],"c":"<"}`) },
		"no custom": func(t *ledger.Transfer) { t.Custom = nil },
		"condition": func(t *ledger.Transfer) { t.ExecutionCondition = "c" },
	} {
		other := base
		change(&other)
		if base.SameAs(other) || other.SameAs(base) {
			t.Errorf("a different %s is SameAs", name)
		}
	}
	var empty, null ledger.Transfer
	null.Custom = json.RawMessage("null")
	if !empty.SameAs(null) {
		t.Error("custom null and absent differ")
	}
}

// FuzzTransferJSON decodes any bytes as a transfer; whatever decodes
// encodes and decodes again to the same transfer, and nothing panics.
func FuzzTransferJSON(f *testing.F) {
	f.Add([]byte(peerTransfer))
	f.Add([]byte(`{"id":"x","amount":1}`))
	f.Add([]byte(`{"id":"x","amount":"18446744073709551615","custom":null,"expiresAt":"2017-06-01T12:00:00Z"}`))
	f.Add([]byte(`{"id":"x","amount":"-1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr ledger.Transfer
		if err := json.Unmarshal(data, &tr); err != nil {
			return
		}
		out, err := json.Marshal(tr)
		if err != nil {
			// Custom or noteToSelf that is not valid JSON on its own cannot be
			// written back; the decoder only lets valid JSON through.
			t.Fatalf("encode %+v: %v", tr, err)
		}
		var back ledger.Transfer
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		if !back.SameAs(tr) || back.ExpiresAt.UnixMilli() != tr.ExpiresAt.UnixMilli() {
			t.Fatalf("round trip changed the transfer:\n%+v\n%+v", tr, back)
		}
	})
}
