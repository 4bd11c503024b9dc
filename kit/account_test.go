package kit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

// TestSessions: a login makes a session kept by its hash; logout ends it;
// a password change ends every session; sessions expire by the clock.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	k := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit.db"), AdminPass: "admin-password", Registration: true, Clock: clock})
	if _, _, err := k.Login(ctx, "admin", "wrong-password"); !errors.Is(err, kit.ErrWrongCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	u, ss, err := k.Login(ctx, "admin", "admin-password")
	if err != nil || ss.Token == "" || ss.CSRF == "" || !ss.ExpiresAt.Equal(clock.Now().Add(kit.SessionLifetime)) {
		t.Fatalf("login %+v %v", ss, err)
	}
	if _, err := k.Store().Session(ctx, ss.Token); err == nil {
		t.Error("the token itself is stored")
	}
	got, st, err := k.SessionUser(ctx, ss.Token)
	if err != nil || got.ID != u.ID || st.CSRF != ss.CSRF {
		t.Fatalf("session user %+v %v", got, err)
	}
	if err := k.Logout(ctx, ss.Token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.SessionUser(ctx, ss.Token); !errors.Is(err, kit.ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
	_, ss, _ = k.Login(ctx, "admin", "admin-password")
	clock.Advance(kit.SessionLifetime)
	if _, _, err := k.SessionUser(ctx, ss.Token); !errors.Is(err, kit.ErrNoSession) {
		t.Errorf("expired: %v", err)
	}
	_, ss, _ = k.Login(ctx, "admin", "admin-password")
	if err := k.ChangePassword(ctx, u.ID, "admin-password", "admin-password-2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.SessionUser(ctx, ss.Token); !errors.Is(err, kit.ErrNoSession) {
		t.Errorf("after a password change: %v", err)
	}
}

// TestResetCode: a code works once, for its user, before it expires; of
// many uses at once, one wins.
func TestResetCode(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	k := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit.db"), AdminPass: "admin-password", Registration: true, Clock: clock})
	if _, err := k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password"}); err != nil {
		t.Fatal(err)
	}
	code, exp, err := k.IssueResetCode(ctx, "bob")
	if err != nil || !exp.Equal(clock.Now().Add(kit.ResetCodeLifetime)) {
		t.Fatal(err)
	}
	if _, _, err := k.IssueResetCode(ctx, "nobody"); !errors.Is(err, kit.ErrUserNotFound) {
		t.Errorf("nobody: %v", err)
	}
	if err := k.ResetPassword(ctx, "admin", code, "new-password"); !errors.Is(err, kit.ErrInvalidCode) {
		t.Errorf("another user: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := k.ResetPassword(ctx, "bob", code, "new-password"); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, kit.ErrInvalidCode) {
				t.Errorf("reset: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d resets with one code", wins)
	}
	if _, err := k.Authenticate(ctx, "bob", "new-password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	code, _, _ = k.IssueResetCode(ctx, "bob")
	clock.Advance(kit.ResetCodeLifetime)
	if err := k.ResetPassword(ctx, "bob", code, "newer-password"); !errors.Is(err, kit.ErrInvalidCode) {
		t.Errorf("expired: %v", err)
	}
}

func TestLimitsSQLite(t *testing.T)   { testLimits(t, filepath.Join(t.TempDir(), "kit.db")) }
func TestLimitsPostgres(t *testing.T) { testLimits(t, pgtest.DSN(t)) }

// testLimits: a user's limits apply at once, are kept, and come back
// after a restart; nil goes back to the defaults.
func testLimits(t *testing.T, dsn string) {
	ctx := context.Background()
	k, alice, _ := twoUsers(t, dsn)
	lo, hi := int64(-300), int64(5000)
	if _, err := k.SetUserLimits(ctx, "bob", &lo, &hi); err != nil {
		t.Fatal(err)
	}
	bad := int64(6000)
	if _, err := k.SetUserLimits(ctx, "bob", &bad, &hi); !errors.Is(err, kit.ErrInvalidLimits) {
		t.Errorf("min above max: %v", err)
	}
	if _, err := k.SetUserLimits(ctx, "nobody", nil, nil); !errors.Is(err, kit.ErrUserNotFound) {
		t.Errorf("nobody: %v", err)
	}
	info, _ := k.Server().AccountInfo(ctx, "bob")
	if info.Limits.Minimum.String() != "-300" || info.Limits.Maximum.String() != "5000" {
		t.Errorf("limits %v %v", info.Limits.Minimum, info.Limits.Maximum)
	}
	name := "Alice L."
	u, err := k.UpdateProfile(ctx, alice.ID, kit.ProfileUpdate{Name: &name})
	if err != nil || u.Name != name {
		t.Errorf("profile %+v %v", u, err)
	}
	email := "no email"
	if _, err := k.UpdateProfile(ctx, alice.ID, kit.ProfileUpdate{Email: &email}); !errors.Is(err, kit.ErrInvalidProfile) {
		t.Errorf("bad email: %v", err)
	}
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	k2 := open(t, kit.Config{DBURI: dsn, AdminPass: "admin-password", Registration: true, Hostname: "wallet.test"})
	info, _ = k2.Server().AccountInfo(ctx, "bob")
	if info.Limits.Minimum.String() != "-300" || info.Limits.Maximum.String() != "5000" {
		t.Errorf("after a restart: %v %v", info.Limits.Minimum, info.Limits.Maximum)
	}
	if _, err := k2.SetUserLimits(ctx, "bob", nil, nil); err != nil {
		t.Fatal(err)
	}
	info, _ = k2.Server().AccountInfo(ctx, "bob")
	if info.Limits.Minimum.String() != "0" || info.Limits.Maximum.String() != "unlimited" {
		t.Errorf("defaults: %v %v", info.Limits.Minimum, info.Limits.Maximum)
	}
	in, err := k2.CreateInvite(ctx, 5)
	if err != nil || len(in.Code) != 36 || in.Amount != 5 {
		t.Errorf("invite %+v %v", in, err)
	}
	d, err := k2.ParseDestination(ctx, "bob")
	if err != nil || !d.Local || d.Identifier != "bob@wallet.test" || d.CurrencyCode != "USD" {
		t.Errorf("destination %+v %v", d, err)
	}
}
