package sql_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
)

const prefix = "peer.Kx4wC.usd.9."
const table = "plugin_store_peer.Kx4wC.usd.9.s"

// fixedClock is an injected clock that tests move by hand.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func backendOf(t testing.TB, db *sqlbackend.DB, p string) ledger.Backend {
	t.Helper()
	b, err := db.Backend(context.Background(), p)
	if err != nil {
		t.Fatalf("backend %q: %v", p, err)
	}
	return b
}

func mustInt(t testing.TB, s string) ledger.Int128 {
	t.Helper()
	v, err := ledger.ParseInt128(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTableName(t *testing.T) {
	good := map[string]string{
		"peer.Kx4wC.usd.9.": "plugin_store_peer.Kx4wC.usd.9.s",
		"g.a-b_c~d.":        "plugin_store_g.a-b_c~d.s",
	}
	for p, want := range good {
		got, err := sqlbackend.TableName(p)
		if err != nil || got != want {
			t.Errorf("TableName(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
	bad := []string{"", `x"; DROP TABLE users; --`, "a b", "a'b", "x\x00", "é.", strings.Repeat("a", 50)}
	for _, p := range bad {
		if got, err := sqlbackend.TableName(p); !errors.Is(err, sqlbackend.ErrPrefix) {
			t.Errorf("TableName(%q) = %q, %v; want ErrPrefix", p, got, err)
		}
	}
}

func TestOpenDSNForms(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, dsn := range []string{
		"sqlite://" + filepath.Join(dir, "a.db"),
		"sqlite:" + filepath.Join(dir, "b.db"),
		filepath.Join(dir, "c.db"),
		filepath.Join(dir, "odd ?#%name.db"),
	} {
		db, err := sqlbackend.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open %q: %v", dsn, err)
		}
		if db.Dialect() != sqlbackend.SQLite {
			t.Errorf("%q: dialect %s", dsn, db.Dialect())
		}
		b := backendOf(t, db, prefix)
		if _, err := b.Balance("", ledger.BalanceOptions{}).Add(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Each file holds the value: reopen it by its plain path.
	for _, name := range []string{"a.db", "b.db", "c.db", "odd ?#%name.db"} {
		db := openDB(t, filepath.Join(dir, name))
		v, err := backendOf(t, db, prefix).Balance("", ledger.BalanceOptions{}).Load(ctx)
		if err != nil || v.String() != "5" {
			t.Errorf("%s: balance %v %v", name, v, err)
		}
	}
	for _, dsn := range []string{"", ":memory:", "sqlite::memory:", "file:x.db"} {
		if db, err := sqlbackend.Open(ctx, dsn); err == nil {
			db.Close()
			t.Errorf("open %q succeeded", dsn)
		}
	}
}

// TestLayout checks the rows the backend writes: the 2.x table and keys,
// decimal strings, the transfer JSON, and timestamps from the injected
// clock (createdAt kept on update).
func TestLayout(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			clock := &fixedClock{t: time.Date(2017, 6, 1, 12, 0, 0, 0, time.UTC)}
			db := openDB(t, dsn, sqlbackend.WithClock(clock.now))
			ctx := context.Background()
			b := backendOf(t, db, prefix)
			bal := b.Balance("", ledger.BalanceOptions{})
			if err := bal.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			clock.set(clock.now().Add(time.Hour))
			if v, err := bal.Sub(ctx, 7); err != nil || v.String() != "-7" {
				t.Fatalf("sub: %v %v", v, err)
			}
			rec := ledger.Record{Transfer: ledger.Transfer{ID: "5f3a", Ledger: prefix, From: prefix + "me", To: prefix + "you", Amount: 3,
				ExecutionCondition: "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", ExpiresAt: time.Date(2017, 6, 1, 13, 0, 0, 0, time.UTC)}}
			if _, err := b.TransferLog().Create(ctx, rec, ledger.Credit(bal, 3)); err != nil {
				t.Fatal(err)
			}

			raw := openRaw(t, dsn)
			if got := raw.keys(table); fmt.Sprint(got) != "[balance__ transfer_5f3a]" {
				t.Fatalf("keys %v", got)
			}
			r, _ := raw.get(table, "balance__")
			if *r.value != "-4" {
				t.Errorf("balance value %q", *r.value)
			}
			if !r.createdAt.Equal(time.Date(2017, 6, 1, 12, 0, 0, 0, time.UTC)) || !r.updatedAt.Equal(time.Date(2017, 6, 1, 13, 0, 0, 0, time.UTC)) {
				t.Errorf("balance timestamps %v %v", r.createdAt, r.updatedAt)
			}
			r, _ = raw.get(table, "transfer_5f3a")
			want := `{"transfer":{"id":"5f3a","ledger":"peer.Kx4wC.usd.9.","from":"peer.Kx4wC.usd.9.me","to":"peer.Kx4wC.usd.9.you","amount":"3","executionCondition":"47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU","expiresAt":"2017-06-01T13:00:00.000Z"},"state":"prepared","isIncoming":false,"fulfillment":null,"written":true}`
			if *r.value != want {
				t.Errorf("transfer value\n got %s\nwant %s", *r.value, want)
			}
			if ps, err := db.Prefixes(ctx); err != nil || fmt.Sprint(ps) != "["+prefix+"]" {
				t.Errorf("prefixes %v %v", ps, err)
			}
		})
	}
}

// setRaw stores a balance value directly.
func setRaw(t *testing.T, raw *rawDB, key string, value any) {
	now := raw.timeArg(time.Now())
	raw.exec(`INSERT INTO "`+table+`" ("key", "value", "createdAt", "updatedAt") VALUES ($1, $2, $3, $3)
		ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`, key, value, now)
}

// TestWideBalances checks balances beyond 64 bits in both dialects: the
// arithmetic, the stored text, the limits and overflow at ±2^127.
func TestWideBalances(t *testing.T) {
	two100 := new(big.Int).Lsh(big.NewInt(1), 100)
	max127 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	min127 := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127))
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			db := openDB(t, dsn)
			ctx := context.Background()
			b := backendOf(t, db, prefix)
			raw := openRaw(t, dsn)
			setRaw(t, raw, "balance__wide", two100.String())
			setRaw(t, raw, "balance__top", new(big.Int).Sub(max127, big.NewInt(10)).String())
			setRaw(t, raw, "balance__bottom", new(big.Int).Add(min127, big.NewInt(10)).String())

			wide := b.Balance("wide", ledger.BalanceOptions{})
			v, err := wide.Add(ctx, ^uint64(0))
			want := new(big.Int).Add(two100, new(big.Int).SetUint64(^uint64(0)))
			if err != nil || v.String() != want.String() {
				t.Fatalf("add: %v %v, want %s", v, err, want)
			}
			if r, _ := raw.get(table, "balance__wide"); *r.value != want.String() {
				t.Fatalf("stored %s, want %s", *r.value, want)
			}

			top := b.Balance("top", ledger.BalanceOptions{})
			if _, err := top.Add(ctx, 11); !errors.Is(err, ledger.ErrOverflow) {
				t.Fatalf("add past 2^127-1: %v", err)
			}
			if v, err := top.Add(ctx, 10); err != nil || v.String() != max127.String() {
				t.Fatalf("add up to 2^127-1: %v %v", v, err)
			}
			bottom := b.Balance("bottom", ledger.BalanceOptions{})
			if _, err := bottom.Sub(ctx, 11); !errors.Is(err, ledger.ErrOverflow) {
				t.Fatalf("sub past -2^127: %v", err)
			}
			if v, err := bottom.Sub(ctx, 10); err != nil || v.String() != min127.String() {
				t.Fatalf("sub down to -2^127: %v %v", v, err)
			}
			if v, err := bottom.Load(ctx); err != nil || v.String() != min127.String() {
				t.Fatalf("load: %v %v", v, err)
			}
			if r, _ := raw.get(table, "balance__bottom"); *r.value != min127.String() {
				t.Fatalf("stored %s, want %s", *r.value, min127)
			}

			// A limit above 2^64 holds in the database too.
			limit := new(big.Int).Add(two100, new(big.Int).SetUint64(1<<63))
			lv, _ := ledger.Int128FromBig(limit)
			capped := b.Balance("wide", ledger.BalanceOptions{Maximum: ledger.Limit(lv)})
			var le *ledger.LimitError
			if _, err := capped.Add(ctx, 1<<63); !errors.As(err, &le) || !errors.Is(err, ledger.ErrMaximumExceeded) {
				t.Fatalf("add past a wide limit: %v", err)
			}
			if r, _ := raw.get(table, "balance__wide"); *r.value != want.String() {
				t.Fatalf("refused change was stored: %s", *r.value)
			}
		})
	}
}

