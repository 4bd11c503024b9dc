package plugintest

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

func testConnection(t *testing.T, h Harness) {
	e := build(t, h, Config{})
	c := ctx(t)
	tr, f := e.conditional(e.s, e.r, 10)
	tr.Ledger, tr.From, tr.To = "", "", "example.nobody"
	for _, p := range []ledger.Plugin{e.s, e.r} {
		if p.IsConnected() {
			t.Fatal("IsConnected before Connect")
		}
		_, err := p.Balance(c)
		wantErr(t, err, "Balance before Connect", ledger.NameUnreachable)
		wantErr(t, p.SendTransfer(c, tr), "SendTransfer before Connect", ledger.NameUnreachable)
		_, err = p.SendRequest(c, ledger.Message{To: "example.nobody", ILP: samplePacket})
		wantErr(t, err, "SendRequest before Connect", ledger.NameUnreachable)
		wantErr(t, p.FulfillCondition(c, tr.ID, f), "FulfillCondition before Connect", ledger.NameUnreachable)
		wantErr(t, p.RejectIncomingTransfer(c, tr.ID, ledger.Rejection{Code: "F00"}), "RejectIncomingTransfer before Connect", ledger.NameUnreachable)
		_, err = p.Fulfillment(c, tr.ID)
		wantErr(t, err, "Fulfillment before Connect", ledger.NameUnreachable)
	}
	if n := len(e.sEv.all()) + len(e.rEv.all()); n != 0 {
		t.Fatalf("%d events before Connect", n)
	}

	e.connect()
	for _, p := range []ledger.Plugin{e.s, e.r} {
		if !p.IsConnected() {
			t.Fatalf("%s: IsConnected false after Connect", p.Account())
		}
		ev := e.events(p).wait(t, ledger.EventConnect, "")
		if ev.Info.Prefix != p.Info().Prefix {
			t.Fatalf("connect event carries prefix %q, Info has %q", ev.Info.Prefix, p.Info().Prefix)
		}
		wantOK(t, p.Connect(c), "second Connect")
	}
	time.Sleep(10 * time.Millisecond)
	if n := e.sEv.count(ledger.EventConnect, "") + e.rEv.count(ledger.EventConnect, ""); n != 2 {
		t.Fatalf("%d connect events for two plugins connected twice each, want 2", n)
	}

	si, ri := e.s.Info(), e.r.Info()
	if err := ilp.ValidatePrefix(si.Prefix); err != nil {
		t.Fatalf("sender prefix: %v", err)
	}
	if si.Prefix != ri.Prefix || si.CurrencyCode != ri.CurrencyCode || si.CurrencyScale != ri.CurrencyScale {
		t.Fatalf("the ends describe different ledgers: %+v and %+v", si, ri)
	}
	if si.CurrencyCode == "" {
		t.Fatal("no currency code")
	}
	for _, p := range []ledger.Plugin{e.s, e.r} {
		acct := p.Account()
		if err := ilp.ValidateAddress(acct); err != nil || len(acct) <= len(si.Prefix) || acct[:len(si.Prefix)] != si.Prefix {
			t.Fatalf("account %q is not an address under %q (%v)", acct, si.Prefix, err)
		}
		info := p.Info()
		b, err := json.Marshal(info)
		wantOK(t, err, "marshal info")
		var back ledger.LedgerInfo
		wantOK(t, json.Unmarshal(b, &back), "unmarshal info")
		if !back.Equal(info) {
			t.Fatalf("info %s does not survive JSON: %+v", b, back)
		}
	}
	if e.s.Account() == e.r.Account() {
		t.Fatalf("both ends have account %q", e.s.Account())
	}
}

