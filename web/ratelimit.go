package web

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
)

// rateLimits are the counters of the password checks and registrations
// (checkPassword, limitRegistration): this process's own (limiter) for a
// kit alone on its database, the database's (storeLimits) for the
// processes sharing one, which then count together.
type rateLimits interface {
	// wait returns how long the most locked-out of keys must still wait
	// (0: none is locked out).
	wait(ctx context.Context, keys ...string) time.Duration
	// fail records a failed password of key, which has free failures
	// before lockouts.
	fail(ctx context.Context, key string, free int)
	// forget clears key's failures (a user name after a right password).
	forget(ctx context.Context, key string)
	// take takes a registration from key's bucket, or, when it is empty,
	// returns how long until it holds one again. refund, when ok, gives
	// the registration back (it failed) to the counter it was taken from.
	take(ctx context.Context, key string) (ok bool, wait time.Duration, refund func(context.Context))
}

// The state of a key, in memory and in the database alike, is a
// store.RateLimit. The functions below are the only ones that compute it.
//
// Failed passwords: N failures, the Last at, locked out Until, forgotten
// at Expires (forgetAfter after the last failure).
//
// Registrations: a token bucket kept as the time at which it is full
// again (a generic cell rate algorithm), in Until and Expires: a key with
// no state, or one in the past, is full.

// lockout is how long a key is locked out after over failures beyond its
// free ones (0 over: the first lockout).
func lockout(over int) time.Duration {
	if over >= 30 {
		return maxLockout
	}
	return min(time.Duration(math.Pow(2, float64(over)))*time.Second, maxLockout)
}

// strike returns the state of a key after a failure at now, s before, for
// a key with free failures before lockouts.
func strike(s store.RateLimit, free int, now time.Time) store.RateLimit {
	if now.Sub(s.Last) > forgetAfter {
		s = store.RateLimit{}
	}
	s.N++
	s.Last = now
	s.Expires = now.Add(forgetAfter)
	if over := s.N - free; over >= 0 {
		s.Until = now.Add(lockout(over))
	}
	return s
}

// lockedFor is how long a key in state s must still wait at now.
func lockedFor(s store.RateLimit, now time.Time) time.Duration {
	if s.Until.After(now) {
		return s.Until.Sub(now)
	}
	return 0
}

// bucket is a token bucket's size and refill: burst tokens, one back each
// every.
type bucket struct {
	burst int
	every time.Duration
}

// take takes a token at now from the bucket in state s: the new state, or,
// when it is empty, s unchanged and how long until it holds one again.
func (b bucket) take(s store.RateLimit, now time.Time) (_ store.RateLimit, ok bool, wait time.Duration) {
	t := s.Until
	if t.Before(now) {
		t = now
	}
	if over := t.Sub(now) - time.Duration(b.burst-1)*b.every; over > 0 {
		return s, false, over
	}
	t = t.Add(b.every)
	return store.RateLimit{Last: now, Until: t, Expires: t}, true, 0
}

// refund gives back a token taken from the bucket in state s; a bucket
// without state (dropped since, being full) stays so.
func (b bucket) refund(s store.RateLimit) store.RateLimit {
	if s.IsZero() {
		return s
	}
	s.Until = s.Until.Add(-b.every)
	s.Expires = s.Until
	return s
}

// limiter is the rate limits in this process's memory: the failed
// passwords per key, and the buckets of registrations per client address.
type limiter struct {
	clock ledger.Clock
	mu    sync.Mutex
	m     map[string]store.RateLimit
	// registrations limits registrations per client address.
	registrations *buckets
}

func newLimiter(c ledger.Clock) *limiter {
	return &limiter{clock: c, m: map[string]store.RateLimit{}, registrations: newBuckets(c, bucket{burst: registerBurst, every: registerEvery})}
}

func (l *limiter) wait(_ context.Context, keys ...string) time.Duration {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		d = max(d, lockedFor(l.m[k], now))
	}
	return d
}

func (l *limiter) fail(_ context.Context, key string, free int) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.m[key]; !seen && len(l.m) >= maxStrikes {
		pruneStates(l.m, maxStrikes, now)
	}
	l.m[key] = strike(l.m[key], free, now)
}

