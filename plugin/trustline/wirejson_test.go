package trustline

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// The fast paths of wirejson.go must give what encoding/json gives: these
// tests compare the two on samples and under fuzzing.

var fastSeeds = []string{
	`{"id":1,"method":"send_transfer","params":[{"id":"x","amount":"1"}]}`,
	`{"id":12,"method":"fulfill_condition","params":["3a2a1d9e-8640-4d2d-b06c-84f2cd613204","AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]}`,
	`{"id":1,"result":true}`,
	` { "id" : 7 , "result" : {"a":[1,2.5e3,-0,null,false]} } `,
	`{"id":null,"error":{"name":"InvalidFieldsError","message":"x"}}`,
	`{"event":"outgoing_fulfill","params":[{"id":"3a2a1d9e-8640-4d2d-b06c-84f2cd613204","ledger":"test.kita.","from":"test.kita.u01","to":"test.kita.u02","amount":"1","executionCondition":"abc","expiresAt":"2026-11-27T09:41:51.123Z"},"AQID"]}`,
	`{"ID":1,"Method":"x"}`,
	`{"id":1,"id":2}`,
	`{"params":null}`,
	`{"params":[]}`,
	`{"method":"a\u0062"}`,
	`{"method":"\u00e9"}`,
	`[{"id":1,"result":true},{"event":"x","params":[]}]`,
	`[]`,
	`{"id":01}`,
	`{"id":"\x01"}`,
	`{"id":tru}`,
}

func FuzzFastFrame(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	for _, ev := range sampleEvents() {
		b, _ := encodeEvent(ev)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want frame
		wantErr := json.Unmarshal(data, &want)
		var got frame
		gotErr := parseFrame(data, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json error %v, parseFrame error %v", data, wantErr, gotErr)
		}
		if wantErr == nil && !sameFrame(got, want) {
			t.Fatalf("%q: encoding/json gave %+v, parseFrame %+v", data, want, got)
		}

		var wantMsgs []json.RawMessage
		wantErr = json.Unmarshal(data, &wantMsgs)
		if isBatch(data) {
			gotMsgs, gotErr := splitBatch(data)
			if (wantErr == nil) != (gotErr == nil) || len(gotMsgs) != len(wantMsgs) {
				t.Fatalf("%q: batch: encoding/json %d, %v; splitBatch %d, %v", data, len(wantMsgs), wantErr, len(gotMsgs), gotErr)
			}
			for i := range gotMsgs {
				if !bytes.Equal(gotMsgs[i], wantMsgs[i]) {
					t.Fatalf("%q: message %d: %q, want %q", data, i, gotMsgs[i], wantMsgs[i])
				}
			}
			items, itemsErr := parseBatch(data)
			if (itemsErr == nil) != (wantErr == nil) || len(items) != len(wantMsgs) {
				t.Fatalf("%q: parseBatch %d, %v; encoding/json %d, %v", data, len(items), itemsErr, len(wantMsgs), wantErr)
			}
			for i, it := range items {
				var want frame
				err := json.Unmarshal(wantMsgs[i], &want)
				if (err == nil) != (it.err == nil) || (err == nil && !sameFrame(it.f, want)) {
					t.Fatalf("%q: message %d: parseBatch %+v (%v), encoding/json %+v (%v)", data, i, it.f, it.err, want, err)
				}
			}
		} else if wantErr == nil {
			t.Fatalf("%q: an array not seen as a batch", data)
		}

		var wantS string
		wantErr = json.Unmarshal(data, &wantS)
		gotS, gotErr := decodeString(data)
		if (wantErr == nil) != (gotErr == nil) || gotS != wantS {
			t.Fatalf("%q: string: encoding/json %q, %v; decodeString %q, %v", data, wantS, wantErr, gotS, gotErr)
		}
	})
}

func sameFrame(a, b frame) bool {
	if string(a.ID) != string(b.ID) || a.Method != b.Method || a.Event != b.Event || string(a.Result) != string(b.Result) ||
		len(a.Params) != len(b.Params) || (a.Params == nil) != (b.Params == nil) || !reflect.DeepEqual(a.Error, b.Error) {
		return false
	}
	for i := range a.Params {
		if string(a.Params[i]) != string(b.Params[i]) {
			return false
		}
	}
	return true
}