func testPrepareFulfill(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr, f := e.conditional(e.s, e.r, 100)
	e.send(e.s, tr)
	out := e.sEv.wait(t, ledger.EventOutgoingPrepare, tr.ID)
	in := e.rEv.wait(t, ledger.EventIncomingPrepare, tr.ID)
	sameTransfer(t, "outgoing_prepare", out.Transfer, tr, true)
	sameTransfer(t, "incoming_prepare", in.Transfer, tr, false)
	e.wantBalances(e.preparedDelta(tr.Amount))

	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, tr.ID)
		wantErr(t, err, "Fulfillment of a prepared transfer", ledger.NameMissingFulfillment)
	}

	wrong := f
	wrong[0] ^= 1
	wantErr(t, e.r.FulfillCondition(c, tr.ID, wrong), "wrong fulfillment", ledger.NameNotAccepted)
	wantErr(t, e.s.FulfillCondition(c, tr.ID, f), "fulfilling at the sender", ledger.NameNotAccepted, ledger.NameTransferNotFound)
	e.rEv.none(t, tr.ID, ledger.EventIncomingFulfill)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingFulfill)
	e.wantBalances(e.preparedDelta(tr.Amount))

	e.fulfill(e.s, e.r, tr, f)
	for _, ev := range []ledger.Event{e.rEv.wait(t, ledger.EventIncomingFulfill, tr.ID), e.sEv.wait(t, ledger.EventOutgoingFulfill, tr.ID)} {
		if ev.Fulfillment != f {
			t.Fatalf("%s carries fulfillment %s, want %s", ev.Kind, ev.Fulfillment, f)
		}
		if ev.Transfer.Amount != tr.Amount {
			t.Fatalf("%s carries amount %d", ev.Kind, ev.Transfer.Amount)
		}
	}
	e.wantBalances(minus(100), plus(100))
	for _, p := range []ledger.Plugin{e.s, e.r} {
		got, err := p.Fulfillment(c, tr.ID)
		wantOK(t, err, "Fulfillment of a fulfilled transfer")
		if got != f {
			t.Fatalf("Fulfillment %s, want %s", got, f)
		}
	}

	wantOK(t, e.r.FulfillCondition(c, tr.ID, f), "fulfilling again")
	wantErr(t, e.r.FulfillCondition(c, tr.ID, wrong), "another fulfillment after the fulfillment", ledger.NameAlreadyFulfilled, ledger.NameNotAccepted)
	wantErr(t, e.r.RejectIncomingTransfer(c, tr.ID, ledger.NewRejection("F99", e.r.Account(), "late", e.clock.Now())), "rejecting a fulfilled transfer", ledger.NameAlreadyFulfilled)
	e.wantBalances(minus(100), plus(100))
	if n, m := e.rEv.count(ledger.EventIncomingFulfill, tr.ID), e.sEv.count(ledger.EventOutgoingFulfill, tr.ID); n != 1 || m != 1 {
		t.Fatalf("%d incoming and %d outgoing fulfill events, want 1 each", n, m)
	}
	e.rEv.none(t, tr.ID, ledger.EventIncomingReject, ledger.EventIncomingCancel)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingReject, ledger.EventOutgoingCancel)
}

