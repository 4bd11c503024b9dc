package kv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/kv"
	"github.com/ilpkit/ilpkit/ledger"
)

func cond(id string) (fulfillment, condition string) {
	pre := sha256.Sum256([]byte("kv-test/" + id))
	h := sha256.Sum256(pre[:])
	return base64.RawURLEncoding.EncodeToString(pre[:]), base64.RawURLEncoding.EncodeToString(h[:])
}

func conditional(id string, amount uint64) ledger.Record {
	_, c := cond(id)
	return ledger.Record{Transfer: ledger.Transfer{
		ID: id, Amount: amount, Ledger: "peer.kv.usd.9.", To: "peer.kv.usd.9.bob",
		ExecutionCondition: c, ExpiresAt: time.Date(2017, 6, 1, 12, 0, 5, 250e6, time.UTC),
	}}
}

func TestStoresThe2xLayout(t *testing.T) {
	ctx := context.Background()
	store := kv.NewMapStore()
	b := kv.FromStore(store)
	peer := b.Balance("", ledger.BalanceOptions{})
	hold := b.Balance("hold", ledger.BalanceOptions{})
	if err := peer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Sub(ctx, 77); err != nil {
		t.Fatal(err)
	}
	log := b.TransferLog()
	if _, err := log.Create(ctx, conditional("a", 5), ledger.Credit(hold, 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Create(ctx, conditional("b", 6), ledger.Credit(hold, 6)); err != nil {
		t.Fatal(err)
	}
	f, _ := cond("a")
	if _, err := log.Fulfill(ctx, "a", f, ledger.Debit(hold, 5), ledger.Credit(peer, 5)); err != nil {
		t.Fatal(err)
	}

	got := store.Snapshot()
	want := map[string]string{
		"balance__":        "-72",
		"balance__hold":    "6",
		"ilpkit__prepared": `["b"]`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got[kv.JournalKey]; ok {
		t.Error("a journal is left after the operations completed")
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(got["transfer_a"]), &a); err != nil {
		t.Fatalf("transfer_a: %v", err)
	}
	if a["state"] != "executed" || a["isIncoming"] != false || a["fulfillment"] != f || a["written"] != true {
		t.Errorf("transfer_a = %s", got["transfer_a"])
	}
	tr, _ := a["transfer"].(map[string]any)
	if tr["amount"] != "5" || tr["expiresAt"] != "2017-06-01T12:00:05.250Z" {
		t.Errorf("transfer_a's transfer = %v", tr)
	}
	if !strings.Contains(got["transfer_b"], `"state":"prepared"`) || !strings.Contains(got["transfer_b"], `"fulfillment":null`) {
		t.Errorf("transfer_b = %s", got["transfer_b"])
	}
	if len(got) != 5 {
		t.Errorf("store holds %d keys, want 5: %v", len(got), got)
	}
}

func TestReadsA2xStore(t *testing.T) {
	ctx := context.Background()
	store := kv.NewMapStore()
	_, c := cond("v16")
	// As ilp-plugin-virtual v16 wrote them: incoming, executed, fulfillment
	// not kept, extra fields in the transfer; and a v12-v14 prepared one.
	v16 := `{"transfer":{"id":"v16","amount":"1000","ledger":"peer.kv.usd.9.","from":"peer.kv.usd.9.alice","to":"peer.kv.usd.9.bob","direction":"incoming","executionCondition":"` + c + `","expiresAt":"2017-06-01T12:00:00.000Z","ilp":"AQ","custom":{}},"state":"executed","isIncoming":true,"fulfillment":null,"written":true}`
	v13 := `{"transfer":{"id":"v13","amount":25,"ledger":"peer.kv.usd.9."},"state":"prepared","isIncoming":false}`
	for k, v := range map[string]string{"balance__": "123456789012345678901234", "transfer_v16": v16, "transfer_v13": v13} {
		if err := store.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	b := kv.FromStore(store)
	peer := b.Balance("", ledger.BalanceOptions{})
	if err := peer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if got := peer.Get().String(); got != "123456789012345678901234" {
		t.Fatalf("balance %s", got)
	}
	log := b.TransferLog()
	r, err := log.Get(ctx, "v16")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != ledger.StateExecuted || !r.Incoming || r.Transfer.Amount != 1000 {
		t.Fatalf("v16 record %+v", r)
	}
	if _, err := log.GetFulfillment(ctx, "v16"); !errors.Is(err, ledger.ErrMissingFulfillment) {
		t.Fatalf("GetFulfillment of a v16 record without fulfillment: %v", err)
	}
	// The plugin sees the same prepare again: a no-op, not a duplicate.
	res, err := log.Create(ctx, ledger.Record{Transfer: r.Transfer, Incoming: true}, ledger.Credit(peer, 1000))
	if err != nil || res.Applied {
		t.Fatalf("repeating a v16 transfer: %+v, %v", res, err)
	}
	r13, err := log.Get(ctx, "v13")
	if err != nil || r13.State != ledger.StatePrepared || r13.Transfer.Amount != 25 {
		t.Fatalf("v13 record %+v, %v", r13, err)
	}
	if got := peer.Get().String(); got != "123456789012345678901234" {
		t.Fatalf("balance after a no-op: %s", got)
	}
}

func TestConnectRewritesAnInvalidBalanceAsZero(t *testing.T) {
	ctx := context.Background()
	store := kv.NewMapStore()
	if err := store.Put(ctx, "balance__x", "12abc"); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	b := kv.FromStore(store, kv.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	bal := b.Balance("x", ledger.BalanceOptions{})
	// Before Connect an invalid value is an error, never a silent zero.
	if _, err := bal.Add(ctx, 1); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("add on an invalid balance: %v", err)
	}
	if err := bal.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := store.Get(ctx, "balance__x"); v != "0" {
		t.Fatalf("stored %q, want 0", v)
	}
	if !strings.Contains(logged.String(), "12abc") {
		t.Fatalf("the rewrite was not logged: %q", logged.String())
	}
}

// faultStore passes calls to a MapStore until a given number of writes
// (Put or Del) have gone through; then it fails. In mode "crash" the
// failing write and every later one do not happen, as when the process
// dies; in mode "lost" the failing write happens but reports an error, as
// when a reply is lost, and later writes work again.
type faultStore struct {
	*kv.MapStore
	mu      sync.Mutex
	allowed int
	mode    string
	writes  int
	failed  bool
}

var errInjected = errors.New("injected store failure")

func (s *faultStore) write(do func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.writes <= s.allowed || (s.failed && s.mode == "lost") {
		return do()
	}
	s.failed = true
	if s.mode == "lost" {
		if err := do(); err != nil {
			return err
		}
	}
	return errInjected
}

func (s *faultStore) Put(ctx context.Context, k, v string) error {
	return s.write(func() error { return s.MapStore.Put(ctx, k, v) })
}

func (s *faultStore) Del(ctx context.Context, k string) error {
	return s.write(func() error { return s.MapStore.Del(ctx, k) })
}

// TestEveryWriteCanFail runs each kind of operation with its n-th write
// failing, for every n, in both modes, then reopens the store with a new
// backend (a restart) and checks that the operation happened entirely or
// not at all, and entirely whenever it reported success.
func TestEveryWriteCanFail(t *testing.T) {
	ctx := context.Background()
	opts := map[string]ledger.BalanceOptions{"payer": {}, "hold": {}, "payee": {}}
	type op struct {
		name string
		run  func(b *kv.Backend) (ledger.Result, error)
	}
	bal := func(b *kv.Backend, n string) ledger.Balance { return b.Balance(n, opts[n]) }
	ops := []op{
		{"prepare", func(b *kv.Backend) (ledger.Result, error) {
			return b.TransferLog().Create(ctx, conditional("new", 7), ledger.Debit(bal(b, "payer"), 7), ledger.Credit(bal(b, "hold"), 7))
		}},
		{"fulfill", func(b *kv.Backend) (ledger.Result, error) {
			f, _ := cond("old")
			return b.TransferLog().Fulfill(ctx, "old", f, ledger.Debit(bal(b, "hold"), 40), ledger.Credit(bal(b, "payee"), 40))
		}},
		{"cancel", func(b *kv.Backend) (ledger.Result, error) {
			return b.TransferLog().Cancel(ctx, "old", ledger.Debit(bal(b, "hold"), 40), ledger.Credit(bal(b, "payer"), 40))
		}},
		{"add", func(b *kv.Backend) (ledger.Result, error) {
			_, err := bal(b, "payee").Add(ctx, 3)
			return ledger.Result{Applied: err == nil}, err
		}},
	}
	// check returns the total of the three balances and whether the store
	// says the operation happened; it fails the test when the record and
	// the balances disagree.
	check := func(t *testing.T, b *kv.Backend) (int64, map[string]ledger.State) {
		states := map[string]ledger.State{}
		var hold int64
		for _, id := range []string{"old", "new"} {
			r, err := b.TransferLog().Get(ctx, id)
			if errors.Is(err, ledger.ErrTransferNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("get %s: %v", id, err)
			}
			states[id] = r.State
			if r.State == ledger.StatePrepared {
				hold += int64(r.Transfer.Amount)
			}
		}
		var total int64
		for _, n := range []string{"payer", "hold", "payee"} {
			v, err := bal(b, n).Load(ctx)
			if err != nil {
				t.Fatalf("load %s: %v", n, err)
			}
			if n == "hold" && v.Cmp(ledger.Int128FromInt64(hold)) != 0 {
				t.Fatalf("hold = %s, but the prepared transfers add up to %d (states %v)", v, hold, states)
			}
			total += v.Int64()
		}
		ps, err := b.TransferLog().Prepared(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for _, s := range states {
			if s == ledger.StatePrepared {
				n++
			}
		}
		if len(ps) != n {
			t.Fatalf("Prepared lists %d, the store holds %d prepared", len(ps), n)
		}
		return total, states
	}
	for _, o := range ops {
		for _, mode := range []string{"crash", "lost"} {
			for allowed := 0; ; allowed++ {
				inner := kv.NewMapStore()
				setup := kv.FromStore(inner)
				if _, err := setup.TransferLog().Create(ctx, conditional("old", 40), ledger.Debit(bal(setup, "payer"), 40), ledger.Credit(bal(setup, "hold"), 40)); err != nil {
					t.Fatal(err)
				}
				fs := &faultStore{MapStore: inner, allowed: allowed, mode: mode}
				b := kv.FromStore(fs)
				res, err := o.run(b)
				if err != nil && !errors.Is(err, errInjected) {
					t.Fatalf("%s: %v", o.name, err)
				}
				name := fmt.Sprintf("%s/%s/after %d writes", o.name, mode, allowed)
				restarted := kv.FromStore(inner)
				total, states := check(t, restarted)
				var happened bool
				switch o.name {
				case "prepare":
					happened = states["new"] == ledger.StatePrepared
				case "fulfill":
					happened = states["old"] == ledger.StateExecuted
				case "cancel":
					happened = states["old"] == ledger.StateCancelled
				case "add":
					happened = total == 3
				}
				wantTotal := int64(0)
				if o.name == "add" && happened {
					wantTotal = 3
				}
				if total != wantTotal {
					t.Fatalf("%s: the balances add up to %d, want %d", name, total, wantTotal)
				}
				if err == nil && !happened {
					t.Fatalf("%s: reported success (%+v) but did not happen", name, res)
				}
				if !fs.failed {
					if !happened {
						t.Fatalf("%s: no failure and the operation did not happen", name)
					}
					t.Logf("%s/%s: %d writes; every prefix leaves all or nothing", o.name, mode, allowed)
					break
				}
			}
		}
	}
}

// TestCommittedOperationIsCompletedByTheNextCall fails a write after the
// journal: the call succeeds, and the same backend completes the writes
// before its next call.
func TestCommittedOperationIsCompletedByTheNextCall(t *testing.T) {
	ctx := context.Background()
	inner := kv.NewMapStore()
	fs := &faultStore{MapStore: inner, allowed: 1, mode: "crash"} // the journal goes through, nothing after
	b := kv.FromStore(fs)
	hold := b.Balance("hold", ledger.BalanceOptions{})
	res, err := b.TransferLog().Create(ctx, conditional("j", 9), ledger.Credit(hold, 9))
	if err != nil || !res.Applied {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, ok := inner.Snapshot()[kv.JournalKey]; !ok {
		t.Fatal("expected the journal to be left in the store")
	}
	if _, ok := inner.Snapshot()["transfer_j"]; ok {
		t.Fatal("expected the record not to be written yet")
	}
	fs.mu.Lock()
	fs.allowed, fs.failed = 1<<30, false // the store heals
	fs.mu.Unlock()
	if v, err := hold.Load(ctx); err != nil || v.Cmp(ledger.Int128FromInt64(9)) != 0 {
		t.Fatalf("load after the store healed: %s, %v", v, err)
	}
	snap := inner.Snapshot()
	if _, ok := snap[kv.JournalKey]; ok {
		t.Fatal("the journal is still there")
	}
	if !strings.Contains(snap["transfer_j"], `"prepared"`) || snap["balance__hold"] != "9" {
		t.Fatalf("store after replay: %v", snap)
	}
}

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := kv.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, "transfer_x"); ok || err != nil {
		t.Fatalf("missing key: %v, %v", ok, err)
	}
	for _, v := range []string{"one", "", "two/with\nnewline"} {
		if err := s.Put(ctx, "transfer_x/..", v); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Get(ctx, "transfer_x/..")
		if !ok || err != nil || got != v {
			t.Fatalf("got %q, %v, %v; want %q", got, ok, err, v)
		}
	}
	reopened, err := kv.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := reopened.Get(ctx, "transfer_x/.."); !ok || got != "two/with\nnewline" {
		t.Fatalf("after reopening: %q, %v", got, ok)
	}
	if err := s.Del(ctx, "transfer_x/.."); err != nil {
		t.Fatal(err)
	}
	if err := s.Del(ctx, "transfer_x/.."); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, ok, _ := s.Get(ctx, "transfer_x/.."); ok {
		t.Fatal("deleted key still there")
	}
	if err := s.Put(ctx, strings.Repeat("k", 500), "v"); err == nil {
		t.Fatal("an over-long key was accepted")
	}
}
