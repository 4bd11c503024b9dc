package connector_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
)

// BenchmarkThroughputSQLite is BenchmarkThroughput with the state of the
// connector's two plugins in one SQLite file (WAL, synchronous=NORMAL, group
// commit); the sender's and receiver's ends of the trustlines, which belong to
// other parties, stay in memory. The target is 5,000 fulfilled payments per
// second.
func BenchmarkThroughputSQLite(b *testing.B) {
	ctx := context.Background()
	db, err := sql.Open(ctx, filepath.Join(b.TempDir(), "kit.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	n := newBenchNetOn(b, func(name string) ledger.Backend {
		if !strings.HasSuffix(name, ".conn") {
			return memory.New()
		}
		be, err := db.Backend(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		return be
	})
	runThroughput(b, n)
}

// newBenchNetOn builds the connector variant of newBenchNet with each end's
// backend from newBackend, called with the end's account (ledger prefix and
// name: "<prefix>alice", "<prefix>conn", ...).
func newBenchNetOn(b *testing.B, newBackend func(name string) ledger.Backend) *benchNet {
	clock := ledger.SystemClock{}
	line := func(prefix, user string) (*pair.End, *pair.End) {
		ea, eb, err := pair.New(pair.Options{
			Prefix: prefix, CurrencyCode: "USD", CurrencyScale: 9, Clock: clock,
			A: pair.Side{Name: user, Backend: newBackend(prefix + user), MaxBalance: ledger.Unlimited(), Connectors: []string{prefix + "conn"}},
			B: pair.Side{Name: "conn", Backend: newBackend(prefix + "conn"), MaxBalance: ledger.Unlimited()},
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range []*pair.End{ea, eb} {
			if err := e.Connect(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.Cleanup(func() {
			_ = ea.Disconnect(context.Background())
			_ = eb.Disconnect(context.Background())
		})
		return ea, eb
	}
	n := &benchNet{cond: benchCondition(), amount: 1000}
	var cIn, cOut *pair.End
	n.alice, cIn = line("test1.l0.", "alice")
	n.bob, cOut = line("test1.l9.", "bob")
	c := newConnector(b, clock, nil)
	add(b, c, cIn)
	add(b, c, cOut)
	n.to = cIn.Account()
	n.ilp = payment(b, n.bob.Account(), 990)
	n.listen(b)
	return n
}

// memoryBackends is the newBackend of newBenchNetOn for the memory backend.
func memoryBackends(string) ledger.Backend { return memory.New() }
