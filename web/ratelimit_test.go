package web

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRateLimitsAgree: the database's rate limits, on SQLite and
// PostgreSQL, answer a long random run of failures, right passwords,
// registrations, refunds and clock moves exactly as the memory's do.
func TestRateLimitsAgree(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", pgtest.DSN}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			clock := plugintest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			var logs syncBuffer
			mem := newLimiter(clock)
			st := openStore(t, db.dsn(t))
			shared := &storeLimits{st: st, clock: clock, log: slog.New(slog.NewTextHandler(&logs, nil)), mem: newLimiter(clock)}
			rnd := rand.New(rand.NewPCG(1, 2))
			keys := []string{"u:alice", "u:bob", "ip:192.0.2.1"}
			regs := []string{"reg:192.0.2.1", "reg:2001:db8::/64"}
			var refunds []func(context.Context)
			var memRefunds []func(context.Context)
			locked, refused := 0, 0
			for i := range 3000 {
				switch op := rnd.IntN(100); {
				case op < 40:
					k := keys[rnd.IntN(len(keys))]
					free := freeUserFailures
					if strings.HasPrefix(k, "ip:") {
						free = freeIPFailures
					}
					mem.fail(ctx, k, free)
					shared.fail(ctx, k, free)
				case op < 43:
					k := keys[rnd.IntN(len(keys))]
					mem.forget(ctx, k)
					shared.forget(ctx, k)
				case op < 63:
					k := regs[rnd.IntN(len(regs))]
					ok1, w1, r1 := mem.take(ctx, k)
					ok2, w2, r2 := shared.take(ctx, k)
					if ok1 != ok2 || w1 != w2 {
						t.Fatalf("step %d: take %s: memory %v %v, database %v %v", i, k, ok1, w1, ok2, w2)
					}
					if !ok1 {
						refused++
					} else if rnd.IntN(3) == 0 {
						memRefunds, refunds = append(memRefunds, r1), append(refunds, r2)
					}
				case op < 70:
					if len(refunds) > 0 {
						j := rnd.IntN(len(refunds))
						memRefunds[j](ctx)
						refunds[j](ctx)
						memRefunds = append(memRefunds[:j], memRefunds[j+1:]...)
						refunds = append(refunds[:j], refunds[j+1:]...)
					}
				case op < 90:
					clock.Advance(time.Duration(rnd.IntN(4000)) * time.Millisecond)
				case op < 98:
					clock.Advance(time.Duration(rnd.IntN(3600)) * time.Second)
				default:
					clock.Advance(forgetAfter + time.Duration(rnd.IntN(2))*time.Millisecond)
					if _, err := st.PruneRateLimits(ctx, clock.Now()); err != nil {
						t.Fatal(err)
					}
				}
				for _, k := range keys {
					w1, w2 := mem.wait(ctx, k), shared.wait(ctx, k)
					if w1 != w2 {
						t.Fatalf("step %d: wait %s: memory %v, database %v", i, k, w1, w2)
					}
					if w1 > 0 {
						locked++
					}
				}
				if w1, w2 := mem.wait(ctx, keys...), shared.wait(ctx, keys...); w1 != w2 {
					t.Fatalf("step %d: wait: memory %v, database %v", i, w1, w2)
				}
			}
			if locked == 0 || refused == 0 {
				t.Errorf("the run never locked out (%d) or refused (%d)", locked, refused)
			}
			if logs.String() != "" {
				t.Errorf("errors: %s", logs.String())
			}
		})
	}
}

// TestRateLimitsStoreDown: when the database fails, the shared limits log
// it and count in memory: neither everyone locked out nor everyone let
// through.
func TestRateLimitsStoreDown(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	st := openStore(t, sqliteDSN(t))
	st.Close()
	var logs syncBuffer
	l := &storeLimits{st: st, clock: clock, log: slog.New(slog.NewTextHandler(&logs, nil)), mem: newLimiter(clock)}
	if d := l.wait(ctx, "u:alice"); d != 0 {
		t.Errorf("locked out with nothing counted: %v", d)
	}
	if !strings.Contains(logs.String(), "counting in memory") {
		t.Errorf("the error was not logged: %q", logs.String())
	}
	for range freeUserFailures {
		l.fail(ctx, "u:alice", freeUserFailures)
	}
	if d := l.wait(ctx, "u:alice", "ip:x"); d != time.Second {
		t.Errorf("after %d failures: %v", freeUserFailures, d)
	}
	if d := l.wait(ctx, "u:bob"); d != 0 {
		t.Errorf("bob: %v", d)
	}
	l.forget(ctx, "u:alice")
	if d := l.wait(ctx, "u:alice"); d != 0 {
		t.Errorf("after a right password: %v", d)
	}
	var last func(context.Context)
	for range registerBurst {
		ok, _, refund := l.take(ctx, "reg:x")
		if !ok {
			t.Fatal("refused within the burst")
		}
		last = refund
	}
	if ok, d, _ := l.take(ctx, "reg:x"); ok || d != registerEvery {
		t.Errorf("over the burst: %v %v", ok, d)
	}
	last(ctx)
	if ok, _, _ := l.take(ctx, "reg:x"); !ok {
		t.Error("the refund was lost")
	}
}

