package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// TestRateLimits: a key's state reads back as written (times to the
// millisecond, zero times as zero), a zero state deletes the row, and the
// prune deletes the expired states only.
func TestRateLimits(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
		if r, err := s.RateLimit(ctx, "u:alice"); err != nil || !r.IsZero() {
			t.Fatalf("unknown key: %+v %v", r, err)
		}
		want := store.RateLimit{N: 3, Last: now, Until: now.Add(time.Second), Expires: now.Add(time.Hour)}
		var seen store.RateLimit
		got, err := s.UpdateRateLimit(ctx, "u:alice", func(old store.RateLimit) store.RateLimit {
			seen = old
			return want
		})
		if err != nil || !same(got, want) || !seen.IsZero() {
			t.Fatalf("first update: %+v (saw %+v) %v", got, seen, err)
		}
		if r, err := s.RateLimit(ctx, "u:alice"); err != nil || !same(r, want) {
			t.Errorf("read back: %+v %v, want %+v", r, err, want)
		}
		// A state with zero times keeps them zero.
		bucket := store.RateLimit{Until: now.Add(time.Minute), Expires: now.Add(time.Minute)}
		if _, err := s.UpdateRateLimit(ctx, "reg:192.0.2.1", func(store.RateLimit) store.RateLimit { return bucket }); err != nil {
			t.Fatal(err)
		}
		if r, err := s.RateLimit(ctx, "reg:192.0.2.1"); err != nil || !same(r, bucket) || !r.Last.IsZero() {
			t.Errorf("bucket: %+v %v", r, err)
		}
		// The next update sees the last state.
		if _, err := s.UpdateRateLimit(ctx, "u:alice", func(old store.RateLimit) store.RateLimit {
			seen = old
			old.N++
			return old
		}); err != nil || !same(seen, want) {
			t.Errorf("second update saw %+v %v", seen, err)
		}
		// A zero state deletes the row, and so does DeleteRateLimit.
		if _, err := s.UpdateRateLimit(ctx, "u:alice", func(store.RateLimit) store.RateLimit { return store.RateLimit{} }); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, s); n != 1 {
			t.Errorf("%d rows after a zero update", n)
		}
		if err := s.DeleteRateLimit(ctx, "reg:192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRateLimit(ctx, "nothing"); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, s); n != 0 {
			t.Errorf("%d rows after deletes", n)
		}

		// Prune: expired before now only.
		for key, exp := range map[string]time.Time{"a": now.Add(-time.Second), "b": now, "c": now.Add(time.Second)} {
			if _, err := s.UpdateRateLimit(ctx, key, func(store.RateLimit) store.RateLimit {
				return store.RateLimit{N: 1, Last: now, Expires: exp}
			}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.PruneRateLimits(ctx, now); err != nil || n != 1 {
			t.Errorf("pruned %d %v", n, err)
		}
		for key, alive := range map[string]bool{"a": false, "b": true, "c": true} {
			if r, _ := s.RateLimit(ctx, key); r.IsZero() == alive {
				t.Errorf("%s: %+v", key, r)
			}
		}
	})
}

func same(a, b store.RateLimit) bool {
	return a.N == b.N && a.Last.Equal(b.Last) && a.Until.Equal(b.Until) && a.Expires.Equal(b.Expires)
}

func rows(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.SQL().QueryRow(`SELECT COUNT(*) FROM kit_rate_limits`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRateLimitsConcurrent: many updates of one key at once, from two
// handles on the database (two processes), each see the state the one
// before left: none is lost. Some of them delete the row and others
// create it again.
func TestRateLimitsConcurrent(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		stores := []*store.Store{open(t, dsn), open(t, dsn)}
		const workers, per = 16, 25
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := stores[i%2]
				for range per {
					if _, err := s.UpdateRateLimit(ctx, "u:alice", func(old store.RateLimit) store.RateLimit {
						old.N++
						old.Last = now
						old.Expires = now.Add(time.Hour)
						return old
					}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		// Meanwhile a key deleted and created again by every other update.
		var toggles int
		for range 2 * per {
			_, err := stores[1].UpdateRateLimit(ctx, "u:bob", func(old store.RateLimit) store.RateLimit {
				if old.IsZero() {
					return store.RateLimit{N: 1, Last: now, Expires: now.Add(time.Hour)}
				}
				return store.RateLimit{}
			})
			if err != nil {
				t.Fatal(err)
			}
			toggles++
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if r, err := stores[0].RateLimit(ctx, "u:alice"); err != nil || r.N != workers*per {
			t.Errorf("count %d %v, want %d", r.N, err, workers*per)
		}
		if r, _ := stores[0].RateLimit(ctx, "u:bob"); !r.IsZero() || toggles%2 != 0 {
			t.Errorf("bob %+v after %d toggles", r, toggles)
		}
	})
}

// TestRateLimitsDeletedMeanwhile: updates of a key waiting while another
// transaction deletes its row go on with a new one (PostgreSQL retries the
// upsert). Run with many deleters and updaters at once.
func TestRateLimitsDeletedMeanwhile(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					var err error
					if i%4 == 0 {
						err = s.DeleteRateLimit(ctx, "k")
					} else {
						_, err = s.UpdateRateLimit(ctx, "k", func(old store.RateLimit) store.RateLimit {
							old.N++
							old.Expires = now
							return old
						})
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}