func FuzzFastTransfer(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","amount":"1"}`,
		`{"id":"3a2a1d9e-8640-4d2d-b06c-84f2cd613204","ledger":"test.kita.","from":"test.kita.u01","to":"test.kita.u02","amount":"18446744073709551615","ilp":"AQ","executionCondition":"abc","expiresAt":"2026-11-27T09:41:51.123Z","custom":{"a":1},"noteToSelf":null}`,
		`{"id":"x","amount":18446744073709551616}`,
		`{"id":"x","amount":12,"expiresAt":"2016-02-29T23:59:59.999Z"}`,
		`{"id":"x","amount":"1","expiresAt":"2015-02-29T00:00:00.000Z"}`,
		`{"id":"x","amount":"1","expiresAt":"2015-02-28T24:00:00.000Z"}`,
		`{"id":"x","amount":"1","expiresAt":"2015-02-28T00:00:00Z"}`,
		`{"id":"x","amount":"1","expiresAt":""}`,
		`{"id":"x","amount":"01"}`,
		`{"id":"x","amount":"-1"}`,
		`{"id":"x","amount":1.0}`,
		`{"id":"x"}`,
		`{"Id":"x","amount":"1"}`,
		`{"id":"x","amount":"1","direction":"outgoing"}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want ledger.Transfer
		wantErr := json.Unmarshal(data, &want)
		var got ledger.Transfer
		gotErr := decodeTransfer(data, &got, make(interner))
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json error %v, decodeTransfer error %v", data, wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: encoding/json gave %#v, decodeTransfer %#v", data, want, got)
		}
	})
}

func FuzzAppendTransfer(f *testing.F) {
	f.Add("3a2a1d9e-8640-4d2d-b06c-84f2cd613204", "test.kita.", "test.kita.u01", "test.kita.u02.x", uint64(1), "AQ", "abc", int64(1795772511123), int64(456789), "")
	f.Add("x", "", "", "", uint64(0), "", "", int64(0), int64(0), `{"a":1}`)
	f.Add("<x>", "é", "\"", "\\", uint64(18446744073709551615), "\n", "&", int64(-62135596800001), int64(0), "")
	f.Add("x", "", "", "", uint64(0), "", "", int64(253402300800000), int64(0), "")
	f.Fuzz(func(t *testing.T, id, ledgerName, from, to string, amount uint64, ilpData, cond string, ms, ns int64, custom string) {
		tr := ledger.Transfer{ID: id, Ledger: ledgerName, From: from, To: to, Amount: amount, ILP: ilpData, ExecutionCondition: cond}
		if ms != 0 || ns != 0 {
			tr.ExpiresAt = time.UnixMilli(ms).Add(time.Duration(ns % 1_000_000))
		}
		if custom != "" {
			tr.Custom = json.RawMessage(custom)
		}
		want, wantErr := tr.MarshalJSON()
		got, ok := appendTransfer([]byte("prefix"), &tr)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("a refused transfer left %q", got)
			}
			return
		}
		if wantErr != nil || string(got) != "prefix"+string(want) {
			t.Fatalf("%#v: MarshalJSON %s (%v), appendTransfer %s", tr, want, wantErr, got)
		}
		viaMarshal, err := json.Marshal(tr)
		if err != nil || string(got) != "prefix"+string(viaMarshal) {
			t.Fatalf("%#v: json.Marshal %s (%v), appendTransfer %s", tr, viaMarshal, err, got)
		}
		var back ledger.Transfer
		if err := decodeTransfer(got[len("prefix"):], &back, nil); err != nil || !back.SameAs(tr) {
			t.Fatalf("%s: read back as %#v, %v", got, back, err)
		}
	})
}

func TestFastPathsTaken(t *testing.T) {
	var f frame
	if !fastFrame([]byte(fastSeeds[0]), &f) || !fastFrame([]byte(fastSeeds[5]), &f) {
		t.Fatal("the frames the client and server send miss the fast path")
	}
	var tr ledger.Transfer
	if !fastTransfer(f.Params[0], &tr, nil) || tr.ExpiresAt.IsZero() {
		t.Fatalf("a transfer misses the fast path: %s", f.Params[0])
	}
	if _, ok := appendTransfer(nil, &tr); !ok {
		t.Fatal("a transfer misses the fast encoder")
	}
}

// referenceTransferJSON is ledger.Transfer.MarshalJSON as it was written
// with encoding/json alone, before its fast path.
func referenceTransferJSON(t ledger.Transfer) ([]byte, error) {
	type transferJSON struct {
		ID                 string          `json:"id"`
		Ledger             string          `json:"ledger,omitempty"`
		From               string          `json:"from,omitempty"`
		To                 string          `json:"to,omitempty"`
		Amount             json.RawMessage `json:"amount"`
		ILP                string          `json:"ilp,omitempty"`
		ExecutionCondition string          `json:"executionCondition,omitempty"`
		ExpiresAt          string          `json:"expiresAt,omitempty"`
		Custom             json.RawMessage `json:"custom,omitempty"`
		NoteToSelf         json.RawMessage `json:"noteToSelf,omitempty"`
	}
	j := transferJSON{ID: t.ID, Ledger: t.Ledger, From: t.From, To: t.To,
		Amount: json.RawMessage(strconv.Quote(strconv.FormatUint(t.Amount, 10))), ILP: t.ILP,
		ExecutionCondition: t.ExecutionCondition, Custom: t.Custom, NoteToSelf: t.NoteToSelf}
	if !t.ExpiresAt.IsZero() {
		j.ExpiresAt = ledger.FormatTime(t.ExpiresAt)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// FuzzTransferMarshal checks ledger.Transfer.MarshalJSON (whose fast path
// writes the JSON by hand) against encoding/json.
func FuzzTransferMarshal(f *testing.F) {
	f.Add("3a2a1d9e-8640-4d2d-b06c-84f2cd613204", "test.kita.", "test.kita.u01", "<&>", uint64(1), "AQ", "abc", int64(1795772511123), int64(456789), "")
	f.Add("x", "", "", "", uint64(0), "", "", int64(0), int64(0), `{"a": 1}`)
	f.Add("é", "\x7f", "\"", "\\", uint64(18446744073709551615), "\n", "&", int64(-62135596800001), int64(0), "")
	f.Add("x", "", "", "", uint64(0), "", "", int64(253402300800000), int64(0), "")
	f.Fuzz(func(t *testing.T, id, ledgerName, from, to string, amount uint64, ilpData, cond string, ms, ns int64, custom string) {
		tr := ledger.Transfer{ID: id, Ledger: ledgerName, From: from, To: to, Amount: amount, ILP: ilpData, ExecutionCondition: cond}
		if ms != 0 || ns != 0 {
			tr.ExpiresAt = time.UnixMilli(ms).Add(time.Duration(ns % 1_000_000))
		}
		if custom != "" {
			tr.Custom = json.RawMessage(custom)
		}
		want, wantErr := referenceTransferJSON(tr)
		got, gotErr := tr.MarshalJSON()
		if (wantErr == nil) != (gotErr == nil) || string(got) != string(want) {
			t.Fatalf("%#v: encoding/json %s (%v), MarshalJSON %s (%v)", tr, want, wantErr, got, gotErr)
		}
	})
}