func testReject(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr, f := e.prepare(e.s, e.r, 250)
	reason := ledger.Rejection{
		Code:           ilp.CodeFinalApplicationError,
		Name:           "Application Error",
		Message:        "not today",
		TriggeredBy:    "example.far.away",
		ForwardedBy:    "example.connector.hop",
		TriggeredAt:    e.clock.Now().Add(-time.Second),
		AdditionalInfo: json.RawMessage(`{"why":"conformance"}`),
	}
	wantErr(t, e.s.RejectIncomingTransfer(c, tr.ID, reason), "rejecting at the sender", ledger.NameNotAccepted, ledger.NameTransferNotFound)
	wantOK(t, e.r.RejectIncomingTransfer(c, tr.ID, reason), "RejectIncomingTransfer")
	for _, ev := range []ledger.Event{e.rEv.wait(t, ledger.EventIncomingReject, tr.ID), e.sEv.wait(t, ledger.EventOutgoingReject, tr.ID)} {
		got := ev.Rejection
		if got.Code != reason.Code || got.Name != reason.Name || got.Message != reason.Message || got.TriggeredBy != reason.TriggeredBy ||
			got.ForwardedBy != reason.ForwardedBy || got.TriggeredAt.UnixMilli() != reason.TriggeredAt.UnixMilli() ||
			!jsonSame(got.AdditionalInfo, reason.AdditionalInfo) {
			t.Fatalf("%s carries rejection %+v, want %+v", ev.Kind, got, reason)
		}
	}
	e.wantBalances(delta{}, delta{})
	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, tr.ID)
		wantErr(t, err, "Fulfillment of a rejected transfer", ledger.NameAlreadyRolledBack)
	}
	wantErr(t, e.r.FulfillCondition(c, tr.ID, f), "fulfilling a rejected transfer", ledger.NameAlreadyRolledBack)
	if err := e.r.RejectIncomingTransfer(c, tr.ID, reason); err != nil {
		wantErr(t, err, "rejecting again", ledger.NameAlreadyRolledBack)
	}
	e.wantBalances(delta{}, delta{})
	if n, m := e.rEv.count(ledger.EventIncomingReject, tr.ID), e.sEv.count(ledger.EventOutgoingReject, tr.ID); n != 1 || m != 1 {
		t.Fatalf("%d incoming and %d outgoing reject events, want 1 each", n, m)
	}
	e.rEv.none(t, tr.ID, ledger.EventIncomingFulfill, ledger.EventIncomingCancel)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingFulfill, ledger.EventOutgoingCancel)

	// A reason without origin or time gets them from the plugin.
	tr2, _ := e.prepare(e.s, e.r, 30)
	wantOK(t, e.r.RejectIncomingTransfer(c, tr2.ID, ledger.Rejection{Code: ilp.CodeUnreachable, Name: "Unreachable", Message: "no route"}), "RejectIncomingTransfer")
	ev := e.sEv.wait(t, ledger.EventOutgoingReject, tr2.ID)
	if ev.Rejection.Code != ilp.CodeUnreachable || ev.Rejection.TriggeredBy == "" || ev.Rejection.TriggeredAt.IsZero() {
		t.Fatalf("outgoing_reject carries %+v: want code F02 with triggered_by and triggered_at filled in", ev.Rejection)
	}
	e.wantBalances(delta{}, delta{})
}

func testExpiry(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr, f := e.prepare(e.s, e.r, 300)
	kept, keptF := e.prepare(e.s, e.r, 5)

	e.clock.Advance(hold / 2)
	e.rEv.none(t, tr.ID, ledger.EventIncomingCancel)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingCancel)
	_, err := e.r.Fulfillment(c, tr.ID)
	wantErr(t, err, "Fulfillment before expiry", ledger.NameMissingFulfillment)
	e.fulfill(e.s, e.r, kept, keptF)
	sd, rd := e.preparedDelta(300)
	e.wantBalances(sd.add(minus(5)), rd.add(plus(5)))

	e.clock.Advance(hold/2 + time.Second)
	for _, ev := range []ledger.Event{e.rEv.wait(t, ledger.EventIncomingCancel, tr.ID), e.sEv.wait(t, ledger.EventOutgoingCancel, tr.ID)} {
		if code, _ := ilp.NormalizeCode(ev.Rejection.Code, ev.Rejection.Name); code != ilp.CodeTransferTimedOut {
			t.Fatalf("%s carries rejection %+v, want R00 Transfer Timed Out", ev.Kind, ev.Rejection)
		}
	}
	e.wantBalances(minus(5), plus(5))
	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, tr.ID)
		wantErr(t, err, "Fulfillment of an expired transfer", ledger.NameAlreadyRolledBack)
	}
	wantErr(t, e.r.FulfillCondition(c, tr.ID, f), "fulfilling an expired transfer", ledger.NameAlreadyRolledBack)
	e.wantBalances(minus(5), plus(5))
	e.rEv.none(t, tr.ID, ledger.EventIncomingFulfill, ledger.EventIncomingReject)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingFulfill, ledger.EventOutgoingReject)
	e.rEv.none(t, kept.ID, ledger.EventIncomingCancel)
	e.sEv.none(t, kept.ID, ledger.EventOutgoingCancel)
	if n, m := e.rEv.count(ledger.EventIncomingCancel, tr.ID), e.sEv.count(ledger.EventOutgoingCancel, tr.ID); n != 1 || m != 1 {
		t.Fatalf("%d incoming and %d outgoing cancel events, want 1 each", n, m)
	}

	// A fulfillment that comes after the expiry is refused.
	late, lateF := e.prepare(e.s, e.r, 7)
	e.clock.Advance(hold + time.Second)
	wantErr(t, e.r.FulfillCondition(c, late.ID, lateF), "fulfilling after the expiry", ledger.NameAlreadyRolledBack)
	e.rEv.wait(t, ledger.EventIncomingCancel, late.ID)
	e.sEv.wait(t, ledger.EventOutgoingCancel, late.ID)
	e.wantBalances(minus(5), plus(5))

	// A transfer that has expired already is not accepted.
	old, _ := e.conditional(e.s, e.r, 9)
	old.ExpiresAt = e.clock.Now().Add(-time.Second)
	wantErr(t, e.s.SendTransfer(c, old), "sending an expired transfer", ledger.NameNotAccepted, ledger.NameInvalidFields)
	e.rEv.none(t, old.ID, ledger.EventIncomingPrepare)
	e.wantBalances(minus(5), plus(5))
}

