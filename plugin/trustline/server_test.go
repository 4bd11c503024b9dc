package trustline_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/backend/memory"
	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

const testPrefix = "test1.kit."

// memoryBackend returns a fresh memory backend.
func memoryBackend(testing.TB) ledger.Backend { return memory.New() }

// sqliteBackend returns a backend on a fresh SQLite file, closed when the
// test ends.
func sqliteBackend(tb testing.TB) ledger.Backend {
	tb.Helper()
	return sqliteBackendAt(tb, filepath.Join(tb.TempDir(), "ilpkit.db"))
}

// sqliteBackendAt opens the SQLite file at path; it is closed when the
// test ends.
func sqliteBackendAt(tb testing.TB, path string) ledger.Backend {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlbackend.Open(ctx, path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	b, err := db.Backend(ctx, testPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newServer returns a connected server on backend with the given clock,
// closed (and checked to add up to zero) when the test ends.
func newServer(tb testing.TB, backend ledger.Backend, clock ledger.Clock, mod func(*trustline.Config)) *trustline.Server {
	tb.Helper()
	cfg := trustline.Config{Prefix: testPrefix, CurrencyCode: "USD", CurrencyScale: 2, Backend: backend, Clock: clock}
	if mod != nil {
		mod(&cfg)
	}
	s, err := trustline.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		checkTotals(tb, s)
		if err := s.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// checkTotals fails the test unless the server's balances and held amounts
// add up to zero.
func checkTotals(tb testing.TB, s *trustline.Server) {
	tb.Helper()
	tot, err := s.Totals(context.Background())
	if err != nil {
		tb.Fatalf("Totals: %v", err)
	}
	if err := tot.Check(); err != nil {
		tb.Fatal(err)
	}
	if tot.Sum().Sign() != 0 || tot.String() != "0" {
		tb.Fatalf("Totals: sum %s", tot)
	}
}

// harness runs the plugin conformance suite against two views of one
// server: alice (the sender) and bob (the receiver).
func harness(name string, backend func(testing.TB) ledger.Backend) plugintest.Harness {
	return plugintest.Harness{
		Name: name,
		New: func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
			s := newServer(tb, backend(tb), cfg.Clock, nil)
			// The suite's limit is the most either end may owe the other:
			// each user's minimum is minus it, each user's maximum it.
			l := trustline.Limits{}
			if v, ok := cfg.Limit.Value(); ok {
				neg, err := v.Neg()
				if err != nil {
					tb.Fatal(err)
				}
				l = trustline.Limits{Minimum: ledger.Limit(neg), Maximum: cfg.Limit}
			}
			ctx := context.Background()
			for _, n := range []string{"alice", "bob"} {
				if err := s.CreateAccount(ctx, n, &l); err != nil {
					tb.Fatal(err)
				}
			}
			a, err := s.Plugin("alice")
			if err != nil {
				tb.Fatal(err)
			}
			b, err := s.Plugin("bob")
			if err != nil {
				tb.Fatal(err)
			}
			return a, b
		},
		SenderHoldsAtPrepare:     true,
		ReceiverCreditsAtPrepare: false,
	}
}

func TestConformanceMemory(t *testing.T) {
	plugintest.Run(t, harness("trustline server (memory)", memoryBackend))
}

func TestConformanceSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("SQLite conformance is not short")
	}
	plugintest.Run(t, harness("trustline server (sqlite)", sqliteBackend))
}
