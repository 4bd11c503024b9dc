package ledger_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

func TestMessageJSON(t *testing.T) {
	// A request as the 2017 connector sent it over plugin-virtual: padded
	// standard base64 in ilp, and the local-only timeout.
	in := `{"id":"c5f4a3c2-6a5e-4b8e-9d4f-1f2e3d4c5b6a","ledger":"peer.NavKx.usd.2.","from":"peer.NavKx.usd.2.aaa",
		"to":"peer.NavKx.usd.2.bbb","ilp":"BAAAAAAAAABkEGcuZXhhbXBsZS5ib2I=","timeout":5000,"custom":{"method":"broadcast_routes","n":12345678901234567890}}`
	var m ledger.Message
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != "c5f4a3c2-6a5e-4b8e-9d4f-1f2e3d4c5b6a" || m.Ledger != "peer.NavKx.usd.2." || m.From != "peer.NavKx.usd.2.aaa" ||
		m.To != "peer.NavKx.usd.2.bbb" || m.ILP != "BAAAAAAAAABkEGcuZXhhbXBsZS5ib2I=" || !strings.Contains(string(m.Custom), "12345678901234567890") {
		t.Fatalf("decoded %+v", m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(out, &keys); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys["timeout"]; ok || len(keys) != 6 {
		t.Fatalf("encoded %s", out)
	}
	var back ledger.Message
	if err := json.Unmarshal(out, &back); err != nil || back.ILP != m.ILP || string(back.Custom) != string(m.Custom) {
		t.Fatalf("round trip %+v, %v", back, err)
	}

	// Empty fields are left out; a null custom is no custom.
	out, _ = json.Marshal(ledger.Message{To: "g.x.y", ILP: "AQ"})
	if string(out) != `{"to":"g.x.y","ilp":"AQ"}` {
		t.Fatalf("encoded %s", out)
	}
	if err := json.Unmarshal([]byte(`{"to":"g.x.y","custom":null}`), &back); err != nil || back.Custom != nil {
		t.Fatalf("null custom: %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"to":"g.x.y","custom":[1]}`), &back); !errors.Is(err, ledger.ErrInvalidFields) {
		t.Fatalf("array custom: %v", err)
	}
}

func TestRejectionJSON(t *testing.T) {
	at := time.Date(2017, 7, 24, 12, 0, 1, 234_567_000, time.UTC)
	r := ledger.Rejection{Code: "F02", Name: "Unreachable", Message: "no route <to> & fro", TriggeredBy: "g.a.b", ForwardedBy: "g.c.d", TriggeredAt: at}
	// MarshalJSON itself, as an encoder without HTML escaping writes it:
	// "<", ">" and "&" stay as JavaScript wrote them.
	out, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"F02","name":"Unreachable","message":"no route <to> & fro","triggered_by":"g.a.b","forwarded_by":"g.c.d","triggered_at":"2017-07-24T12:00:01.234Z","additional_info":{}}`
	if string(out) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", out, want)
	}
	var back ledger.Rejection
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Code != r.Code || back.ForwardedBy != r.ForwardedBy || !back.TriggeredAt.Equal(at.Truncate(time.Millisecond)) || string(back.AdditionalInfo) != "{}" {
		t.Fatalf("round trip %+v", back)
	}
	// Without forwarded_by and triggered_at, both are left out.
	out, _ = json.Marshal(ledger.Rejection{Code: "F00", Name: "Bad Request", TriggeredBy: "g.a."})
	if string(out) != `{"code":"F00","name":"Bad Request","message":"","triggered_by":"g.a.","additional_info":{}}` {
		t.Fatalf("encoded %s", out)
	}

	// What 2017 peers sent: forwarded_by as a list, triggered_at as a Date
	// number or garbage, additional_info of another type.
	cases := []struct {
		in      string
		fwd     string
		at      time.Time
		hasInfo bool
	}{
		{`{"code":"R00","forwarded_by":[],"triggered_at":"2017-07-24T12:00:00.000Z","additional_info":{"message":"x expired"}}`, "", time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC), true},
		{`{"code":"R00","forwarded_by":["g.a.b","g.c.d"],"triggered_at":1500897600000}`, "g.c.d", time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC), false},
		{`{"code":"T01","forwarded_by":null,"triggered_at":"yesterday","additional_info":"text","extra":1}`, "", time.Time{}, false},
	}
	for _, tc := range cases {
		var got ledger.Rejection
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got.ForwardedBy != tc.fwd || !got.TriggeredAt.Equal(tc.at) || (len(got.AdditionalInfo) > 0) != tc.hasInfo {
			t.Fatalf("%s: decoded %+v", tc.in, got)
		}
	}
	if err := json.Unmarshal([]byte(`[1]`), &back); err == nil {
		t.Fatal("a rejection that is not an object was read")
	}

	nr := ledger.NewRejection(ilp.CodeInsufficientLiquidity, "g.k.", "dry", at).Forwarded("g.k.connector")
	if nr.Name != "Insufficient Liquidity" || nr.ForwardedBy != "g.k.connector" {
		t.Fatalf("NewRejection %+v", nr)
	}
	if to := ledger.Timeout("g.k.", at); to.Code != "R00" || to.Name != "Transfer Timed Out" || to.TriggeredBy != "g.k." {
		t.Fatalf("Timeout %+v", to)
	}
}

func TestLedgerInfoJSON(t *testing.T) {
	info := ledger.LedgerInfo{
		Prefix: "peer.NavKx.usd.2.", CurrencyCode: "USD", CurrencyScale: 2,
		MaxBalance: ledger.Limit(ledger.Int128FromInt64(1000)),
		MinBalance: ledger.Limit(ledger.Int128FromInt64(-5)),
	}
	out, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"prefix":"peer.NavKx.usd.2.","currencyCode":"USD","currencyScale":2,"connectors":[],"minBalance":"-5","maxBalance":"1000"}`
	if string(out) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", out, want)
	}
	var back ledger.LedgerInfo
	if err := json.Unmarshal(out, &back); err != nil || !back.Equal(info) {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	out, _ = json.Marshal(ledger.LedgerInfo{Prefix: "g.x.", CurrencyCode: "EUR", CurrencyScale: -2, Connectors: []string{"g.x.c"}})
	if string(out) != `{"prefix":"g.x.","currencyCode":"EUR","currencyScale":-2,"connectors":["g.x.c"]}` {
		t.Fatalf("unlimited: %s", out)
	}

	// Read leniently: scale as a string, limits as numbers or infinities,
	// fields the kit does not use.
	in := `{"prefix":"us.usd.red.","currencyCode":"USD","currencyScale":"9","precision":19,"connectors":null,
		"minBalance":"-Infinity","maxBalance":1000000000000}`
	if err := json.Unmarshal([]byte(in), &back); err != nil {
		t.Fatal(err)
	}
	if _, ok := back.MinBalance.Value(); ok || back.CurrencyScale != 9 || back.MaxBalance.String() != "1000000000000" {
		t.Fatalf("decoded %+v", back)
	}
	for _, bad := range []string{`{"currencyScale":"nine"}`, `{"maxBalance":"1e3"}`, `{"minBalance":true}`} {
		if err := json.Unmarshal([]byte(bad), &back); !errors.Is(err, ledger.ErrInvalidFields) {
			t.Errorf("%s: %v, want ErrInvalidFields", bad, err)
		}
	}
	c := info
	c.Connectors = []string{"a"}
	d := c.Clone()
	d.Connectors[0] = "b"
	if c.Connectors[0] != "a" {
		t.Fatal("Clone shares the connectors")
	}
}

func TestErrorNames(t *testing.T) {
	sentinels := map[string]error{
		ledger.NameInvalidFields:                   ledger.ErrInvalidFields,
		ledger.NameUnreachable:                     ledger.ErrUnreachable,
		ledger.NameTransferNotFound:                ledger.ErrTransferNotFound,
		ledger.NameMissingFulfillment:              ledger.ErrMissingFulfillment,
		ledger.NameDuplicateID:                     ledger.ErrDuplicateID,
		ledger.NameAlreadyRolledBack:               ledger.ErrAlreadyRolledBack,
		ledger.NameAlreadyFulfilled:                ledger.ErrAlreadyFulfilled,
		ledger.NameTransferNotConditional:          ledger.ErrTransferNotConditional,
		ledger.NameNotAccepted:                     ledger.ErrNotAccepted,
		ledger.NameNoSubscriptions:                 ledger.ErrNoSubscriptions,
		ledger.NameRequestHandlerAlreadyRegistered: ledger.ErrRequestHandlerAlreadyRegistered,
		ledger.NameInsufficientBalance:             ledger.ErrInsufficientBalance,
		ledger.NameAccountNotFound:                 ledger.ErrAccountNotFound,
		ledger.NameMaximumILPDataSizeExceeded:      ledger.ErrMaximumILPDataSizeExceeded,
		ledger.NameMaximumCustomDataSizeExceeded:   ledger.ErrMaximumCustomDataSizeExceeded,
		ledger.NameHoldsNotSupported:               ledger.ErrHoldsNotSupported,
		ledger.NameExpiryNotSupported:              ledger.ErrExpiryNotSupported,
	}
	for name, err := range sentinels {
		wrapped := fmt.Errorf("backend/x: transfer %q: %w", "id", err)
		if got := ledger.ErrorName(wrapped); got != name {
			t.Errorf("ErrorName(%v) = %q, want %q", wrapped, got, name)
		}
		if back := ledger.ErrorForName(name); back != err {
			t.Errorf("ErrorForName(%q) = %v, want %v", name, back, err)
		}
		remote := ledger.ErrorFromWire(name, "peer said so")
		if !errors.Is(remote, err) || ledger.ErrorName(remote) != name {
			t.Errorf("error from the wire %q: Is %v, name %q", name, errors.Is(remote, err), ledger.ErrorName(remote))
		}
	}
	// The backend's own sentinels and the limit errors carry LPI names too.
	limit := &ledger.LimitError{Balance: "", Maximum: true}
	floor := &ledger.LimitError{Balance: ""}
	for err, name := range map[error]string{
		ledger.ErrInvalidTransfer:                 ledger.NameInvalidFields,
		fmt.Errorf("x: %w", limit):                ledger.NameNotAccepted,
		fmt.Errorf("x: %w", floor):                ledger.NameInsufficientBalance,
		ledger.ErrOverflow:                        ledger.NameNotAccepted,
		ledger.ErrNotConnected:                    ledger.NameUnreachable,
		ilp.ErrInvalidCondition:                   ledger.NameInvalidFields,
		errors.New("disk full"):                   ledger.NameGeneric,
		ledger.Errorf(ledger.ErrNotAccepted, "x"): ledger.NameNotAccepted,
	} {
		if got := ledger.ErrorName(err); got != name {
			t.Errorf("ErrorName(%v) = %q, want %q", err, got, name)
		}
	}
	if ledger.ErrorName(nil) != "" {
		t.Error("ErrorName(nil) is not empty")
	}
	if !errors.Is(ledger.ErrNotConnected, ledger.ErrUnreachable) {
		t.Error("ErrNotConnected is not an ErrUnreachable")
	}
	// Names 2017 plugins used before the RFC settled.
	if !errors.Is(ledger.ErrorFromWire("AlreadyRejectedError", ""), ledger.ErrAlreadyRolledBack) ||
		!errors.Is(ledger.ErrorFromWire("RepeatError", ""), ledger.ErrDuplicateID) {
		t.Error("legacy names are not read")
	}
	unknown := ledger.ErrorFromWire("SomethingNewError", "huh")
	if unknown.Unwrap() != nil || ledger.ErrorName(unknown) != "SomethingNewError" || unknown.Error() != "ledger: SomethingNewError: huh" {
		t.Errorf("unknown name: %v, %q", unknown.Unwrap(), unknown.Error())
	}
}

func TestWireErrorHidesInternals(t *testing.T) {
	internal := fmt.Errorf("backend/sql: insert into plugin_store at /var/lib/ilpkit.db: %w", ledger.ErrDuplicateID)
	name, msg := ledger.WireError(internal)
	if name != ledger.NameDuplicateID || strings.Contains(msg, "/var/lib") || msg == "" {
		t.Fatalf("WireError = %q, %q", name, msg)
	}
	name, msg = ledger.WireError(fmt.Errorf("pair: %w", ledger.Errorf(ledger.ErrInvalidFields, "amount %q is not an integer", "1.5")))
	if name != ledger.NameInvalidFields || msg != `amount "1.5" is not an integer` {
		t.Fatalf("WireError of a public error = %q, %q", name, msg)
	}
	name, msg = ledger.WireError(errors.New("segfault in module x"))
	if name != ledger.NameGeneric || strings.Contains(msg, "segfault") {
		t.Fatalf("WireError of an unknown error = %q, %q", name, msg)
	}
	// A *PluginError keeps the specific cause for errors.Is.
	lim := &ledger.LimitError{Maximum: true}
	pe := &ledger.PluginError{Err: lim, Name: ledger.NameNotAccepted, Message: "over the limit"}
	if !errors.Is(pe, ledger.ErrMaximumExceeded) {
		t.Fatal("PluginError hides its cause")
	}
}

func TestErrorResponse(t *testing.T) {
	now := time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)
	req := ledger.Message{ID: "q1", Ledger: "g.l.", From: "g.l.alice", To: "g.l.bob", ILP: "AQ"}
	decode := func(m ledger.Message) *ilp.Error {
		t.Helper()
		b, err := ilp.DecodeBase64(m.ILP)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ilp.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := p.(*ilp.Error)
		if !ok {
			t.Fatalf("%T", p)
		}
		return e
	}

	resp, err := ledger.ErrorResponse(req, "g.l.bob", errors.New("table plugin_store is locked"), now)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "q1" || resp.From != "g.l.bob" || resp.To != "g.l.alice" || resp.Ledger != "g.l." {
		t.Fatalf("response %+v", resp)
	}
	pkt := decode(resp)
	if pkt.Code != "F00" || pkt.Name != "Bad Request" || pkt.TriggeredBy != "g.l.bob" || !pkt.TriggeredAt.Equal(now) ||
		string(pkt.Data) != `{"message":"request handler failed"}` {
		t.Fatalf("packet %+v data %s", pkt, pkt.Data)
	}

	resp, _ = ledger.ErrorResponse(req, "g.l.bob", fmt.Errorf("quote: %w", ledger.Errorf(ledger.ErrNotAccepted, "no route to %s", "g.z")), now)
	if pkt := decode(resp); string(pkt.Data) != `{"message":"no route to g.z"}` {
		t.Fatalf("data %s", pkt.Data)
	}

	own := ilp.NewError(ilp.CodeUnreachable, "g.far.", now, []byte("gone"))
	resp, _ = ledger.ErrorResponse(req, "g.l.bob", fmt.Errorf("quote: %w", own), now)
	if pkt := decode(resp); pkt.Code != "F02" || pkt.TriggeredBy != "g.far." || string(pkt.Data) != "gone" {
		t.Fatalf("handler's packet not kept: %+v", pkt)
	}
}

func TestEventKinds(t *testing.T) {
	seen := map[string]bool{}
	for k := ledger.EventConnect; k <= ledger.EventOutgoingCancel; k++ {
		name := k.String()
		if seen[name] || strings.HasPrefix(name, "event(") {
			t.Fatalf("kind %d has name %q", k, name)
		}
		seen[name] = true
		back, ok := ledger.ParseEventKind(name)
		if !ok || back != k {
			t.Fatalf("ParseEventKind(%q) = %v, %v", name, back, ok)
		}
		if k.Incoming() != strings.HasPrefix(name, "incoming_") || k.Outgoing() != strings.HasPrefix(name, "outgoing_") {
			t.Fatalf("%s: Incoming %v, Outgoing %v", name, k.Incoming(), k.Outgoing())
		}
		final := strings.HasSuffix(name, "_transfer") || strings.HasSuffix(name, "_fulfill") ||
			strings.HasSuffix(name, "_reject") || strings.HasSuffix(name, "_cancel")
		if k.Final() != final {
			t.Fatalf("%s: Final %v", name, k.Final())
		}
	}
	if len(seen) != 13 || !seen["incoming_prepare"] || !seen["info_change"] {
		t.Fatalf("names %v", seen)
	}
	if _, ok := ledger.ParseEventKind("incoming_message"); ok {
		t.Fatal("parsed an event this package does not have")
	}
	if ledger.EventKind(0).String() != "event(0)" {
		t.Fatal(ledger.EventKind(0).String())
	}
}

func TestSystemClock(t *testing.T) {
	var c ledger.Clock = ledger.SystemClock{}
	if d := time.Since(c.Now()); d < 0 || d > time.Second {
		t.Fatalf("Now is %s off", d)
	}
	fired := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire")
	}
	stopped := c.AfterFunc(time.Hour, func() { t.Error("stopped timer fired") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
}