// TestConnectRepairs: a missing, NULL or non-integer balance is stored as
// "0" by Connect, as 2.x did; Add on a corrupt value fails and changes
// nothing.
func TestConnectRepairs(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			db := openDB(t, dsn)
			ctx := context.Background()
			b := backendOf(t, db, prefix)
			raw := openRaw(t, dsn)
			setRaw(t, raw, "balance__junk", "12abc")
			setRaw(t, raw, "balance__frac", "1.5")
			setRaw(t, raw, "balance__null", nil)
			for _, name := range []string{"junk", "frac", "null"} {
				bal := b.Balance(name, ledger.BalanceOptions{})
				if _, err := bal.Add(ctx, 1); !errors.Is(err, sqlbackend.ErrCorrupt) {
					t.Errorf("%s: add on a corrupt value: %v", name, err)
				}
			}
			if r, _ := raw.get(table, "balance__frac"); *r.value != "1.5" {
				t.Errorf("refused add changed the value to %s", *r.value)
			}
			for _, name := range []string{"junk", "frac", "null", "missing"} {
				bal := b.Balance(name, ledger.BalanceOptions{})
				if err := bal.Connect(ctx); err != nil {
					t.Fatalf("%s: connect: %v", name, err)
				}
				if r, ok := raw.get(table, "balance__"+name); !ok || r.value == nil || *r.value != "0" {
					t.Errorf("%s: after connect: %+v %v", name, r, ok)
				}
				if v, err := bal.Add(ctx, 2); err != nil || v.String() != "2" {
					t.Errorf("%s: add after connect: %v %v", name, v, err)
				}
			}
			// Connect keeps a valid value.
			bal := b.Balance("junk", ledger.BalanceOptions{})
			if err := bal.Connect(ctx); err != nil || bal.Get().String() != "2" {
				t.Errorf("connect of a valid value: %v %v", bal.Get(), err)
			}
		})
	}
}

