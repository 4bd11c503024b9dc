package trustline_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestTotalsWhileOthersPay: two servers on one PostgreSQL database, as two
// processes of a kit, both making payments; the totals one of them reads
// add up exactly every time (one snapshot of the database), not only once
// the payments stop.
func TestTotalsWhileOthersPay(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open := func() *trustline.Server {
		db, err := sqlbackend.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		be, err := db.Backend(ctx, testPrefix)
		if err != nil {
			t.Fatal(err)
		}
		s, err := trustline.New(trustline.Config{Prefix: testPrefix, CurrencyCode: "USD", CurrencyScale: 2, Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"alice", "bob"} {
			if err := s.CreateAccount(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	s1, s2 := open(), open()
	view := func(s *trustline.Server, name string) ledger.Plugin {
		p, err := s.Plugin(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issuer := view(s1, s1.Issuer())
	for _, u := range []string{"alice", "bob"} {
		if err := issuer.SendTransfer(ctx, ledger.Transfer{ID: nextID(), To: testPrefix + u, Amount: 1_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	var paid atomic.Int64
	pay := func(s *trustline.Server, from, to string, who int) {
		defer wg.Done()
		src, dst := view(s, from), view(s, to)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			f := ilp.Fulfillment{byte(i), byte(i >> 8), 7}
			tr := ledger.Transfer{ID: fmt.Sprintf("tot-%d-%d", who, i), To: testPrefix + to, Amount: 3, ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(10 * time.Second)}
			if err := src.SendTransfer(ctx, tr); err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				_ = dst.RejectIncomingTransfer(ctx, tr.ID, ledger.NewRejection("F99", testPrefix+to, "no", time.Now()))
			} else if err := dst.FulfillCondition(ctx, tr.ID, f); err != nil {
				t.Error(err)
				return
			}
			paid.Add(1)
		}
	}
	for w := range 2 {
		wg.Add(2)
		go pay(s1, "alice", "bob", 2*w)
		go pay(s2, "bob", "alice", 2*w+1)
	}
	for i := 0; i < 40; i++ {
		tot, err := s1.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tot.Check(); err != nil || tot.Sum().Sign() != 0 {
			t.Fatalf("read %d, with %d payments made: %v (sum %s)", i, paid.Load(), err, tot.Sum())
		}
		time.Sleep(10 * time.Millisecond)
	}
	halt()
	if paid.Load() == 0 {
		t.Fatal("no payment was made while the totals were read")
	}
	t.Logf("%d payments during 40 reads", paid.Load())
}
