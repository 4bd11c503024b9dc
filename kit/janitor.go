package kit

import (
	"context"
	"time"
)

// janitorInterval is how often expired quotes and sessions are deleted.
const janitorInterval = 10 * time.Minute

// quoteKeep is how long an expired quote stays, so that a payment naming
// it a little late gets "expired" rather than "not found".
const quoteKeep = time.Hour

// janitor deletes expired quotes, sessions and rate-limit counters until
// ctx ends (every curve a user looks at stores a quote).
func (k *Kit) janitor(ctx context.Context) {
	for {
		k.sweep(ctx)
		tick := make(chan struct{})
		t := k.clock.AfterFunc(janitorInterval, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-tick:
		}
	}
}

func (k *Kit) sweep(ctx context.Context) {
	if n, err := k.st.PruneQuotes(ctx, k.clock.Now().Add(-quoteKeep)); err != nil {
		k.log.Warn("pruning quotes", "err", err)
	} else if n > 0 {
		k.log.Debug("pruned quotes", "n", n)
	}
	if n, err := k.st.PruneSessions(ctx); err != nil {
		k.log.Warn("pruning sessions", "err", err)
	} else if n > 0 {
		k.log.Debug("pruned sessions", "n", n)
	}
	if n, err := k.st.PruneRateLimits(ctx, k.clock.Now()); err != nil {
		k.log.Warn("pruning rate limits", "err", err)
	} else if n > 0 {
		k.log.Debug("pruned rate limits", "n", n)
	}
}
