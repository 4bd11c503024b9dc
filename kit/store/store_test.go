package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// databases opens the store on each database this machine can run.
var databases = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "kit.db") }},
	{"postgres", func(tb testing.TB) string { return pgtest.DSN(tb) }},
}

func each(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { fn(t, db.dsn(t)) })
	}
}

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ptr[T any](v T) *T { return &v }

// TestMigrationsOnce: opening a database again, or from several processes
// at once, applies each migration once and keeps the data.
func TestMigrationsOnce(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(ctx, dsn, store.Options{})
				if err == nil {
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, dsn)
		if v, err := s.InitSetting(ctx, "prefix", "test.one."); err != nil || v != "test.one." {
			t.Fatalf("%q %v", v, err)
		}
		s.Close()
		s = open(t, dsn)
		if v, err := s.InitSetting(ctx, "prefix", "test.two."); err != nil || v != "test.one." {
			t.Errorf("a second start chose the setting again: %q %v", v, err)
		}
		if _, err := s.Setting(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing setting: %v", err)
		}
		if err := s.PutSetting(ctx, "prefix", "test.three."); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Setting(ctx, "prefix"); v != "test.three." {
			t.Errorf("after put: %q", v)
		}
	})
}

func TestUsers(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		alice, err := s.CreateUser(ctx, store.User{Username: "alice", Email: "a@example.com", Name: "Alice", PasswordHash: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		if alice.ID == 0 || alice.CreatedAt.IsZero() {
			t.Errorf("%+v", alice)
		}
		if _, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same name: %v", err)
		}
		if _, err := s.CreateUser(ctx, store.User{Username: "alice2", Email: "a@example.com", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same email: %v", err)
		}
		// Users without email do not conflict with each other.
		for _, n := range []string{"bob", "carol"} {
			if _, err := s.CreateUser(ctx, store.User{Username: n, PasswordHash: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.UserByName(ctx, "alice")
		if err != nil || got.Email != "a@example.com" || got.Name != "Alice" || got.MinBalance != nil || got.HasPicture {
			t.Errorf("%+v %v", got, err)
		}
		if _, err := s.UserByName(ctx, "dave"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
		up, err := s.UpdateUser(ctx, alice.ID, store.UserUpdate{Name: ptr("Alice A."), MinBalance: ptr(int64(-500)), Disabled: ptr(true)})
		if err != nil || up.Name != "Alice A." || *up.MinBalance != -500 || !up.Disabled || up.Email != "a@example.com" {
			t.Errorf("%+v %v", up, err)
		}
		if _, err := s.UpdateUser(ctx, alice.ID, store.UserUpdate{ClearLimits: true, Email: ptr("")}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, alice.ID); got.MinBalance != nil || got.Email != "" {
			t.Errorf("after clearing: %+v", got)
		}
		bob, _ := s.UserByName(ctx, "bob")
		if _, err := s.UpdateUser(ctx, bob.ID, store.UserUpdate{Email: ptr("b@example.com")}); err != nil {
			t.Fatal(err)
		}
		carol, _ := s.UserByName(ctx, "carol")
		if _, err := s.UpdateUser(ctx, carol.ID, store.UserUpdate{Email: ptr("b@example.com")}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("taken email: %v", err)
		}
		page1, err := s.Users(ctx, 0, 2)
		if err != nil || len(page1) != 2 || page1[0].Username != "alice" {
			t.Fatalf("%+v %v", page1, err)
		}
		page2, _ := s.Users(ctx, page1[1].ID, 2)
		if len(page2) != 1 || page2[0].Username != "carol" {
			t.Errorf("page 2: %+v", page2)
		}
		if err := s.SetPicture(ctx, bob.ID, "image/png", []byte{0x89, 'P', 'N', 'G'}); err != nil {
			t.Fatal(err)
		}
		if ct, data, err := s.Picture(ctx, bob.ID); err != nil || ct != "image/png" || len(data) != 4 {
			t.Errorf("picture: %q %v %v", ct, data, err)
		}
		if _, _, err := s.Picture(ctx, carol.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("no picture: %v", err)
		}
	})
}

func TestSessionsTokensInvites(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		u, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for i, h := range []string{"s1", "s2"} {
			if err := s.CreateSession(ctx, store.Session{TokenHash: h, UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour * time.Duration(i*2-1))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: %v", err)
		}
		if ss, err := s.Session(ctx, "s2"); err != nil || ss.UserID != u.ID || ss.CSRF != "c" {
			t.Errorf("%+v %v", ss, err)
		}
		if n, err := s.PruneSessions(ctx); err != nil || n != 1 {
			t.Errorf("pruned %d %v", n, err)
		}
		if err := s.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "s2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after sign-out everywhere: %v", err)
		}

		tok, err := s.CreateToken(ctx, store.Token{UserID: u.ID, Name: "shop", TokenHash: "th"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.TokenByHash(ctx, "th"); err != nil || got.ID != tok.ID || got.Name != "shop" {
			t.Errorf("%+v %v", got, err)
		}
		if wrote, err := s.TouchToken(ctx, tok.ID, time.Minute); err != nil || !wrote {
			t.Fatalf("first touch: %v %v", wrote, err)
		}
		if err := s.RevokeToken(ctx, u.ID+1, tok.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another user's token revoked: %v", err)
		}
		if err := s.RevokeToken(ctx, u.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenByHash(ctx, "th"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked token: %v", err)
		}
		list, _ := s.Tokens(ctx, u.ID)
		if len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsedAt == nil {
			t.Errorf("%+v", list)
		}

		if _, err := s.CreateInvite(ctx, "inv", 222); err != nil {
			t.Fatal(err)
		}
		// Two claims at once: exactly one wins.
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() { defer wg.Done(); _, results[i] = s.ClaimInvite(ctx, "inv", u.ID) }()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d claims won", won)
		}
		if _, err := s.ClaimInvite(ctx, "nope", u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown invite: %v", err)
		}
		if err := s.DeleteInvite(ctx, "inv"); err != nil {
			t.Fatal(err)
		}
		if all, _ := s.Invites(ctx); len(all) != 0 {
			t.Errorf("%+v", all)
		}
	})
}

// TestTokenTouch: a token's last use is written on its first use, then at
// most once per interval (by the store's clock), and shows in the list; a
// last use in the future (a clock set back) is overwritten.
func TestTokenTouch(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		s, err := store.Open(ctx, dsn, store.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		u, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.CreateToken(ctx, store.Token{UserID: u.ID, Name: "shop", TokenHash: "th"})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() *time.Time {
			t.Helper()
			got, err := s.TokenByHash(ctx, "th")
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsedAt
		}
		if lastUsed() != nil {
			t.Fatal("a new token was used")
		}
		touch := func(want bool, what string) {
			t.Helper()
			if wrote, err := s.TouchToken(ctx, tok.ID, time.Minute); err != nil || wrote != want {
				t.Errorf("%s: wrote %v, want %v (%v)", what, wrote, want, err)
			}
		}
		first := clock()
		touch(true, "first use")
		advance(59 * time.Second)
		touch(false, "59 s later")
		if got := lastUsed(); got == nil || !got.Equal(first) {
			t.Errorf("last used %v, want %v", got, first)
		}
		advance(time.Second)
		touch(true, "a minute later")
		if got := lastUsed(); got == nil || !got.Equal(first.Add(time.Minute)) {
			t.Errorf("last used %v, want %v", got, first.Add(time.Minute))
		}
		// Many uses at once: one write.
		advance(2 * time.Minute)
		var wg sync.WaitGroup
		var writes sync.Map
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wrote, err := s.TouchToken(ctx, tok.ID, time.Minute)
				if err != nil {
					t.Error(err)
				}
				writes.Store(i, wrote)
			}()
		}
		wg.Wait()
		n := 0
		writes.Range(func(_, v any) bool {
			if v.(bool) {
				n++
			}
			return true
		})
		if n != 1 {
			t.Errorf("%d writes of uses at once, want 1", n)
		}
		// The clock set back an hour: the future time is replaced.
		advance(-time.Hour)
		touch(true, "after the clock went back")
		if got := lastUsed(); got == nil || !got.Equal(clock()) {
			t.Errorf("last used %v, want %v", got, clock())
		}
		list, err := s.Tokens(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(clock()) {
			t.Errorf("list %+v %v", list, err)
		}
	})
}

func TestPayments(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		u, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		base := time.UnixMilli(1_700_000_000_000)
		for i := 0; i < 5; i++ {
			p := store.Payment{ID: string(rune('a' + i)), UserID: u.ID, Direction: "outgoing", TransferID: "t" + string(rune('a'+i)),
				Counterparty: "bob@example", SourceAmount: int64(100 * (i + 1)), DestinationAmount: 99, State: store.PaymentPending,
				CreatedAt: base.Add(time.Duration(i/2) * time.Second)}
			got, inserted, err := s.InsertPayment(ctx, p)
			if err != nil || !inserted || got.ID != p.ID {
				t.Fatalf("insert %d: %+v %v %v", i, got, inserted, err)
			}
		}
		// The same id again, or the same transfer under another id: the
		// stored row, not inserted.
		again, inserted, err := s.InsertPayment(ctx, store.Payment{ID: "a", UserID: u.ID, Direction: "outgoing", TransferID: "other", State: store.PaymentPending})
		if err != nil || inserted || again.TransferID != "ta" {
			t.Errorf("same id: %+v %v %v", again, inserted, err)
		}
		again, inserted, err = s.InsertPayment(ctx, store.Payment{ID: "z", UserID: u.ID, Direction: "outgoing", TransferID: "tb", State: store.PaymentPending})
		if err != nil || inserted || again.ID != "b" {
			t.Errorf("same transfer: %+v %v %v", again, inserted, err)
		}
		if ok, err := s.FinishPayment(ctx, "a", store.PaymentSuccess, ""); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, _ := s.FinishPayment(ctx, "a", store.PaymentFailed, "late"); ok {
			t.Error("a finished payment finished again")
		}
		pending, _ := s.PendingPayments(ctx)
		if len(pending) != 4 {
			t.Errorf("%d pending", len(pending))
		}
		// Pages of two, newest first: e; d c; b a (c and d share a time).
		var ids []string
		var cur store.Cursor
		for {
			page, err := s.Payments(ctx, u.ID, cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				ids = append(ids, p.ID)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			cur = store.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if got := strings.Join(ids, ""); got != "edcba" {
			t.Errorf("history order %q", got)
		}
		st, err := s.Stats(ctx, u.ID)
		if err != nil || len(st) != 1 || st[0].SentCount != 1 || st[0].Sent != 100 {
			t.Errorf("stats %+v %v", st, err)
		}
		q := store.StoredQuote{ID: "q1", UserID: u.ID, Body: []byte(`{"x":1}`), ExpiresAt: base}
		if err := s.InsertQuote(ctx, q); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Quote(ctx, u.ID, "q1"); err != nil || string(got.Body) != `{"x":1}` {
			t.Errorf("%+v %v", got, err)
		}
		if _, err := s.Quote(ctx, u.ID+1, "q1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another user's quote: %v", err)
		}
		if n, err := s.PruneQuotes(ctx, base.Add(time.Second)); err != nil || n != 1 {
			t.Errorf("pruned %d %v", n, err)
		}
	})
}
