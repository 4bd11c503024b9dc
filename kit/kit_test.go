package kit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func open(t *testing.T, cfg kit.Config) *kit.Kit {
	t.Helper()
	k, err := kit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close(context.Background()) })
	return k
}

// TestZeroConfig: a kit opened with nothing but a database chooses its
// prefix, secret and admin password once and keeps them across restarts.
func TestZeroConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "kit.db")
	k := open(t, kit.Config{DBURI: db})
	prefix, peer, pw := k.Prefix(), k.PeeringSecret(), k.GeneratedAdminPassword()
	if !strings.HasPrefix(prefix, "private.ilpkit.") || strings.HasPrefix(prefix, "peer.") {
		t.Errorf("prefix %q", prefix)
	}
	if len(pw) < 16 {
		t.Errorf("admin password %q", pw)
	}
	if _, err := virtual.NewIdentity(peer); err != nil {
		t.Errorf("peering secret %q: %v", peer, err)
	}
	ctx := context.Background()
	if _, err := k.Authenticate(ctx, "admin", pw); err != nil {
		t.Fatalf("admin with the generated password: %v", err)
	}
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	k2 := open(t, kit.Config{DBURI: db})
	if k2.Prefix() != prefix || k2.PeeringSecret() != peer {
		t.Errorf("identity changed: %s %s", k2.Prefix(), k2.PeeringSecret())
	}
	if k2.GeneratedAdminPassword() != "" {
		t.Error("the admin password was generated again")
	}
	if _, err := k2.Authenticate(ctx, "admin", pw); err != nil {
		t.Errorf("admin after restart: %v", err)
	}
}

// TestSecretDerivation: with API_SECRET given, the peering secret is the one
// ILP Kit 2.x derived (base64 of HMAC-SHA256(secret, "CONNECTOR_ED25519")),
// so a 2.x kit keeps its peering identity.
func TestSecretDerivation(t *testing.T) {
	k := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit.db"), Secret: "secret", Prefix: "test.red."})
	// node -e "console.log(require('crypto').createHmac('sha256','secret').update('CONNECTOR_ED25519').digest('base64'))"
	const want = "PiIcnzULUtjb6fIeTmDXj52jJk1+qkOCkk2C35Q+15Y="
	if got := k.PeeringSecret(); got != want {
		t.Errorf("peering secret %s, want %s", got, want)
	}
	if k.Prefix() != "test.red." {
		t.Errorf("prefix %s", k.Prefix())
	}
	if _, err := kit.Open(context.Background(), kit.Config{DBURI: filepath.Join(t.TempDir(), "x.db"), Prefix: "peer.x."}); err == nil {
		t.Error("a peer. prefix was accepted")
	}
}

func TestRegistration(t *testing.T) {
	ctx := context.Background()
	k := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit.db"), AdminPass: "admin-password"})
	if _, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password"}); !errors.Is(err, kit.ErrRegistrationOff) {
		t.Errorf("closed registration: %v", err)
	}
	if _, err := k.Store().CreateInvite(ctx, "code-1", 222); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []kit.NewUser{
		{Username: "a", Password: "alice-password", InviteCode: "code-1"},
		{Username: "Alice", Password: "alice-password", InviteCode: "code-1"},
		{Username: "al--ice", Password: "alice-password", InviteCode: "code-1"},
		{Username: "connector", Password: "alice-password", InviteCode: "code-1"},
		{Username: "alice", Password: "short", InviteCode: "code-1"},
		{Username: "alice", Password: "alice-password", InviteCode: "nope"},
		{Username: "admin", Password: "alice-password", InviteCode: "code-1"},
	} {
		if _, err := k.Register(ctx, bad); err == nil {
			t.Errorf("%+v registered", bad)
		}
	}
	if inv, _ := k.Store().Invite(ctx, "code-1"); inv.ClaimedAt != nil {
		t.Fatal("a refused registration claimed the invite")
	}
	u, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password", InviteCode: "code-1", Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := k.Balance(ctx, "alice"); err != nil || b.String() != "222" {
		t.Errorf("alice's balance after the invite: %s %v", b, err)
	}
	if _, err := k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password", InviteCode: "code-1"}); !errors.Is(err, kit.ErrInvalidInvite) {
		t.Errorf("second use of an invite: %v", err)
	}
	if _, err := k.Authenticate(ctx, "alice", "wrong-password"); !errors.Is(err, kit.ErrWrongCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := k.Authenticate(ctx, "nobody", "alice-password"); !errors.Is(err, kit.ErrWrongCredentials) {
		t.Errorf("unknown user: %v", err)
	}
	if err := k.ChangePassword(ctx, u.ID, "wrong-password", "new-password-1"); !errors.Is(err, kit.ErrWrongCredentials) {
		t.Errorf("change with a wrong password: %v", err)
	}
	if err := k.ChangePassword(ctx, u.ID, "alice-password", "new-password-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Authenticate(ctx, "alice", "new-password-1"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := k.Authenticate(ctx, "alice", "alice-password"); !errors.Is(err, kit.ErrWrongCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	// The sum of the kit's ledger is zero: the invite came from the issuer.
	tot, err := k.Server().Totals(ctx)
	if err != nil || tot.Check() != nil {
		t.Errorf("totals %+v %v", tot, err)
	}
}

// TestPostgres: the kit on PostgreSQL, opened by two processes' worth of
// Opens in turn, keeps one identity.
func TestPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	k := open(t, kit.Config{DBURI: dsn, AdminPass: "admin-password"})
	prefix := k.Prefix()
	if err := k.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	k2 := open(t, kit.Config{DBURI: dsn})
	if k2.Prefix() != prefix {
		t.Errorf("prefix %s then %s", prefix, k2.Prefix())
	}
	if _, err := k2.Authenticate(context.Background(), "admin", "admin-password"); err != nil {
		t.Error(err)
	}
}

