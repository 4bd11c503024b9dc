package memory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/ledgertest"
)

// harness opens memory backends. A store is a *memory.Backend kept in this
// harness by location; reopening gives a new Backend over the same data
// (memory.Backend.Reopen), as a restart with a durable store would.
func harness() ledgertest.Harness {
	var mu sync.Mutex
	stores := map[string]*memory.Backend{}
	lookup := func(loc string) (*memory.Backend, error) {
		mu.Lock()
		defer mu.Unlock()
		b, ok := stores[loc]
		if !ok {
			return nil, fmt.Errorf("no memory store %q", loc)
		}
		return b, nil
	}
	return ledgertest.Harness{
		Name: "memory",
		NewStore: func(tb testing.TB) string {
			mu.Lock()
			defer mu.Unlock()
			loc := fmt.Sprintf("%s#%d", tb.Name(), len(stores))
			stores[loc] = memory.New()
			tb.Cleanup(func() {
				mu.Lock()
				delete(stores, loc)
				mu.Unlock()
			})
			return loc
		},
		Open: func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
			b, err := lookup(loc)
			if err != nil {
				return nil, nil, err
			}
			return b.Reopen(), nil, nil
		},
		SetBalance: func(ctx context.Context, loc, name string, v ledger.Int128) error {
			b, err := lookup(loc)
			if err != nil {
				return err
			}
			b.SetBalance(name, v)
			return nil
		},
		NoCrash: "a memory backend keeps nothing once its process dies, so there is no state to check after a SIGKILL",
	}
}

func TestMain(m *testing.M) { ledgertest.Main(m, harness()) }

func TestConformance(t *testing.T) { ledgertest.Run(t, harness()) }

func BenchmarkBalanceAdd(b *testing.B) { ledgertest.BenchmarkBalanceAdd(b, harness()) }

func BenchmarkPrepareFulfill(b *testing.B) { ledgertest.BenchmarkPrepareFulfill(b, harness()) }
