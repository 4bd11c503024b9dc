package sql

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// FuzzMarshalRecord checks the writer's record encoder against
// ledger.MarshalRecord.
func FuzzMarshalRecord(f *testing.F) {
	f.Add("3a2a1d9e-8640-4d2d-b06c-84f2cd613204", "test.kita.u01", uint64(1), "AQID", int64(1795772511123), "prepared", false, "")
	f.Add("x", "<é>", uint64(0), "", int64(0), "executed", true, "AQIDBA")
	f.Add("\"", "\\", uint64(18446744073709551615), "\n", int64(-1), "cancelled", false, "\x7f")
	f.Fuzz(func(t *testing.T, id, to string, amount uint64, cond string, ms int64, state string, incoming bool, fulfillment string) {
		r := ledger.Record{Transfer: ledger.Transfer{ID: id, Ledger: "test.kita.", From: "test.kita.u00", To: to, Amount: amount,
			ExecutionCondition: cond}, State: ledger.State(state), Incoming: incoming, Fulfillment: fulfillment}
		if ms != 0 {
			r.Transfer.ExpiresAt = time.UnixMilli(ms)
		}
		if len(fulfillment) > 3 && fulfillment[0] == '{' {
			r.Transfer.NoteToSelf = json.RawMessage(fulfillment)
		}
		want, wantErr := ledger.MarshalRecord(r)
		got, gotErr := marshalRecord(r)
		if (wantErr == nil) != (gotErr == nil) || string(got) != string(want) {
			t.Fatalf("%#v: MarshalRecord %s (%v), marshalRecord %s (%v)", r, want, wantErr, got, gotErr)
		}
	})
}