// TestJanitor: on the kit's clock, quotes expired for over an hour are
// deleted by the janitor; fresh ones stay.
func TestJanitor(t *testing.T) {
	ctx := context.Background()
	clock := plugintest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	k := open(t, kit.Config{DBURI: filepath.Join(t.TempDir(), "kit.db"), AdminPass: "admin-password", Registration: true, Clock: clock})
	alice, err := k.Register(ctx, kit.NewUser{Username: "alice", Password: "alice-password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Register(ctx, kit.NewUser{Username: "bob", Password: "bob-password"}); err != nil {
		t.Fatal(err)
	}
	q, err := k.Quote(ctx, alice, kit.QuoteRequest{Destination: "bob", SourceAmount: 1})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute) // a sweep: the quote expired 5 minutes ago
	time.Sleep(100 * time.Millisecond)
	if _, err := k.Store().Quote(ctx, alice.ID, q.ID); err != nil {
		t.Fatalf("a recently expired quote was swept: %v", err)
	}
	clock.Advance(2 * time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := k.Store().Quote(ctx, alice.ID, q.ID); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the janitor left a quote expired for two hours")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDefaultLimits: the admin's default limits apply to every user
// without limits of its own, at once, to new users, and after a restart;
// a user's own limits win.
func TestDefaultLimits(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "kit.db")
	k, alice, bob := twoUsers(t, db)
	own := int64(-50)
	if _, err := k.SetUserLimits(ctx, "bob", &own, nil); err != nil {
		t.Fatal(err)
	}
	min := int64(-500)
	if err := k.SetDefaultLimits(ctx, kit.DefaultLimits{Min: &min}); err != nil {
		t.Fatal(err)
	}
	// alice has 1000 and may now go to -500; bob keeps his own -50.
	pay := func(k *kit.Kit, from store.User, to string, amount uint64, id string) error {
		q, err := k.Quote(ctx, from, kit.QuoteRequest{Destination: to, SourceAmount: amount})
		if err != nil {
			return err
		}
		_, err = k.Pay(ctx, from, kit.PayRequest{ID: id, QuoteID: q.ID, SourceAmount: amount, DestinationAmount: amount})
		return err
	}
	if err := pay(k, alice, "bob", 1400, "a1"); err != nil {
		t.Fatalf("alice within the default: %v", err)
	}
	if err := pay(k, alice, "bob", 200, "a2"); !errors.Is(err, kit.ErrInsufficientFunds) {
		t.Errorf("alice beyond the default: %v", err)
	}
	if err := pay(k, bob, "alice", 1450, "b1"); err != nil {
		t.Fatalf("bob within his own limit: %v", err)
	}
	if err := pay(k, bob, "alice", 1, "b2"); !errors.Is(err, kit.ErrInsufficientFunds) {
		t.Errorf("bob beyond his own limit: %v", err)
	}
	if err := k.SetDefaultLimits(ctx, kit.DefaultLimits{Min: &min, Max: ptr(int64(-600))}); !errors.Is(err, kit.ErrInvalidLimits) {
		t.Errorf("min above max: %v", err)
	}
	if err := k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	k2 := open(t, kit.Config{DBURI: db, Registration: true})
	if d := k2.Defaults(); d.Min == nil || *d.Min != -500 || d.Max != nil {
		t.Errorf("defaults after a restart: %+v", d)
	}
	carol, err := k2.Register(ctx, kit.NewUser{Username: "carol", Password: "carol-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pay(k2, carol, "alice", 400, "c1"); err != nil {
		t.Errorf("a new user within the default: %v", err)
	}
	checkSum(t, k2)
}
