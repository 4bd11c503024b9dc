package main

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
)

// TestMain gives the PostgreSQL test a server: the one ILPKIT_TEST_POSTGRES
// names, or a throwaway cluster for this test binary (see pgtest.Run).
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestTwoProcessesPostgres is TestTwoProcesses with each connector's plugins
// in a PostgreSQL database of its own (DB_URI), as two kits each with their
// database: quotes in the three forms, a fulfilled payment, a rejection and
// an expiry between two ilp-connector processes. Once the processes have
// stopped, each database holds the plugins' tables in the 2.x layout, with
// the balances the connectors reported. It skips without PostgreSQL, and
// fails instead with CI=true.
func TestTwoProcessesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn1, dsn2 := pgtest.DSN(t), pgtest.DSN(t)
	bin := buildBinary(t)
	a1, a2 := freeAddr(t), freeAddr(t)
	u1, u2 := "http://"+a1, "http://"+a2
	env1, env2, peer := pairEnv(t, u1, u2)
	env1["DB_URI"], env2["DB_URI"] = dsn1, dsn2
	// Each process is stopped by its own sub-test's cleanup, before the
	// databases are read back.
	var after1, after2 map[string]map[string]string
	t.Run("processes", func(t *testing.T) {
		startProcess(t, bin, env1, portOf(t, a1))
		startProcess(t, bin, env2, portOf(t, a2))
		c1, c2 := newClient(u1), newClient(u2)
		after1 = scenario(t, c1, c2, peer)
		after2 = c2.balances(t)
	})
	if t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, db := range []struct {
		dsn    string
		local  string
		report map[string]map[string]string
	}{{dsn1, aliceLedger, after1}, {dsn2, bobLedger, after2}} {
		d, err := sqlbackend.Open(ctx, db.dsn)
		if err != nil {
			t.Fatal(err)
		}
		prefixes, err := d.Prefixes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(prefixes, peer) || !slices.Contains(prefixes, db.local) {
			t.Errorf("tables of %v in the database, want %s and %s among them", prefixes, peer, db.local)
		}
		for _, prefix := range []string{peer, db.local} {
			b, err := d.Backend(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			v, err := b.Balance("", ledger.BalanceOptions{}).Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := db.report[prefix]["connector"]; v.String() != want {
				t.Errorf("%s: stored balance %s, the connector reported %s", prefix, v, want)
			}
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}
}
