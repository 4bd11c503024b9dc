// Package ledgertest owns the conformance suite that every ledger.Backend
// passes: one set of tests, run by each backend's own test package against
// that backend, so the memory, key-value and SQL backends keep exactly the
// same money semantics.
//
// # What it checks
//
// Run covers: limits (maximum, minimum, unlimited, lowered limits), overflow
// at ±2^127, amounts up to 2^64-1, Get reflecting the process's own changes,
// idempotent Create (same id, same body: no-op; different body:
// ErrDuplicateID), resolve-at-most-once (fulfill/cancel in every order),
// unknown ids, the fulfillment and cache calls, Prepared, the atomic
// state-and-balance operation (a refused change writes neither the state nor
// any balance), concurrency from many goroutines (a limited balance never
// leaves its limits and loses no update; racing resolutions: exactly one
// wins), restart (close, reopen, same state), two backends open on one store
// at once (several processes), and a worker process killed with SIGKILL in
// the middle of operations (after reopening, every transfer's state agrees
// with the balances and no acknowledged change is lost).
//
// # Usage
//
// A backend's test package describes how to open its backend with a
// Harness, runs the suite from a test, and lets the suite re-execute the
// test binary as a crash worker from TestMain:
//
//	func harness() ledgertest.Harness {
//		return ledgertest.Harness{
//			Name:     "sqlite",
//			NewStore: func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "ilpkit.db") },
//			Open: func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
//				db, err := sql.Open(ctx, loc)
//				if err != nil {
//					return nil, nil, err
//				}
//				return db.Backend("peer.x.usd.9."), db.Close, nil
//			},
//			SetBalance: func(ctx context.Context, loc, name string, v ledger.Int128) error { ... },
//		}
//	}
//
//	func TestMain(m *testing.M) { ledgertest.Main(m, harness()) }
//
//	func TestConformance(t *testing.T) { ledgertest.Run(t, harness()) }
//
//	func BenchmarkBalanceAdd(b *testing.B)     { ledgertest.BenchmarkBalanceAdd(b, harness()) }
//	func BenchmarkPrepareFulfill(b *testing.B) { ledgertest.BenchmarkPrepareFulfill(b, harness()) }
//
// A TestMain that must do more (start a database server) calls
// RunWorker(harnesses...) first and returns when it reports true. With
// several harnesses in one package (SQLite and PostgreSQL), pass all of them
// to Main or RunWorker; the child finds its own by Name.
//
// # The crash test
//
// The parent creates a store (NewStore), then starts the test binary again
// (os.Args[0] -test.run=^$) with the environment variables EnvWorker (the
// harness name), EnvLocation (the store location) and EnvSeed. In the child,
// Main or RunWorker opens the store with Open and runs several goroutines
// doing random operations (prepare with a hold, fulfill, cancel, direct
// transfers, add and sub on a limited balance) and writes each operation to
// stdout before it starts and after it returns. The parent kills the child
// with SIGKILL after a random number of lines, reopens the store in its own
// process and checks it: every acknowledged operation is there, an
// operation in flight is there entirely or not at all, and the balances
// equal the sums the transfers' states imply. It does this for several
// rounds on the same store. Open must therefore work in a fresh process
// given only the location string; a backend whose store lives in process
// memory sets NoCrash to the reason the test does not apply.
//
// # Randomness
//
// Every random choice comes from a seed derived from the test's name, so a
// run is repeatable; setting EnvSeed in the environment changes the seeds.
// Each test logs its seed. (Where a SIGKILL lands is up to the scheduler.)
package ledgertest

import (
	"context"
	"testing"

	"github.com/ilpkit/ilpkit/ledger"
)

// Environment variables of the crash worker protocol.
const (
	// EnvWorker names the harness a child process works for; when set, Main
	// and RunWorker run the worker instead of the tests.
	EnvWorker = "ILPKIT_LEDGERTEST_WORKER"
	// EnvLocation is the store location given to Harness.Open in the child.
	EnvLocation = "ILPKIT_LEDGERTEST_LOCATION"
	// EnvSeed is the seed of the child's random operations; in a parent it
	// overrides the base seed of every test.
	EnvSeed = "ILPKIT_LEDGERTEST_SEED"
	// EnvRound numbers the child's round, so each round uses fresh ids.
	EnvRound = "ILPKIT_LEDGERTEST_ROUND"
)

// Harness tells the suite how to create, open and reopen one kind of
// backend.
type Harness struct {
	// Name names the backend in messages and in the crash worker protocol.
	Name string

	// NewStore creates an empty store for one test and returns its
	// location: a string that Open understands, such as a file path, a DSN,
	// or a key into state the harness keeps. Clean-up goes through
	// tb.Cleanup.
	NewStore func(tb testing.TB) string

	// Open opens a backend over the store at loc, with close to release
	// it. After close returns, Open on the same loc must find every change
	// that a call returned successfully for (the restart test). Unless
	// NoCrash is set, Open must also work in a child process given only loc.
	Open func(ctx context.Context, loc string) (b ledger.Backend, close func() error, err error)

	// SetBalance writes v as the stored value of the balance called name,
	// directly in the store, as an imported 2.x database might hold it. No
	// backend is open on loc while it runs. The overflow tests use it to
	// start next to ±2^127, which no sequence of uint64 additions reaches.
	SetBalance func(ctx context.Context, loc, name string, v ledger.Int128) error

	// NoCrash, when not empty, says why the SIGKILL test does not apply
	// (for example: the store lives in process memory). The test is then
	// reported as skipped with that reason.
	NoCrash string

	// NoShare, when not empty, says why two backends cannot be open on one
	// store at the same time (for example: single-process only). The
	// shared-store test is then reported as skipped with that reason.
	NoShare string
}

func (h Harness) check(tb testing.TB) {
	tb.Helper()
	if h.Name == "" || h.NewStore == nil || h.Open == nil || h.SetBalance == nil {
		tb.Fatalf("ledgertest: Harness needs Name, NewStore, Open and SetBalance (got %+v)", h)
	}
}