func testUnconditional(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr := e.plain(e.s, e.r, 70)
	e.send(e.s, tr)
	out := e.sEv.wait(t, ledger.EventOutgoingTransfer, tr.ID)
	in := e.rEv.wait(t, ledger.EventIncomingTransfer, tr.ID)
	sameTransfer(t, "outgoing_transfer", out.Transfer, tr, true)
	sameTransfer(t, "incoming_transfer", in.Transfer, tr, false)
	e.wantBalances(minus(70), plus(70))
	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, tr.ID)
		wantErr(t, err, "Fulfillment of an unconditional transfer", ledger.NameTransferNotConditional)
	}
	wantErr(t, e.r.FulfillCondition(c, tr.ID, e.fulfillment()), "fulfilling an unconditional transfer", ledger.NameTransferNotConditional)
	wantErr(t, e.r.RejectIncomingTransfer(c, tr.ID, ledger.NewRejection("F99", e.r.Account(), "no", e.clock.Now())), "rejecting an unconditional transfer", ledger.NameTransferNotConditional)
	e.rEv.none(t, tr.ID, ledger.EventIncomingPrepare, ledger.EventIncomingFulfill, ledger.EventIncomingReject)
	e.sEv.none(t, tr.ID, ledger.EventOutgoingPrepare, ledger.EventOutgoingFulfill, ledger.EventOutgoingReject)
	e.wantBalances(minus(70), plus(70))
}