// TestRefusedTransitionWritesNothing: a transfer whose second balance change
// is refused leaves no transfer row and the first balance untouched; the
// same holds for a fulfill.
func TestRefusedTransitionWritesNothing(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			db := openDB(t, dsn)
			ctx := context.Background()
			b := backendOf(t, db, prefix)
			log := b.TransferLog()
			a := b.Balance("a", ledger.BalanceOptions{})
			z := b.Balance("z", ledger.BalanceOptions{Maximum: ledger.Limit(ledger.Int128FromInt64(10))})
			rec := ledger.Record{Transfer: ledger.Transfer{ID: "t1", Amount: 11, ExecutionCondition: "c"}}
			// z sorts after a: PostgreSQL changes a first, then z refuses.
			if _, err := log.Create(ctx, rec, ledger.Debit(a, 11), ledger.Credit(z, 11)); !errors.Is(err, ledger.ErrMaximumExceeded) {
				t.Fatalf("create: %v", err)
			}
			raw := openRaw(t, dsn)
			if keys := raw.keys(table); len(keys) != 0 {
				// The missing rows that PostgreSQL creates as "0" before it
				// retries are rolled back with the rest.
				t.Fatalf("refused create left rows %v", keys)
			}
			rec.Transfer.Amount = 5
			if _, err := log.Create(ctx, rec, ledger.Debit(a, 5)); err != nil {
				t.Fatal(err)
			}
			if _, err := log.Fulfill(ctx, "t1", "f", ledger.Credit(a, 1), ledger.Credit(z, 11)); !errors.Is(err, ledger.ErrMaximumExceeded) {
				t.Fatalf("fulfill: %v", err)
			}
			got, err := log.Get(ctx, "t1")
			if err != nil || got.State != ledger.StatePrepared {
				t.Fatalf("after refused fulfill: %+v %v", got, err)
			}
			if v, err := a.Load(ctx); err != nil || v.String() != "-5" {
				t.Fatalf("a after refused fulfill: %v %v", v, err)
			}
		})
	}
}

