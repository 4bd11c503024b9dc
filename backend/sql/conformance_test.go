package sql_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/ledgertest"
	"github.com/jackc/pgx/v5"
)

// harnessPrefix is the plugin whose table the conformance suite uses.
const harnessPrefix = "peer.Kx4wC.usd.9."

// sqliteHarness runs the suite on a SQLite file per test.
func sqliteHarness(opts ...sqlbackend.Option) ledgertest.Harness {
	return ledgertest.Harness{
		Name:       "sqlite",
		NewStore:   func(tb testing.TB) string { return sqlitePath(tb) },
		Open:       openHarness(opts...),
		SetBalance: setBalance,
	}
}

// postgresHarness runs the suite on a PostgreSQL database per test.
func postgresHarness(opts ...sqlbackend.Option) ledgertest.Harness {
	return ledgertest.Harness{
		Name:       "postgres",
		NewStore:   func(tb testing.TB) string { return pgtest.DSN(tb) },
		Open:       openHarness(opts...),
		SetBalance: setBalance,
	}
}

func harnesses() []ledgertest.Harness {
	return []ledgertest.Harness{sqliteHarness(), postgresHarness()}
}

func openHarness(opts ...sqlbackend.Option) func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
	return func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
		db, err := sqlbackend.Open(ctx, loc, opts...)
		if err != nil {
			return nil, nil, err
		}
		b, err := db.Backend(ctx, harnessPrefix)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return b, db.Close, nil
	}
}

// setBalance writes a balance row directly, as an imported 2.x database
// might hold it: it opens the store once to create the table, then upserts
// the row with the dialect's own driver.
func setBalance(ctx context.Context, loc, name string, v ledger.Int128) error {
	db, err := sqlbackend.Open(ctx, loc)
	if err != nil {
		return err
	}
	_, err = db.Backend(ctx, harnessPrefix)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	tbl, err := sqlbackend.TableName(harnessPrefix)
	if err != nil {
		return err
	}
	q := `INSERT INTO "` + tbl + `" ("key", "value", "createdAt", "updatedAt") VALUES ($1, $2, $3, $3)
		ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"`
	key, val, now := ledger.BalanceKey(name), v.String(), time.Now().UTC()
	if strings.HasPrefix(loc, "postgres") {
		conn, err := pgx.Connect(ctx, loc)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, q, key, val, now)
		return err
	}
	raw, err := stdsql.Open("sqlite", loc)
	if err != nil {
		return err
	}
	defer raw.Close()
	_, err = raw.ExecContext(ctx, dollar.ReplaceAllString(q, "?$1"), key, val, now.Format("2006-01-02 15:04:05.000 -07:00"))
	if err != nil {
		return fmt.Errorf("set balance %s: %w", name, err)
	}
	return nil
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { ledgertest.Run(t, sqliteHarness()) })
	t.Run("sqlite-nogroup", func(t *testing.T) { ledgertest.Run(t, sqliteHarness(sqlbackend.WithGroupCommit(1))) })
	t.Run("postgres", func(t *testing.T) {
		pgtest.Server(t) // skip (or fail with CI=true) before the suite starts
		ledgertest.Run(t, postgresHarness())
	})
}

// benchPGSync is the synchronous_commit the PostgreSQL benchmarks use
// (ILPKIT_BENCH_SYNC_COMMIT, default on), named in their results.
func benchPGSync() string {
	if s := os.Getenv("ILPKIT_BENCH_SYNC_COMMIT"); s != "" {
		return s
	}
	return "on"
}

// benchHarnesses are the backends the suite's benchmarks run on, named with
// their durability mode. The PostgreSQL pool has 32 connections, one per
// goroutine at the highest concurrency.
func benchHarnesses(b *testing.B) []struct {
	name string
	h    ledgertest.Harness
} {
	pg := postgresHarness(sqlbackend.WithMaxConns(32))
	sync := benchPGSync()
	newStore := pg.NewStore
	pg.NewStore = func(tb testing.TB) string { return newStore(tb) + "&synchronous_commit=" + sync }
	return []struct {
		name string
		h    ledgertest.Harness
	}{
		{"sqlite-wal-sync=normal", sqliteHarness()},
		{"sqlite-wal-sync=normal-nogroup", sqliteHarness(sqlbackend.WithGroupCommit(1))},
		{"postgres-sync_commit=" + sync + "-fsync=" + serverSetting(b, "fsync"), pg},
	}
}

func BenchmarkBalanceAdd(b *testing.B) {
	for _, bh := range benchHarnesses(b) {
		b.Run(bh.name, func(b *testing.B) { ledgertest.BenchmarkBalanceAdd(b, bh.h) })
	}
}

func BenchmarkPrepareFulfill(b *testing.B) {
	for _, bh := range benchHarnesses(b) {
		b.Run(bh.name, func(b *testing.B) { ledgertest.BenchmarkPrepareFulfill(b, bh.h) })
	}
}
