package ledger_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
	"github.com/ilpkit/ilpkit/ledger"
)

// TestPluginRPCVectors reads the transfers and messages of the plugin RPC
// examples (RFC 0021 and ilp-plugin-virtual 16) and writes them back: every
// field the kit models survives, and the extra fields peers send (direction)
// are ignored.
func TestPluginRPCVectors(t *testing.T) {
	var doc struct {
		PluginRPC []struct {
			Method   string            `json:"method"`
			Body     []json.RawMessage `json:"body"`
			Response json.RawMessage   `json:"response"`
		} `json:"plugin_rpc"`
	}
	vectors.Load(t, "routing_rpc_spsp.json", &doc)
	seen := map[string]bool{}
	for _, v := range doc.PluginRPC {
		switch v.Method {
		case "send_transfer":
			var tr ledger.Transfer
			if err := json.Unmarshal(v.Body[0], &tr); err != nil {
				t.Fatalf("%s: %v", v.Method, err)
			}
			if tr.Amount != 348807 || !tr.Conditional() || tr.ExpiresAt.IsZero() {
				t.Fatalf("%s: decoded %+v", v.Method, tr)
			}
			seen[v.Method] = true
		case "send_request (ILQP)":
			for _, raw := range []json.RawMessage{v.Body[0], v.Response} {
				var m ledger.Message
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatalf("%s: %v", v.Method, err)
				}
				out, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSONValue(t, out, raw) {
					t.Fatalf("%s: %s written back as %s", v.Method, raw, out)
				}
			}
			seen[v.Method] = true
		}
	}
	if !seen["send_transfer"] || !seen["send_request (ILQP)"] {
		t.Fatalf("vectors found: %v", seen)
	}
}

func sameJSONValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// FuzzMessageJSON: whatever decodes as a message encodes and decodes again
// to the same message, and nothing panics.
func FuzzMessageJSON(f *testing.F) {
	f.Add([]byte(`{"id":"1","ledger":"g.a.","from":"g.a.b","to":"g.a.c","ilp":"AQ==","custom":{"x":[1,2]},"timeout":5000}`))
	f.Add([]byte(`{"to":"g.a.c","custom":null}`))
	f.Add([]byte(`{"custom":"no"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m ledger.Message
		if json.Unmarshal(data, &m) != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		var back ledger.Message
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		again, _ := json.Marshal(back)
		if back.ID != m.ID || back.Ledger != m.Ledger || back.From != m.From || back.To != m.To || back.ILP != m.ILP || !bytes.Equal(out, again) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, back)
		}
	})
}

// FuzzRejectionJSON: whatever decodes as a rejection encodes and decodes
// again to the same rejection, and nothing panics.
func FuzzRejectionJSON(f *testing.F) {
	f.Add([]byte(`{"code":"F02","name":"Unreachable","message":"m","triggered_by":"g.a","forwarded_by":"g.b","triggered_at":"2017-07-24T12:00:00.123Z","additional_info":{"a":1}}`))
	f.Add([]byte(`{"code":"R00","forwarded_by":["g.a","g.b"],"triggered_at":1500897600000,"additional_info":[]}`))
	f.Add([]byte(`{"triggered_at":"+275760-09-13T00:00:00Z"}`))
	f.Add([]byte(`{"triggered_at":99999999999999999}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r ledger.Rejection
		if json.Unmarshal(data, &r) != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			return // a time outside what RFC 3339 writes; nothing else fails
		}
		var back ledger.Rejection
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(out, again) {
			t.Fatalf("round trip changed the rejection:\n%s\n%s", out, again)
		}
	})
}

// FuzzLedgerInfoJSON: whatever decodes as ledger info encodes and decodes
// again to the same info, and nothing panics.
func FuzzLedgerInfoJSON(f *testing.F) {
	f.Add([]byte(`{"prefix":"g.a.","currencyCode":"USD","currencyScale":"2","connectors":["g.a.c"],"minBalance":"-Infinity","maxBalance":100}`))
	f.Add([]byte(`{"currencyScale":-3,"maxBalance":"-170141183460469231731687303715884105728"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var info ledger.LedgerInfo
		if json.Unmarshal(data, &info) != nil {
			return
		}
		out, err := json.Marshal(info)
		if err != nil {
			t.Fatalf("encode %+v: %v", info, err)
		}
		var back ledger.LedgerInfo
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		if len(info.Connectors) == 0 && len(back.Connectors) == 0 {
			info.Connectors, back.Connectors = nil, nil // null and [] say the same
		}
		if !back.Equal(info) {
			t.Fatalf("round trip changed the info:\n%+v\n%+v", info, back)
		}
	})
}
