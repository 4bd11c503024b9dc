package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// start is the clock's time at the beginning of every test.
var start = time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)

// hold is how long the suite's conditional transfers stay prepared.
const hold = 10 * time.Second

// samplePacket is an ILP payment packet in base64url, carried by the
// suite's transfers and messages. The plugins must pass it on unchanged.
const samplePacket = "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA"

// env is one test's ledger: two connected ends with event recorders.
type env struct {
	t      testing.TB
	h      Harness
	clock  *Clock
	s, r   ledger.Plugin // sender and receiver
	sEv    *recorder
	rEv    *recorder
	s0, r0 ledger.Int128 // balances after connecting
	rng    *rand.Rand
	mu     sync.Mutex // guards rng
}

// build returns the ends of a fresh ledger, not connected, with recorders
// subscribed.
func build(t testing.TB, h Harness, cfg Config) *env {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = NewClock(start)
	}
	s, r := h.New(t, cfg)
	if s == nil || r == nil {
		t.Fatalf("%s: Harness.New returned a nil plugin", h.Name)
	}
	e := &env{t: t, h: h, clock: cfg.Clock, s: s, r: r, sEv: newRecorder(), rEv: newRecorder(), rng: seeded(t)}
	unsubS, unsubR := s.Subscribe(e.sEv.handle), r.Subscribe(e.rEv.handle)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		defer cancel()
		for _, p := range []ledger.Plugin{s, r} {
			if err := p.Disconnect(ctx); err != nil {
				t.Errorf("Disconnect %s: %v", p.Account(), err)
			}
		}
		unsubS()
		unsubR()
	})
	return e
}

// newEnv returns a fresh ledger with both ends connected and their starting
// balances read.
func newEnv(t testing.TB, h Harness, cfg Config) *env {
	t.Helper()
	e := build(t, h, cfg)
	e.connect()
	e.s0, e.r0 = e.balance(e.s), e.balance(e.r)
	return e
}

func (e *env) connect() {
	e.t.Helper()
	order := []ledger.Plugin{e.s, e.r}
	if e.h.ConnectReceiverFirst {
		order = []ledger.Plugin{e.r, e.s}
	}
	for _, p := range order {
		if err := p.Connect(ctx(e.t)); err != nil {
			e.t.Fatalf("Connect: %v", err)
		}
	}
}

// ctx returns a context that ends with the test or after WaitTimeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	t.Cleanup(cancel)
	return c
}

// seeded returns a random source seeded from the test's name, so a run is
// repeatable.
func seeded(t testing.TB) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	seed := h.Sum64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func (e *env) uint64() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rng.Uint64()
}

func (e *env) intn(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rng.IntN(n)
}

// id returns a fresh random UUID.
func (e *env) id() string {
	e.mu.Lock()
	hi, lo := e.rng.Uint64(), e.rng.Uint64()
	e.mu.Unlock()
	b := fmt.Sprintf("%016x%016x", hi, lo)
	return b[0:8] + "-" + b[8:12] + "-4" + b[13:16] + "-8" + b[17:20] + "-" + b[20:32]
}

// fulfillment returns a fresh random fulfillment.
func (e *env) fulfillment() ilp.Fulfillment {
	var f ilp.Fulfillment
	e.mu.Lock()
	for i := range f {
		f[i] = byte(e.rng.Uint32())
	}
	e.mu.Unlock()
	return f
}

// conditional returns a conditional transfer of amount from p to q, and the
// fulfillment of its condition.
func (e *env) conditional(p, q ledger.Plugin, amount uint64) (ledger.Transfer, ilp.Fulfillment) {
	f := e.fulfillment()
	t := e.plain(p, q, amount)
	t.ExecutionCondition = ilp.ConditionOf(f).String()
	t.ExpiresAt = e.clock.Now().Add(hold)
	return t, f
}

// plain returns an unconditional transfer of amount from p to q.
func (e *env) plain(p, q ledger.Plugin, amount uint64) ledger.Transfer {
	return ledger.Transfer{
		ID:         e.id(),
		Ledger:     p.Info().Prefix,
		From:       p.Account(),
		To:         q.Account(),
		Amount:     amount,
		ILP:        samplePacket,
		Custom:     json.RawMessage(`{"memo":"conformance","n":1}`),
		NoteToSelf: json.RawMessage(`{"mine":true}`),
	}
}

