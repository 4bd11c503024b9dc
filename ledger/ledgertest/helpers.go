package ledgertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// store is one test's store and the backend currently open on it.
type store struct {
	h     Harness
	loc   string
	b     ledger.Backend
	close func() error
}

// newStore creates a store and opens a backend on it; the backend is closed
// when the test ends (or by reopen).
func newStore(t testing.TB, h Harness) *store {
	t.Helper()
	s := &store{h: h, loc: h.NewStore(t)}
	s.open(t)
	t.Cleanup(func() { s.shut(t) })
	return s
}

func (s *store) open(t testing.TB) {
	t.Helper()
	b, closeFn, err := s.h.Open(context.Background(), s.loc)
	if err != nil {
		t.Fatalf("%s: open %q: %v", s.h.Name, s.loc, err)
	}
	if closeFn == nil {
		closeFn = func() error { return nil }
	}
	s.b, s.close = b, closeFn
}

func (s *store) shut(t testing.TB) {
	t.Helper()
	if s.close == nil {
		return
	}
	closeFn := s.close
	s.b, s.close = nil, nil
	if err := closeFn(); err != nil {
		t.Errorf("%s: close %q: %v", s.h.Name, s.loc, err)
	}
}

// reopen closes the backend and opens a new one on the same store, as a
// restarted process would.
func (s *store) reopen(t testing.TB) {
	t.Helper()
	s.shut(t)
	s.open(t)
}

// balance returns a connected balance of the open backend.
func (s *store) balance(t testing.TB, name string, opts ledger.BalanceOptions) ledger.Balance {
	t.Helper()
	bal := s.b.Balance(name, opts)
	if err := bal.Connect(context.Background()); err != nil {
		t.Fatalf("connect balance %q: %v", name, err)
	}
	return bal
}

// seedFor returns the base seed of a test: a hash of its name, mixed with
// EnvSeed when that is set. It is logged so a failure can be replayed.
func seedFor(t testing.TB) uint64 {
	t.Helper()
	f := fnv.New64a()
	f.Write([]byte(t.Name()))
	seed := f.Sum64()
	if s := os.Getenv(EnvSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvSeed, s, err)
		}
		seed ^= v
	}
	t.Logf("seed %d (%s=%s)", seed, EnvSeed, os.Getenv(EnvSeed))
	return seed
}

func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

func i128(v int64) ledger.Int128 { return ledger.Int128FromInt64(v) }

func u128(v uint64) ledger.Int128 { return ledger.Int128FromUint64(v) }

func mustBig(t testing.TB, b *big.Int) ledger.Int128 {
	t.Helper()
	v, err := ledger.Int128FromBig(b)
	if err != nil {
		t.Fatalf("Int128FromBig(%s): %v", b, err)
	}
	return v
}

// int128Max and int128Min are ±2^127 (the maximum being 2^127-1).
func int128Max(t testing.TB) ledger.Int128 {
	return mustBig(t, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1)))
}

func int128Min(t testing.TB) ledger.Int128 {
	return mustBig(t, new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127)))
}

func limits(min, max ledger.Bound) ledger.BalanceOptions {
	return ledger.BalanceOptions{Minimum: min, Maximum: max}
}

// add returns a+b; the suite's own arithmetic never overflows, so an
// overflow is a bug in the test.
func add(t testing.TB, a ledger.Int128, b int64) ledger.Int128 {
	t.Helper()
	var r ledger.Int128
	var err error
	if b >= 0 {
		r, err = a.AddUint64(uint64(b))
	} else {
		r, err = a.SubUint64(uint64(-b))
	}
	if err != nil {
		t.Fatalf("%s%+d: %v", a, b, err)
	}
	return r
}

func wantBalance(t testing.TB, bal ledger.Balance, want ledger.Int128) {
	t.Helper()
	got, err := bal.Load(context.Background())
	if err != nil {
		t.Fatalf("load balance %q: %v", bal.Name(), err)
	}
	if got.Cmp(want) != 0 {
		t.Fatalf("balance %q = %s, want %s", bal.Name(), got, want)
	}
}

func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func wantOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// condition returns a fulfillment and its condition as the Ledger Plugin
// Interface v1 has them: a 32-byte preimage and its SHA-256, both base64url.
func condition(preimage [32]byte) (fulfillment, cond string) {
	h := sha256.Sum256(preimage[:])
	return base64.RawURLEncoding.EncodeToString(preimage[:]), base64.RawURLEncoding.EncodeToString(h[:])
}