func testDuplicateID(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr, f := e.prepare(e.s, e.r, 40)
	wantOK(t, e.s.SendTransfer(c, tr), "sending the same transfer again")

	other := tr
	other.Amount = 41
	wantErr(t, e.s.SendTransfer(c, other), "same id, other amount", ledger.NameDuplicateID)
	other = tr
	other.ExecutionCondition = ilp.ConditionOf(e.fulfillment()).String()
	wantErr(t, e.s.SendTransfer(c, other), "same id, other condition", ledger.NameDuplicateID)
	e.wantBalances(e.preparedDelta(40))

	e.fulfill(e.s, e.r, tr, f)
	if err := e.s.SendTransfer(c, tr); err != nil {
		wantErr(t, err, "sending a fulfilled transfer again", ledger.NameDuplicateID, ledger.NameAlreadyFulfilled)
	}
	e.wantBalances(minus(40), plus(40))

	// An id the other end used for a transfer to this one is taken too.
	back, backF := e.prepare(e.r, e.s, 3)
	reuse, _ := e.conditional(e.s, e.r, 3)
	reuse.ID = back.ID
	wantErr(t, e.s.SendTransfer(c, reuse), "reusing the id of an incoming transfer", ledger.NameDuplicateID)
	e.fulfill(e.r, e.s, back, backF)
	e.wantBalances(minus(40).add(plus(3)), plus(40).add(minus(3)))

	for _, k := range []ledger.EventKind{ledger.EventOutgoingPrepare, ledger.EventOutgoingFulfill} {
		if n := e.sEv.count(k, tr.ID); n != 1 {
			t.Fatalf("%d %s events, want 1", n, k)
		}
	}
	for _, k := range []ledger.EventKind{ledger.EventIncomingPrepare, ledger.EventIncomingFulfill} {
		if n := e.rEv.count(k, tr.ID); n != 1 {
			t.Fatalf("%d %s events, want 1", n, k)
		}
	}
	if n := e.rEv.count(ledger.EventIncomingPrepare, back.ID) + e.rEv.count(ledger.EventOutgoingPrepare, back.ID); n != 1 {
		t.Fatalf("the receiver saw %d prepare events for its transfer, want 1", n)
	}
}

func testLimits(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{Limit: ledger.Limit(ledger.Int128FromUint64(1000))})
	c := ctx(t)
	refused := func(tr ledger.Transfer, what string) {
		t.Helper()
		wantErr(t, e.s.SendTransfer(c, tr), what, ledger.NameNotAccepted, ledger.NameInsufficientBalance)
		e.rEv.none(t, tr.ID, ledger.EventIncomingPrepare, ledger.EventIncomingTransfer)
		e.sEv.none(t, tr.ID, ledger.EventOutgoingPrepare, ledger.EventOutgoingTransfer)
		_, err := e.r.Fulfillment(c, tr.ID)
		wantErr(t, err, what+": receiver's Fulfillment", ledger.NameTransferNotFound)
		_, err = e.s.Fulfillment(c, tr.ID)
		wantErr(t, err, what+": sender's Fulfillment", ledger.NameTransferNotFound, ledger.NameAlreadyRolledBack)
	}
	prepared := func(amounts ...uint64) (delta, delta) {
		var ds, dr delta
		for _, a := range amounts {
			s, r := e.preparedDelta(a)
			ds, dr = ds.add(s), dr.add(r)
		}
		return ds, dr
	}

	t1, _ := e.prepare(e.s, e.r, 600)
	over, _ := e.conditional(e.s, e.r, 500)
	refused(over, "600 prepared, 500 more")
	e.wantBalances(prepared(600))
	t3, f3 := e.prepare(e.s, e.r, 400) // exactly at the limit
	one, _ := e.conditional(e.s, e.r, 1)
	refused(one, "at the limit, 1 more")
	refused(e.plain(e.s, e.r, 1), "at the limit, 1 more unconditional")
	e.wantBalances(prepared(600, 400))

	e.reject(e.s, e.r, t1) // frees 600
	t5, f5 := e.prepare(e.s, e.r, 600)
	e.fulfill(e.s, e.r, t3, f3)
	ds, dr := prepared(600)
	e.wantBalances(ds.add(minus(400)), dr.add(plus(400)))
	one, _ = e.conditional(e.s, e.r, 1)
	refused(one, "400 owed and 600 prepared, 1 more")

	e.fulfill(e.s, e.r, t5, f5)
	e.wantBalances(minus(1000), plus(1000))
	refused(e.plain(e.s, e.r, 1), "1000 owed, 1 more unconditional")
	// Paying back makes room again.
	back := e.plain(e.r, e.s, 300)
	e.send(e.r, back)
	e.sEv.wait(t, ledger.EventIncomingTransfer, back.ID)
	e.wantBalances(minus(700), plus(700))
	again := e.plain(e.s, e.r, 300)
	e.send(e.s, again)
	e.wantBalances(minus(1000), plus(1000))
}