// send sends t from p and fails the test on an error.
func (e *env) send(p ledger.Plugin, t ledger.Transfer) {
	e.t.Helper()
	if err := p.SendTransfer(ctx(e.t), t); err != nil {
		e.t.Fatalf("SendTransfer %s of %d: %v", t.ID, t.Amount, err)
	}
}

// prepare sends a conditional transfer of amount from p to q and waits for
// both prepare events.
func (e *env) prepare(p, q ledger.Plugin, amount uint64) (ledger.Transfer, ilp.Fulfillment) {
	e.t.Helper()
	t, f := e.conditional(p, q, amount)
	e.send(p, t)
	e.events(p).wait(e.t, ledger.EventOutgoingPrepare, t.ID)
	e.events(q).wait(e.t, ledger.EventIncomingPrepare, t.ID)
	return t, f
}

// fulfill fulfills t at its receiver q and waits for both fulfill events.
func (e *env) fulfill(p, q ledger.Plugin, t ledger.Transfer, f ilp.Fulfillment) {
	e.t.Helper()
	if err := q.FulfillCondition(ctx(e.t), t.ID, f); err != nil {
		e.t.Fatalf("FulfillCondition %s: %v", t.ID, err)
	}
	e.events(q).wait(e.t, ledger.EventIncomingFulfill, t.ID)
	e.events(p).wait(e.t, ledger.EventOutgoingFulfill, t.ID)
}

// reject rejects t at its receiver q and waits for both reject events.
func (e *env) reject(p, q ledger.Plugin, t ledger.Transfer) {
	e.t.Helper()
	reason := ledger.NewRejection(ilp.CodeUnreachable, q.Account(), "conformance", e.clock.Now())
	if err := q.RejectIncomingTransfer(ctx(e.t), t.ID, reason); err != nil {
		e.t.Fatalf("RejectIncomingTransfer %s: %v", t.ID, err)
	}
	e.events(q).wait(e.t, ledger.EventIncomingReject, t.ID)
	e.events(p).wait(e.t, ledger.EventOutgoingReject, t.ID)
}

func (e *env) events(p ledger.Plugin) *recorder {
	if p == e.s {
		return e.sEv
	}
	return e.rEv
}

func (e *env) balance(p ledger.Plugin) ledger.Int128 {
	e.t.Helper()
	v, err := p.Balance(ctx(e.t))
	if err != nil {
		e.t.Fatalf("Balance %s: %v", p.Account(), err)
	}
	return v
}

// wantBalances waits until the sender's and receiver's balances are s0+ds
// and r0+dr.
func (e *env) wantBalances(ds, dr delta) {
	e.t.Helper()
	ws, wr := ds.from(e.s0), dr.from(e.r0)
	var gs, gr ledger.Int128
	ok := eventually(func() bool {
		gs, gr = e.balance(e.s), e.balance(e.r)
		return gs == ws && gr == wr
	})
	if !ok {
		e.t.Fatalf("balances: sender %s, receiver %s; want %s, %s (started at %s, %s)", gs, gr, ws, wr, e.s0, e.r0)
	}
}

// preparedDelta is how a prepared transfer of amount shows in the balances
// of its sender and receiver.
func (e *env) preparedDelta(amount uint64) (sender, receiver delta) {
	if e.h.SenderHoldsAtPrepare {
		sender = minus(amount)
	}
	if e.h.ReceiverCreditsAtPrepare {
		receiver = plus(amount)
	}
	return sender, receiver
}

// delta is a signed change of a balance, as the sum of uint64 parts so
// that it can exceed 64 bits.
type delta struct {
	parts []int8   // +1 or -1
	vals  []uint64 // amounts
}

func plus(n uint64) delta  { return delta{parts: []int8{1}, vals: []uint64{n}} }
func minus(n uint64) delta { return delta{parts: []int8{-1}, vals: []uint64{n}} }

// add returns d and o combined.
func (d delta) add(o delta) delta {
	return delta{parts: append(slices.Clone(d.parts), o.parts...), vals: append(slices.Clone(d.vals), o.vals...)}
}

