package ledger_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

const cond = "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U"
const preimage = "HS8e5Ew02XKAglyus2dh2Ohabuqmy3HDM8EXMLz22ok"

func i(v int64) ledger.Int128 { return ledger.Int128FromInt64(v) }

func TestUnmarshalRecord2xValues(t *testing.T) {
	cases := []struct {
		name, value string
		state       ledger.State
		incoming    bool
		fulfillment string
		amount      uint64
	}{
		{
			// ilp-plugin-virtual v16: written once, on fulfill, fulfillment
			// not kept (the getFulfillment quirk).
			name:  "v16 executed with fulfillment null",
			value: `{"transfer":{"id":"t1","amount":"1000","ledger":"peer.a.usd.9.","from":"peer.a.usd.9.x","to":"peer.a.usd.9.y","direction":"incoming","executionCondition":"` + cond + `","expiresAt":"2017-06-01T12:00:00.000Z","ilp":"AQ","custom":{}},"state":"executed","isIncoming":true,"fulfillment":null,"written":true}`,
			state: ledger.StateExecuted, incoming: true, amount: 1000,
		},
		{
			name:  "v16 executed with fulfillment",
			value: `{"transfer":{"id":"t2","amount":"5","executionCondition":"` + cond + `"},"state":"executed","isIncoming":false,"fulfillment":"` + preimage + `","written":true}`,
			state: ledger.StateExecuted, fulfillment: preimage, amount: 5,
		},
		{
			name:  "v16 cancelled",
			value: `{"transfer":{"id":"t3","amount":"7","executionCondition":"` + cond + `","direction":"outgoing"},"state":"cancelled","isIncoming":false,"fulfillment":null,"written":true}`,
			state: ledger.StateCancelled, amount: 7,
		},
		{
			// v12-v14 wrote prepared transfers too, without fulfillment or written.
			name:  "v13 prepared",
			value: `{"transfer":{"id":"t4","amount":25,"ledger":"peer.a.usd.9.","executionCondition":"` + cond + `"},"state":"prepared","isIncoming":true}`,
			state: ledger.StatePrepared, incoming: true, amount: 25,
		},
		{
			name:  "v12 executed",
			value: `{"transfer":{"id":"t5","amount":"3"},"state":"executed","isIncoming":false}`,
			state: ledger.StateExecuted, amount: 3,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ledger.UnmarshalRecord([]byte(c.value))
			if err != nil {
				t.Fatal(err)
			}
			if r.State != c.state || r.Incoming != c.incoming || r.Fulfillment != c.fulfillment || r.Transfer.Amount != c.amount {
				t.Fatalf("decoded %+v", r)
			}
			out, err := ledger.MarshalRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ledger.UnmarshalRecord(out)
			if err != nil || !back.Same(r) || back.State != r.State || back.Fulfillment != r.Fulfillment {
				t.Fatalf("round trip: %+v, %v", back, err)
			}
		})
	}
}

func TestUnmarshalRecordRefuses(t *testing.T) {
	for name, v := range map[string]string{
		"unknown state":       `{"transfer":{"id":"t","amount":"1"},"state":"fulfilled","isIncoming":false}`,
		"no state":            `{"transfer":{"id":"t","amount":"1"},"isIncoming":false}`,
		"bad amount":          `{"transfer":{"id":"t","amount":"-1"},"state":"executed"}`,
		"not json":            `transfer`,
		"fulfillment number":  `{"transfer":{"id":"t","amount":"1"},"state":"executed","fulfillment":5}`,
		"isIncoming a string": `{"transfer":{"id":"t","amount":"1"},"state":"executed","isIncoming":"yes"}`,
	} {
		if r, err := ledger.UnmarshalRecord([]byte(v)); err == nil {
			t.Errorf("%s: decoded %+v", name, r)
		}
	}
}