// TestRateLimitsShared: two processes on one PostgreSQL database, each
// with its own server, count together: wrong passwords spread over both
// lock a user out after as many failures as on one, a right password on
// one clears the count on both, and registrations spread over both take
// from one bucket.
func TestRateLimitsShared(t *testing.T) {
	dsn := pgtest.DSN(t)
	e1 := newEnv(t, dsn)
	e2 := newEnv(t, dsn, func(c *kit.Config) { c.Clock = e1.clock })
	e2.clock = e1.clock
	if !e1.k.Shared() || !e2.k.Shared() {
		t.Fatal("a PostgreSQL kit is not shared")
	}
	envs := []*env{e1, e2}

	// Registrations: failed ones are free on either; the burst is one for
	// both.
	for i := range registerBurst {
		expect(t, "taken", register(envs[(i+1)%2], "admin", ""), 409, "UsernameTakenError")
		expect(t, "burst", register(envs[i%2], "user"+jsonInt(int64(i)), ""), 201, "")
	}
	for i, e := range envs {
		r := register(e, "over", "")
		expect(t, "over the burst on server "+jsonInt(int64(i+1)), r, 429, "TooManyRequestsError")
		if got, want := r.hdr.Get("Retry-After"), jsonInt(int64(registerEvery/time.Second)); got != want {
			t.Errorf("server %d: Retry-After %q, want %q", i+1, got, want)
		}
	}
	e1.clock.Advance(registerEvery)
	expect(t, "one back", register(e2, "alice", ""), 201, "")
	expect(t, "only one", register(e1, "over", ""), 429, "TooManyRequestsError")

	// Wrong passwords spread over both servers.
	login := func(e *env, pw string) resp {
		return e.client().do("POST", "/api/auth/login", map[string]string{"username": "alice", "password": pw})
	}
	lockedFor := func(what, secs string) {
		t.Helper()
		for i, e := range envs {
			r := login(e, "alice-password")
			if r.code != 429 || r.hdr.Get("Retry-After") != secs {
				t.Errorf("%s, server %d: %d %q, want 429 %q", what, i+1, r.code, r.hdr.Get("Retry-After"), secs)
			}
		}
	}
	for i := range freeUserFailures {
		expect(t, "wrong", login(envs[i%2], "wrong-password"), 401, "UnauthorizedError")
	}
	lockedFor("after five", "1")
	e1.clock.Advance(time.Second)
	expect(t, "sixth wrong", login(e2, "wrong-password"), 401, "UnauthorizedError")
	lockedFor("after six", "2")
	e1.clock.Advance(2 * time.Second)
	expect(t, "seventh wrong", login(e1, "wrong-password"), 401, "UnauthorizedError")
	lockedFor("after seven", "4")
	e1.clock.Advance(4 * time.Second)
	expect(t, "right password", login(e2, "alice-password"), 200, "")
	// The count starts again, on both.
	for i := range freeUserFailures - 1 {
		expect(t, "wrong again", login(envs[i%2], "wrong-password"), 401, "UnauthorizedError")
	}
	expect(t, "not locked", login(e1, "alice-password"), 200, "")

	// The counts are in the database, and the janitor prunes them when
	// they no longer matter.
	ctx := t.Context()
	if s, err := e1.k.Store().RateLimit(ctx, "ip:127.0.0.1"); err != nil || s.N != 11 {
		t.Errorf("the address's failures in the database: %+v %v", s, err)
	}
	if s, err := e1.k.Store().RateLimit(ctx, "reg:127.0.0.1"); err != nil || s.IsZero() {
		t.Errorf("the bucket in the database: %+v %v", s, err)
	}
	e1.clock.Advance(forgetAfter + time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err1 := e1.k.Store().RateLimit(ctx, "ip:127.0.0.1")
		b, err2 := e1.k.Store().RateLimit(ctx, "reg:127.0.0.1")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.IsZero() && b.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the janitor left %+v and %+v", a, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
