package sql_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// The SQLite writer caches rows and takes a new transfer's row as missing
// without reading it (it inserts it only if it is): these tests take the
// paths where that guess or the cache is wrong.

func cacheTestRecord(id string, amount uint64) ledger.Record {
	return ledger.Record{Transfer: ledger.Transfer{ID: id, Ledger: "test.cache.", From: "test.cache.a", To: "test.cache.b",
		Amount: amount, ExecutionCondition: "cond", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}
}

func TestSQLiteReplayOfAFinishedTransfer(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, sqlitePath(t))
	be, err := db.Backend(ctx, "test.cache.")
	if err != nil {
		t.Fatal(err)
	}
	log := be.TransferLog()
	a := ledger.Change{Balance: "a", Amount: 5, Sub: true}
	if res, err := log.Create(ctx, cacheTestRecord("t1", 5), a); err != nil || !res.Applied {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := log.Fulfill(ctx, "t1", "f", ledger.Change{Balance: "b", Amount: 5}); err != nil {
		t.Fatalf("fulfill: %v", err)
	}
	// Executed, so no longer cached by the writer: the same create again
	// is taken as new first, and must come out as the no-op it is.
	res, err := log.Create(ctx, cacheTestRecord("t1", 5), a)
	if err != nil || res.Applied || res.Record.State != ledger.StateExecuted {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	if _, err := log.Create(ctx, cacheTestRecord("t1", 6), a); !errors.Is(err, ledger.ErrDuplicateID) {
		t.Fatalf("replay with another amount: %v", err)
	}
	// A refused replay (the minimum would be crossed) is still a no-op.
	strict := ledger.Change{Balance: "a", Amount: 5, Sub: true, Minimum: ledger.Limit(ledger.Int128{})}
	if res, err := log.Create(ctx, cacheTestRecord("t1", 5), strict); err != nil || res.Applied {
		t.Fatalf("refused replay: %+v, %v", res, err)
	}
	if v, err := be.Balance("a", ledger.BalanceOptions{}).Load(ctx); err != nil || v != ledger.Int128FromInt64(-5) {
		t.Fatalf("balance a %s, %v; want -5", v, err)
	}
}

func TestSQLiteWriterSeesOtherConnections(t *testing.T) {
	ctx := context.Background()
	path := sqlitePath(t)
	db1, db2 := openDB(t, path), openDB(t, path)
	be1, err := db1.Backend(ctx, "test.cache.")
	if err != nil {
		t.Fatal(err)
	}
	be2, err := db2.Backend(ctx, "test.cache.")
	if err != nil {
		t.Fatal(err)
	}
	b1, b2 := be1.Balance("a", ledger.BalanceOptions{}), be2.Balance("a", ledger.BalanceOptions{})
	for i := 1; i <= 3; i++ {
		if _, err := b1.Add(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := b2.Add(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	v, err := b1.Add(ctx, 0)
	if err != nil || v != ledger.Int128FromInt64(33) {
		t.Fatalf("balance %s, %v; want 33", v, err)
	}
	// A transfer created by the other DB is not new for this one.
	if _, err := be2.TransferLog().Create(ctx, cacheTestRecord("t2", 1)); err != nil {
		t.Fatal(err)
	}
	if res, err := be1.TransferLog().Create(ctx, cacheTestRecord("t2", 1)); err != nil || res.Applied {
		t.Fatalf("create of a transfer the other DB made: %+v, %v", res, err)
	}
}
