package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
)

// benchHot is the number of hot balances the add/sub benchmarks share; the
// pgbench comparison (scripts/bench-pg) uses the same number of rows.
const benchHot = 4

// benchLimit keeps the benchmark balances inside their limits.
var benchLimit = ledger.Int128FromInt64(1 << 50)

// benchTargets opens each backend the benchmarks run against, named with its
// durability mode.
func benchTargets(b *testing.B, conc int) []struct {
	name string
	open func(b *testing.B) *sqlbackend.DB
} {
	pgSync := benchPGSync()
	return []struct {
		name string
		open func(b *testing.B) *sqlbackend.DB
	}{
		{"sqlite-wal-sync=normal", func(b *testing.B) *sqlbackend.DB {
			return openDB(b, sqlitePath(b))
		}},
		{"sqlite-wal-sync=normal-nogroup", func(b *testing.B) *sqlbackend.DB {
			return openDB(b, sqlitePath(b), sqlbackend.WithGroupCommit(1))
		}},
		{"postgres-sync_commit=" + pgSync + "-fsync=" + serverSetting(b, "fsync"), func(b *testing.B) *sqlbackend.DB {
			dsn := pgtest.DSN(b) + "&synchronous_commit=" + pgSync
			return openDB(b, dsn, sqlbackend.WithMaxConns(max(conc, 4)))
		}},
	}
}

func runParallel(b *testing.B, conc int, op func(ctx context.Context, r *rand.Rand, i int64) error) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := op(ctx, r, i); err != nil {
					errs <- err
					return
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

// BenchmarkHotBalances: random Add or Sub of 1..100 on benchHot balances
// that stay inside their limits, at concurrency 1 and 32. This is what
// scripts/bench-pg compares with pgbench running the backend's own
// conditional UPDATE on the same number of rows.
func BenchmarkHotBalances(b *testing.B) {
	for _, conc := range []int{1, 32} {
		for _, tg := range benchTargets(b, conc) {
			b.Run(fmt.Sprintf("%s/c=%d", tg.name, conc), func(b *testing.B) {
				db := tg.open(b)
				be, err := db.Backend(context.Background(), "bench.")
				if err != nil {
					b.Fatal(err)
				}
				bals := make([]ledger.Balance, benchHot)
				for i := range bals {
					bals[i] = be.Balance("hot"+strconv.Itoa(i), ledger.BalanceOptions{Minimum: ledger.Limit(mustNeg(benchLimit)), Maximum: ledger.Limit(benchLimit)})
					if err := bals[i].Connect(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				runParallel(b, conc, func(ctx context.Context, r *rand.Rand, _ int64) error {
					bal := bals[r.IntN(benchHot)]
					n := uint64(1 + r.IntN(100))
					var err error
					if r.IntN(2) == 0 {
						_, err = bal.Add(ctx, n)
					} else {
						_, err = bal.Sub(ctx, n)
					}
					return err
				})
			})
		}
	}
}

func mustNeg(v ledger.Int128) ledger.Int128 {
	n, err := v.Neg()
	if err != nil {
		panic(err)
	}
	return n
}