func TestMarshalRecordShape(t *testing.T) {
	r := ledger.Record{Transfer: ledger.Transfer{ID: "t", Amount: math.MaxUint64, ExecutionCondition: cond}, State: ledger.StatePrepared, Incoming: true}
	out, err := ledger.MarshalRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"transfer":{"id":"t","amount":"18446744073709551615","executionCondition":"` + cond + `"},"state":"prepared","isIncoming":true,"fulfillment":null,"written":true}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	r.State, r.Fulfillment = ledger.StateExecuted, preimage
	out, _ = ledger.MarshalRecord(r)
	if !strings.Contains(string(out), `"state":"executed","isIncoming":true,"fulfillment":"`+preimage+`","written":true}`) {
		t.Fatalf("executed record %s", out)
	}
}

// FuzzUnmarshalRecord decodes any bytes as a stored transfer; whatever
// decodes encodes and decodes again to the same record.
func FuzzUnmarshalRecord(f *testing.F) {
	f.Add([]byte(`{"transfer":{"id":"t1","amount":"1000","direction":"incoming","executionCondition":"` + cond + `"},"state":"executed","isIncoming":true,"fulfillment":null,"written":true}`))
	f.Add([]byte(`{"transfer":{"id":"t4","amount":25},"state":"prepared","isIncoming":true}`))
	f.Add([]byte(`{"transfer":{"id":"t","amount":"1"},"state":"cancelled","fulfillment":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ledger.UnmarshalRecord(data)
		if err != nil {
			return
		}
		out, err := ledger.MarshalRecord(r)
		if err != nil {
			t.Fatalf("encode %+v: %v", r, err)
		}
		back, err := ledger.UnmarshalRecord(out)
		if err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		if !back.Same(r) || back.State != r.State || back.Fulfillment != r.Fulfillment {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", r, back)
		}
	})
}

func TestChangeApply(t *testing.T) {
	max, min := ledger.Limit(i(100)), ledger.Limit(i(-100))
	cases := []struct {
		name    string
		c       ledger.Change
		current int64
		want    string
		err     error
	}{
		{"credit within", ledger.Change{Amount: 40, Maximum: max}, 60, "100", nil},
		{"credit past maximum", ledger.Change{Amount: 41, Maximum: max}, 60, "", ledger.ErrMaximumExceeded},
		{"debit within", ledger.Change{Amount: 40, Sub: true, Minimum: min}, -60, "-100", nil},
		{"debit past minimum", ledger.Change{Amount: 41, Sub: true, Minimum: min}, -60, "", ledger.ErrMinimumExceeded},
		{"credit ignores the minimum", ledger.Change{Amount: 1, Minimum: min}, -500, "-499", nil},
		{"debit ignores the maximum", ledger.Change{Amount: 1, Sub: true, Maximum: max}, 500, "499", nil},
		{"zero passes above the maximum", ledger.Change{Amount: 0, Maximum: max}, 500, "500", nil},
		{"zero debit passes below the minimum", ledger.Change{Amount: 0, Sub: true, Minimum: min}, -500, "-500", nil},
		{"unlimited credit of 2^64-1", ledger.Change{Amount: math.MaxUint64}, 1, "18446744073709551616", nil},
		{"unlimited debit of 2^64-1", ledger.Change{Amount: math.MaxUint64, Sub: true}, -1, "-18446744073709551616", nil},
	}
	for _, c := range cases {
		got, err := c.c.Apply(i(c.current))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
			var le *ledger.LimitError
			if !errors.As(err, &le) || le.Current != i(c.current) || le.Amount != c.c.Amount || le.Sub != c.c.Sub {
				t.Errorf("%s: %v is not a LimitError describing the change", c.name, err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	top, _ := ledger.ParseInt128("170141183460469231731687303715884105727")
	if _, err := (ledger.Change{Balance: "b", Amount: 1}).Apply(top); !errors.Is(err, ledger.ErrOverflow) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("overflow: %v", err)
	}
	msg := (&ledger.LimitError{Balance: "peer", Current: i(60), Amount: 41, Limit: i(100), Maximum: true}).Error()
	if !strings.Contains(msg, `"peer"`) || !strings.Contains(msg, "60 +41") || !strings.Contains(msg, "maximum 100") {
		t.Errorf("LimitError message %q", msg)
	}
}

func TestBound(t *testing.T) {
	if _, ok := ledger.Unlimited().Value(); ok || ledger.Unlimited().String() != "unlimited" {
		t.Error("Unlimited is limited")
	}
	if v, ok := ledger.Limit(i(-5)).Value(); !ok || v != i(-5) || ledger.Limit(i(-5)).String() != "-5" {
		t.Error("Limit(-5)")
	}
	var zero ledger.Bound
	if _, ok := zero.Value(); ok {
		t.Error("the zero Bound is not unlimited")
	}
}

func TestDecisions(t *testing.T) {
	prepared := ledger.Record{Transfer: ledger.Transfer{ID: "t", Amount: 5, ExecutionCondition: cond}, State: ledger.StatePrepared}
	executed := prepared
	executed.State, executed.Fulfillment = ledger.StateExecuted, preimage
	cancelled := prepared
	cancelled.State = ledger.StateCancelled
	direct := ledger.Record{Transfer: ledger.Transfer{ID: "t", Amount: 5}, State: ledger.StateExecuted}

	type result struct {
		state ledger.State
		write bool
		err   error
	}
	check := func(name string, r ledger.Record, write bool, err error, want result) {
		t.Helper()
		if want.err != nil {
			if !errors.Is(err, want.err) {
				t.Errorf("%s: %v, want %v", name, err, want.err)
			}
			return
		}
		if err != nil || write != want.write || r.State != want.state {
			t.Errorf("%s: %s, write %v, %v; want %s, write %v", name, r.State, write, err, want.state, want.write)
		}
	}
	r, w, err := ledger.DecideFulfill(prepared, true, "t", preimage)
	check("fulfill prepared", r, w, err, result{ledger.StateExecuted, true, nil})
	if r.Fulfillment != preimage {
		t.Errorf("fulfillment not recorded")
	}
	r, w, err = ledger.DecideFulfill(executed, true, "t", preimage)
	check("fulfill again", r, w, err, result{ledger.StateExecuted, false, nil})
	_, _, err = ledger.DecideFulfill(executed, true, "t", "other")
	check("fulfill with another", r, w, err, result{err: ledger.ErrAlreadyFulfilled})
	_, _, err = ledger.DecideFulfill(cancelled, true, "t", preimage)
	check("fulfill cancelled", r, w, err, result{err: ledger.ErrAlreadyRolledBack})
	_, _, err = ledger.DecideFulfill(direct, true, "t", preimage)
	check("fulfill unconditional", r, w, err, result{err: ledger.ErrTransferNotConditional})
	_, _, err = ledger.DecideFulfill(ledger.Record{}, false, "t", preimage)
	check("fulfill unknown", r, w, err, result{err: ledger.ErrTransferNotFound})

	r, w, err = ledger.DecideCancel(prepared, true, "t")
	check("cancel prepared", r, w, err, result{ledger.StateCancelled, true, nil})
	r, w, err = ledger.DecideCancel(cancelled, true, "t")
	check("cancel again", r, w, err, result{ledger.StateCancelled, false, nil})
	_, _, err = ledger.DecideCancel(executed, true, "t")
	check("cancel executed", r, w, err, result{err: ledger.ErrAlreadyFulfilled})
	_, _, err = ledger.DecideCancel(direct, true, "t")
	check("cancel unconditional", r, w, err, result{err: ledger.ErrAlreadyFulfilled})
	_, _, err = ledger.DecideCancel(ledger.Record{}, false, "t")
	check("cancel unknown", r, w, err, result{err: ledger.ErrTransferNotFound})

	fresh := ledger.Record{Transfer: prepared.Transfer}
	r, w, err = ledger.DecideCreate(ledger.Record{}, false, prepared)
	check("create new", r, w, err, result{ledger.StatePrepared, true, nil})
	r, w, err = ledger.DecideCreate(executed, true, prepared)
	check("create again after fulfill", r, w, err, result{ledger.StateExecuted, false, nil})
	other := fresh
	other.Incoming = true
	_, _, err = ledger.DecideCreate(prepared, true, other)
	check("create other direction", r, w, err, result{err: ledger.ErrDuplicateID})

	for name, rec := range map[string]ledger.Record{
		"no id":                    {Transfer: ledger.Transfer{Amount: 1}},
		"conditional executed":     {Transfer: prepared.Transfer, State: ledger.StateExecuted},
		"unconditional prepared":   {Transfer: direct.Transfer, State: ledger.StatePrepared},
		"cancelled":                {Transfer: prepared.Transfer, State: ledger.StateCancelled},
		"prepared with fulfilment": {Transfer: prepared.Transfer, Fulfillment: preimage},
	} {
		if _, err := ledger.CheckNew(rec); !errors.Is(err, ledger.ErrInvalidTransfer) {
			t.Errorf("CheckNew %s: %v", name, err)
		}
	}
	if r, err := ledger.CheckNew(fresh); err != nil || r.State != ledger.StatePrepared {
		t.Errorf("CheckNew fills prepared: %+v, %v", r, err)
	}
	if r, err := ledger.CheckNew(ledger.Record{Transfer: direct.Transfer}); err != nil || r.State != ledger.StateExecuted {
		t.Errorf("CheckNew fills executed: %+v, %v", r, err)
	}
	if err := ledger.CheckFulfillment("t", " "); !errors.Is(err, ledger.ErrInvalidTransfer) {
		t.Errorf("CheckFulfillment blank: %v", err)
	}

	for name, c := range map[string]struct {
		r   ledger.Record
		err error
	}{
		"prepared":      {prepared, ledger.ErrMissingFulfillment},
		"cancelled":     {cancelled, ledger.ErrAlreadyRolledBack},
		"unconditional": {direct, ledger.ErrTransferNotConditional},
		"2.x executed":  {ledger.Record{Transfer: prepared.Transfer, State: ledger.StateExecuted}, ledger.ErrMissingFulfillment},
	} {
		if _, err := ledger.FulfillmentOf(c.r); !errors.Is(err, c.err) {
			t.Errorf("FulfillmentOf %s: %v, want %v", name, err, c.err)
		}
	}
	if f, err := ledger.FulfillmentOf(executed); err != nil || f != preimage {
		t.Errorf("FulfillmentOf executed: %q, %v", f, err)
	}
}

func TestApplyChanges(t *testing.T) {
	reads := map[string]int{}
	current := func(name string) (ledger.Int128, error) {
		reads[name]++
		if name == "broken" {
			return ledger.Int128{}, errors.New("store down")
		}
		return i(10), nil
	}
	changes := []ledger.Change{
		{Balance: "a", Amount: 5},
		{Balance: "b", Amount: 3, Sub: true},
		{Balance: "a", Amount: 20, Sub: true, Minimum: ledger.Limit(i(-5))},
	}
	after, final, err := ledger.ApplyChanges(changes, current)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 || after[0] != i(15) || after[1] != i(7) || after[2] != i(-5) {
		t.Fatalf("after = %v", after)
	}
	if final["a"] != i(-5) || final["b"] != i(7) || len(final) != 2 {
		t.Fatalf("final = %v", final)
	}
	if reads["a"] != 1 || reads["b"] != 1 {
		t.Fatalf("reads = %v; each balance is read once", reads)
	}
	changes[2].Amount = 21
	if _, _, err := ledger.ApplyChanges(changes, current); !errors.Is(err, ledger.ErrMinimumExceeded) {
		t.Fatalf("chained refusal: %v", err)
	}
	if _, _, err := ledger.ApplyChanges([]ledger.Change{{Balance: "broken", Amount: 1}}, current); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("read error: %v", err)
	}
	if after, final, err := ledger.ApplyChanges(nil, current); after != nil || final != nil || err != nil {
		t.Fatal("no changes")
	}
}

func TestKeys(t *testing.T) {
	if ledger.BalanceKey("") != "balance__" || ledger.BalanceKey("x") != "balance__x" || ledger.TransferKey("id") != "transfer_id" {
		t.Fatal("2.x keys")
	}
	// The JSON of a record is valid JSON a 2.x plugin can parse.
	out, _ := ledger.MarshalRecord(ledger.Record{Transfer: ledger.Transfer{ID: "x", Amount: 1}, State: ledger.StateExecuted})
	if !json.Valid(out) {
		t.Fatalf("%s", out)
	}
}