// from returns base changed by d.
func (d delta) from(base ledger.Int128) ledger.Int128 {
	v := base
	for i, n := range d.vals {
		var err error
		if d.parts[i] > 0 {
			v, err = v.AddUint64(n)
		} else {
			v, err = v.SubUint64(n)
		}
		if err != nil {
			panic(err)
		}
	}
	return v
}

// eventually polls cond until it holds or WaitTimeout passes.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(WaitTimeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// wantErr fails the test unless err has one of the LPI names.
func wantErr(t testing.TB, err error, what string, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, strings.Join(names, " or "))
	}
	got := ledger.ErrorName(err)
	if !slices.Contains(names, got) {
		t.Fatalf("%s: error %v (%s), want %s", what, err, got, strings.Join(names, " or "))
	}
}

// wantOK fails the test on an error.
func wantOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// recorder keeps the events one plugin delivered, in delivery order.
type recorder struct {
	mu      sync.Mutex
	events  []ledger.Event
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) handle(ev ledger.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []ledger.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// find returns the events of kind about transfer id ("" for events
// without a transfer).
func (r *recorder) find(kind ledger.EventKind, id string) []ledger.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ledger.Event
	for _, ev := range r.events {
		if ev.Kind == kind && ev.Transfer.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) count(kind ledger.EventKind, id string) int { return len(r.find(kind, id)) }

// about returns the events about transfer id, in order.
func (r *recorder) about(id string) []ledger.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ledger.Event
	for _, ev := range r.events {
		if ev.Transfer.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

// wait returns the first event of kind about id, waiting for it.
func (r *recorder) wait(t testing.TB, kind ledger.EventKind, id string) ledger.Event {
	t.Helper()
	timer := time.NewTimer(WaitTimeout)
	defer timer.Stop()
	for {
		if evs := r.find(kind, id); len(evs) > 0 {
			return evs[0]
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-timer.C:
			t.Fatalf("no %s event for transfer %q within %s", kind, id, WaitTimeout)
		}
	}
}

// none fails the test if an event of one of kinds about id was delivered.
func (r *recorder) none(t testing.TB, id string, kinds ...ledger.EventKind) {
	t.Helper()
	for _, k := range kinds {
		if n := r.count(k, id); n != 0 {
			t.Fatalf("%d unexpected %s events for transfer %q", n, k, id)
		}
	}
}

// jsonSame reports whether two JSON texts hold the same value.
func jsonSame(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

// sameTransfer checks that got carries the fields of the transfer sent.
func sameTransfer(t testing.TB, what string, got, sent ledger.Transfer, withNote bool) {
	t.Helper()
	switch {
	case got.ID != sent.ID:
		t.Fatalf("%s: id %q, want %q", what, got.ID, sent.ID)
	case got.Amount != sent.Amount:
		t.Fatalf("%s: amount %d, want %d", what, got.Amount, sent.Amount)
	case got.Ledger != sent.Ledger || got.From != sent.From || got.To != sent.To:
		t.Fatalf("%s: ledger/from/to %q %q %q, want %q %q %q", what, got.Ledger, got.From, got.To, sent.Ledger, sent.From, sent.To)
	case got.ExecutionCondition != sent.ExecutionCondition:
		t.Fatalf("%s: condition %q, want %q", what, got.ExecutionCondition, sent.ExecutionCondition)
	case got.ExpiresAt.UnixMilli() != sent.ExpiresAt.UnixMilli() || got.ExpiresAt.IsZero() != sent.ExpiresAt.IsZero():
		t.Fatalf("%s: expiresAt %v, want %v", what, got.ExpiresAt, sent.ExpiresAt)
	case got.ILP != sent.ILP:
		t.Fatalf("%s: ilp %q, want %q", what, got.ILP, sent.ILP)
	case !jsonSame(got.Custom, sent.Custom):
		t.Fatalf("%s: custom %s, want %s", what, got.Custom, sent.Custom)
	}
	if withNote && !jsonSame(got.NoteToSelf, sent.NoteToSelf) {
		t.Fatalf("%s: noteToSelf %s, want %s", what, got.NoteToSelf, sent.NoteToSelf)
	}
	if !withNote && len(got.NoteToSelf) != 0 {
		t.Fatalf("%s: the receiver got the sender's noteToSelf %s", what, got.NoteToSelf)
	}
}
