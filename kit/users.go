package kit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// Errors of the kit's user operations. Each is a refusal that changes
// nothing; web maps them to JSON errors with stable ids.
var (
	ErrInvalidUsername  = errors.New("kit: invalid user name")
	ErrInvalidPassword  = errors.New("kit: invalid password")
	ErrUsernameTaken    = errors.New("kit: user name taken")
	ErrRegistrationOff  = errors.New("kit: registration needs an invite code")
	ErrInvalidInvite    = errors.New("kit: invalid invite code")
	ErrWrongCredentials = errors.New("kit: wrong user name or password")
	ErrUserNotFound     = errors.New("kit: no such user")
	ErrDisabled         = errors.New("kit: user disabled")
)

// Password bounds: long enough to matter, short enough that hashing stays
// bounded.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// validUsername applies the 2.x rule: 2 to 20 characters of a-z, 0-9 and
// "-", without "--", and keeps the issuer's name free.
func validUsername(name string) error {
	if len(name) < 2 || len(name) > 20 {
		return fmt.Errorf("%w: %q must have 2 to 20 characters", ErrInvalidUsername, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: %q may only have a-z, 0-9 and -", ErrInvalidUsername, name)
		}
	}
	if strings.Contains(name, "--") {
		return fmt.Errorf("%w: %q has --", ErrInvalidUsername, name)
	}
	if name == IssuerAccount {
		return fmt.Errorf("%w: %q is reserved", ErrInvalidUsername, name)
	}
	return nil
}

func validPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || len(pw) > MaxPasswordLen {
		return fmt.Errorf("%w: it must have %d to %d characters", ErrInvalidPassword, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// limitsOf is the trustline limits of a user row: its own where set, else
// the kit's defaults (which the admin sets; minimum 0 and maximum
// unlimited until then).
func (k *Kit) limitsOf(u store.User) *trustline.Limits {
	l := k.defaultLimits()
	if u.MinBalance != nil {
		l.Minimum = ledger.Limit(ledger.Int128FromInt64(*u.MinBalance))
	}
	if u.MaxBalance != nil {
		l.Maximum = ledger.Limit(ledger.Int128FromInt64(*u.MaxBalance))
	}
	return &l
}

// loadAccounts makes an account on the ledger for every user.
func (k *Kit) loadAccounts(ctx context.Context) error {
	return k.eachUser(ctx, func(u store.User) error {
		if err := k.syncAccount(ctx, u); err != nil {
			return fmt.Errorf("kit: account %s: %w", u.Username, err)
		}
		return nil
	})
}

// eachUser calls fn for every user, in pages, until fn fails.
func (k *Kit) eachUser(ctx context.Context, fn func(store.User) error) error {
	const page = 500
	var after int64
	for {
		users, err := k.st.Users(ctx, after, page)
		if err != nil {
			return fmt.Errorf("kit: %w", err)
		}
		for _, u := range users {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(users) < page {
			return nil
		}
		after = users[len(users)-1].ID
	}
}

// ensureAdmin creates the admin user on the first start.
func (k *Kit) ensureAdmin(ctx context.Context) error {
	if _, err := k.st.UserByName(ctx, k.cfg.AdminUser); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("kit: %w", err)
	}
	pw := k.cfg.AdminPass
	generated := pw == ""
	if generated {
		b := make([]byte, 15)
		if _, err := io.ReadFull(k.random, b); err != nil {
			return fmt.Errorf("kit: admin password: %w", err)
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	_, err := k.createUser(ctx, NewUser{Username: k.cfg.AdminUser, Password: pw, Name: "Administrator"}, true)
	if errors.Is(err, ErrUsernameTaken) {
		return nil // another process created it
	}
	if err != nil {
		return fmt.Errorf("kit: admin user: %w", err)
	}
	if generated {
		k.adminPw = pw
	}
	return nil
}

// NewUser is a registration.
type NewUser struct {
	Username   string
	Password   string
	Email      string
	Name       string
	InviteCode string
}

// Register creates a user (open registration, or with an unclaimed invite
// code, whose amount the issuer then pays the new user).
func (k *Kit) Register(ctx context.Context, nu NewUser) (store.User, error) {
	if !k.cfg.Registration && nu.InviteCode == "" {
		return store.User{}, ErrRegistrationOff
	}
	if nu.InviteCode != "" {
		in, err := k.st.Invite(ctx, nu.InviteCode)
		if err != nil || in.ClaimedAt != nil {
			return store.User{}, ErrInvalidInvite
		}
	}
	u, err := k.createUser(ctx, nu, false)
	if err != nil {
		return store.User{}, err
	}
	if nu.InviteCode != "" {
		in, err := k.st.ClaimInvite(ctx, nu.InviteCode, u.ID)
		if err != nil {
			// Claimed by someone else in between: the user exists, the
			// invite pays nothing.
			k.log.Info("invite claimed concurrently", "user", u.Username, "err", err)
			return u, nil
		}
		if in.Amount > 0 {
			if err := k.pay(ctx, IssuerAccount, u.Username, uint64(in.Amount), "invite:"+in.Code); err != nil {
				k.log.Error("paying invite", "user", u.Username, "err", err)
			}
		}
	}
	return u, nil
}

func (k *Kit) createUser(ctx context.Context, nu NewUser, admin bool) (store.User, error) {
	if err := validUsername(nu.Username); err != nil {
		return store.User{}, err
	}
	if err := validPassword(nu.Password); err != nil {
		return store.User{}, err
	}
	if len(nu.Name) > 200 || len(nu.Email) > 254 || (nu.Email != "" && !strings.Contains(nu.Email, "@")) {
		return store.User{}, fmt.Errorf("%w: name or email", ErrInvalidUsername)
	}
	hash, err := k.hasher.hash(ctx, nu.Password)
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	u, err := k.st.CreateUser(ctx, store.User{Username: nu.Username, Email: nu.Email, Name: nu.Name, PasswordHash: hash, IsAdmin: admin})
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, ErrUsernameTaken
	}
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.server.CreateAccount(ctx, u.Username, k.limitsOf(u)); err != nil && !errors.Is(err, trustline.ErrAccountExists) {
		return store.User{}, fmt.Errorf("kit: account: %w", err)
	}
	k.publish(topicUser, u.Username)
	return u, nil
}

// pay moves amount from one account of the kit to another at once (an
// unconditional local transfer) under an id derived from key, so that
// repeating it pays nothing more.
func (k *Kit) pay(ctx context.Context, from, to string, amount uint64, key string) error {
	view, err := k.server.Plugin(from)
	if err != nil {
		return err
	}
	if err := view.Connect(ctx); err != nil {
		return err
	}
	defer view.Disconnect(ctx)
	return view.SendTransfer(ctx, ledger.Transfer{ID: idFrom(key), To: k.prefix + to, Amount: amount})
}

// idFrom derives a UUID-shaped transfer id from a key.
func idFrom(key string) string {
	h := sha256.Sum256([]byte("ilpkit transfer " + key))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// Authenticate checks a user name and password.
func (k *Kit) Authenticate(ctx context.Context, username, password string) (store.User, error) {
	u, err := k.st.UserByName(ctx, strings.ToLower(username))
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so that timing does not
		// tell which names exist.
		_, _ = k.hasher.verify(ctx, dummyHash, password)
		return store.User{}, ErrWrongCredentials
	}
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	ok, err := k.hasher.verify(ctx, u.PasswordHash, password)
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	if !ok {
		return store.User{}, ErrWrongCredentials
	}
	if u.Disabled {
		return store.User{}, ErrDisabled
	}
	return u, nil
}

// dummyHash is a valid hash of nothing anyone types.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$2gsPwsE1fRcyQvKYnCuWE3dOTaDeV1OBSbVOnfYr/XA"

// ChangePassword sets a user's password after checking the current one.
func (k *Kit) ChangePassword(ctx context.Context, userID int64, current, next string) error {
	u, err := k.st.UserByID(ctx, userID)
	if err != nil {
		return ErrUserNotFound
	}
	ok, err := k.hasher.verify(ctx, u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	if !ok {
		return ErrWrongCredentials
	}
	return k.SetPassword(ctx, userID, next)
}

// SetPassword sets a user's password (a reset by the admin's link) and
// ends the user's sessions.
func (k *Kit) SetPassword(ctx context.Context, userID int64, next string) error {
	if err := validPassword(next); err != nil {
		return err
	}
	hash, err := k.hasher.hash(ctx, next)
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	if _, err := k.st.UpdateUser(ctx, userID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	return k.st.DeleteUserSessions(ctx, userID, "")
}

// Balance returns a user's balance.
func (k *Kit) Balance(ctx context.Context, username string) (ledger.Int128, error) {
	info, err := k.server.AccountInfo(ctx, username)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("kit: %w", err)
	}
	return info.Balance, nil
}