// fulfillmentFor derives a transfer's preimage from its id, so a checker
// that only knows the id can tell the right fulfillment.
func fulfillmentFor(id string) (fulfillment, cond string) {
	return condition(sha256.Sum256([]byte("ledgertest/" + id)))
}

// epoch is the suite's clock: transfers expire relative to it. No test
// depends on the wall clock.
func epoch() time.Time { return time.Date(2017, time.June, 1, 12, 0, 0, 123_000_000, time.UTC) }

// transfer builds a Ledger Plugin Interface transfer as a 2017 peer sent
// it: conditional ones carry a condition and an expiry with milliseconds;
// custom holds characters that JSON encoders escape differently.
func transfer(id string, amount uint64, conditional bool) ledger.Transfer {
	tr := ledger.Transfer{
		ID:     id,
		Ledger: "peer.ledgertest.usd.9.",
		From:   "peer.ledgertest.usd.9.alice",
		To:     "peer.ledgertest.usd.9.bob",
		Amount: amount,
		ILP:    "AQAAAAAAAAPoEGcuZXhhbXBsZS5ib2IAAA",
		Custom: json.RawMessage(`{"memo":"<tea & cake>","n":12345678901234567890}`),
	}
	if conditional {
		_, tr.ExecutionCondition = fulfillmentFor(id)
		tr.ExpiresAt = epoch().Add(10 * time.Second)
	}
	return tr
}

func prepared(id string, amount uint64, incoming bool) ledger.Record {
	return ledger.Record{Transfer: transfer(id, amount, true), Incoming: incoming}
}

// jsonSame compares two JSON values by meaning.
func jsonSame(a, b json.RawMessage) bool {
	decode := func(r json.RawMessage) (any, bool) {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || bytes.Equal(r, []byte("null")) {
			return nil, true
		}
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil
	}
	va, okA := decode(a)
	vb, okB := decode(b)
	return okA && okB && reflect.DeepEqual(va, vb)
}

// sameRecord reports how two records differ, or "" when they do not.
func sameRecord(got, want ledger.Record) string {
	switch {
	case !got.Transfer.SameAs(want.Transfer):
		return fmt.Sprintf("transfer %+v, want %+v", got.Transfer, want.Transfer)
	case !jsonSame(got.Transfer.NoteToSelf, want.Transfer.NoteToSelf):
		return fmt.Sprintf("noteToSelf %s, want %s", got.Transfer.NoteToSelf, want.Transfer.NoteToSelf)
	case got.State != want.State:
		return fmt.Sprintf("state %s, want %s", got.State, want.State)
	case got.Incoming != want.Incoming:
		return fmt.Sprintf("incoming %v, want %v", got.Incoming, want.Incoming)
	case got.Fulfillment != want.Fulfillment:
		return fmt.Sprintf("fulfillment %q, want %q", got.Fulfillment, want.Fulfillment)
	}
	return ""
}

func wantRecord(t testing.TB, got, want ledger.Record, what string) {
	t.Helper()
	if d := sameRecord(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

// wantStored reads id from the store and compares it with want.
func wantStored(t testing.TB, log ledger.TransferLog, want ledger.Record) {
	t.Helper()
	got, err := log.Get(context.Background(), want.Transfer.ID)
	if err != nil {
		t.Fatalf("get %q: %v", want.Transfer.ID, err)
	}
	wantRecord(t, got, want, "stored "+want.Transfer.ID)
}

func wantNotStored(t testing.TB, log ledger.TransferLog, id string) {
	t.Helper()
	_, err := log.Get(context.Background(), id)
	wantErr(t, err, ledger.ErrTransferNotFound, "get "+id)
}

func wantBalances(t testing.TB, res ledger.Result, want ...ledger.Int128) {
	t.Helper()
	if len(res.Balances) != len(want) {
		t.Fatalf("result balances %v, want %v", res.Balances, want)
	}
	for i := range want {
		if res.Balances[i].Cmp(want[i]) != 0 {
			t.Fatalf("result balances %v, want %v", res.Balances, want)
		}
	}
}

const maxU64 = math.MaxUint64