func testLargeAmounts(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	const max = math.MaxUint64
	t1, f1 := e.prepare(e.s, e.r, max)
	if ev := e.rEv.wait(t, ledger.EventIncomingPrepare, t1.ID); ev.Transfer.Amount != max {
		t.Fatalf("incoming amount %d, want 2^64-1", ev.Transfer.Amount)
	}
	e.fulfill(e.s, e.r, t1, f1)
	e.wantBalances(minus(max), plus(max))
	t2, f2 := e.prepare(e.s, e.r, max)
	e.fulfill(e.s, e.r, t2, f2)
	u := e.plain(e.s, e.r, max)
	e.send(e.s, u)
	e.wantBalances(minus(max).add(minus(max)).add(minus(max)), plus(max).add(plus(max)).add(plus(max)))
	for range 3 {
		b, bf := e.prepare(e.r, e.s, max)
		e.fulfill(e.r, e.s, b, bf)
	}
	e.wantBalances(delta{}, delta{})
}

func testZeroAmount(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	tr, f := e.conditional(e.s, e.r, 0)
	u := e.plain(e.s, e.r, 0)
	if h.RefusesZeroAmount {
		wantErr(t, e.s.SendTransfer(c, tr), "zero-amount transfer", ledger.NameInvalidFields)
		wantErr(t, e.s.SendTransfer(c, u), "zero-amount unconditional transfer", ledger.NameInvalidFields)
		e.rEv.none(t, tr.ID, ledger.EventIncomingPrepare)
		e.rEv.none(t, u.ID, ledger.EventIncomingTransfer)
		e.wantBalances(delta{}, delta{})
		return
	}
	e.send(e.s, tr)
	e.rEv.wait(t, ledger.EventIncomingPrepare, tr.ID)
	e.fulfill(e.s, e.r, tr, f)
	e.send(e.s, u)
	e.rEv.wait(t, ledger.EventIncomingTransfer, u.ID)
	e.wantBalances(delta{}, delta{})
}

func testInvalidTransfers(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	prefix := e.s.Info().Prefix
	cases := []struct {
		name   string
		change func(*ledger.Transfer)
		names  []string
	}{
		{"no id", func(t *ledger.Transfer) { t.ID = "" }, nil},
		{"no destination", func(t *ledger.Transfer) { t.To = "" }, nil},
		{"unknown destination", func(t *ledger.Transfer) { t.To = prefix + "nobody" }, []string{ledger.NameInvalidFields, ledger.NameAccountNotFound}},
		{"destination on another ledger", func(t *ledger.Transfer) { t.To = "example.elsewhere.bob" }, []string{ledger.NameInvalidFields, ledger.NameAccountNotFound}},
		{"other ledger", func(t *ledger.Transfer) { t.Ledger = "example.elsewhere." }, nil},
		{"other source", func(t *ledger.Transfer) { t.From = prefix + "mallory" }, nil},
		{"condition without expiry", func(t *ledger.Transfer) { t.ExpiresAt = time.Time{} }, nil},
		{"expiry without condition", func(t *ledger.Transfer) { t.ExecutionCondition = "" }, nil},
		{"short condition", func(t *ledger.Transfer) { t.ExecutionCondition = "uzoYx3K6u-Nt6kZjbN6KmH0yARfhkj9e17eQfp" }, nil},
		{"condition not base64url", func(t *ledger.Transfer) { t.ExecutionCondition = "uzoYx3K6u+Nt6kZjbN6KmH0yARfhkj9e17eQfpSeB7U" }, nil},
		{"custom not an object", func(t *ledger.Transfer) { t.Custom = json.RawMessage(`[1,2]`) }, nil},
	}
	for _, tc := range cases {
		tr, _ := e.conditional(e.s, e.r, 10)
		tc.change(&tr)
		names := tc.names
		if names == nil {
			names = []string{ledger.NameInvalidFields}
		}
		wantErr(t, e.s.SendTransfer(c, tr), tc.name, names...)
		if tr.ID != "" {
			e.rEv.none(t, tr.ID, ledger.EventIncomingPrepare, ledger.EventIncomingTransfer)
			e.sEv.none(t, tr.ID, ledger.EventOutgoingPrepare, ledger.EventOutgoingTransfer)
			_, err := e.r.Fulfillment(c, tr.ID)
			wantErr(t, err, tc.name+": receiver's Fulfillment", ledger.NameTransferNotFound)
		}
	}
	e.wantBalances(delta{}, delta{})
	if n := len(e.rEv.all()); n != 1 { // the connect event
		t.Fatalf("the receiver got %d events from invalid transfers", n-1)
	}
}