// TestConcurrentRefusalsInOneGroup: many goroutines credit one limited
// balance at once (SQLite commits them in groups): the refused ones do not
// disturb the others, the limit holds, and the final value is the sum of the
// accepted changes.
func TestConcurrentRefusalsInOneGroup(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := openDB(t, d.dsn(t))
			ctx := context.Background()
			b := backendOf(t, db, prefix)
			bal := b.Balance("", ledger.BalanceOptions{Maximum: ledger.Limit(ledger.Int128FromInt64(1000))})
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 32; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 20; i++ {
						v, err := bal.Add(ctx, 3)
						switch {
						case err == nil:
							if v.Cmp(ledger.Int128FromInt64(1000)) > 0 {
								t.Errorf("balance %v above the limit", v)
							}
							ok.Add(1)
						case errors.Is(err, ledger.ErrMaximumExceeded):
							refused.Add(1)
						default:
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 333 || refused.Load() != 640-333 {
				t.Fatalf("accepted %d, refused %d", ok.Load(), refused.Load())
			}
			if v, err := bal.Load(ctx); err != nil || v.String() != "999" {
				t.Fatalf("final %v %v", v, err)
			}
		})
	}
}

// TestCancelledContext: an operation given a finished context does nothing.
func TestCancelledContext(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			db := openDB(t, dsn)
			b := backendOf(t, db, prefix)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			for i := 0; i < 50; i++ {
				if _, err := b.Balance("", ledger.BalanceOptions{}).Add(ctx, 1); !errors.Is(err, context.Canceled) {
					t.Fatalf("add: %v", err)
				}
			}
			if _, err := b.TransferLog().Create(ctx, ledger.Record{Transfer: ledger.Transfer{ID: "x", Amount: 1}}); !errors.Is(err, context.Canceled) {
				t.Fatalf("create: %v", err)
			}
			if keys := openRaw(t, dsn).keys(table); len(keys) != 0 {
				t.Fatalf("rows written: %v", keys)
			}
		})
	}
}

// TestClosed: a closed DB refuses work.
func TestClosed(t *testing.T) {
	ctx := context.Background()
	db, err := sqlbackend.Open(ctx, sqlitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	b := backendOf(t, db, prefix)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Balance("", ledger.BalanceOptions{}).Add(ctx, 1); !errors.Is(err, sqlbackend.ErrClosed) {
		t.Fatalf("add after close: %v", err)
	}
	if _, err := db.Backend(ctx, prefix); !errors.Is(err, sqlbackend.ErrClosed) {
		t.Fatalf("backend after close: %v", err)
	}
}

// TestBackends: one backend per prefix for the life of the DB (so one
// transfer cache), one table per prefix, and Prefixes lists them sorted.
func TestBackends(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := openDB(t, d.dsn(t))
			ctx := context.Background()
			a1, a2 := backendOf(t, db, "peer.b.usd.2."), backendOf(t, db, "peer.b.usd.2.")
			if a1 != a2 {
				t.Fatal("two backends for one prefix")
			}
			other := backendOf(t, db, "peer.a.eur.9.")
			if _, err := a1.Balance("", ledger.BalanceOptions{}).Add(ctx, 4); err != nil {
				t.Fatal(err)
			}
			if v, err := other.Balance("", ledger.BalanceOptions{}).Load(ctx); err != nil || v.Sign() != 0 {
				t.Fatalf("the other plugin's balance is %v, %v", v, err)
			}
			if _, err := a1.TransferLog().Create(ctx, ledger.Record{Transfer: ledger.Transfer{ID: "u1", Amount: 1}}); err != nil {
				t.Fatal(err)
			}
			if _, ok := a2.TransferLog().GetCached("u1"); !ok {
				t.Fatal("the cache is not shared by the backends of one prefix")
			}
			if ps, err := db.Prefixes(ctx); err != nil || fmt.Sprint(ps) != "[peer.a.eur.9. peer.b.usd.2.]" {
				t.Fatalf("prefixes %v %v", ps, err)
			}
		})
	}
}
