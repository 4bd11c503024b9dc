package sql_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger/ledgertest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if runWorker() {
		return
	}
	if ledgertest.RunWorker(harnesses()...) {
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

// sqlitePath returns a fresh database file path in the test's directory.
func sqlitePath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "ilpkit.db")
}

// openDB opens dsn and closes it when the test ends.
func openDB(tb testing.TB, dsn string, opts ...sqlbackend.Option) *sqlbackend.DB {
	tb.Helper()
	db, err := sqlbackend.Open(context.Background(), dsn, opts...)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

// dialects gives each test a fresh database of each kind: a SQLite file and
// a PostgreSQL database.
var dialects = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", func(tb testing.TB) string { return sqlitePath(tb) }},
	{"postgres", func(tb testing.TB) string { return pgtest.DSN(tb) }},
}

// serverSetting reads a setting of the PostgreSQL test server for a
// benchmark's name: "none" when there is no server, "unreachable" when it
// cannot be reached (the PostgreSQL benchmarks then fail or skip on their
// own; the others still run).
func serverSetting(tb testing.TB, name string) string {
	dsn := os.Getenv(pgtest.EnvDSN)
	if dsn == "" {
		return "none"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "unreachable"
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		return "unreachable"
	}
	return v
}