func testFulfillmentStates(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	c := ctx(t)
	unknown := e.id()
	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, unknown)
		wantErr(t, err, "Fulfillment of an unknown transfer", ledger.NameTransferNotFound)
	}
	wantErr(t, e.r.FulfillCondition(c, unknown, e.fulfillment()), "fulfilling an unknown transfer", ledger.NameTransferNotFound)
	wantErr(t, e.r.RejectIncomingTransfer(c, unknown, ledger.NewRejection("F00", e.r.Account(), "x", e.clock.Now())), "rejecting an unknown transfer", ledger.NameTransferNotFound)

	prepared, _ := e.prepare(e.s, e.r, 1)
	fulfilled, f := e.prepare(e.s, e.r, 2)
	e.fulfill(e.s, e.r, fulfilled, f)
	rejected, _ := e.prepare(e.s, e.r, 3)
	e.reject(e.s, e.r, rejected)
	unconditional := e.plain(e.s, e.r, 4)
	e.send(e.s, unconditional)
	e.clock.Advance(time.Second) // the next one expires before the first
	expiring, _ := e.conditional(e.s, e.r, 5)
	expiring.ExpiresAt = e.clock.Now().Add(2 * time.Second)
	e.send(e.s, expiring)
	e.clock.Advance(3 * time.Second)
	e.rEv.wait(t, ledger.EventIncomingCancel, expiring.ID)

	for _, p := range []ledger.Plugin{e.s, e.r} {
		_, err := p.Fulfillment(c, prepared.ID)
		wantErr(t, err, "prepared", ledger.NameMissingFulfillment)
		got, err := p.Fulfillment(c, fulfilled.ID)
		if err != nil || got != f {
			t.Fatalf("fulfilled: %s, %v; want %s", got, err, f)
		}
		_, err = p.Fulfillment(c, rejected.ID)
		wantErr(t, err, "rejected", ledger.NameAlreadyRolledBack)
		_, err = p.Fulfillment(c, expiring.ID)
		wantErr(t, err, "expired", ledger.NameAlreadyRolledBack)
		_, err = p.Fulfillment(c, unconditional.ID)
		wantErr(t, err, "unconditional", ledger.NameTransferNotConditional)
	}
	ds, dr := e.preparedDelta(1)
	e.wantBalances(ds.add(minus(2)).add(minus(4)), dr.add(plus(2)).add(plus(4)))
}

func testOtherDirection(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	tr, f := e.conditional(e.r, e.s, 80)
	e.send(e.r, tr)
	sameTransfer(t, "outgoing_prepare", e.rEv.wait(t, ledger.EventOutgoingPrepare, tr.ID).Transfer, tr, true)
	sameTransfer(t, "incoming_prepare", e.sEv.wait(t, ledger.EventIncomingPrepare, tr.ID).Transfer, tr, false)
	rd, sd := e.preparedDelta(80)
	e.wantBalances(sd, rd)
	e.fulfill(e.r, e.s, tr, f)
	e.wantBalances(plus(80), minus(80))
	tr2, _ := e.prepare(e.r, e.s, 20)
	e.reject(e.r, e.s, tr2)
	e.wantBalances(plus(80), minus(80))
}