func (l *limiter) forget(_ context.Context, key string) {
	l.mu.Lock()
	delete(l.m, key)
	l.mu.Unlock()
}

func (l *limiter) take(_ context.Context, key string) (bool, time.Duration, func(context.Context)) {
	ok, wait := l.registrations.take(key)
	return ok, wait, func(context.Context) { l.registrations.refund(key) }
}

// pruneStates drops the keys of m whose Until has passed (unlocked
// failures, full buckets), then, if that does not bring m under max, all.
func pruneStates(m map[string]store.RateLimit, max int, now time.Time) {
	for k, s := range m {
		if !s.Until.After(now) {
			delete(m, k)
		}
	}
	if len(m) >= max {
		clear(m)
	}
}

// buckets is a token bucket per key, in memory.
type buckets struct {
	clock ledger.Clock
	b     bucket
	mu    sync.Mutex
	m     map[string]store.RateLimit
}

func newBuckets(c ledger.Clock, b bucket) *buckets {
	return &buckets{clock: c, b: b, m: map[string]store.RateLimit{}}
}

// take takes one from key's bucket, or, when it is empty, returns how long
// until it holds one again.
func (b *buckets) take(key string) (ok bool, wait time.Duration) {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	s, seen := b.m[key]
	s, ok, wait = b.b.take(s, now)
	if !ok {
		return false, wait
	}
	if !seen && len(b.m) >= maxBuckets {
		pruneStates(b.m, maxBuckets, now)
	}
	b.m[key] = s
	return true, 0
}

// refund gives back what take took (the registration failed).
func (b *buckets) refund(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.m[key]; ok {
		b.m[key] = b.b.refund(s)
	}
}

// storeLimits is the rate limits in the kit's database, shared by the
// processes on it. A database error neither locks everyone out nor lets
// everyone through: it is logged, and that call counts in this process's
// memory (mem) instead, which wait also reads.
type storeLimits struct {
	st    *store.Store
	clock ledger.Clock
	log   *slog.Logger
	mem   *limiter
}

func (l *storeLimits) wait(ctx context.Context, keys ...string) time.Duration {
	now := l.clock.Now()
	d := l.mem.wait(ctx, keys...)
	for _, k := range keys {
		s, err := l.st.RateLimit(ctx, k)
		if err != nil {
			l.log.Error("rate limits: reading the database; counting in memory", "key", k, "err", err)
			continue
		}
		d = max(d, lockedFor(s, now))
	}
	return d
}

func (l *storeLimits) fail(ctx context.Context, key string, free int) {
	now := l.clock.Now()
	_, err := l.st.UpdateRateLimit(ctx, key, func(s store.RateLimit) store.RateLimit { return strike(s, free, now) })
	if err != nil {
		l.log.Error("rate limits: recording a failure in the database; counting in memory", "key", key, "err", err)
		l.mem.fail(ctx, key, free)
	}
}

func (l *storeLimits) forget(ctx context.Context, key string) {
	l.mem.forget(ctx, key)
	if err := l.st.DeleteRateLimit(ctx, key); err != nil {
		l.log.Error("rate limits: forgetting in the database", "key", key, "err", err)
	}
}

func (l *storeLimits) take(ctx context.Context, key string) (bool, time.Duration, func(context.Context)) {
	now := l.clock.Now()
	b := l.mem.registrations.b
	var ok bool
	var wait time.Duration
	_, err := l.st.UpdateRateLimit(ctx, key, func(s store.RateLimit) store.RateLimit {
		s, ok, wait = b.take(s, now)
		return s
	})
	if err != nil {
		l.log.Error("rate limits: taking from a bucket in the database; counting in memory", "key", key, "err", err)
		return l.mem.take(ctx, key)
	}
	return ok, wait, func(ctx context.Context) {
		_, err := l.st.UpdateRateLimit(ctx, key, b.refund)
		if err != nil {
			l.log.Error("rate limits: refunding a bucket in the database", "key", key, "err", err)
		}
	}
}
