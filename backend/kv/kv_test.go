package kv_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ilpkit/ilpkit/backend/kv"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/ledger/ledgertest"
)

// mapHarness runs the suite over a MapStore kept by location; reopening
// builds a new Backend over the same map, as a restarted process would over
// its database.
func mapHarness() ledgertest.Harness {
	var mu sync.Mutex
	stores := map[string]*kv.MapStore{}
	lookup := func(loc string) (*kv.MapStore, error) {
		mu.Lock()
		defer mu.Unlock()
		s, ok := stores[loc]
		if !ok {
			return nil, fmt.Errorf("no map store %q", loc)
		}
		return s, nil
	}
	return ledgertest.Harness{
		Name: "kv-map",
		NewStore: func(tb testing.TB) string {
			mu.Lock()
			defer mu.Unlock()
			loc := fmt.Sprintf("%s#%d", tb.Name(), len(stores))
			stores[loc] = kv.NewMapStore()
			tb.Cleanup(func() {
				mu.Lock()
				delete(stores, loc)
				mu.Unlock()
			})
			return loc
		},
		Open: func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
			s, err := lookup(loc)
			if err != nil {
				return nil, nil, err
			}
			return kv.FromStore(s), nil, nil
		},
		SetBalance: func(ctx context.Context, loc, name string, v ledger.Int128) error {
			s, err := lookup(loc)
			if err != nil {
				return err
			}
			return s.Put(ctx, ledger.BalanceKey(name), v.String())
		},
		NoCrash: "a MapStore lives in process memory; the kv-dir harness runs the crash test over files",
		NoShare: "a 2.x store has no transactions, so the kv backend is safe only as the single writer of its store",
	}
}

// dirHarness runs the suite over a DirStore, which survives the death of
// its process, so the SIGKILL test applies. It skips fsync, which only
// matters for a power loss and would make the suite slow.
func dirHarness() ledgertest.Harness {
	open := func(loc string) (*kv.DirStore, error) {
		s, err := kv.NewDirStore(loc)
		if err != nil {
			return nil, err
		}
		return s.WithoutSync(), nil
	}
	return ledgertest.Harness{
		Name:     "kv-dir",
		NewStore: func(tb testing.TB) string { return tb.TempDir() },
		Open: func(ctx context.Context, loc string) (ledger.Backend, func() error, error) {
			s, err := open(loc)
			if err != nil {
				return nil, nil, err
			}
			return kv.FromStore(s), nil, nil
		},
		SetBalance: func(ctx context.Context, loc, name string, v ledger.Int128) error {
			s, err := open(loc)
			if err != nil {
				return err
			}
			return s.Put(ctx, ledger.BalanceKey(name), v.String())
		},
		NoShare: "a 2.x store has no transactions, so the kv backend is safe only as the single writer of its store",
	}
}

func TestMain(m *testing.M) { ledgertest.Main(m, mapHarness(), dirHarness()) }

func TestConformance(t *testing.T) {
	t.Run("map", func(t *testing.T) { ledgertest.Run(t, mapHarness()) })
	t.Run("dir", func(t *testing.T) { ledgertest.Run(t, dirHarness()) })
}

func BenchmarkBalanceAdd(b *testing.B) {
	b.Run("map", func(b *testing.B) { ledgertest.BenchmarkBalanceAdd(b, mapHarness()) })
}

func BenchmarkPrepareFulfill(b *testing.B) {
	b.Run("map", func(b *testing.B) { ledgertest.BenchmarkPrepareFulfill(b, mapHarness()) })
}
