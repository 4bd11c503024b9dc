package trustline

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

func sampleEvents() []ledger.Event {
	f := ilp.Fulfillment{1, 2, 3}
	t := ledger.Transfer{ID: "3a2a1d9e-8640-4d2d-b06c-84f2cd613204", Ledger: "test1.wire.", From: "test1.wire.alice", To: "test1.wire.bob",
		Amount: 18446744073709551615, ILP: "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA", ExecutionCondition: ilp.ConditionOf(f).String(),
		ExpiresAt: time.Date(2017, 7, 24, 12, 0, 10, 123000000, time.UTC), Custom: json.RawMessage(`{"a":"<b>"}`), NoteToSelf: json.RawMessage(`{"mine":1}`)}
	rej := ledger.Rejection{Code: "F99", Name: "Application Error", Message: "no", TriggeredBy: "test1.wire.bob", ForwardedBy: "x.y",
		TriggeredAt: time.Date(2017, 7, 24, 12, 0, 1, 0, time.UTC), AdditionalInfo: json.RawMessage(`{"k":[1,2]}`)}
	return []ledger.Event{
		{Kind: ledger.EventOutgoingPrepare, Transfer: t},
		{Kind: ledger.EventIncomingPrepare, Transfer: t},
		{Kind: ledger.EventOutgoingFulfill, Transfer: t, Fulfillment: f},
		{Kind: ledger.EventIncomingFulfill, Transfer: t, Fulfillment: f},
		{Kind: ledger.EventOutgoingReject, Transfer: t, Rejection: rej},
		{Kind: ledger.EventIncomingCancel, Transfer: t, Rejection: ledger.Timeout("test1.wire.", t.ExpiresAt)},
		{Kind: ledger.EventOutgoingTransfer, Transfer: ledger.Transfer{ID: "u", To: "test1.wire.bob", Amount: 0}},
		{Kind: ledger.EventInfoChange, Info: ledger.LedgerInfo{Prefix: "test1.wire.", CurrencyCode: "USD", CurrencyScale: 2, MinBalance: ledger.Limit(ledger.Int128FromInt64(-5))}},
	}
}

func sameEvent(a, b ledger.Event) bool {
	ra, _ := json.Marshal(a.Rejection)
	rb, _ := json.Marshal(b.Rejection)
	return a.Kind == b.Kind && a.Transfer.SameAs(b.Transfer) && string(a.Transfer.NoteToSelf) == string(b.Transfer.NoteToSelf) &&
		a.Fulfillment == b.Fulfillment && string(ra) == string(rb) && a.Info.Equal(b.Info)
}

func TestEventRoundTrip(t *testing.T) {
	for _, ev := range sampleEvents() {
		b, ok := encodeEvent(ev)
		if !ok {
			t.Fatalf("%s: not encoded", ev.Kind)
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: frame %s: %v", ev.Kind, b, err)
		}
		got, err := decodeEvent(&f, make(interner))
		if err != nil {
			t.Fatalf("%s: decode %s: %v", ev.Kind, b, err)
		}
		want := ev
		if ev.Kind.Incoming() {
			want.Transfer.NoteToSelf = nil // never sent to the receiver
		}
		if !sameEvent(got, want) {
			t.Fatalf("%s: round trip %s gave %+v", ev.Kind, b, got)
		}
	}
	for _, k := range []ledger.EventKind{ledger.EventConnect, ledger.EventDisconnect} {
		if _, ok := encodeEvent(ledger.Event{Kind: k}); ok {
			t.Fatalf("%s crosses the wire", k)
		}
	}
}

func TestStatusOf(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{ledger.ErrInvalidFields, http.StatusBadRequest},
		{ledger.ErrInvalidTransfer, http.StatusBadRequest},
		{ledger.ErrDuplicateID, http.StatusConflict},
		{ledger.ErrTransferNotFound, http.StatusNotFound},
		{ledger.ErrAccountNotFound, http.StatusNotFound},
		{ledger.ErrNotAccepted, http.StatusUnprocessableEntity},
		{ledger.ErrMaximumExceeded, http.StatusUnprocessableEntity},
		{ledger.ErrMinimumExceeded, http.StatusUnprocessableEntity},
		{ledger.ErrAlreadyRolledBack, http.StatusUnprocessableEntity},
		{ledger.ErrNotConnected, http.StatusServiceUnavailable},
		{checkCall("nope", nil), http.StatusNotFound},
		{checkCall("get_balance", []json.RawMessage{json.RawMessage("1")}), http.StatusBadRequest},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		if got := statusOf(c.err); got != c.status {
			t.Errorf("%v: status %d, want %d", c.err, got, c.status)
		}
	}
	// An internal error's text does not cross the wire.
	if e := toWire(errors.New("/var/lib/secret: disk on fire")); e.Name != ledger.NameGeneric || e.Message != "internal error" {
		t.Fatalf("internal error sent as %+v", e)
	}
	// Names come back as the sentinels, with the server's message.
	err := fromWire(&wireError{Name: ledger.NameDuplicateID, Message: "id t1 is used"})
	if !errors.Is(err, ledger.ErrDuplicateID) || ledger.ErrorName(err) != ledger.NameDuplicateID {
		t.Fatalf("DuplicateIdError read as %v", err)
	}
	var pe *ledger.PluginError
	if !errors.As(err, &pe) || pe.Message != "id t1 is used" {
		t.Fatalf("message lost: %v", err)
	}
	if err := fromWire(&wireError{Name: nameUnauthorized, Message: "x"}); !errors.Is(err, ErrUnauthorized) || !errors.Is(err, ledger.ErrUnreachable) {
		t.Fatalf("UnauthorizedError read as %v", err)
	}
}

// FuzzFrame feeds arbitrary frames to the decoders: nothing panics, and an
// event that decodes survives encode → decode.
func FuzzFrame(f *testing.F) {
	for _, ev := range sampleEvents() {
		b, _ := encodeEvent(ev)
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"method":"send_transfer","params":[{"id":"x","amount":"1"}]}`))
	f.Add([]byte(`{"id":1,"result":true}`))
	f.Add([]byte(`{"id":null,"error":{"name":"InvalidFieldsError","message":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr frame
		if json.Unmarshal(data, &fr) != nil {
			return
		}
		_ = checkCall(fr.Method, fr.Params)
		callID(fr.ID)
		if fr.Error != nil {
			_ = fromWire(fr.Error)
		}
		if fr.Event == "" {
			return
		}
		ev, err := decodeEvent(&fr, nil)
		if err != nil {
			return
		}
		b, ok := encodeEvent(ev)
		if !ok {
			t.Fatalf("decoded event %s does not encode", ev.Kind)
		}
		var fr2 frame
		if err := json.Unmarshal(b, &fr2); err != nil {
			t.Fatalf("encoded %s is not JSON: %v", b, err)
		}
		ev2, err := decodeEvent(&fr2, make(interner))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		want := ev
		if ev.Kind.Incoming() {
			want.Transfer.NoteToSelf = nil
		}
		if !sameEvent(ev2, want) {
			t.Fatalf("%s: round trip changed %+v into %+v", b, want, ev2)
		}
	})
}
